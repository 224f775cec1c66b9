"""Read Terraform: turn a tree of .tf files into typed records (:mod:`xflow_perimeter.terraform.records`).

Each file goes to the fast reader (:mod:`xflow_perimeter.terraform.fast_reader`), which handles the HCL that xflow
generates and its usual hand edits; anything else, syntax errors included, goes to python-hcl2
(:mod:`xflow_perimeter.terraform.hcl2_reader`), which is imported only then. Both return the same records.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from xflow_perimeter.diagnostics import Diagnostic, Severity, Span, XflowError
from xflow_perimeter.terraform.fast_reader import NotInSubset, read_text_fast
from xflow_perimeter.terraform.records import (
    Block,
    JsonEncoded,
    Literal,
    Opaque,
    Reference,
    Scalar,
    TfFile,
    TfTree,
    Value,
)

__all__ = [
    "Block",
    "JsonEncoded",
    "Literal",
    "Opaque",
    "Reference",
    "Scalar",
    "TfFile",
    "TfTree",
    "Value",
    "read_text",
    "read_tree",
]


def read_tree(root: Path) -> TfTree:
    """Read every ``*.tf`` file under ``root`` (recursively, skipping hidden files and folders).

    Args:
        root: the folder to read; spans name files relative to it, posix style.

    Returns:
        The files that parsed, sorted by path, and an XF401 problem for each one that did not.
    """
    if not root.is_dir():
        return TfTree((), (Diagnostic("XF401", f"{root}: not a directory"),))
    files: list[TfFile] = []
    problems: list[Diagnostic] = []
    with _gc_paused():
        for path in _tf_paths(root):
            rel = path.relative_to(root).as_posix()
            try:
                text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problem = Diagnostic("XF401", f"cannot read the file: {exc}", Span(rel, 1, 1))
                problems.append(problem)
                continue
            try:
                files.append(read_text(text, rel))
            except XflowError as exc:
                problems.extend(exc.diagnostics)
                continue
            if PurePosixPath(rel).stem == "override" or rel.endswith("_override.tf"):
                problems.append(
                    Diagnostic(
                        "XF404",
                        "Terraform merges override files into other blocks; xflow reads them as-is",
                        Span(rel, 1, 1),
                        Severity.WARNING,
                    )
                )
    return TfTree(tuple(files), tuple(problems))


def read_text(text: str, path: str) -> TfFile:
    """Parse one file's text; ``path`` is only used in spans.

    Raises:
        XflowError: XF401 for a syntax error, with its line and column when known.
    """
    with _gc_paused():
        try:
            return read_text_fast(text, path)
        except NotInSubset:
            pass
        return _read_text_hcl2(text, path)


def _read_text_hcl2(text: str, path: str) -> TfFile:
    """``read_text`` without the fast reader: always python-hcl2."""
    from xflow_perimeter.terraform.hcl2_reader import (
        read_text_hcl2,  # python-hcl2 takes a while to import; only when needed
    )

    with _gc_paused():
        return read_text_hcl2(text, path)


def _tf_paths(root: Path) -> Iterator[Path]:
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(folder, n) for n in names if n.endswith(".tf") and not n.startswith("."))
    yield from sorted(found, key=lambda p: p.relative_to(root).as_posix())


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: lark's trees make it run constantly and parsing goes super-linear."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
