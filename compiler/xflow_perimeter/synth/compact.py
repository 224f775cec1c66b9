"""Statement compaction for policies over AWS's size limits, never widening access.

Statements that agree on everything but their Resource list (same effect, principals, actions and
conditions, and a plain Resource element) are merged into one with the union of the resources.
A statement matches a request when principal, action, resource and conditions all hold, so with
the other elements equal, matching any of the merged statements is exactly matching the merge.
NotResource statements are never merged: their union would deny less.
"""

from __future__ import annotations

from dataclasses import replace

from xflow_perimeter.iam.policy import PolicyDocument, Statement


def _merge_key(statement: Statement) -> tuple[object, ...] | None:
    if statement.not_resources:
        return None
    return (
        statement.effect,
        statement.principals,
        statement.actions,
        statement.not_actions,
        tuple(sorted((c.operator, c.key, c.values) for c in statement.conditions)),
    )


def compact(policy: PolicyDocument) -> PolicyDocument:
    """Merge statements that differ only in their resources; order and Sids stay stable."""
    merged: list[Statement] = []
    index: dict[tuple[object, ...], int] = {}
    for statement in policy.statements:
        key = _merge_key(statement)
        if key is None or key not in index:
            if key is not None:
                index[key] = len(merged)
            merged.append(statement)
            continue
        first = merged[index[key]]
        resources = tuple(sorted(set(first.resources) | set(statement.resources)))
        merged[index[key]] = replace(first, resources=resources)
    return replace(policy, statements=tuple(merged))
