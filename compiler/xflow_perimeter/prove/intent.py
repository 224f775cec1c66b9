"""What the spec intends: the reference decision verify compares every evaluated request against."""

from __future__ import annotations

from collections import defaultdict

from xflow_perimeter.iam.evaluate import LOCKOUT_ACTIONS
from xflow_perimeter.prove.request_classes import root_arn
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.model import Bucket, Network, Spec
from xflow_perimeter.synth.grants import Grant, Scope, ServiceGrant, service_grants


class Intent:
    """Intended decisions per layer, computed from the spec's grants alone (never from policies)."""

    def __init__(self, spec: Spec, grants: tuple[Grant, ...]) -> None:
        self.spec = spec
        self.admins = frozenset(spec.admins)
        self._scopes: dict[tuple[str, str, str, str], list[Scope]] = defaultdict(list)
        for grant in grants:
            key = (grant.bucket, grant.network, grant.principal_arn, grant.action.lower())
            self._scopes[key].append(grant.scope)
        self._buckets = {(b.name, b.account_id): b for b in spec.buckets}
        self.service_grants: dict[str, list[ServiceGrant]] = defaultdict(list)
        for service_grant in service_grants(spec):
            self.service_grants[service_grant.bucket].append(service_grant)

    def spec_bucket(self, name: str, account_id: str) -> Bucket | None:
        return self._buckets.get((name, account_id))

    def granted(
        self,
        bucket: Bucket,
        network: Network,
        principal_arn: str | None,
        action: str,
        key: str | None,
        list_prefix: str | None,
    ) -> bool:
        if principal_arn is None:
            return False
        scopes = self._scopes.get((bucket.key, network.name, principal_arn, action.lower()), ())
        return any(scope.covers(key, list_prefix) for scope in scopes)

    def bucket_layer(
        self,
        bucket: Bucket,
        network: Network | None,
        principal_arn: str | None,
        principal_account: str | None,
        action: str,
        key: str | None,
        list_prefix: str | None,
        secure_transport: bool,
    ) -> bool:
        """The bucket policy's share: flows into the bucket, admins of its account, the owner's root."""
        if principal_arn == root_arn(bucket.account_id) and action.lower() in LOCKOUT_ACTIONS:
            return True
        if not secure_transport:
            return False
        if principal_arn in self.admins and principal_account == bucket.account_id:
            return True
        return network is not None and self.granted(
            bucket, network, principal_arn, action, key, list_prefix
        )

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
        """The endpoint policy's share: exactly the flows over its network, to the spec's buckets."""
        if self.aws_owned(network, bucket_name, action, key):
            return True
        bucket = self.spec_bucket(bucket_name, bucket_account)
        return bucket is not None and self.granted(
            bucket, network, principal_arn, action, key, list_prefix
        )

    def aws_owned(self, network: Network, bucket_name: str, action: str, key: str | None) -> bool:
        """An AWS-owned object the network's workloads read, which any caller may get."""
        if action.lower() != aws_owned.ACTION.lower() or key is None:
            return False
        return any(
            owned.bucket == bucket_name and key.startswith(owned.prefix)
            for owned in aws_owned.objects_for(network.workloads, network.region)
        )

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
        """Service flows: the named service, on behalf of its source account (and resource)."""
        if not secure_transport:
            return False
        return any(
            grant.covers(service, source_account, source_arn)
            and grant.action.lower() == action.lower()
            and grant.scope.covers(key, list_prefix)
            for grant in self.service_grants.get(bucket.key, ())
        )
