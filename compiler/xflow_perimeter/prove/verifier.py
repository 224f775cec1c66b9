"""The state every check of a verify shares: the spec's grants and intent, the Terraform's
policies and constants, the network paths, and the count of requests evaluated.

The layer checks (``prove.layers``) decide request classes against it; ``Verifier.combined``
decides one layer's mismatch with every layer in force.
"""

from __future__ import annotations

from collections import defaultdict

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.iam.evaluate import Decision, evaluate
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Request
from xflow_perimeter.prove.intent import Intent
from xflow_perimeter.prove.layers.mismatch import Mismatch
from xflow_perimeter.prove.network_paths import PathClass, Topology, outside_paths, topology
from xflow_perimeter.prove.request_classes import (
    CallerClass,
    Constants,
    Target,
    bucket_targets,
    constants,
    fresh_account,
)
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.synth.grants import Grant, grants
from xflow_perimeter.terraform.perimeter import Perimeter, TfBucketPolicy


class Verifier:
    def __init__(self, spec: Spec, perimeter: Perimeter, exhaustive: bool = False) -> None:
        self.spec = spec
        self.exhaustive = exhaustive  # one evaluate() per request, never the sweep
        self.perimeter = perimeter
        self.grants: tuple[Grant, ...] = grants(spec)
        self.grants_by_bucket: dict[str, list[Grant]] = defaultdict(list)
        self.grants_by_network: dict[str, list[Grant]] = defaultdict(list)
        for grant in self.grants:
            self.grants_by_bucket[grant.bucket].append(grant)
            self.grants_by_network[grant.network].append(grant)
        self.principal_keys: dict[str, str] = {}
        for principal in spec.principals:
            self.principal_keys.setdefault(principal.arn, principal.key)
        self.intent = Intent(spec, self.grants)
        self.policies: dict[str, TfBucketPolicy] = {}
        for policy in perimeter.bucket_policies:
            self.policies.setdefault(policy.bucket, policy)
        self.all_constants = constants(perimeter.policies())
        spec_accounts = {a for _, a in spec.accounts} | {b.account_id for b in spec.buckets}
        spec_accounts |= {p.account_id for p in spec.principals} | {
            n.account_id for n in spec.networks
        }
        self.accounts = spec_accounts | self.all_constants.accounts
        self.foreign = fresh_account(self.accounts | {a.bucket_account for a in spec.assertions})
        self.topology: Topology = topology(spec, perimeter, self.all_constants.vpces)
        taken = {p.path.vpce for ps in self.topology.paths.values() for p in ps if p.path.vpce}
        self.outside = outside_paths(spec, self.all_constants, taken)
        self.evaluated = 0

    def decide(
        self, request: Request, bucket: PolicyDocument | None, endpoint: PolicyDocument | None
    ) -> Decision:
        self.evaluated += 1
        return evaluate(request, bucket_policy=bucket, endpoint_policy=endpoint)

    def name(self, arn: str) -> str:
        """A principal as findings name it: its spec key and ARN, or the ARN alone."""
        key = self.principal_keys.get(arn)
        return f"{key} ({arn})" if key is not None else arn

    def targets(
        self,
        found: Constants,
        mine: list[Grant],
        bucket_name: str,
        extra_prefixes: set[str] | None = None,
        extra_actions: set[str] | None = None,
    ) -> list[Target]:
        """The actions and keys that stand for every request on ``bucket_name``."""
        return bucket_targets(
            found,
            bucket_name,
            {g.scope.prefix for g in mine} | (extra_prefixes or set()),
            {g.action for g in mine} | (extra_actions or set()),
        )

    def with_endpoints(
        self, policy: PolicyDocument | None, networks: set[str], bucket: str
    ) -> Constants:
        """Constants of a bucket policy and of the endpoints its requests may cross, so that a
        witness also stands for its whole class when both layers decide it together."""
        alone = constants([policy], bucket)
        crossed = [
            p.endpoint_policy
            for n in self.spec.networks
            if n.name in networks or n.vpc_id in alone.vpcs or n.endpoint_id in alone.vpces
            for p in self.topology.paths.get(n.name, ())
            if p.endpoint_policy is not None
        ]
        return constants([policy, *crossed], bucket)

    @staticmethod
    def request(
        caller: CallerClass,
        path: PathClass,
        bucket: str,
        account: str,
        target: Target,
        tls: bool,
    ) -> Request:
        return Request(
            caller=caller.caller,
            action=target.action,
            bucket=bucket,
            bucket_account=account,
            key=target.key,
            list_prefix=target.list_prefix,
            path=path.path,
            secure_transport=tls,
        )

    def resource_span(self, m: Mismatch) -> Span | None:
        """Where to send the user when no statement decided: the policy that should have."""
        tf = self.policies.get(m.bucket_name)
        spec_bucket = self.intent.spec_bucket(m.bucket_name, m.bucket_account)
        if (
            m.layer == "endpoint"
            and m.path.endpoint is not None
            and (spec_bucket is None or m.decision.allowed)
        ):
            return m.path.endpoint.span
        if spec_bucket is not None and tf is not None:
            return tf.span
        if m.path.endpoint is not None and m.path.endpoint.span is not None:
            return m.path.endpoint.span
        return m.path.network.span if m.path.network is not None else None

    def combined(self, mismatch: Mismatch) -> tuple[Decision, bool]:
        """The decision with every layer in force, and whether the spec intends it."""
        request = mismatch.request
        path = mismatch.path
        spec_bucket = self.intent.spec_bucket(mismatch.bucket_name, mismatch.bucket_account)
        if mismatch.layer == "endpoint" and spec_bucket is None:
            return mismatch.decision, mismatch.expected
        assert spec_bucket is not None
        tf = self.policies.get(spec_bucket.name)
        bucket_policy = tf.policy if tf else None
        decision = self.decide(request, bucket_policy, path.endpoint_policy)
        if request.caller.service is not None:
            return decision, self.intent.service_layer(
                spec_bucket,
                request.caller.service,
                request.source_account,
                request.source_arn,
                request.action,
                request.key,
                request.list_prefix,
                request.secure_transport,
            )
        expected = self.intent.bucket_layer(
            spec_bucket,
            path.network,
            request.caller.arn,
            request.action,
            request.key,
            request.list_prefix,
            request.secure_transport,
        )
        if path.network is not None and path.kind in ("endpoint", "unassociated"):
            expected = expected and self.intent.endpoint_layer(
                path.network,
                request.caller.arn,
                spec_bucket.name,
                spec_bucket.account_id,
                request.action,
                request.key,
                request.list_prefix,
            )
        return decision, expected
