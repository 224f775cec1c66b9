"""Graphviz renderer: a Graph -> DOT text for ``dot -Tsvg`` or ``dot -Tpng``.

Every id and label is a double-quoted DOT string. Inside one, a backslash and a quote are
escaped, ``&`` is written as an entity (Graphviz decodes entities in plain labels), and lines are
joined with Graphviz's own line breaks, so no text can end a string or be read as an escape.
"""

from __future__ import annotations

from collections.abc import Iterable

from xflow_perimeter.graph import palette
from xflow_perimeter.graph.model import Change, Edge, Graph, Kind, Node

_FONT = "Helvetica"
_SHAPES = {
    Kind.PRINCIPAL: ("box", "rounded,filled"),
    Kind.NETWORK: ("box", "filled"),
    Kind.BUCKET: ("cylinder", "filled"),
    Kind.SERVICE: ("component", "filled"),
    Kind.AWS_OWNED: ("cylinder", "filled"),
    Kind.ACCOUNT: ("box3d", "filled"),
}
_CENTRE = "\\n"  # Graphviz's line breaks inside a label
_LEFT = "\\l"
_EDGE_STYLES = {
    Change.SAME: "solid",
    Change.GAINED: "bold",
    Change.LOST: "dashed",
}


def quote(text: str) -> str:
    """``text`` as one DOT string literal that Graphviz shows as it is.

    >>> quote('say "hi" \\\\ & go')
    '"say \\\\"hi\\\\" \\\\\\\\ &amp; go"'
    """
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif char == "&":
            escaped.append("&amp;")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"&#{ord(char)};")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _label(lines: Iterable[str], newline: str = _CENTRE) -> str:
    """Lines joined with a Graphviz line break (``\\n`` centres them, ``\\l`` left-aligns)."""
    parts = [quote(line)[1:-1] for line in lines]
    if newline == _LEFT:
        return '"' + "".join(part + newline for part in parts) + '"'
    return '"' + newline.join(parts) + '"'


def render(graph: Graph) -> str:
    """The DOT text of ``graph``, ending in a newline."""
    title = (graph.title, *graph.notes)
    out = [
        "digraph xflow {",
        f"  graph [rankdir=LR, newrank=true, fontname={quote(_FONT)}, fontsize=12, "
        f"labelloc=t, labeljust=l, label={_label(title, _LEFT)}, nodesep=0.25, ranksep=0.9];",
        f'  node [fontname={quote(_FONT)}, fontsize=10, margin="0.15,0.06"];',
        f"  edge [fontname={quote(_FONT)}, fontsize=9, arrowsize=0.7];",
    ]
    by_group: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        by_group.setdefault(node.group, []).append(node)
    fill, stroke = palette.GROUP_COLOURS
    for group in graph.groups:
        out.append(f"  subgraph {quote('cluster_' + group.id)} {{")
        out.append(
            f'    graph [label={quote(group.title)}, style="rounded,filled", '
            f"fillcolor={quote(fill)}, color={quote(stroke)}, fontsize=11];"
        )
        out.extend(f"    {_node(node)}" for node in by_group.get(group.id, ()))
        out.append("  }")
    out.extend(f"  {_node(node)}" for node in by_group.get(None, ()))
    out.extend(f"  {_edge(edge)}" for edge in graph.edges)
    out.append("}")
    return "\n".join(out) + "\n"


def _node(node: Node) -> str:
    shape, style = _SHAPES[node.kind]
    if node.summarised:
        style += ",dashed"
    width = ", penwidth=1.6" if node.kind is Kind.NETWORK else ""
    fill, stroke = palette.NODE_COLOURS[node.kind]
    return (
        f"{quote(node.id)} [label={_label(node.lines)}, shape={shape}, style={quote(style)}, "
        f"fillcolor={quote(fill)}, color={quote(stroke)}{width}];"
    )


def _edge(edge: Edge) -> str:
    colour = palette.EDGE_COLOURS[edge.change]
    attributes = [f"color={quote(colour)}", f"fontcolor={quote(colour)}"]
    if edge.change is not Change.SAME:
        attributes.append(f"style={_EDGE_STYLES[edge.change]}")
    if edge.lines:
        # decorate: a line from the label to its edge, so crossing edges keep their labels apart
        attributes[:0] = [f"label={_label(edge.lines)}", "decorate=true"]
    return f"{quote(edge.source)} -> {quote(edge.target)} [{', '.join(attributes)}];"
