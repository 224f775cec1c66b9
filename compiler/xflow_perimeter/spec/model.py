"""The validated spec as frozen, typed data (built and checked by :mod:`xflow_perimeter.spec.build`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.spec.actions import S3Action

ANONYMOUS = "anonymous"
INTERNET = "internet"
_IAM_ARN = re.compile(r"^arn:aws:iam::(?P<account>[0-9]{12}):(?P<resource>.+)$")


@dataclass(frozen=True, slots=True)
class Network:
    """A network of the spec: a VPC, its route tables and endpoint, its egress and workloads."""

    name: str
    account_id: str
    region: str
    vpc_id: str
    route_table_ids: tuple[str, ...]
    endpoint_id: str | None  # None: xflow creates the endpoint
    egress: str | None = None  # "none", "nat" or "internet"; None: not declared
    bypass_accepted: str | None = None  # why an egress bypass is acceptable
    workloads: tuple[str, ...] = ()  # names from the AWS-owned bucket catalogue
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def creates_endpoint(self) -> bool:
        return self.endpoint_id is None


@dataclass(frozen=True, slots=True)
class Bucket:
    """A bucket of the spec: its spec key, its S3 name, account and Region."""

    key: str
    name: str
    account_id: str
    region: str
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass(frozen=True, slots=True)
class Principal:
    """A principal of the spec: its spec key and IAM ARN (a user, a role or an account's root)."""

    key: str
    arn: str
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def account_id(self) -> str:
        return arn_account(self.arn)


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow of the spec: a principal may access a bucket through a network (under a prefix)."""

    principal: Principal
    network: Network
    bucket: Bucket
    access: tuple[str, ...]  # as written: levels and explicit actions
    actions: tuple[S3Action, ...]
    prefix: str | None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Service:
    """An AWS service principal of the spec, pinned to the account (and resource) it acts for."""

    key: str
    service: str  # e.g. "cloudtrail.amazonaws.com"
    source_account: str
    source_arn: str | None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ServiceFlow:
    """An AWS service reading or writing a bucket on an account's behalf (no network: AWS's own)."""

    service: Service
    bucket: Bucket
    access: tuple[str, ...]
    actions: tuple[S3Action, ...]
    prefix: str | None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Assertion:
    """An access test verify must also prove: one request, and whether it must be allowed."""

    principal_arn: str | None  # None: anonymous
    network: str | None  # None: the internet
    bucket_name: str
    bucket_account: str
    key: str | None
    action: str
    expect_allow: bool
    identity: Literal["allow-all", "none"]
    bucket_region: str | None = None  # None: the spec bucket's, else the network's
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DeclaredException:
    """A reviewed exception: a Terraform block that verify refuses by default, accepted with a
    reason and listed in verify's report. ``address`` is the block's module directory under the
    Terraform root, then its address there (``data-eu-west-1/aws_s3_object.readme``)."""

    address: str
    reason: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Spec:
    """A validated spec as frozen data: accounts, networks, buckets, principals, flows and more."""

    path: str
    accounts: tuple[tuple[str, str], ...]  # (alias, id), sorted by alias
    networks: tuple[Network, ...]
    buckets: tuple[Bucket, ...]
    principals: tuple[Principal, ...]
    admins: tuple[str, ...]  # ARNs, sorted
    flows: tuple[Flow, ...]
    assertions: tuple[Assertion, ...] = ()
    services: tuple[Service, ...] = ()
    service_flows: tuple[ServiceFlow, ...] = ()
    exceptions: tuple[DeclaredException, ...] = ()
    auditors: tuple[str, ...] = ()  # ARNs, sorted: may read configuration only (spec.auditors)

    def account_alias(self, account_id: str) -> str | None:
        return next((alias for alias, value in self.accounts if value == account_id), None)

    def network(self, name: str) -> Network | None:
        return next((n for n in self.networks if n.name == name), None)


def arn_account(arn: str) -> str:
    match = _IAM_ARN.match(arn)
    if match is None:
        raise ValueError(f"not an IAM ARN: {arn}")
    return match.group("account")


def slug(name: str) -> str:
    """A Terraform identifier derived from a spec name: lower-case letters, digits and '_'."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())
