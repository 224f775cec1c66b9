"""What every semantic check of a spec shares: reading the entries the schema accepted,
resolving references to them, and collecting diagnostics at their spans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.spec import hints
from xflow_perimeter.spec.model import Bucket, Network
from xflow_perimeter.spec.references import Section, aliases
from xflow_perimeter.spec.regions import REGIONS
from xflow_perimeter.spec.source import Document, escape

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


class Checker:
    """Reads a loaded spec for the semantic checks and collects what they find.

    ``refused`` holds the pointers of the entries (``/networks/app``, ``/flows/3``) and whole
    sections (``/flows``) the schema refused: they are skipped, and references to them are not
    reported again. Every other entry is schema-valid, so its fields can be read as such.
    """

    def __init__(self, document: Document, refused: Set[str] = frozenset()) -> None:
        self.document = document
        self.refused = refused
        self.diagnostics: list[Diagnostic] = []
        self.data: Mapping[str, Any] = document.data  # type: ignore[assignment]
        self.accounts: dict[str, str] = {alias: id_ for alias, id_, _ in self.entries("accounts")}

    def error(self, code: str, message: str, pointer: str, *, key: bool = False) -> None:
        spans = self.document.key_spans if key else self.document.spans
        span = spans.get(pointer) or self.document.span(pointer)
        self.diagnostics.append(Diagnostic(code, message, span))

    def span(self, pointer: str) -> Span:
        return self.document.span(pointer)

    def account(self, ref: str, pointer: str) -> str:
        if _ACCOUNT_ID.match(ref):
            return ref
        if ref not in self.accounts:
            problem = self.section("accounts", "account").problem(ref)
            if problem is not None:
                self.error("XF201", problem, pointer)
            return "000000000000"
        return self.accounts[ref]

    def region(self, region: str, pointer: str) -> str:
        if region not in REGIONS:
            message = f"unknown AWS Region {region!r}" + hints.did_you_mean(region, REGIONS)
            self.error("XF205", message, pointer)
        return region

    def entries(self, section: str) -> Iterator[tuple[str, Any, str]]:
        """The accepted entries of a mapping section, by name: (name, value, pointer)."""
        table = self.data.get(section, {})
        if f"/{section}" in self.refused or not isinstance(table, dict):
            return
        for name, value in sorted(table.items()):
            pointer = f"/{section}/{escape(name)}"
            if pointer not in self.refused:
                yield name, value, pointer

    def items(self, section: str) -> Iterator[tuple[int, Any, str]]:
        """The accepted items of a list section, in order: (index, value, pointer)."""
        listed = self.data.get(section, [])
        if f"/{section}" in self.refused or not isinstance(listed, list):
            return
        for index, value in enumerate(listed):
            pointer = f"/{section}/{index}"
            if pointer not in self.refused:
                yield index, value, pointer

    def section(
        self, section: str, kind: str, identifiers: Iterable[tuple[str | None, str, str]] = ()
    ) -> Section:
        """What references to ``section`` resolve against (built only when one does not)."""
        table = self.data.get(section, {})
        listed = table if isinstance(table, dict) else {}
        return Section(
            kind=kind,
            declared=frozenset(name for name, _, _ in self.entries(section)),
            refused=tuple(k for k in listed if f"/{section}/{escape(k)}" in self.refused),
            all_refused=f"/{section}" in self.refused or not isinstance(table, dict),
            aliases=aliases(identifiers),
        )

    def reference(
        self,
        table: Mapping[str, Any],
        kind: str,
        name: str,
        pointer: str,
        identifiers: Iterable[tuple[str | None, str, str]] = (),
    ) -> Any:
        """``table[name]``, or None with XF201 (unless ``name`` is an entry the schema refused).

        ``identifiers`` are ``(AWS identifier, spec name, what it is)`` for the message when
        ``name`` is, say, a bucket's S3 name rather than its spec name.
        """
        if name in table:
            return table[name]
        problem = self.section(f"{kind}s", kind, identifiers).problem(name)
        if problem is not None:
            self.error("XF201", problem, pointer)
        return None

    def bucket(self, buckets: Mapping[str, Bucket], name: str, pointer: str) -> Bucket | None:
        named = ((b.name, key, "S3 name") for key, b in buckets.items())
        found: Bucket | None = self.reference(buckets, "bucket", name, pointer, named)
        return found

    def network(self, networks: Mapping[str, Network], name: str, pointer: str) -> Network | None:
        named = (
            (identifier, key, what)
            for key, n in networks.items()
            for identifier, what in ((n.vpc_id, "VPC"), (n.endpoint_id, "endpoint"))
        )
        found: Network | None = self.reference(networks, "network", name, pointer, named)
        return found
