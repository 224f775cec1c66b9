"""Grouping: declared entities and reaches -> the picture, summarised until it fits a budget.

Every entity starts as a node of its own inside its account's box. While the picture is over
budget it is coarsened, each step a merge of nodes, and the first picture that fits is drawn:

1. kind by kind (the most numerous kind first), the entities of one kind in one account become
   one node ("120 principals"), in every account at once so that the picture stays uniform;
2. every account becomes one node listing what it holds;
3. account by account, those with the fewest flows are merged into one "other accounts" node.

Merging nodes never adds an edge, so the edge count falls too; the last step (everything in
one node) always fits."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xflow_perimeter.graph.facts import PSEUDO_ACCOUNTS, Declared, Entity, Reach
from xflow_perimeter.graph.model import Change, Edge, Graph, Group, IdAllocator, Kind, Node

KIND_ORDER = (Kind.PRINCIPAL, Kind.SERVICE, Kind.NETWORK, Kind.AWS_OWNED, Kind.BUCKET, Kind.ACCOUNT)
_NOUNS = {
    Kind.PRINCIPAL: ("principal", "principals"),
    Kind.NETWORK: ("network", "networks"),
    Kind.BUCKET: ("bucket", "buckets"),
    Kind.SERVICE: ("service", "services"),
    Kind.AWS_OWNED: ("AWS-owned bucket set", "AWS-owned bucket sets"),
    Kind.ACCOUNT: ("account", "accounts"),
}
_ID_PREFIXES = {
    Kind.PRINCIPAL: "p",
    Kind.NETWORK: "n",
    Kind.BUCKET: "b",
    Kind.SERVICE: "s",
    Kind.AWS_OWNED: "w",
}
_LEVELS = ("read", "write", "list", "delete")
MAX_EDGE_LINES = 4  # an edge standing for more ways in than this gets a summary label
OTHERS = "others"


@dataclass(frozen=True, slots=True)
class Budget:
    """How much one picture may hold. The text limit is Mermaid's default ``maxTextSize``."""

    nodes: int = 50
    edges: int = 120  # past this a picture is a hairball; Mermaid's own maxEdges is 500
    text: int = 50_000


@dataclass(frozen=True, slots=True)
class _Leg:
    """One hop of a reach: who -> network (``inbound``), or -> the target."""

    source: str  # entity key
    target: str
    inbound: bool
    reach: Reach


def picture(declared: Declared, budget: Budget, measure: Callable[[Graph], int]) -> Graph:
    """The most detailed picture of ``declared`` within ``budget``.

    ``measure`` gives a picture's size in the budget's text unit (the Mermaid text's length).
    """
    entities = {entity.key: entity for entity in declared.entities}
    legs = _legs(declared.reaches)
    hops = {(leg.source, leg.target, leg.reach.change) for leg in legs}
    for display in _coarsenings(declared, legs):
        if len(set(display.values())) > budget.nodes:
            continue
        if len({(display[s], display[t], c) for s, t, c in hops}) > budget.edges:
            continue
        graph = _graph(declared, entities, legs, display, budget)
        if measure(graph) <= budget.text:
            return graph
    raise AssertionError("the coarsest picture is one node; it always fits")


def _legs(reaches: tuple[Reach, ...]) -> list[_Leg]:
    legs: list[_Leg] = []
    for reach in reaches:
        if reach.who is not None and reach.via is not None:
            legs.append(_Leg(reach.who, reach.via, True, reach))
        origin = reach.via if reach.via is not None else reach.who
        assert origin is not None, "a reach comes from a principal, a service or a network"
        legs.append(_Leg(origin, reach.target, False, reach))
    return legs


