"""What the spec intends: the reference decision verify compares every evaluated request against.

Each layer's share of the spec is defined once, as who it allows one action (``bucket_share``,
``endpoint_share``, ``service_share``); the per-request answers (``bucket_layer`` and the others)
and the sweep's expected bitsets (prove.layers) are both read from those shares.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from types import MappingProxyType

from xflow_perimeter.iam.evaluate import LOCKOUT_ACTIONS
from xflow_perimeter.prove.request_classes import root_arn
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.auditors import is_auditor_action
from xflow_perimeter.spec.model import Bucket, Network, Spec, arn_account
from xflow_perimeter.synth.grants import Grant, Scope, ServiceGrant, service_grants

# Who a layer's share of the spec allows one action on one bucket: (principal ARN, scope) pairs,
# where a scope of None is the whole bucket (the bucket itself and every key).
Share = tuple[tuple[str, Scope | None], ...]
_NO_FLOWS: Mapping[str, Share] = MappingProxyType({})


def share_covers(
    share: Share, principal_arn: str | None, key: str | None, prefix: str | None
) -> bool:
    """Whether ``share`` allows ``principal_arn`` the request on ``key`` (or ``s3:prefix``)."""
    return principal_arn is not None and any(
        arn == principal_arn and (scope is None or scope.covers(key, prefix))
        for arn, scope in share
    )


class Intent:
    """Intended decisions per layer, computed from the spec's grants alone (never from policies)."""

    def __init__(self, spec: Spec, grants: tuple[Grant, ...]) -> None:
        self.spec = spec
        self._admins_by_account: dict[str, list[str]] = defaultdict(list)
        for arn in spec.admins:
            self._admins_by_account[arn_account(arn)].append(arn)
        # (bucket key, network name) -> lower-cased action -> who the flows allow it, and where
        flows: dict[tuple[str, str], dict[str, list[tuple[str, Scope | None]]]] = {}
        for grant in grants:
            by_action = flows.setdefault((grant.bucket, grant.network), {})
            by_action.setdefault(grant.action.lower(), []).append(
                (grant.principal_arn, grant.scope)
            )
        self._flows: dict[tuple[str, str], dict[str, Share]] = {
            key: {action: tuple(share) for action, share in by_action.items()}
            for key, by_action in flows.items()
        }
        self._buckets = {(b.name, b.account_id): b for b in spec.buckets}
        self.service_grants: dict[str, list[ServiceGrant]] = defaultdict(list)
        for service_grant in service_grants(spec):
            self.service_grants[service_grant.bucket].append(service_grant)

    def spec_bucket(self, name: str, account_id: str) -> Bucket | None:
        return self._buckets.get((name, account_id))

    # -- the shares: each layer's intent, defined once ---------------------------------------
    def bucket_share(
        self, bucket: Bucket, network: Network | None, action: str, secure_transport: bool
    ) -> Share:
        """The bucket policy's share: the owner's root user may always manage the policy (the
        lockout rule); over TLS only, the admins of the bucket's account may do anything, the
        auditors (of any account) may read its configuration (spec.auditors), and each flow into
        the bucket from ``network`` its action within its scope."""
        lowered = action.lower()
        share: list[tuple[str, Scope | None]] = []
        if lowered in LOCKOUT_ACTIONS:
            share.append((root_arn(bucket.account_id), None))
        if not secure_transport:
            return tuple(share)
        share += ((arn, None) for arn in self._admins_by_account.get(bucket.account_id, ()))
        if is_auditor_action(lowered):
            share += ((arn, None) for arn in self.spec.auditors)
        if network is not None:
            share += self._flows.get((bucket.key, network.name), _NO_FLOWS).get(lowered, ())
        return tuple(share)

    def endpoint_flows(
        self, network: Network, bucket_name: str, bucket_account: str
    ) -> Mapping[str, Share]:
        """The endpoint policy's share, by lower-cased action: exactly the flows over ``network``
        into a spec bucket (and, see ``aws_owned``, the AWS-owned objects its workloads read,
        which anyone may)."""
        bucket = self.spec_bucket(bucket_name, bucket_account)
        if bucket is None:
            return _NO_FLOWS
        return self._flows.get((bucket.key, network.name), _NO_FLOWS)

    def endpoint_share(
        self, network: Network, bucket_name: str, bucket_account: str, action: str
    ) -> Share:
        """``endpoint_flows`` for one action."""
        return self.endpoint_flows(network, bucket_name, bucket_account).get(action.lower(), ())

    def service_share(
        self, bucket: Bucket, action: str, secure_transport: bool
    ) -> tuple[ServiceGrant, ...]:
        """Service flows: over TLS only, the named service on behalf of its source account (and
        resource), for its action within its scope."""
        if not secure_transport:
            return ()
        lowered = action.lower()
        return tuple(
            g for g in self.service_grants.get(bucket.key, ()) if g.action.lower() == lowered
        )

    def aws_owned(self, network: Network, bucket_name: str, action: str, key: str | None) -> bool:
        """An AWS-owned object the network's workloads read, which any caller may get."""
        if action.lower() != aws_owned.ACTION.lower() or key is None:
            return False
        return any(
            owned.bucket == bucket_name and key.startswith(owned.prefix)
            for owned in aws_owned.objects_for(network.workloads, network.region)
        )

    # -- one request at a time, from the shares ----------------------------------------------
    def bucket_layer(
        self,
        bucket: Bucket,
        network: Network | None,
        principal_arn: str | None,
        action: str,
        key: str | None,
        list_prefix: str | None,
        secure_transport: bool,
    ) -> bool:
        """Whether the bucket policy's share allows the request."""
        share = self.bucket_share(bucket, network, action, secure_transport)
        return share_covers(share, principal_arn, key, list_prefix)

    def endpoint_layer(
        self,
        network: Network,
        principal_arn: str | None,
        bucket_name: str,
        bucket_account: str,
        action: str,
        key: str | None,
        list_prefix: str | None,
    ) -> bool:
        """Whether the endpoint policy's share allows the request."""
        if self.aws_owned(network, bucket_name, action, key):
            return True
        share = self.endpoint_share(network, bucket_name, bucket_account, action)
        return share_covers(share, principal_arn, key, list_prefix)

    def service_layer(
        self,
        bucket: Bucket,
        service: str,
        source_account: str | None,
        source_arn: str | None,
        action: str,
        key: str | None,
        list_prefix: str | None,
        secure_transport: bool,
    ) -> bool:
        """Whether the service flows allow the service's request on the bucket."""
        return any(
            grant.covers(service, source_account, source_arn)
            and grant.scope.covers(key, list_prefix)
            for grant in self.service_share(bucket, action, secure_transport)
        )
