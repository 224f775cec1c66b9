"""Command line: `xflow compile|verify|explain`. Parses arguments, calls the library, sets the exit code."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path

from xflow_perimeter import __version__
from xflow_perimeter.api import compile_spec
from xflow_perimeter.diagnostics import (
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_OK,
    Severity,
    XflowError,
)
from xflow_perimeter.synth.output import WriteBack

EPILOG = """exit codes:
  0  success (compile: written or up to date; verify: the Terraform grants exactly the spec)
  1  compile --check/--diff: output is stale; verify: findings
  2  invalid spec, invalid or unsupported Terraform, or bad usage
  3  internal error in xflow (please report it)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xflow",
        description="Compile S3 data-flow specs into least-privilege Terraform and prove it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"xflow {__version__} (xflow-perimeter)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    compile_cmd = commands.add_parser("compile", help="generate Terraform from a spec")
    compile_cmd.add_argument("spec", type=Path)
    compile_cmd.add_argument(
        "-o", "--output", type=Path, help="output root (default: terraform/ beside the spec)"
    )
    mode = compile_cmd.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if the output is stale; write nothing"
    )
    mode.add_argument("--diff", action="store_true", help="print a unified diff; write nothing")
    checks = compile_cmd.add_mutually_exclusive_group()
    checks.add_argument(
        "--prove",
        action="store_true",
        help="before writing, also run verify's full exposure proof on the output",
    )
    checks.add_argument(
        "--fast", action="store_true", help="skip reading the output back before writing it"
    )
    compile_cmd.set_defaults(run=_compile)

    from xflow_perimeter.cli.audit import add_audit
    from xflow_perimeter.cli.graph import add_graph
    from xflow_perimeter.cli.verify_explain import add_explain, add_verify

    add_verify(commands)
    add_explain(commands)
    add_graph(commands)
    add_audit(commands)
    return parser


def _compile(args: argparse.Namespace) -> int:
    writeback = WriteBack.CHECK if args.check else WriteBack.DIFF if args.diff else WriteBack.WRITE
    result = compile_spec(
        args.spec, args.output, writeback, self_check=not args.fast, prove=args.prove
    )
    for warning in result.warnings:
        print(warning.render(), file=sys.stderr)
    if writeback is WriteBack.WRITE:
        for change in result.changes:
            print(f"{change.kind:<6} {result.output_root / change.path}")
        print(
            f"xflow: {len(result.files)} files in {result.output_root}, {len(result.changes)} changed"
        )
        return EXIT_OK
    if writeback is WriteBack.DIFF:
        sys.stdout.write(result.diff)
    for change in result.changes:
        state = {"update": "stale", "delete": "no longer generated", "create": "missing"}[
            change.kind
        ]
        print(f"{state}: {result.output_root / change.path}", file=sys.stderr)
    if result.changes:
        print(
            f"xflow: {len(result.changes)} files out of date; run: xflow compile {args.spec}",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    print(f"xflow: {result.output_root} is up to date", file=sys.stderr)
    return EXIT_OK


def print_diagnostics(error: XflowError) -> None:
    for diagnostic in error.diagnostics:
        print(diagnostic.render(), file=sys.stderr)
    errors = sum(1 for d in error.diagnostics if d.severity is Severity.ERROR)
    if errors:
        print(f"xflow: {errors} error{'s' if errors != 1 else ''}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    # xflow builds large, long-lived, mostly acyclic structures (a spec, a plan, a perimeter):
    # with CPython's default thresholds the cyclic GC rescans them over and over (15-20% of a
    # large compile or verify). Collect less often; reference counting still frees the rest.
    gc.set_threshold(100_000, 50, 100)
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except XflowError as error:
        print_diagnostics(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("xflow: interrupted", file=sys.stderr)
        return EXIT_INVALID
    except Exception as error:
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(
            f"xflow: internal error: {error!r}. This is a bug in xflow; please report it with the "
            "spec that caused it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
