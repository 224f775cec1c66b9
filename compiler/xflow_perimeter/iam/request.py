"""The request model the evaluator decides on, and the condition-key values each request carries."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from xflow_perimeter.iam.conditions import ContextValue, Unknown

_IAM_ARN = re.compile(r"arn:aws:iam::(\d{12}):(?:root|(?:user|role)(?:/[A-Za-z0-9_+=,.@-]+)+)")
_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who signs the request.

    ``arn`` is the value of aws:PrincipalArn: a role ARN for a role (its sessions are the role
    here), a user ARN, or ``arn:aws:iam::<account>:root``. Anonymous callers have neither ``arn``
    nor ``account``; ``anonymous_account_key`` says whether aws:PrincipalAccount is present (with
    the value "anonymous"), which AWS documents inconsistently, so verifiers try both. A service
    principal (``service``, e.g. "cloudtrail.amazonaws.com") has neither either.
    """

    arn: str | None
    account: str | None
    anonymous_account_key: bool = False
    service: str | None = None

    def __post_init__(self) -> None:
        if self.service is not None:
            if self.arn is not None or self.account is not None or self.anonymous_account_key:
                raise ValueError("a service principal has no ARN, account or anonymous key")
        elif self.arn is None:
            if self.account is not None:
                raise ValueError("an anonymous caller has no account")
        else:
            match = _IAM_ARN.fullmatch(self.arn)
            if match is None or match.group(1) != self.account:
                raise ValueError(f"caller ARN {self.arn!r} is not an IAM ARN of {self.account}")
            if self.anonymous_account_key:
                raise ValueError("only anonymous callers take anonymous_account_key")

    @property
    def is_anonymous(self) -> bool:
        return self.arn is None and self.service is None

    @property
    def is_service(self) -> bool:
        return self.service is not None

    @property
    def is_root(self) -> bool:
        return self.arn is not None and self.arn == f"arn:aws:iam::{self.account}:root"


@dataclass(frozen=True, slots=True)
class NetworkPath:
    """Where the request comes from: through a VPC endpoint (``vpce`` set) or over the internet.

    Through an endpoint AWS always sets aws:SourceVpc and aws:VpcSourceIp, and on the internet
    aws:SourceIp; a value left None there is unknown, so a policy that tests it makes evaluate
    refuse (unless the answer is the same whatever the value).
    """

    vpce: str | None = None
    vpc: str | None = None
    source_ip: str | None = None
    vpc_source_ip: str | None = None

    def __post_init__(self) -> None:
        if self.vpce is not None and self.source_ip is not None:
            raise ValueError("aws:SourceIp is absent on requests through a VPC endpoint")
        if self.vpce is None and (self.vpc is not None or self.vpc_source_ip is not None):
            raise ValueError("aws:SourceVpc and aws:VpcSourceIp exist only through a VPC endpoint")
        for address in (self.source_ip, self.vpc_source_ip):
            if address is not None:
                ipaddress.ip_address(address)  # raises ValueError if malformed

    @property
    def via_endpoint(self) -> bool:
        return self.vpce is not None


@dataclass(frozen=True, slots=True)
class Request:
    """One S3 request. ``key`` None means the resource is the bucket itself (e.g. ListBucket)."""

    caller: Caller
    action: str
    bucket: str
    bucket_account: str
    key: str | None
    list_prefix: str | None = None
    path: NetworkPath = NetworkPath()
    secure_transport: bool = True
    source_account: str | None = None
    source_arn: str | None = None

    def __post_init__(self) -> None:
        if not _ACCOUNT.fullmatch(self.bucket_account):
            raise ValueError(f"bucket account {self.bucket_account!r} is not a 12-digit account")
        if not self.bucket or "/" in self.bucket:
            raise ValueError(f"invalid bucket name {self.bucket!r}")

    @property
    def resource_arn(self) -> str:
        if self.key is None:
            return f"arn:aws:s3:::{self.bucket}"
        return f"arn:aws:s3:::{self.bucket}/{self.key}"


def _principal_arn(request: Request) -> ContextValue:
    return Unknown.VALUE if request.caller.is_service else request.caller.arn


def _principal_account(request: Request) -> ContextValue:
    caller = request.caller
    if caller.is_service:
        return Unknown.VALUE
    if caller.is_anonymous:
        return "anonymous" if caller.anonymous_account_key else None
    return caller.account


def _is_aws_service(request: Request) -> ContextValue:
    if request.caller.is_anonymous:
        return None  # "Anonymous requests do not include this key" (IAM global condition keys)
    return "true" if request.caller.is_service else "false"


def _on_path(value: str | None, present: bool) -> ContextValue:
    if value is None and present:
        return Unknown.VALUE
    return value


# Lower-cased key -> its value in a request; None = absent. Covers exactly conditions.KEY_TYPES.
CONTEXT: dict[str, Callable[[Request], ContextValue]] = {
    "aws:sourcevpce": lambda r: r.path.vpce,
    "aws:sourcevpc": lambda r: _on_path(r.path.vpc, r.path.via_endpoint),
    "aws:vpcsourceip": lambda r: _on_path(r.path.vpc_source_ip, r.path.via_endpoint),
    "aws:sourceip": lambda r: _on_path(r.path.source_ip, not r.path.via_endpoint),
    "aws:securetransport": lambda r: "true" if r.secure_transport else "false",
    "aws:principalarn": _principal_arn,
    "aws:principalaccount": _principal_account,
    "aws:principalisawsservice": _is_aws_service,
    "aws:principalservicename": lambda r: r.caller.service,
    "aws:resourceaccount": lambda r: r.bucket_account,
    "aws:sourceaccount": lambda r: r.source_account,
    "aws:sourcearn": lambda r: r.source_arn,
    "s3:prefix": lambda r: r.list_prefix,
}


def context_value(request: Request, key: str) -> ContextValue:
    """The request's value for a lower-cased condition key (None = absent)."""
    return CONTEXT[key](request)