def _coarsenings(declared: Declared, legs: list[_Leg]) -> Iterator[dict[str, str]]:
    """The entity -> display-node mapping, coarsened one merge per step (the same dict, updated)."""
    display = {entity.key: entity.key for entity in declared.entities}
    yield display
    members: dict[tuple[str, Kind], list[str]] = defaultdict(list)
    for entity in declared.entities:
        members[entity.account, entity.kind].append(entity.key)
    population = Counter(entity.kind for entity in declared.entities)
    for kind in sorted(population, key=lambda k: (-population[k], KIND_ORDER.index(k))):
        groups = [(account, keys) for (account, k), keys in members.items() if k is kind]
        merged = False
        for account, keys in groups:
            if len(keys) > 1:
                merged = True
                for key in keys:
                    display[key] = f"summary:{kind.value}:{account}"
        if merged:
            yield display
    accounts = sorted({entity.account for entity in declared.entities})
    by_account: dict[str, list[str]] = defaultdict(list)
    for entity in declared.entities:
        by_account[entity.account].append(entity.key)
    for account in accounts:
        for key in by_account[account]:
            display[key] = f"account:{account}"
    yield display
    owner = {entity.key: entity.account for entity in declared.entities}
    weight: Counter[str] = Counter()
    for leg in legs:
        weight[owner[leg.source]] += 1
        weight[owner[leg.target]] += 1
    for account in sorted(accounts, key=lambda a: (weight[a], a))[:-1]:
        for key in by_account[account]:
            display[key] = OTHERS
        yield display
    for key in display:
        display[key] = OTHERS
    yield display


def _graph(
    declared: Declared,
    entities: dict[str, Entity],
    legs: list[_Leg],
    display: dict[str, str],
    budget: Budget,
) -> Graph:
    titles = dict(declared.accounts)
    ids = IdAllocator()
    drawn: dict[str, list[Entity]] = defaultdict(list)
    for key, shown in display.items():
        drawn[shown].append(entities[key])
    grouped_accounts = sorted(
        {members[0].account for shown, members in drawn.items() if _in_group(shown)},
        key=lambda a: (a in PSEUDO_ACCOUNTS, titles[a], a),
    )
    group_ids = {account: ids.allocate("acct", account) for account in grouped_accounts}
    groups = tuple(Group(group_ids[a], titles[a]) for a in grouped_accounts)
    node_ids: dict[str, str] = {}
    nodes: list[Node] = []
    for shown in sorted(drawn):
        node = _node(shown, drawn[shown], titles, group_ids, ids)
        node_ids[shown] = node.id
        nodes.append(node)
    edges = _edges(legs, display, node_ids)
    order = {kind: index for index, kind in enumerate(KIND_ORDER)}
    nodes.sort(key=lambda n: (n.group is None, n.group or "", order[n.kind], n.id))
    return Graph(
        title=declared.title or f"Flows declared by {declared.source}",
        notes=_notes(drawn, budget),
        groups=groups,
        nodes=tuple(nodes),
        edges=edges,
    )


def _in_group(shown: str) -> bool:
    return not shown.startswith("account:") and shown != OTHERS


def _node(
    shown: str,
    members: list[Entity],
    titles: dict[str, str],
    group_ids: dict[str, str],
    ids: IdAllocator,
) -> Node:
    first = members[0]
    keys = tuple(sorted(member.key for member in members))
    if len(members) == 1 and shown == first.key:
        prefix = _ID_PREFIXES[first.kind]
        return Node(
            ids.allocate(prefix, first.key.split(":", 1)[1]),
            first.kind,
            (first.name, *first.details),
            group_ids[first.account],
            keys,
        )
    if shown.startswith("summary:"):
        return Node(
            ids.allocate("g", f"{first.account}_{_NOUNS[first.kind][1]}"),
            first.kind,
            (_count(len(members), first.kind),),
            group_ids[first.account],
            keys,
        )
    kinds = Counter(member.kind for member in members)
    counts = tuple(_count(kinds[kind], kind) for kind in KIND_ORDER if kinds[kind])
    if shown == OTHERS:
        accounts = len({member.account for member in members})
        title = "all accounts" if len(titles) == accounts else f"{accounts} other accounts"
        return Node(ids.allocate("g", OTHERS), Kind.ACCOUNT, (title, *counts), None, keys)
    return Node(
        ids.allocate("a", first.account),
        Kind.ACCOUNT,
        (titles[first.account], *counts),
        None,
        keys,
    )


