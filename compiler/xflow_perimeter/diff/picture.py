"""The picture of what changed, drawn by the graph package: one reach per entry, marked gained
or lost, from its caller through its network path to its bucket."""

from __future__ import annotations

from xflow_perimeter.diff.model import DiffReport, Direction, Layer
from xflow_perimeter.graph import Budget, mermaid
from xflow_perimeter.graph.facts import Declared, Entity, Reach
from xflow_perimeter.graph.grouping import picture
from xflow_perimeter.graph.model import Change, Kind

OUTSIDE = "outside"  # pseudo-account of anonymous callers and of paths outside every account
_ARN_ACCOUNT_AT = 4


def changed_flows(report: DiffReport) -> Declared:
    """Entities and reaches of the report's entries (one layer's changes labelled as such)."""
    entities: dict[str, Entity] = {}
    reaches: list[Reach] = []
    for entry in report.entries:
        caller_account = _account_of(entry.example.caller)
        who = _add(entities, Kind.PRINCIPAL, entry.caller, caller_account)
        network_account = entry.network.partition("(account ")[2].partition(")")[0] or OUTSIDE
        via = _add(entities, Kind.NETWORK, entry.network, network_account)
        target = _add(entities, Kind.BUCKET, entry.bucket, entry.example.bucket_account)
        access = (
            entry.actions
            if entry.layer is Layer.COMBINED
            else (f"{entry.layer.value} layer: {', '.join(entry.actions)}",)
        )
        change = Change.GAINED if entry.direction is Direction.GAINED else Change.LOST
        reaches.append(Reach(who, via, target, tuple(access), None, change))
    accounts = sorted({e.account for e in entities.values()})
    titles = tuple(
        (a, "outside every account" if a == OUTSIDE else f"account {a}") for a in accounts
    )
    return Declared(
        f"{report.old} -> {report.new}",
        titles,
        tuple(entities[k] for k in sorted(entities)),
        tuple(reaches),
        title=f"Changes between {report.old} and {report.new}",
    )


def mermaid_picture(report: DiffReport, budget: Budget | None = None) -> str:
    """The Mermaid text of what changed, summarised to fit ``budget``; "" when nothing did."""
    if not report.entries:
        return ""
    drawn = picture(
        changed_flows(report), budget or Budget(), lambda graph: len(mermaid.render(graph))
    )
    return mermaid.render(drawn)


def _add(entities: dict[str, Entity], kind: Kind, name: str, account: str) -> str:
    key = f"{kind.value}:{name}"
    entities.setdefault(key, Entity(key, kind, name, (), account))
    return key


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return (
        parts[_ARN_ACCOUNT_AT]
        if len(parts) > _ARN_ACCOUNT_AT and parts[_ARN_ACCOUNT_AT]
        else OUTSIDE
    )
