"""AWS's policy size limits, measured the way AWS measures them, checked before anything is written."""

from __future__ import annotations

import json

from .errors import Diagnostic, Span, XflowError
from .plan import Plan
from .policy import PolicyDocument, statement_to_json, to_json

# PrivateLink: "The size of an endpoint policy cannot exceed 20,480 characters, including white space."
ENDPOINT_POLICY_LIMIT = 20_480
# S3: "Bucket policies are limited to 20 KB in size." Measured on the compact JSON, in bytes.
BUCKET_POLICY_LIMIT = 20_480


def compact_size(value: object, *, in_bytes: bool) -> int:
    """Size of ``value`` as Terraform's jsonencode sends it: compact JSON."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8")) if in_bytes else len(text)


def _problem(what: str, policy: PolicyDocument, limit: int, in_bytes: bool) -> Diagnostic | None:
    size = compact_size(to_json(policy), in_bytes=in_bytes)
    if size <= limit:
        return None
    unit = "bytes" if in_bytes else "characters"
    largest = sorted(
        ((compact_size(statement_to_json(s), in_bytes=in_bytes), s.sid) for s in policy.statements),
        reverse=True,
    )[:3]
    notes = tuple(f"largest statement: {sid} ({n} {unit})" for n, sid in largest)
    notes += (
        "to shrink it: give principals with the same flows the same access and prefixes (they share "
        "statements), use fewer distinct prefixes per bucket, or split the flows over more networks",
    )
    return Diagnostic(
        "XF301",
        f"{what} would be {size} {unit}, over AWS's limit of {limit}",
        None,
        notes=notes,
    )


def check(plan: Plan) -> None:
    """Raise XflowError (XF301) naming every policy over its limit; nothing is ever truncated."""
    problems: list[Diagnostic] = []
    for module in plan.modules:
        for endpoint in module.endpoints:
            found = _problem(
                f"the endpoint policy of network {endpoint.network.name!r}",
                endpoint.policy,
                ENDPOINT_POLICY_LIMIT,
                in_bytes=False,
            )
            if found:
                problems.append(_located(found, endpoint.network.span))
        for item in module.bucket_policies:
            found = _problem(
                f"the bucket policy of {item.bucket.name}",
                item.policy,
                BUCKET_POLICY_LIMIT,
                in_bytes=True,
            )
            if found:
                problems.append(_located(found, item.bucket.span))
    if problems:
        raise XflowError(problems)


def _located(diagnostic: Diagnostic, span: Span | None) -> Diagnostic:
    return Diagnostic(
        diagnostic.code, diagnostic.message, span, diagnostic.severity, diagnostic.notes
    )
