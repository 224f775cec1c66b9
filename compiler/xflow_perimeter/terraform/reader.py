"""Read Terraform: turn a Terraform root into typed records (:mod:`xflow_perimeter.terraform.records`).

The root's module directories and their files come from :mod:`~xflow_perimeter.terraform.layout`.
Each ``.tf`` file goes to the fast reader (:mod:`~xflow_perimeter.terraform.fast_reader`), which
handles the HCL that xflow generates and its usual hand edits; anything else, syntax errors
included, goes to python-hcl2 (:mod:`~xflow_perimeter.terraform.hcl2_reader`, imported only then)
up to a size limit. ``.tf.json`` files go to :mod:`~xflow_perimeter.terraform.json_reader`. Override
files are merged in by :mod:`~xflow_perimeter.terraform.overrides`. Every file is read or refused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, Span, XflowError
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.fast_reader import NotInSubset, OverLimit, read_text_fast
from xflow_perimeter.terraform.layout import find_modules
from xflow_perimeter.terraform.overrides import merge_module
from xflow_perimeter.terraform.records import (
    Block,
    JsonEncoded,
    Literal,
    Opaque,
    Reference,
    Scalar,
    SkippedModule,
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
    "SkippedModule",
    "TfFile",
    "TfTree",
    "Value",
    "read_text",
    "read_tree",
]


def read_tree(root: Path, *, spec_path: Path | None = None) -> TfTree:
    """Read every module directory under ``root`` as Terraform reads it.

    Args:
        root: the Terraform root; spans name files relative to it, posix style.
        spec_path: the spec being verified: module directories whose ``xflow-module.json``
            names another spec are left to it (``TfTree.skipped``). None reads them all.

    Returns:
        The files that were read, override files merged in, sorted by path; a problem for each
        file or folder that could not be read (XF401, XF414-XF418).
    """
    if not root.is_dir():
        return TfTree((), (Diagnostic("XF401", f"{root}: not a directory"),))
    layout = find_modules(root, spec_path)
    files: list[TfFile] = []
    problems = list(layout.problems)
    with _gc_paused():
        for module in layout.modules:
            primary = _read_files(root, module.files, problems)
            overrides = _read_files(root, module.overrides, problems)
            merged, found = merge_module(primary, overrides)
            files.extend(merged)
            problems.extend(found)
    files.sort(key=lambda f: f.path)
    return TfTree(tuple(files), tuple(problems), layout.skipped)


def _read_files(root: Path, paths: tuple[str, ...], problems: list[Diagnostic]) -> list[TfFile]:
    out: list[TfFile] = []
    for rel in paths:
        try:
            text = (root / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Diagnostic("XF401", f"cannot read the file: {exc}", Span(rel, 1, 1)))
            continue
        try:
            out.append(read_text(text, rel))
        except XflowError as exc:
            problems.extend(exc.diagnostics)
    return out


def read_text(text: str, path: str) -> TfFile:
    """Parse one file's text (``.tf.json`` by its JSON syntax); ``path`` is only used in spans.

    Raises:
        XflowError: XF401 for a syntax error, with its line and column when known; XF416 for a
            file beyond the readers' limits (:mod:`~xflow_perimeter.terraform.limits`).
    """
    if path.endswith(".tf.json"):
        from xflow_perimeter.terraform.json_reader import read_json_text  # xflow writes none

        return read_json_text(text, path)
    with _gc_paused():
        try:
            return read_text_fast(text, path)
        except OverLimit as over:
            raise limits.over_limit(path, over.message, over.span) from None
        except NotInSubset as outside:
            reason = str(outside)
        if len(text) > limits.GENERAL_READER_MAX_CHARS:
            what = (
                f"{len(text):,} characters outside the form xflow writes ({reason}) are more than "
                f"the general reader takes ({limits.GENERAL_READER_MAX_CHARS:,}); split the file "
                "or write it the way xflow compile does"
            )
            raise limits.over_limit(path, what)
        tokens = limits.GENERAL_READER_TOKEN.subn("", text)[1]
        if tokens > limits.GENERAL_READER_MAX_TOKENS:
            what = (
                f"some {tokens:,} tokens outside the form xflow writes ({reason}) are more than "
                f"the general reader takes ({limits.GENERAL_READER_MAX_TOKENS:,}); split the file "
                "or write it the way xflow compile does"
            )
            raise limits.over_limit(path, what)
        return _read_text_hcl2(text, path)


def _read_text_hcl2(text: str, path: str) -> TfFile:
    """``read_text`` without the fast reader: always python-hcl2."""
    from xflow_perimeter.terraform.hcl2_reader import (
        read_text_hcl2,  # python-hcl2 takes a while to import; only when needed
    )

    with _gc_paused():
        return read_text_hcl2(text, path)


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
