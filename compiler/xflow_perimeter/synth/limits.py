"""AWS's policy size limits, measured the way AWS measures them, checked before anything is written."""

from __future__ import annotations

from dataclasses import replace

from xflow_perimeter.diagnostics import Diagnostic, Span, XflowError
from xflow_perimeter.iam.policy import (
    BUCKET_POLICY_LIMIT,
    ENDPOINT_POLICY_LIMIT,
    PolicyDocument,
    compact_size,
    statement_to_json,
    to_json,
)
from xflow_perimeter.synth.compact import compact
from xflow_perimeter.synth.plan import Plan

__all__ = ["BUCKET_POLICY_LIMIT", "ENDPOINT_POLICY_LIMIT", "compact_size", "enforce"]


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


def enforce(plan: Plan) -> Plan:
    """Compact every policy over its limit; raise XflowError (XF301) for any still over it.

    Nothing is ever truncated or widened: compaction only merges statements (see compact.py),
    and the verifier proves the compacted policies like any others.
    """
    problems: list[Diagnostic] = []
    modules = []
    for module in plan.modules:
        endpoints = []
        for endpoint in module.endpoints:
            policy = _fit(endpoint.policy, ENDPOINT_POLICY_LIMIT, in_bytes=False)
            found = _problem(
                f"the endpoint policy of network {endpoint.network.name!r}",
                policy,
                ENDPOINT_POLICY_LIMIT,
                in_bytes=False,
            )
            if found:
                problems.append(_located(found, endpoint.network.span))
            endpoints.append(replace(endpoint, policy=policy))
        bucket_policies = []
        for item in module.bucket_policies:
            policy = _fit(item.policy, BUCKET_POLICY_LIMIT, in_bytes=True)
            found = _problem(
                f"the bucket policy of {item.bucket.name}",
                policy,
                BUCKET_POLICY_LIMIT,
                in_bytes=True,
            )
            if found:
                problems.append(_located(found, item.bucket.span))
            bucket_policies.append(replace(item, policy=policy))
        modules.append(
            replace(module, endpoints=tuple(endpoints), bucket_policies=tuple(bucket_policies))
        )
    if problems:
        raise XflowError(problems)
    return replace(plan, modules=tuple(modules))


def _fit(policy: PolicyDocument, limit: int, *, in_bytes: bool) -> PolicyDocument:
    if compact_size(to_json(policy), in_bytes=in_bytes) <= limit:
        return policy
    return compact(policy)


def _located(diagnostic: Diagnostic, span: Span | None) -> Diagnostic:
    return Diagnostic(
        diagnostic.code, diagnostic.message, span, diagnostic.severity, diagnostic.notes
    )