def _count(number: int, kind: Kind) -> str:
    singular, plural = _NOUNS[kind]
    return f"{number:,} {singular if number == 1 else plural}"


def _edges(legs: list[_Leg], display: dict[str, str], node_ids: dict[str, str]) -> tuple[Edge, ...]:
    bundles: dict[tuple[str, str, Change, bool], list[Reach]] = defaultdict(list)
    for leg in legs:
        key = (display[leg.source], display[leg.target], leg.reach.change, leg.inbound)
        bundles[key].append(leg.reach)
    order = list(Change)
    merged: dict[tuple[str, str, Change], list[str]] = defaultdict(list)
    # Where both hops of reaches land on one edge (accounts drawn as nodes), the hop into the
    # networks is described first.
    for (source, target, change, inbound), reaches in sorted(
        bundles.items(), key=lambda item: (*item[0][:2], order.index(item[0][2]), not item[0][3])
    ):
        if inbound:
            whos = len({reach.who for reach in reaches})
            lines = [] if whos == 1 else [_count(whos, Kind.PRINCIPAL)]
            if lines and not target.startswith(("network:", "summary:network:")):
                lines = [f"{lines[0]} to networks"]
        else:
            lines = _reach_lines(reaches, source, display)
        merged[node_ids[source], node_ids[target], change].extend(lines)
    edges = [
        Edge(
            source,
            target,
            (change.value, *lines) if change is not Change.SAME else tuple(lines),
            change,
        )
        for (source, target, change), lines in merged.items()
    ]
    edges.sort(key=lambda e: (e.source, e.target, order.index(e.change)))
    return tuple(edges)


def _reach_lines(reaches: list[Reach], source: str, display: dict[str, str]) -> list[str]:
    """One line per (who, prefix) with the access united, or a summary if there are too many."""
    access: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for reach in reaches:
        if reach.who is None:
            who = "any principal: "
        elif display[reach.who] == source == reach.who:
            who = ""  # the edge starts at the one who reaches
        else:
            who = f"{reach.who.split(':', 1)[1]}: "
        access[who, reach.prefix].update(reach.access)
    named = all(reach.who is None or display[reach.who] == reach.who for reach in reaches)
    if named and len(access) <= MAX_EDGE_LINES:
        return sorted(
            f"{who}{_access(levels)}{f' on {prefix}*' if prefix else ''}"
            for (who, prefix), levels in access.items()
        )
    everything = set().union(*access.values())
    flows = len(reaches)
    return [f"{flows:,} flow{'s' if flows != 1 else ''}: {_access(everything)}"]


def _access(levels: set[str]) -> str:
    known = [level for level in _LEVELS if level in levels]
    return ", ".join(known + sorted(levels.difference(_LEVELS)))


def _notes(drawn: dict[str, list[Entity]], budget: Budget) -> tuple[str, ...]:
    summaries: Counter[Kind] = Counter()
    account_nodes = 0
    merged_accounts = 0
    for shown, members in drawn.items():
        if shown.startswith("summary:"):
            summaries[members[0].kind] += 1
        elif shown.startswith("account:"):
            account_nodes += 1
        elif shown == OTHERS:
            merged_accounts = len({member.account for member in members})
    kinds = [_NOUNS[kind][1] for kind in KIND_ORDER if summaries[kind]]
    parts = []
    if kinds:
        listed = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
        parts.append(f"{listed} drawn as one node per account")
    if account_nodes:
        parts.append(f"{_count(account_nodes, Kind.ACCOUNT)} drawn as one node each")
    if merged_accounts:
        parts.append(f"{_count(merged_accounts, Kind.ACCOUNT)} merged into one node")
    if not parts:
        return ()
    limits = f"{budget.nodes} nodes and {budget.edges} edges"
    return (f"Summarised to fit {limits}: " + "; ".join(parts) + ".",)
