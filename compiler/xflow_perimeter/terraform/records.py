"""Read Terraform: the typed records that both HCL readers (fast and python-hcl2) produce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.iam.policy import JsonValue

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, number, bool or null written literally (strings decoded as Terraform would)."""

    value: Scalar


@dataclass(frozen=True, slots=True)
class Reference:
    """A traversal such as ``aws_vpc_endpoint.app.id`` or ``var.x``, as its source text."""

    expression: str


@dataclass(frozen=True, slots=True)
class JsonEncoded:
    """``jsonencode(...)`` of literal data, evaluated to plain JSON data.

    ``statement_spans`` locates each element of the top-level ``Statement`` list, when there is one
    (the first :data:`~xflow_perimeter.terraform.limits.MAX_STATEMENT_SPANS` of them).
    """

    value: JsonValue
    statement_spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class Opaque:
    """Any other expression, as source text.

    ``kind`` is one of "heredoc", "template", "function", "list", "object", "conditional",
    "operation", "for", "expression", "jsonencode-with-expressions" (a reference, call or
    interpolation inside ``jsonencode``) or "duplicate-key" (an object inside ``jsonencode``
    repeats a key). For the last two, ``detail`` says what and ``span`` points at it. A "list"
    carries its elements in ``items``; an "object" whose keys are all literal carries its
    elements in ``entries``, in source order.
    """

    kind: str
    text: str
    detail: str = field(default="", compare=False)
    span: Span | None = field(default=None, compare=False)
    items: tuple[Value, ...] = field(default=(), compare=False, repr=False)
    entries: tuple[tuple[str, Value], ...] = field(default=(), compare=False, repr=False)


Value = Literal | Reference | JsonEncoded | Opaque


@dataclass(frozen=True, slots=True)
class Block:
    """A block with its attributes (name, value, span) and its nested blocks, in source order."""

    block_type: str
    labels: tuple[str, ...]
    attributes: tuple[tuple[str, Value, Span], ...]
    nested: tuple[Block, ...]
    span: Span

    def attribute(self, name: str) -> tuple[Value, Span] | None:
        """The value and span of the top-level attribute ``name``, or None when absent."""
        for attr_name, value, span in self.attributes:
            if attr_name == name:
                return value, span
        return None


@dataclass(frozen=True, slots=True)
class TfFile:
    """One Terraform file as read: its path under the root, its blocks and xflow's header if any."""

    path: str
    blocks: tuple[Block, ...]
    header: str | None


@dataclass(frozen=True, slots=True)
class SkippedModule:
    """A module directory left to another spec: its ``xflow-module.json`` names that spec."""

    directory: str  # relative to the Terraform root, posix style ("" for the root itself)
    spec: str  # the other spec, as the manifest names it
    span: Span = field(compare=False)  # the manifest


@dataclass(frozen=True, slots=True)
class TfTree:
    """What the readers made of a Terraform root: the files Terraform reads, override files
    merged in; every problem found (each file is read or refused); the modules left to other specs."""

    files: tuple[TfFile, ...]
    problems: tuple[Diagnostic, ...]
    skipped: tuple[SkippedModule, ...] = ()


_HEADER = re.compile(r"// Code generated .* DO NOT EDIT\.")


def file_header(text: str) -> str | None:
    """The file's first line when it is xflow's "Code generated ... DO NOT EDIT." comment."""
    end = text.find("\n")
    first_line = (text if end < 0 else text[:end]).rstrip("\r")
    return first_line if _HEADER.fullmatch(first_line) else None
