"""The spec's intended access as a flat relation of grants, shared by plan and verify.

A grant says: this principal, through this network, may perform this action on this bucket
within this scope. Compile turns grants into policies; verify checks decisions against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from xflow_perimeter.spec.model import Spec

ScopeKind = Literal["object", "bucket"]


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    """Where an action applies.

    ``object`` scopes cover object keys starting with ``prefix`` ("" covers every key). ``bucket``
    scopes cover the bucket itself; for listing actions a non-empty ``prefix`` restricts the
    request's ``s3:prefix``.
    """

    kind: ScopeKind
    prefix: str = ""

    def covers(self, key: str | None, list_prefix: str | None) -> bool:
        if self.kind == "object":
            return key is not None and key.startswith(self.prefix)
        if key is not None:
            return False
        return not self.prefix or (list_prefix is not None and list_prefix.startswith(self.prefix))


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One thing the spec allows: this principal, through this network, may perform this action on
    this bucket within this scope."""

    bucket: str  # spec bucket key
    network: str  # spec network name
    principal_arn: str
    action: str  # exact catalogue name, e.g. "s3:GetObject"
    scope: Scope


_Key = tuple[str, str, str, str, ScopeKind, str]  # a grant's fields in order, scope flattened


def grants(spec: Spec) -> tuple[Grant, ...]:
    """Every (bucket, network, principal, action, scope) the spec allows, sorted and unique.

    Deduplicated, pruned and sorted as plain tuples of the fields in declaration order, which
    compare exactly as the ordered dataclasses do, and only then made into Grants.
    """
    keys: set[_Key] = set()
    for flow in spec.flows:
        bucket, network, arn = flow.bucket.key, flow.network.name, flow.principal.arn
        prefix = flow.prefix or ""
        for action in flow.actions:
            kind, scoped = _scope_key(action.resource, action.prefix_key, prefix)
            keys.add((bucket, network, arn, action.name, kind, scoped))
    scopes: dict[tuple[ScopeKind, str], Scope] = {}
    out: list[Grant] = []
    for key in sorted(_without_redundant(keys)):
        scope_key = key[4], key[5]
        scope = scopes.get(scope_key)
        if scope is None:
            scope = scopes[scope_key] = Scope(*scope_key)
        out.append(Grant(key[0], key[1], key[2], key[3], scope))
    return tuple(out)


def _without_redundant(all_grants: Iterable[_Key]) -> list[_Key]:
    """Drop grants whose scope is inside another grant's scope for the same principal and action."""
    by_target: dict[tuple[str, str, str, str, ScopeKind], list[str]] = {}
    for key in all_grants:
        by_target.setdefault(key[:5], []).append(key[5])
    kept: list[_Key] = []
    for target, prefixes in by_target.items():
        if len(prefixes) == 1:
            kept.append((*target, prefixes[0]))
            continue
        for prefix in prefixes:
            covered = any(other != prefix and prefix.startswith(other) for other in prefixes)
            if not covered:
                kept.append((*target, prefix))
    return kept


@dataclass(frozen=True, slots=True, order=True)
class ServiceGrant:
    """One thing the spec allows a service principal: this action on this bucket within this scope,
    on behalf of this source account (and resource)."""

    bucket: str  # spec bucket key
    service: str  # e.g. "cloudtrail.amazonaws.com"
    source_account: str
    source_arn: str  # "" when the spec pins none
    action: str
    scope: Scope

    def covers(
        self, service: str | None, source_account: str | None, source_arn: str | None
    ) -> bool:
        return (
            service == self.service
            and source_account == self.source_account
            and (not self.source_arn or source_arn == self.source_arn)
        )


def service_grants(spec: Spec) -> tuple[ServiceGrant, ...]:
    """Every (bucket, service on behalf of an account, action, scope) the spec allows."""
    out: set[ServiceGrant] = set()
    for flow in spec.service_flows:
        service = flow.service
        for action in flow.actions:
            out.add(
                ServiceGrant(
                    flow.bucket.key,
                    service.service,
                    service.source_account,
                    service.source_arn or "",
                    action.name,
                    _scope(action.resource, action.prefix_key, flow.prefix or ""),
                )
            )
    return tuple(sorted(out))


def _scope(resource: str, prefix_key: bool, prefix: str) -> Scope:
    return Scope(*_scope_key(resource, prefix_key, prefix))


def _scope_key(resource: str, prefix_key: bool, prefix: str) -> tuple[ScopeKind, str]:
    if resource == "object":
        return "object", prefix
    return ("bucket", prefix) if prefix_key else ("bucket", "")
