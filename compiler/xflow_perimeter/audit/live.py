"""The live state the audit reads from AWS, as frozen data (produced by read_network/read_buckets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FailureKind = Literal["denied", "throttled", "unreachable", "credentials", "error"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A read that failed: what was being read, the IAM action it needed and why it failed."""

    account_id: str
    region: str
    subject: str  # e.g. "the VPC endpoints of vpc-0a1b..."
    action: str  # the IAM action the call needs, e.g. "ec2:DescribeVpcEndpoints"
    kind: FailureKind
    reason: str

    def describe(self) -> str:
        return (
            f"could not read {self.subject} in account {self.account_id}, {self.region} "
            f"({self.action}): {self.reason}"
        )


@dataclass(frozen=True, slots=True)
class Missing:
    """A read that AWS answered with "no such thing" (the error code says which)."""

    code: str


@dataclass(frozen=True, slots=True)
class LiveEndpoint:
    """A VPC endpoint for S3 (gateway or interface) in one of the spec's VPCs."""

    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str  # "Gateway", "Interface", "GatewayLoadBalancer"
    state: str
    policy: str | None  # the policy document as AWS returns it; None: none returned
    route_table_ids: tuple[str, ...]


RouteTarget = Literal[
    "local",
    "vpc-endpoint",
    "internet-gateway",
    "egress-only-internet-gateway",
    "nat-gateway",
    "transit-gateway",
    "vpc-peering",
    "virtual-private-gateway",
    "network-interface",
    "other",
]


@dataclass(frozen=True, slots=True)
class LiveRoute:
    """One route of a deployed route table: destination, target, and whether it is active."""

    destination: str  # a CIDR block or a prefix-list id
    target: str  # the target's id, e.g. "igw-0a1b...", "nat-...", "vpce-...", "local"
    target_kind: RouteTarget
    active: bool  # False for a blackhole route

    @property
    def is_default(self) -> bool:
        return self.destination in ("0.0.0.0/0", "::/0")


@dataclass(frozen=True, slots=True)
class LiveRouteTable:
    """A deployed route table in one of the spec's VPCs: main or not, its subnets and its routes."""

    route_table_id: str
    vpc_id: str
    main: bool  # the VPC's main route table: subnets without an association of their own use it
    subnet_ids: tuple[str, ...]
    routes: tuple[LiveRoute, ...]


@dataclass(frozen=True, slots=True)
class AclGrant:
    """One grant of a bucket's ACL: who gets which permission, and whether that is the owner."""

    grantee: str  # a canonical user id, an e-mail address or a group URI
    permission: str
    is_owner: bool


@dataclass(frozen=True, slots=True)
class PublicAccessBlock:
    """The four Block Public Access settings of a bucket or an account, as deployed."""

    block_public_acls: bool
    ignore_public_acls: bool
    block_public_policy: bool
    restrict_public_buckets: bool

    def settings(self) -> dict[str, bool]:
        return {
            "BlockPublicAcls": self.block_public_acls,
            "IgnorePublicAcls": self.ignore_public_acls,
            "BlockPublicPolicy": self.block_public_policy,
            "RestrictPublicBuckets": self.restrict_public_buckets,
        }


@dataclass(frozen=True, slots=True)
class LiveAccessPoint:
    """An access point of a spec bucket: its name, and whether it serves the internet or one VPC."""

    name: str
    network_origin: str  # "Internet" or "VPC"
    vpc_id: str | None


@dataclass(frozen=True, slots=True)
class LiveBucket:
    """One spec bucket as deployed. A field holding Unreadable was not read; Missing: not set."""

    name: str
    account_id: str
    exists: bool | Unreadable
    region: str | Unreadable | None  # None: not read (the bucket does not exist)
    policy: str | Missing | Unreadable | None
    object_ownership: str | Missing | Unreadable | None
    acl_grants: tuple[AclGrant, ...] | Unreadable | None
    public_access_block: PublicAccessBlock | Missing | Unreadable | None
    access_points: tuple[LiveAccessPoint, ...] | Unreadable | None


@dataclass(frozen=True, slots=True)
class LiveRegion:
    """What the audit read in one account and Region: the spec's VPCs there and its buckets."""

    account_id: str
    region: str
    vpc_ids: frozenset[str] | Unreadable  # which of the spec's VPCs exist
    endpoints: tuple[LiveEndpoint, ...] | Unreadable  # every VPC endpoint for S3 in them
    route_tables: tuple[LiveRouteTable, ...] | Unreadable  # every route table in them
    s3_prefix_lists: frozenset[str] | Unreadable  # the Region's S3 prefix-list ids
    buckets: tuple[LiveBucket, ...]
    account_public_access_block: PublicAccessBlock | Missing | Unreadable | None  # None: not read


@dataclass(frozen=True, slots=True)
class LiveAccount:
    """An account the audit needed: its id and, when the audit holds no credentials for it, why."""

    account_id: str
    failure: Unreadable | None  # None: the audit holds credentials for the account


@dataclass(frozen=True, slots=True)
class LiveState:
    """Everything the audit read from AWS: the accounts it needed and each account and Region."""

    accounts: tuple[LiveAccount, ...]
    regions: tuple[LiveRegion, ...]

    def region(self, account_id: str, region: str) -> LiveRegion | None:
        return next(
            (r for r in self.regions if r.account_id == account_id and r.region == region), None
        )

    def account_failure(self, account_id: str) -> Unreadable | None:
        return next((a.failure for a in self.accounts if a.account_id == account_id), None)

    def read_failures(self) -> tuple[Unreadable, ...]:
        """Every read in an account and Region that failed (accounts not reached aside)."""
        out: list[Unreadable] = []
        for region in self.regions:
            fields: list[object] = [
                region.vpc_ids,
                region.endpoints,
                region.route_tables,
                region.s3_prefix_lists,
                region.account_public_access_block,
            ]
            for bucket in region.buckets:
                fields += [
                    bucket.exists,
                    bucket.region,
                    bucket.policy,
                    bucket.object_ownership,
                    bucket.acl_grants,
                    bucket.public_access_block,
                    bucket.access_points,
                ]
            out.extend(f for f in fields if isinstance(f, Unreadable))
        return tuple(dict.fromkeys(out))
