"""Names a spec refers to (accounts, networks, buckets, principals, services), and what to say
when one does not resolve: the closest declared name, or the spec name of the bucket or network
that was named by its AWS identifier instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from xflow_perimeter.spec.hints import closest, did_you_mean

_LISTED = 10  # known names an "unknown name" message lists before "and N more"


@dataclass(frozen=True, slots=True)
class Section:
    """The names one section of a spec declares, as far as references to them are concerned.

    Attributes:
        kind: what one entry is, in messages (``bucket``).
        declared: the names of the entries that can be referred to.
        refused: the names of entries the schema refused; a reference to one of them (or to a
            name close to one, such as ``app`` for a refused ``App``) is not reported again.
        all_refused: the schema refused the whole section, or it is required and missing.
        aliases: AWS identifiers (a bucket's S3 name, a VPC id) -> the spec name they belong to,
            for the message when a reference uses one instead of the spec name.
    """

    kind: str
    declared: frozenset[str]
    refused: tuple[str, ...] = ()
    all_refused: bool = False
    aliases: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}))

    def problem(self, name: str) -> str | None:
        """Why a reference to ``name`` is an error, or None if it resolves or is already reported.

        >>> Section("bucket", frozenset({"logs"})).problem("log")
        "unknown bucket 'log' (did you mean 'logs'?)"
        """
        if name in self.declared:
            return None
        if self.all_refused or closest(name, self.refused) is not None:
            return None
        unknown = f"unknown {self.kind} {name!r}"
        if name in self.aliases:
            spec_name, what = self.aliases[name]
            return (
                f"{unknown}: that is the {what} of {self.kind} {spec_name!r}; write {spec_name!r}"
            )
        hint = did_you_mean(name, self.declared)
        if hint:
            return unknown + hint
        known = sorted({*self.declared, *self.refused})
        if not known:
            return f"{unknown} (none declared)"
        shown = ", ".join(known[:_LISTED])
        more = f" and {len(known) - _LISTED} more" if len(known) > _LISTED else ""
        return f"{unknown} (known: {shown}{more})"


def aliases(pairs: Iterable[tuple[str | None, str, str]]) -> Mapping[str, tuple[str, str]]:
    """An alias table from ``(identifier, spec name, what the identifier is)``; None is skipped."""
    return MappingProxyType(
        {identifier: (name, what) for identifier, name, what in pairs if identifier is not None}
    )
