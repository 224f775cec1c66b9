"""The verifier's layer checks: every request class of each bucket and network, decided by the
sweep (or one request at a time where it cannot decide) and compared with the spec's intent.

Each layer is checked alone (the endpoint policy as if every bucket allowed everyone; the bucket
policy as if every network and identity allowed everything); ``Verifier.combined`` then decides a
mismatch with both layers together. verify.py turns the mismatches into findings.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.iam.evaluate import (
    ALLOW_EVERYONE_POLICY,
    DEFAULT_ENDPOINT_POLICY,
    LOCKOUT_ACTIONS,
    Decision,
    UnsupportedPolicyError,
    evaluate,
)
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, Request
from xflow_perimeter.prove import pool
from xflow_perimeter.prove.intent import Intent
from xflow_perimeter.prove.network_paths import PathClass, Topology, outside_paths, topology
from xflow_perimeter.prove.request_classes import (
    CallerClass,
    Constants,
    Target,
    action_targets,
    bucket_witnesses,
    caller_classes,
    constants,
    fresh_account,
    key_witnesses,
    list_prefix_witnesses,
    root_arn,
)
from xflow_perimeter.prove.sweep import Subject, Sweep, bits
from xflow_perimeter.spec.model import Bucket, Network, Spec, arn_account
from xflow_perimeter.synth.grants import Grant, Scope, ServiceGrant, grants
from xflow_perimeter.terraform.perimeter import Perimeter, TfBucketPolicy

# Tests set this to run the plain loop beside every sweep and fail on any difference.
CROSS_CHECK = False


@dataclass(frozen=True, slots=True)
class Mismatch:
    layer: str  # "bucket" or "endpoint"
    caller: CallerClass
    path: PathClass
    bucket_label: str
    bucket_name: str
    bucket_account: str
    target: Target
    secure_transport: bool
    expected: bool
    decision: Decision
    request: Request


@dataclass(frozen=True, slots=True)
class _EndpointShape:
    """One bucket (name and account) seen through one endpoint, with its request classes."""

    network: Network
    path: PathClass
    policy: PolicyDocument | None
    name: str
    account: str
    callers: list[CallerClass]
    targets: list[Target]
    tls_values: tuple[bool, ...]


class _ExpectedCallers:
    """Caller classes by ARN, as bits of the sweep's bitsets."""

    def __init__(self, callers: list[CallerClass]) -> None:
        self.bits = {c.caller.arn: 1 << i for i, c in enumerate(callers) if c.caller.arn}

    def bit(self, arn: str) -> int:
        return self.bits.get(arn, 0)


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
        self.refusals: list[Diagnostic] = []

    def decide(
        self, request: Request, bucket: PolicyDocument | None, endpoint: PolicyDocument | None
    ) -> Decision:
        self.evaluated += 1
        return evaluate(request, bucket_policy=bucket, endpoint_policy=endpoint)

    # -- the bucket layer -------------------------------------------------------------------
    def bucket_mismatches(self, bucket: Bucket) -> Iterator[Mismatch]:
        tf = self.policies.get(bucket.name)
        policy = tf.policy if tf else None
        mine = self.grants_by_bucket.get(bucket.key, [])
        found = self._with_endpoints(policy, {g.network for g in mine}, bucket.name)
        listed = [(f"principal {self._name(g.principal_arn)}", g.principal_arn) for g in mine]
        listed += [(f"admin {arn}", arn) for arn in self.spec.admins]
        accounts = {bucket.account_id, *found.accounts, *(a for _, a in _accounts_of(listed))}
        callers = caller_classes(
            listed, found.arns, accounts, self.foreign, _varies_anonymous(found)
        )
        networks = {g.network for g in mine}
        paths = [
            p
            for n in self.spec.networks
            for p in self.topology.paths.get(n.name, ())
            if n.name in networks or n.vpc_id in found.vpcs or n.endpoint_id in found.vpces
        ]
        paths += self.outside
        targets = self._targets(found, mine, bucket.name)
        yield from self._either(
            lambda: self._swept_bucket_layer(bucket, policy, mine, callers, paths, targets),
            lambda: self._plain_bucket_layer(bucket, policy, callers, paths, targets),
        )
        yield from self.service_mismatches(bucket, policy, found)

    def _either(
        self,
        swept: Callable[[], list[Mismatch] | None],
        plain: Callable[[], Iterator[Mismatch]],
    ) -> Iterator[Mismatch]:
        """The sweep's mismatches, or the plain loop's where the sweep cannot decide."""
        found = None if self.exhaustive else swept()
        if found is None:
            yield from plain()
            return
        if CROSS_CHECK:
            counted = self.evaluated
            reference = list(plain())
            self.evaluated = counted
            if reference != found:
                raise AssertionError(f"sweep {found[:3]} != plain loop {reference[:3]}")
        yield from found

    def _plain_bucket_layer(
        self,
        bucket: Bucket,
        policy: PolicyDocument | None,
        callers: list[CallerClass],
        paths: list[PathClass],
        targets: list[Target],
    ) -> Iterator[Mismatch]:
        """The bucket layer one request at a time: the reference the sweep must agree with."""
        for caller in callers:
            for path in paths:
                alone = DEFAULT_ENDPOINT_POLICY if path.path.via_endpoint else None
                for tls in (True, False):
                    for target in targets:
                        request = self._request(
                            caller, path, bucket.name, bucket.account_id, target, tls
                        )
                        decision = self.decide(request, policy, alone)
                        expected = self.intent.bucket_layer(
                            bucket,
                            path.network,
                            caller.caller.arn,
                            caller.caller.account,
                            target.action,
                            target.key,
                            target.list_prefix,
                            tls,
                        )
                        if decision.allowed != expected:
                            yield self._bucket_mismatch(
                                bucket, caller, path, target, tls, expected, decision, request
                            )

    def _swept_bucket_layer(
        self,
        bucket: Bucket,
        policy: PolicyDocument | None,
        mine: list[Grant],
        callers: list[CallerClass],
        paths: list[PathClass],
        targets: list[Target],
    ) -> list[Mismatch] | None:
        """The bucket layer for all callers at once (see sweep.py), in the plain loop's order;
        None when the sweep cannot decide and the plain loop must."""
        expect = _ExpectedCallers(callers)
        owner_root = expect.bit(root_arn(bucket.account_id))
        admins = 0
        for arn in self.spec.admins:
            if arn_account(arn) == bucket.account_id:
                admins |= expect.bit(arn)
        granted: dict[tuple[str, str], list[tuple[Scope, int]]] = defaultdict(list)
        for grant in mine:
            granted[(grant.network, grant.action.lower())].append(
                (grant.scope, expect.bit(grant.principal_arn))
            )
        subjects = [Subject(c.caller) for c in callers]
        sweeps: dict[bool, Sweep] = {}
        try:
            for via in sorted({p.path.via_endpoint for p in paths}):
                sweeps[via] = Sweep(
                    subjects,
                    bucket.name,
                    bucket.account_id,
                    policy,
                    DEFAULT_ENDPOINT_POLICY if via else None,
                    shared_with=next(iter(sweeps.values()), None),
                )
        except UnsupportedPolicyError:
            return None
        found: list[tuple[int, int, int, int, bool]] = []
        for path_index, path in enumerate(paths):
            sweep = sweeps[path.path.via_endpoint]
            network = path.network.name if path.network is not None else None
            for tls_index, tls in enumerate((True, False)):
                for target_index, target in enumerate(targets):
                    allowed = sweep.allowed_at(
                        target.action, target.key, target.list_prefix, path.path, tls
                    )
                    if allowed is None:
                        return None
                    action = target.action.lower()
                    expected = owner_root if action in LOCKOUT_ACTIONS else 0
                    if tls:
                        expected |= admins
                        if network is not None:
                            for scope, bit in granted.get((network, action), ()):
                                if scope.covers(target.key, target.list_prefix):
                                    expected |= bit
                    for index in bits(allowed ^ expected):
                        found.append(
                            (index, path_index, tls_index, target_index, bool(allowed >> index & 1))
                        )
        mismatches = []
        for caller_index, path_index, tls_index, target_index, allowed_now in sorted(found):
            caller, path, target = callers[caller_index], paths[path_index], targets[target_index]
            tls = tls_index == 0
            request = self._request(caller, path, bucket.name, bucket.account_id, target, tls)
            alone = DEFAULT_ENDPOINT_POLICY if path.path.via_endpoint else None
            decision = evaluate(request, bucket_policy=policy, endpoint_policy=alone)
            if decision.allowed != allowed_now:
                return None  # the sweep and the evaluator disagree: trust the evaluator
            mismatches.append(
                self._bucket_mismatch(
                    bucket, caller, path, target, tls, not allowed_now, decision, request
                )
            )
        self.evaluated += len(callers) * len(paths) * 2 * len(targets)
        return mismatches

    def _bucket_mismatch(
        self,
        bucket: Bucket,
        caller: CallerClass,
        path: PathClass,
        target: Target,
        tls: bool,
        expected: bool,
        decision: Decision,
        request: Request,
    ) -> Mismatch:
        return Mismatch(
            "bucket",
            caller,
            path,
            bucket.name,
            bucket.name,
            bucket.account_id,
            target,
            tls,
            expected,
            decision,
            request,
        )

    def service_mismatches(
        self, bucket: Bucket, policy: PolicyDocument | None, found: Constants
    ) -> Iterator[Mismatch]:
        """AWS service principals: each service the spec or the policy names and a fresh one, on
        behalf of each source account and resource, a foreign one, or none."""
        grants = self.intent.service_grants.get(bucket.key, [])
        services = {g.service for g in grants} | found.services | {"xflow-witness.amazonaws.com"}
        accounts: set[str | None] = {g.source_account for g in grants}
        accounts |= {self.foreign, bucket.account_id, None} | set(found.accounts)
        fresh_arn = f"arn:aws:cloudtrail:us-east-1:{self.foreign}:trail/xflow-witness"
        arns: set[str | None] = {g.source_arn for g in grants if g.source_arn}
        arns |= set(found.source_arns) | {fresh_arn, None}
        internet = next(p for p in self.outside if p.kind == "internet")
        targets = self._targets(
            found,
            [],
            bucket.name,
            extra_prefixes={g.scope.prefix for g in grants},
            extra_actions={g.action for g in grants},
        )
        subjects: list[tuple[Subject, str]] = []
        for service in sorted(services):
            caller = Caller(arn=None, account=None, service=service)
            for account in sorted(accounts, key=str):
                label = f"service {service} on behalf of " + (
                    f"account {account}" if account else "no account"
                )
                for source_arn in sorted(arns, key=str):
                    subjects.append((Subject(caller, account, source_arn), label))
        yield from self._either(
            lambda: self._swept_service_layer(bucket, policy, grants, subjects, targets, internet),
            lambda: self._plain_service_layer(bucket, policy, subjects, targets, internet),
        )

    def _plain_service_layer(
        self,
        bucket: Bucket,
        policy: PolicyDocument | None,
        subjects: list[tuple[Subject, str]],
        targets: list[Target],
        internet: PathClass,
    ) -> Iterator[Mismatch]:
        """The service subjects one request at a time: the reference the sweep must agree with."""
        for subject, label in subjects:
            for tls in (True, False):
                for target in targets:
                    request = self._service_request(bucket, subject, target, tls, internet)
                    decision = self.decide(request, policy, None)
                    expected = self.intent.service_layer(
                        bucket,
                        subject.caller.service or "",
                        subject.source_account,
                        subject.source_arn,
                        target.action,
                        target.key,
                        target.list_prefix,
                        tls,
                    )
                    if decision.allowed != expected:
                        yield self._bucket_mismatch(
                            bucket,
                            CallerClass(subject.caller, label),
                            internet,
                            target,
                            tls,
                            expected,
                            decision,
                            request,
                        )

    def _swept_service_layer(
        self,
        bucket: Bucket,
        policy: PolicyDocument | None,
        grants: list[ServiceGrant],
        subjects: list[tuple[Subject, str]],
        targets: list[Target],
        internet: PathClass,
    ) -> list[Mismatch] | None:
        """The service subjects all at once, in the plain loop's order; None when the sweep
        cannot decide and the plain loop must."""
        covered: list[tuple[ServiceGrant, int]] = []
        for grant in grants:
            mask = 0
            for bit, (subject, _) in enumerate(subjects):
                if grant.covers(subject.caller.service, subject.source_account, subject.source_arn):
                    mask |= 1 << bit
            covered.append((grant, mask))
        try:
            sweep = Sweep([s for s, _ in subjects], bucket.name, bucket.account_id, policy, None)
        except UnsupportedPolicyError:
            return None
        found: list[tuple[int, int, int, bool]] = []
        for tls_index, tls in enumerate((True, False)):
            for target_index, target in enumerate(targets):
                allowed = sweep.allowed_at(
                    target.action, target.key, target.list_prefix, internet.path, tls
                )
                if allowed is None:
                    return None
                expected = 0
                if tls:
                    action = target.action.lower()
                    for grant, mask in covered:
                        if grant.action.lower() == action and grant.scope.covers(
                            target.key, target.list_prefix
                        ):
                            expected |= mask
                for index in bits(allowed ^ expected):
                    found.append((index, tls_index, target_index, bool(allowed >> index & 1)))
        mismatches = []
        for subject_index, tls_index, target_index, allowed_now in sorted(found):
            subject, label = subjects[subject_index]
            target, tls = targets[target_index], tls_index == 0
            request = self._service_request(bucket, subject, target, tls, internet)
            decision = evaluate(request, bucket_policy=policy, endpoint_policy=None)
            if decision.allowed != allowed_now:
                return None  # the sweep and the evaluator disagree: trust the evaluator
            mismatches.append(
                self._bucket_mismatch(
                    bucket,
                    CallerClass(subject.caller, label),
                    internet,
                    target,
                    tls,
                    not allowed_now,
                    decision,
                    request,
                )
            )
        self.evaluated += len(subjects) * 2 * len(targets)
        return mismatches

    @staticmethod
    def _service_request(
        bucket: Bucket, subject: Subject, target: Target, tls: bool, internet: PathClass
    ) -> Request:
        return Request(
            caller=subject.caller,
            action=target.action,
            bucket=bucket.name,
            bucket_account=bucket.account_id,
            key=target.key,
            list_prefix=target.list_prefix,
            path=internet.path,
            secure_transport=tls,
            source_account=subject.source_account,
            source_arn=subject.source_arn,
        )

    # -- the endpoint layer -----------------------------------------------------------------
    def endpoint_mismatches(self, network: Network) -> Iterator[Mismatch]:
        endpoint_paths = [
            p for p in self.topology.paths.get(network.name, ()) if p.kind == "endpoint"
        ]
        if not endpoint_paths:
            return
        path = endpoint_paths[0]
        policy = path.endpoint_policy
        mine = self.grants_by_network.get(network.name, [])
        found = constants([policy])
        endpoint_keys = found.keys_used
        spec_buckets = {b.key: b for b in self.spec.buckets}
        names: dict[str, set[str]] = {}
        for grant in mine:
            bucket = spec_buckets[grant.bucket]
            names.setdefault(bucket.name, set()).update({bucket.account_id, self.foreign})
        for name in bucket_witnesses(found.resources) | {"xflow-intruder-bucket"}:
            accounts = names.setdefault(name, {self.foreign})
            accounts.update(found.accounts & self.accounts)
            accounts.update(b.account_id for b in self.spec.buckets if b.name == name)
        accounts_all = {
            network.account_id,
            *found.accounts,
            *(arn_account(g.principal_arn) for g in mine),
        }
        for name, bucket_accounts in sorted(names.items()):
            spec_policy = self.policies.get(name)
            found = constants([policy, spec_policy.policy if spec_policy else None], name)
            on_bucket = [g for g in mine if spec_buckets[g.bucket].name == name]
            listed = [
                (f"principal {self._name(g.principal_arn)}", g.principal_arn) for g in on_bucket
            ]
            callers = caller_classes(
                listed,
                found.arns,
                accounts_all | found.accounts,
                self.foreign,
                _varies_anonymous(found),
            )
            targets = self._targets(found, on_bucket, name)
            # TLS matters to the endpoint layer only when the endpoint policy itself tests it.
            tls_values = (True, False) if "aws:securetransport" in endpoint_keys else (True,)
            siblings: list[Sweep] = []  # the accounts' sweeps share their per-policy work
            for account in sorted(bucket_accounts):
                shape = _EndpointShape(
                    network, path, policy, name, account, callers, targets, tls_values
                )
                yield from self._either(
                    functools.partial(self._swept_endpoint_layer, shape, mine, siblings),
                    functools.partial(self._plain_endpoint_layer, shape),
                )

    def _plain_endpoint_layer(self, shape: _EndpointShape) -> Iterator[Mismatch]:
        """The endpoint layer one request at a time: the reference the sweep must agree with."""
        for caller in shape.callers:
            for tls in shape.tls_values:
                for target in shape.targets:
                    request = self._request(
                        caller, shape.path, shape.name, shape.account, target, tls
                    )
                    decision = self.decide(request, ALLOW_EVERYONE_POLICY, shape.policy)
                    expected = self.intent.endpoint_layer(
                        shape.network,
                        caller.caller.arn,
                        shape.name,
                        shape.account,
                        target.action,
                        target.key,
                        target.list_prefix,
                    )
                    if decision.allowed != expected:
                        yield self._endpoint_mismatch(
                            shape, caller, target, tls, expected, decision, request
                        )

    def _swept_endpoint_layer(
        self, shape: _EndpointShape, mine: list[Grant], siblings: list[Sweep]
    ) -> list[Mismatch] | None:
        """The endpoint layer for all callers at once, in the plain loop's order; None when the
        sweep cannot decide and the plain loop must."""
        callers, targets = shape.callers, shape.targets
        expect = _ExpectedCallers(callers)
        spec_bucket = self.intent.spec_bucket(shape.name, shape.account)
        granted: dict[str, list[tuple[Scope, int]]] = defaultdict(list)
        if spec_bucket is not None:
            for grant in mine:
                if grant.bucket == spec_bucket.key:
                    granted[grant.action.lower()].append(
                        (grant.scope, expect.bit(grant.principal_arn))
                    )
        try:
            sweep = Sweep(
                siblings[0].subjects if siblings else [Subject(c.caller) for c in callers],
                shape.name,
                shape.account,
                ALLOW_EVERYONE_POLICY,
                shape.policy,
                shared_with=siblings[0] if siblings else None,
            )
            siblings.append(sweep)
        except UnsupportedPolicyError:
            return None
        everyone = (1 << len(callers)) - 1
        found: list[tuple[int, int, int, bool]] = []
        for tls_index, tls in enumerate(shape.tls_values):
            for target_index, target in enumerate(targets):
                allowed = sweep.allowed_at(
                    target.action, target.key, target.list_prefix, shape.path.path, tls
                )
                if allowed is None:
                    return None
                if self.intent.aws_owned(shape.network, shape.name, target.action, target.key):
                    expected = everyone
                else:
                    expected = 0
                    for scope, bit in granted.get(target.action.lower(), ()):
                        if scope.covers(target.key, target.list_prefix):
                            expected |= bit
                for index in bits(allowed ^ expected):
                    found.append((index, tls_index, target_index, bool(allowed >> index & 1)))
        mismatches = []
        for caller_index, tls_index, target_index, allowed_now in sorted(found):
            caller, target = callers[caller_index], targets[target_index]
            tls = shape.tls_values[tls_index]
            request = self._request(caller, shape.path, shape.name, shape.account, target, tls)
            decision = evaluate(
                request, bucket_policy=ALLOW_EVERYONE_POLICY, endpoint_policy=shape.policy
            )
            if decision.allowed != allowed_now:
                return None  # the sweep and the evaluator disagree: trust the evaluator
            mismatches.append(
                self._endpoint_mismatch(
                    shape, caller, target, tls, not allowed_now, decision, request
                )
            )
        self.evaluated += len(callers) * len(shape.tls_values) * len(targets)
        return mismatches

    def _endpoint_mismatch(
        self,
        shape: _EndpointShape,
        caller: CallerClass,
        target: Target,
        tls: bool,
        expected: bool,
        decision: Decision,
        request: Request,
    ) -> Mismatch:
        spec_bucket = self.intent.spec_bucket(shape.name, shape.account)
        label = (
            shape.name
            if spec_bucket
            else f"{shape.name} in account {shape.account} (not a spec bucket)"
        )
        return Mismatch(
            "endpoint",
            caller,
            shape.path,
            label,
            shape.name,
            shape.account,
            target,
            tls,
            expected,
            decision,
            request,
        )

    # -- helpers ----------------------------------------------------------------------------
    def _name(self, arn: str) -> str:
        key = self.principal_keys.get(arn)
        return f"{key} ({arn})" if key is not None else arn

    def _targets(
        self,
        found: Constants,
        mine: list[Grant],
        bucket_name: str,
        extra_prefixes: set[str] | None = None,
        extra_actions: set[str] | None = None,
    ) -> list[Target]:
        prefixes = {g.scope.prefix for g in mine if g.scope.prefix} | (extra_prefixes or set())
        prefixes.discard("")
        keys = key_witnesses(bucket_name, found.resources, prefixes)
        list_prefixes = list_prefix_witnesses(found.list_prefixes, prefixes)
        return action_targets(
            found.actions,
            {g.action for g in mine} | (extra_actions or set()),
            keys,
            list_prefixes,
            LOCKOUT_ACTIONS,
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

    def _with_endpoints(
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

    def _request(
        self,
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
            request.caller.account,
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


def _accounts_of(listed: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for label, arn in listed:
        yield label, arn_account(arn)


def _varies_anonymous(found: Constants) -> bool:
    return "aws:principalaccount" in found.keys_used


# Below this many buckets and networks, forking workers costs more than it saves.
_PARALLEL_FROM = 64

_TaskResult = tuple[list[Mismatch], int, "UnsupportedPolicyError | None"]


def all_mismatches(verifier: Verifier, workers: int | None) -> list[Mismatch]:
    """Every layer mismatch, bucket by bucket then network by network: in worker processes when
    there are enough of them, with the same result and order as one after another."""
    spec = verifier.spec
    count = len(spec.buckets) + len(spec.networks)
    if workers is None:
        workers = pool.available_workers() if count >= _PARALLEL_FROM else 1

    def task(index: int) -> _TaskResult:
        before = verifier.evaluated
        found: list[Mismatch] = []
        try:
            if index < len(spec.buckets):
                found.extend(verifier.bucket_mismatches(spec.buckets[index]))
            else:
                found.extend(verifier.endpoint_mismatches(spec.networks[index - len(spec.buckets)]))
        except UnsupportedPolicyError as error:
            return found, verifier.evaluated - before, error
        return found, verifier.evaluated - before, None

    if workers <= 1:  # the tasks count into verifier.evaluated themselves
        mismatches: list[Mismatch] = []
        for index in range(count):
            found, _, error = task(index)
            if error is not None:
                raise error
            mismatches.extend(found)
        return mismatches
    mismatches = []
    for found, evaluated, error in pool.run_in_order(task, count, workers):
        verifier.evaluated += evaluated
        if error is not None:
            raise error
        mismatches.extend(found)
    return mismatches
