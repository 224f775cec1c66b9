"""What verify reports about a difference between the Terraform and the spec: a ``Finding``,
with a counterexample request and the statements that decided it, in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xflow_perimeter.diagnostics import Diagnostic, Span

if TYPE_CHECKING:  # compile's structure check makes findings without loading the proof
    from xflow_perimeter.iam.evaluate import Decision
    from xflow_perimeter.iam.policy import Statement
    from xflow_perimeter.iam.request import Request
    from xflow_perimeter.prove.network_paths import NoRoute, PathClass


@dataclass(frozen=True, slots=True)
class RequestFields:
    """A request as fields, for structured reports (the text form is ``describe_request``'s)."""

    principal: str | None  # IAM ARN; None: anonymous
    principal_account: str | None
    network: str  # the path's label: "network NAME", "the internet", ...
    bucket: str
    bucket_account: str
    action: str
    tls: bool
    key: str | None = None
    list_prefix: str | None = None
    region: str | None = None  # the bucket's Region, when the request names a spec bucket
    identity: str = "allow-all"  # the caller's identity policy as assumed


@dataclass(frozen=True, slots=True)
class Deciding:
    """A statement that decided a request: its policy layer, where it is, and its Sid."""

    layer: str
    span: Span | None
    sid: str | None


@dataclass(frozen=True, slots=True)
class Finding:
    """A difference between the Terraform and the spec: its code and message, a counterexample
    request and the statements that decided it."""

    code: str
    message: str
    counterexample: str
    deciding: tuple[str, ...]  # "file:line:col Sid (layer policy)"
    span: Span | None = field(default=None, compare=False)
    # The same counterexample and deciding statements as fields, when the check has them.
    request: RequestFields | None = field(default=None, compare=False)
    deciders: tuple[Deciding, ...] = field(default=(), compare=False)

    def to_diagnostic(self) -> Diagnostic:
        notes: tuple[str, ...] = ()
        if self.counterexample:
            notes = (f"counterexample: {self.counterexample}",)
        notes += tuple(f"decided by: {d}" for d in self.deciding)
        return Diagnostic(self.code, self.message, self.span, notes=notes)


def describe_request(request: Request, path: PathClass) -> str:
    caller = request.caller.arn or "anonymous"
    where = (
        f"key={request.key}"
        if request.key is not None
        else (
            f"s3:prefix={request.list_prefix!r}"
            if request.list_prefix is not None
            else "bucket itself"
        )
    )
    return (
        f"{request.action} by {caller} on bucket {request.bucket} (account {request.bucket_account}), "
        f"{where}, from {path.label}, TLS {'on' if request.secure_transport else 'off'}"
    )


def request_fields(
    request: Request,
    path: PathClass | NoRoute,
    *,
    region: str | None = None,
    identity: str = "allow-all",
) -> RequestFields:
    return RequestFields(
        principal=request.caller.arn,
        principal_account=request.caller.account,
        network=path.label,
        bucket=request.bucket,
        bucket_account=request.bucket_account,
        action=request.action,
        tls=request.secure_transport,
        key=request.key,
        list_prefix=request.list_prefix,
        region=region,
        identity=identity,
    )


def deciders(decision: Decision) -> tuple[Deciding, ...]:
    """The statements behind a decision, as fields (synthetic stand-ins without a span omitted)."""
    return tuple(Deciding(layer, s.span, s.sid) for layer, s in decision.deciding if s.span)


def deciding(decision: Decision) -> tuple[str, ...]:
    """The Terraform statements behind a decision (synthetic stand-ins, which have no span, omitted)."""
    refs = tuple(_statement_ref(layer, s) for layer, s in decision.deciding if s.span is not None)
    if refs:
        return refs
    if decision.allowed:
        return (
            "no statement in the Terraform denies it, and the caller's identity policy allows it",
        )
    return (decision.reason,)


def _statement_ref(layer: str, statement: Statement) -> str:
    where = f"{statement.span}: " if statement.span else ""
    sid = statement.sid or "(no Sid)"
    return f"{where}{sid} ({layer} policy)"
