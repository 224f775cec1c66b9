"""`xflow compile`: generate Terraform from a spec, or check that the committed output is current."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xflow_perimeter.api import compile_spec, default_output
from xflow_perimeter.cli.locating import located_errors, locator_for
from xflow_perimeter.cli.progress import progress_for
from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_OK, Diagnostic, Span
from xflow_perimeter.report.locations import Locator, display_path

if TYPE_CHECKING:
    from xflow_perimeter.api import CompileResult
    from xflow_perimeter.synth.output import WriteBack

HUNK = re.compile(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("compile", help="generate Terraform from a spec")
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "-o", "--output", type=Path, help="output root (default: terraform/ beside the spec)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if the output is stale; write nothing"
    )
    mode.add_argument("--diff", action="store_true", help="print a unified diff; write nothing")
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="report of --check/--diff: json follows schemas/compile-check.schema.json",
    )
    checks = parser.add_mutually_exclusive_group()
    checks.add_argument(
        "--prove",
        action="store_true",
        help="before writing, also run verify's full exposure proof on the output",
    )
    checks.add_argument(
        "--fast", action="store_true", help="skip reading the output back before writing it"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on stderr (shown on a terminal during --prove)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xflow_perimeter.synth.output import WriteBack

    writeback = WriteBack.CHECK if args.check else WriteBack.DIFF if args.diff else WriteBack.WRITE
    root = args.output if args.output is not None else default_output(args.spec)
    locator = locator_for(args.spec, root)
    bar = progress_for("xflow compile --prove", quiet=args.quiet) if args.prove else None
    try:
        with located_errors(locator):
            result = compile_spec(
                args.spec,
                args.output,
                writeback,
                self_check=not args.fast,
                prove=args.prove,
                progress=bar,
            )
    finally:
        if bar is not None:
            bar.close()
    if writeback is not WriteBack.WRITE and args.format != "text":
        return _report(args, result, writeback)
    for warning in result.warnings:
        print(locator.diagnostic(warning).render(), file=sys.stderr)
    if writeback is WriteBack.WRITE:
        for change in result.changes:
            print(f"{change.kind:<6} {display_path(result.output_root / change.path)}")
        print(
            f"xflow: {len(result.files)} files in {display_path(result.output_root)}, "
            f"{len(result.changes)} changed"
        )
        return EXIT_OK
    if writeback is WriteBack.DIFF:
        inside = not Path(display_path(result.output_root)).is_absolute()
        # Outside the cwd the headers stay relative to the output root (patch -p1 from there).
        diff = relocate_diff(result.diff, result.output_root, locator) if inside else result.diff
        sys.stdout.write(diff)
    for change in result.changes:
        state = STATES[change.kind]
        print(f"{state}: {display_path(result.output_root / change.path)}", file=sys.stderr)
    if result.changes:
        print(
            f"xflow: {len(result.changes)} files out of date; run: xflow compile {args.spec}",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    print(f"xflow: {display_path(result.output_root)} is up to date", file=sys.stderr)
    return EXIT_OK


STATES = {"update": "stale", "delete": "no longer generated", "create": "missing"}


def _report(args: argparse.Namespace, result: CompileResult, writeback: WriteBack) -> int:
    import json

    from xflow_perimeter.synth.output import WriteBack

    mode = "check" if writeback is WriteBack.CHECK else "diff"
    if args.format == "json":
        from xflow_perimeter.report import structured

        locator = locator_for(args.spec, result.output_root)
        document = structured.compile_check(result, locator, mode, result.warnings)
    else:
        from xflow_perimeter.report import sarif
        from xflow_perimeter.report.locations import repository_root

        base = repository_root()
        locator = locator_for(args.spec, result.output_root, base)
        results = [sarif.diagnostic_result(w, locator) for w in result.warnings]
        results += [sarif.diagnostic_result(d, locator) for d in stale_diagnostics(args, result)]
        document = sarif.log(results, base)
    print(json.dumps(document, indent=2))
    return EXIT_FINDINGS if result.changes else EXIT_OK


def stale_diagnostics(args: argparse.Namespace, result: CompileResult) -> list[Diagnostic]:
    """One XF701 per out-of-date file, on the file itself (on the spec for a missing one)."""
    out = []
    for change in result.changes:
        path = result.output_root / change.path
        span = Span(str(args.spec), 1, 1) if change.kind == "create" else None
        if span is None:
            span = Span(change.path, 1, 1)  # relative to the output root, as the reader's are
        out.append(
            Diagnostic(
                "XF701",
                f"{display_path(path)} is {STATES[change.kind]}; run: xflow compile {args.spec}",
                span,
            )
        )
    return out


def relocate_diff(diff: str, output_root: Path, locator: Locator) -> str:
    """The diff's file headers (``a/PATH``, ``b/PATH``, relative to the output root) rewritten
    relative to the working directory, so that ``git apply`` or ``patch -p1`` works from it.
    Hunk lines are counted from their ``@@`` headers, so a removed line that reads like a
    header is left alone."""
    out = []
    old_left = new_left = 0
    for line in diff.splitlines(keepends=True):
        if old_left > 0 or new_left > 0:
            if line.startswith("-"):
                old_left -= 1
            elif line.startswith("+"):
                new_left -= 1
            elif not line.startswith("\\"):
                old_left, new_left = old_left - 1, new_left - 1
        elif line.startswith(("--- a/", "+++ b/")):
            path = line[len("--- a/") :].rstrip("\n")
            line = f"{line[:6]}{locator.path(output_root / path)}\n"
        elif match := HUNK.match(line):
            old_left = int(match.group(1) or "1")
            new_left = int(match.group(2) or "1")
        out.append(line)
    return "".join(out)
