"""`xflow graph`: a picture of the flows a spec declares, as Mermaid or Graphviz DOT text.

``declared`` (facts) -> ``picture`` (grouping, summarised to fit a budget) -> a renderer.
"""

from __future__ import annotations

from typing import Literal

from xflow_perimeter.graph import dot, mermaid
from xflow_perimeter.graph.facts import declared
from xflow_perimeter.graph.grouping import Budget, picture
from xflow_perimeter.graph.model import Graph
from xflow_perimeter.spec.model import Spec

Format = Literal["mermaid", "dot"]
FORMATS: tuple[Format, ...] = ("mermaid", "dot")


def draw(spec: Spec, source: str, budget: Budget | None = None) -> Graph:
    """The picture of ``spec`` (named ``source`` in its title), summarised to fit ``budget``.

    The budget is measured on the Mermaid text, so both formats draw the same picture.
    """
    chosen = budget if budget is not None else Budget()
    return picture(declared(spec, source), chosen, lambda graph: len(mermaid.render(graph)))


def render(graph: Graph, fmt: Format) -> str:
    """``graph`` as text in ``fmt``."""
    return mermaid.render(graph) if fmt == "mermaid" else dot.render(graph)


__all__ = ["FORMATS", "Budget", "Format", "Graph", "draw", "render"]
