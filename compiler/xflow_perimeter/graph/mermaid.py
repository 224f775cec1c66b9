"""Mermaid renderer: a Graph -> a flowchart that Mermaid's own parser accepts.

Every label is a quoted string whose characters outside a small safe set are Mermaid entity codes
(``#quot;``, ``#35;``), so no text can end a string, open a directive (``%%{``), become HTML or
Markdown, or be read as syntax. Ids are the graph's slugs and go in as they are.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable

from xflow_perimeter.graph import palette
from xflow_perimeter.graph.model import Change, Edge, Graph, Kind, Node

_SAFE = frozenset(string.ascii_letters + string.digits + " .,:/()_@=+!'*-")
_NAMED = {'"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;"}
_SHAPES = {
    Kind.PRINCIPAL: ("([", "])"),
    Kind.NETWORK: ("[", "]"),
    Kind.BUCKET: ("[(", ")]"),
    Kind.SERVICE: ("[[", "]]"),
    Kind.AWS_OWNED: ("[(", ")]"),
    Kind.ACCOUNT: ("[", "]"),
}
_ARROWS = {Change.SAME: "-->", Change.GAINED: "==>", Change.LOST: "-.->"}
NOTE_ID = "summary_note"
WRAPPING_WIDTH = 360  # pixels; Mermaid's default of 200 breaks VPC and endpoint ids


def escape(text: str) -> str:
    """``text`` as one line inside a quoted Mermaid label.

    >>> escape('a "b" #1 <i>')
    'a #quot;b#quot; #35;1 #lt;i#gt;'
    """
    escaped = "".join(
        char if char in _SAFE else _NAMED.get(char, f"#{ord(char)};") for char in text
    )
    # Before parsing, Mermaid drops the last ';' of any line where "style" or "classDef" is
    # followed by ':' and '#' (meant for colours in style statements); spell them with a code.
    escaped = escaped.replace("style", "#115;tyle").replace("classDef", "#99;lassDef")
    # Mermaid trims each line of a label: keep its outer spaces as codes.
    core = escaped.strip(" ")
    leading = len(escaped) - len(escaped.lstrip(" "))
    trailing = len(escaped) - len(core) - leading
    return "#32;" * leading + core + "#32;" * trailing


def _label(lines: Iterable[str]) -> str:
    # Lines are joined with real newlines, not <br/>: with <br/>, Mermaid reads a backslash
    # followed by n (after decoding entity codes) as one more line break.
    return '"' + "\n".join(escape(line) for line in lines) + '"'


def render(graph: Graph) -> str:
    """The Mermaid text of ``graph``, ending in a newline."""
    out = [
        "---",
        f"title: {json.dumps(graph.title)}",
        "config:",
        "  flowchart:",
        f"    wrappingWidth: {WRAPPING_WIDTH}",
        "---",
        "flowchart LR",
    ]
    by_group: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        by_group.setdefault(node.group, []).append(node)
    for group in graph.groups:
        out.append(f"  subgraph {group.id}[{_label([group.title])}]")
        out.extend(f"    {_node(node)}" for node in by_group.get(group.id, ()))
        out.append("  end")
    out.extend(f"  {_node(node)}" for node in by_group.get(None, ()))
    if graph.notes:
        out.append(f"  {NOTE_ID}[{_label(graph.notes)}]")
    out.extend(f"  {_edge(edge)}" for edge in graph.edges)
    out.extend(_styles(graph))
    return "\n".join(out) + "\n"


def _node(node: Node) -> str:
    opening, closing = _SHAPES[node.kind]
    return f"{node.id}{opening}{_label(node.lines)}{closing}"


def _edge(edge: Edge) -> str:
    arrow = _ARROWS[edge.change]
    label = f"|{_label(edge.lines)}|" if edge.lines else ""
    return f"{edge.source} {arrow}{label} {edge.target}"


def _styles(graph: Graph) -> list[str]:
    out: list[str] = []
    for kind in Kind:
        members = [node.id for node in graph.nodes if node.kind is kind]
        if members:
            fill, stroke = palette.NODE_COLOURS[kind]
            name = kind.value.replace("-", "_")
            out.append(f"  classDef {name} fill:{fill},stroke:{stroke},color:#1f2328")
            out.append(f"  class {','.join(members)} {name}")
    summarised = [node.id for node in graph.nodes if node.summarised]
    if summarised:
        out.append("  classDef summarised stroke-dasharray:5 3,stroke-width:2px")
        out.append(f"  class {','.join(summarised)} summarised")
    if graph.notes:
        fill, stroke = palette.NOTE_COLOURS
        out.append(f"  classDef note fill:{fill},stroke:{stroke},color:#1f2328")
        out.append(f"  class {NOTE_ID} note")
    fill, stroke = palette.GROUP_COLOURS
    out.extend(f"  style {group.id} fill:{fill},stroke:{stroke}" for group in graph.groups)
    for change in (Change.GAINED, Change.LOST):
        indices = [str(i) for i, edge in enumerate(graph.edges) if edge.change is change]
        if indices:
            colour = palette.EDGE_COLOURS[change]
            out.append(f"  linkStyle {','.join(indices)} stroke:{colour},color:{colour}")
    return out
