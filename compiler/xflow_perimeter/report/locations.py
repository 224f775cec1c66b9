"""One location convention for every output: a path relative to a base directory (the working
directory, or the repository root for SARIF), absolute when the file is outside it.

Spans come in two kinds: the spec's name the spec as the user gave it, the Terraform reader's
name files relative to the Terraform root. A Locator turns both into paths from its base.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, Span


def display_path(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the working directory), posix style; absolute
    when it is outside ``base``."""
    absolute = Path(os.path.abspath(path))
    start = Path(os.path.abspath(base if base is not None else Path.cwd()))
    try:
        relative = absolute.relative_to(start)
    except ValueError:
        return absolute.as_posix()
    return relative.as_posix() or "."


def repository_root(start: Path | None = None) -> Path:
    """The git top level holding ``start`` (default: the working directory), else ``start``."""
    here = Path(os.path.abspath(start if start is not None else Path.cwd()))
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


@dataclass(frozen=True, slots=True)
class Locator:
    """Maps the spans of one run (a spec and, for verify and explain, a Terraform root)."""

    spec_file: str  # how the spec's own spans name it
    tf_root: Path | None
    base: Path | None = None  # None: the working directory

    def file(self, name: str) -> str:
        if name == self.spec_file or self.tf_root is None:
            return display_path(Path(name), self.base)
        return display_path(self.tf_root / name, self.base)

    def span(self, span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(self.file(span.file), span.line, span.column)

    def diagnostic(self, diagnostic: Diagnostic) -> Diagnostic:
        return replace(diagnostic, span=self.span(diagnostic.span))

    def path(self, path: Path) -> str:
        return display_path(path, self.base)
