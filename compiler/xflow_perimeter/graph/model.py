"""The picture as data: nodes in account groups and labelled edges, ready for a renderer.

Renderers get only this: ids are already safe slugs, text is plain (each renderer escapes it for
its own format), and every collection is sorted, so the same spec always draws the same picture.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Kind(enum.Enum):
    """What a node stands for; renderers pick its shape and colour from this."""

    PRINCIPAL = "principal"
    NETWORK = "network"
    BUCKET = "bucket"
    SERVICE = "service"
    AWS_OWNED = "aws-owned"  # a workload's AWS-owned buckets, reached through a network
    ACCOUNT = "account"  # everything of one account, or of several, drawn as one node


class Change(enum.Enum):
    """How an edge differs between two versions of a spec; a single spec draws only SAME."""

    SAME = "same"
    GAINED = "gained"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the picture: a declared entity, several summarised, or an account drawn as one."""

    id: str  # a safe slug, unique in the graph
    kind: Kind
    lines: tuple[str, ...]  # the first line is the title
    group: str | None  # id of the Group it is drawn in
    members: tuple[str, ...]  # keys of the declared entities it stands for, sorted

    @property
    def summarised(self) -> bool:
        return len(self.members) > 1 or self.kind is Kind.ACCOUNT


@dataclass(frozen=True, slots=True)
class Group:
    """An account (or AWS itself), drawn as a box around its nodes."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Edge:
    """An arrow from one node to another (by id), with its label and how it changed."""

    source: str
    target: str
    lines: tuple[str, ...]  # the label, one entry per line; may be empty
    change: Change = Change.SAME


@dataclass(frozen=True, slots=True)
class Graph:
    """The whole picture: title, notes on what it leaves out, account groups, nodes and edges."""

    title: str
    notes: tuple[str, ...]  # what the picture leaves out or summarises, one sentence each
    groups: tuple[Group, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


_UNSAFE = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """A lower-case identifier of letters, digits and single underscores derived from ``text``.

    >>> slug("app-Role/2")
    'app_role_2'
    """
    return _UNSAFE.sub("_", text.lower()).strip("_") or "x"


class IdAllocator:
    """Hands out unique slug ids: ``prefix_slug``, then ``_2``, ``_3`` on a collision.

    Allocate in a sorted order and the same inputs always get the same ids.
    """

    def __init__(self) -> None:
        self._used: set[str] = set()

    def allocate(self, prefix: str, text: str) -> str:
        base = f"{prefix}_{slug(text)}"
        candidate, number = base, 1
        while candidate in self._used:
            number += 1
            candidate = f"{base}_{number}"
        self._used.add(candidate)
        return candidate
