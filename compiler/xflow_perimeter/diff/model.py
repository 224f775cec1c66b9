"""The result of a diff as data: each difference in exposure with a concrete request, grouped for
reading, the changed declarations, and a side verify would refuse."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from xflow_perimeter.diagnostics import Diagnostic


class Direction(enum.Enum):
    GAINED = "gained"  # allowed on the new side, denied on the old
    LOST = "lost"  # allowed on the old side, denied on the new


class Layer(enum.Enum):
    """Where a difference shows: in the exposure with every layer in force, or in one layer alone
    while the other still decides the request the same way on both sides."""

    COMBINED = "combined"
    ENDPOINT = "endpoint"  # the endpoint policy alone (every bucket allowing everyone)
    BUCKET = "bucket"  # the bucket policy alone (every endpoint allowing everything)


@dataclass(frozen=True, slots=True)
class ConcreteRequest:
    """One request that one side allows and the other denies."""

    caller: str  # the aws:PrincipalArn, a service principal, or "anonymous"
    action: str
    bucket: str
    bucket_account: str
    key: str | None
    list_prefix: str | None
    source: str  # the network path as the request arrives (endpoint, VPC and IP, or IP)
    secure_transport: bool
    source_account: str | None = None  # a service's aws:SourceAccount
    source_arn: str | None = None  # a service's aws:SourceArn


@dataclass(frozen=True, slots=True)
class Entry:
    """Requests of one caller class, through one network path, on one bucket, that one side
    allows and the other denies, in one layer."""

    direction: Direction
    layer: Layer
    caller: str  # a principal (spec key and ARN) or a caller class
    network: str  # a network path
    bucket: str  # name and account
    actions: tuple[str, ...]  # sorted
    scopes: tuple[str, ...]  # key or listing-prefix witnesses, sorted
    tls_only: bool  # True when only requests without TLS differ
    example: ConcreteRequest
    outside: bool = False  # the bucket is in neither spec: its owner may allow anyone


@dataclass(frozen=True, slots=True)
class DeclaredChange:
    """A declared exception or assumption that one side has and the other does not."""

    direction: Direction
    text: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A side that was not diffed because verify would refuse it, with verify's diagnostics."""

    side: str  # "old" or "new"
    label: str  # the spec (and revision) of that side
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class DiffReport:
    """A diff's result: exposure gained and lost, changed declarations, refused sides, counts."""

    old: str  # what each side is, as the user named it
    new: str
    entries: tuple[Entry, ...]
    declared: tuple[DeclaredChange, ...]
    refusals: tuple[Refusal, ...] = ()
    buckets_compared: int = 0  # buckets whose exposure could differ and were evaluated
    buckets_skipped: int = 0  # buckets with the same policies on every path on both sides
    requests_evaluated: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.entries or self.declared)

    @property
    def gains(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.direction is Direction.GAINED)

    @property
    def losses(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.direction is Direction.LOST)
