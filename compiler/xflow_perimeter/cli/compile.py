"""`xflow compile`: generate Terraform from a spec, or check that the committed output is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from xflow_perimeter.api import WriteBack, compile_spec
from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_OK


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
    checks = parser.add_mutually_exclusive_group()
    checks.add_argument(
        "--prove",
        action="store_true",
        help="before writing, also run verify's full exposure proof on the output",
    )
    checks.add_argument(
        "--fast", action="store_true", help="skip reading the output back before writing it"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
