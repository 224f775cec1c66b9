"""Compile's self-check: verify the Terraform about to be written, before writing it."""

from __future__ import annotations

from .errors import EXIT_INTERNAL, Diagnostic, XflowError
from .hcl import TfTree, read_text
from .model import Spec
from .plan import Plan
from .verify import verify


def check_generated(spec: Spec, planned: Plan, files: dict[str, str]) -> None:
    """Raise XflowError (exit 3) unless the generated files verify exactly against the spec."""
    del planned  # the files are what gets written, so they are what gets checked
    tree = TfTree(
        files=tuple(read_text(text, path) for path, text in sorted(files.items())),
        problems=(),
    )
    report = verify(spec, tree)
    problems = [*report.refusals, *(f.to_diagnostic() for f in report.findings)]
    if problems:
        summary = Diagnostic(
            "XF303",
            "the generated Terraform does not verify against the spec, so nothing was written; "
            "this is a bug in xflow, please report it with the spec (compile --fast skips this check)",
        )
        raise XflowError([summary, *problems], exit_code=EXIT_INTERNAL)
