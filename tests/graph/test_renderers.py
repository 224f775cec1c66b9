"""The renderers under the real tools: Mermaid's own parser and renderer, and Graphviz's dot.

Every label must come out of the real renderer exactly as the picture holds it, whatever text it
carries, and a diagram the tools reject must fail here.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xflow_perimeter import graph
from xflow_perimeter.api import load_spec
from xflow_perimeter.graph import dot, mermaid
from xflow_perimeter.graph.model import Change, Edge, Graph, Group, Kind, Node

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*/spec.yaml"))

MermaidCheck = Callable[..., list[dict[str, Any]]]

# Text that would break a careless renderer: quotes, entity look-alikes, HTML, Mermaid directives
# and keywords, Markdown, DOT escapes, arrows and separators, non-ASCII.
NASTY = (
    'say "hi"',
    "back\\slash\\",
    "#quot; #35; &amp; &lt; #",
    "<b>bold</b><script>alert(1)</script>",
    "%%{init: {'theme':'dark'}}%%",
    "end",
    "subgraph x",
    "`code` *em* _u_ **b**",
    "a|b|c --> x ==> y -.-> z",
    "ünïcödé ☃ 😀 日本語",
    "{[()]} ; : , = + @ ! ?",
    "\\n \\l \\N \\G \\\\",
    "class a b; style a fill:#f00",
    "tab\there",
    "\\n at the start, and at the end \\n",
    "  outer spaces  ",
    "style:#1 and classDef:#2;",
)


def nasty_graph() -> Graph:
    """Every kind of node, a group, notes and each kind of change, all labelled with NASTY."""
    kinds = list(Kind)
    nodes = tuple(
        Node(
            f"n_{i}",
            kinds[i % len(kinds)],
            (text, f"second {text}"),
            "acct_x" if i % 2 else None,
            (f"principal:{i}",),
        )
        for i, text in enumerate(NASTY)
    )
    changes = list(Change)
    edges = tuple(
        Edge(f"n_{i}", f"n_{(i + 1) % len(NASTY)}", (text,) if i % 4 else (), changes[i % 3])
        for i, text in enumerate(NASTY)
    )
    return Graph(
        title='title "q" #1 <x> \\ & %%',
        notes=("note <i>x</i> & #quot;",),
        groups=(Group("acct_x", 'group "x" & <y>'),),
        nodes=nodes,
        edges=edges,
    )


def example_graphs() -> list[Graph]:
    return [graph.draw(load_spec(path), str(path.relative_to(REPO))) for path in EXAMPLES]


def expected_labels(picture: Graph) -> Counter[tuple[str, ...]]:
    """Every label Mermaid draws as text: group titles, nodes, the notes and edge labels."""
    labels: list[tuple[str, ...]] = [(g.title,) for g in picture.groups]
    labels += [n.lines for n in picture.nodes]
    labels += [e.lines for e in picture.edges if e.lines]
    if picture.notes:
        labels.append(picture.notes)
    return Counter(labels)


# Mermaid ---------------------------------------------------------------------------------------


def test_mermaid_parses_every_picture(
    mermaid_check: MermaidCheck, benchmark_spec: Callable[[int], Path]
) -> None:
    pictures = [*example_graphs(), nasty_graph()]
    pictures += [graph.draw(load_spec(benchmark_spec(n)), "spec.yaml") for n in (1000, 10000)]
    results = mermaid_check([mermaid.render(p) for p in pictures])
    assert [(r["ok"], r.get("type"), r.get("error")) for r in results] == [
        (True, "flowchart-v2", None)
    ] * len(pictures)


def test_labels_come_out_of_mermaid_exactly(mermaid_check: MermaidCheck) -> None:
    pictures = [*example_graphs(), nasty_graph()]
    results = mermaid_check([mermaid.render(p) for p in pictures], labels=True)
    for picture, result in zip(pictures, results, strict=True):
        assert result["ok"], result
        assert Counter(tuple(label) for label in result["labels"]) == expected_labels(picture)


def test_mermaid_rejections_fail(mermaid_check: MermaidCheck) -> None:
    """The check really runs Mermaid: a syntax error, an unescaped quote and Mermaid's default
    limits on edges and text size each fail it."""
    good = mermaid.render(nasty_graph())
    unescaped = 'flowchart LR\n  a["say "hi" now"] --> b\n'
    many_edges = "flowchart LR\n" + "".join(f"  a{i} --> b{i}\n" for i in range(501))
    too_long = "flowchart LR\n" + "".join(f'  a{i}["{"x" * 90}"]\n' for i in range(600))
    results = mermaid_check([good, good.replace("  end\n", "", 1), unescaped, many_edges, too_long])
    assert [r["ok"] for r in results] == [True, False, False, False, False]
    assert "Edge limit exceeded" in results[3]["error"]
    assert "maxTextSize" in results[4]["error"]


def test_mermaid_marks_gained_and_lost_edges() -> None:
    text = mermaid.render(nasty_graph())
    edges = [
        line.strip() for line in text.splitlines() if re.match(r"^  n_\d+ (-->|==>|-\.->)", line)
    ]
    arrows = ["-->", "==>", "-.-"]
    assert [e.split(" ")[1][:3] for e in edges] == [arrows[i % 3] for i in range(len(NASTY))]
    gained = [str(i) for i in range(len(NASTY)) if i % 3 == 1]
    lost = [str(i) for i in range(len(NASTY)) if i % 3 == 2]
    assert f"  linkStyle {','.join(gained)} stroke:#1a7f37,color:#1a7f37" in text
    assert f"  linkStyle {','.join(lost)} stroke:#cf222e,color:#cf222e" in text


def test_mermaid_escape_leaves_only_safe_characters_and_entity_codes() -> None:
    for text in NASTY:
        escaped = mermaid.escape(text)
        assert re.fullmatch(r"([A-Za-z0-9 .,:/()_@=+!'*-]|#[a-z]+;|#[0-9]+;)*", escaped), escaped
    assert mermaid.escape('a"b') == "a#quot;b"
    assert mermaid.escape("#quot;") == "#35;quot#59;"


# Graphviz --------------------------------------------------------------------------------------


def test_graphviz_renders_every_picture(
    dot_svg_lines: Callable[[str], list[str]], benchmark_spec: Callable[[int], Path]
) -> None:
    pictures = [*example_graphs(), nasty_graph()]
    pictures += [graph.draw(load_spec(benchmark_spec(n)), "spec.yaml") for n in (1000, 10000)]
    for picture in pictures:
        assert picture.title in dot_svg_lines(dot.render(picture))


def test_labels_come_out_of_graphviz_exactly(dot_svg_lines: Callable[[str], list[str]]) -> None:
    for picture in [*example_graphs(), nasty_graph()]:
        expected = Counter(line for label in expected_labels(picture).elements() for line in label)
        expected.update([picture.title])
        assert Counter(dot_svg_lines(dot.render(picture))) == expected


def test_dot_quote_escapes_quotes_backslashes_and_entities() -> None:
    assert dot.quote('a "b" \\ & c') == '"a \\"b\\" \\\\ &amp; c"'
    assert dot.quote("x\ny") == '"x&#10;y"'


def test_dot_marks_gained_and_lost_edges() -> None:
    text = dot.render(nasty_graph())
    assert '"n_1" -> "n_2" [label=' in text
    gained = next(line for line in text.splitlines() if line.startswith('  "n_1" -> '))
    lost = next(line for line in text.splitlines() if line.startswith('  "n_2" -> '))
    assert 'color="#1a7f37"' in gained and "style=bold" in gained
    assert 'color="#cf222e"' in lost and "style=dashed" in lost


@pytest.mark.parametrize("fmt", graph.FORMATS)
def test_rendering_is_byte_stable(fmt: graph.Format) -> None:
    first = [graph.render(p, fmt) for p in example_graphs()]
    assert [graph.render(p, fmt) for p in example_graphs()] == first
    assert all(text.endswith("\n") and not text.endswith("\n\n") for text in first)


def random_labels(count: int) -> list[str]:
    """Seeded random labels over ASCII punctuation, letters, spaces and some non-ASCII."""
    rng = random.Random(20261130)
    # No no-break space: Graphviz writes runs of spaces as no-break spaces in SVG.
    pool = string.printable[:-5] + "ßü☃😀日本"
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) for _ in range(count)]


def random_graph() -> Graph:
    labels = random_labels(120)
    nodes = tuple(
        Node(f"n_{i}", Kind.BUCKET, (labels[i], labels[i + 60]), None, (f"bucket:{i}",))
        for i in range(40)
    )
    edges = tuple(Edge(f"n_{i}", f"n_{i + 1}", (labels[40 + i],), Change.SAME) for i in range(20))
    return Graph("random", (), (), nodes, edges)


def test_random_labels_survive_both_renderers(
    mermaid_check: MermaidCheck, dot_svg_lines: Callable[[str], list[str]]
) -> None:
    picture = random_graph()
    [result] = mermaid_check([mermaid.render(picture)], labels=True)
    assert result["ok"], result
    assert Counter(tuple(label) for label in result["labels"]) == expected_labels(picture)
    expected = Counter(line for label in expected_labels(picture).elements() for line in label)
    expected.update([picture.title])
    assert Counter(dot_svg_lines(dot.render(picture))) == expected
