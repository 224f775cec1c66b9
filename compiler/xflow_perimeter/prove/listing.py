"""Report lines built from a list (an admin's buckets, the networks without declared egress):
the list is kept as data, so that a text report can show its count and first items while the
JSON report has every item, and no line is ever cut inside its prose."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Listed:
    """``lead``, the items separated by commas, then ``tail`` (each part may be empty)."""

    lead: str
    items: tuple[str, ...]
    tail: str = ""

    def render(self, shown: int | None = None) -> str:
        """The whole line; with ``shown``, a list of more items than that names only its first
        ``shown`` and how many more there are."""
        items = ", ".join(self.items)
        if shown is not None and len(self.items) > shown:
            hidden = len(self.items) - shown
            items = f"{', '.join(self.items[:shown])} and {hidden} more"
        return " ".join(part for part in (self.lead, items, self.tail) if part)

    def shortened(self, shown: int) -> bool:
        return len(self.items) > shown

    def __str__(self) -> str:
        return self.render()


ReportLine = str | Listed  # an assumption or declared exception in verify's report; str() is whole
