"""Command line for `xflow diff`: who gains and who loses access between two versions of a
perimeter, from two git revisions of a spec's repository or from two spec files."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK

if TYPE_CHECKING:
    from xflow_perimeter.diff.model import DiffReport

# Registering the subcommand imports nothing of the diff engine: other commands start faster.
FORMATS = ("json", "markdown", "text")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "diff",
        help="who gains and who loses access between two versions of a perimeter",
        description="Compare the exposure of two versions: SPEC --base REV [--head REV] (git "
        "revisions; without --head the working tree), or OLD_SPEC NEW_SPEC. Each side's "
        "Terraform is read as committed. Exit 0: unchanged, 1: changed, 2: a side is refused.",
    )
    parser.add_argument("specs", type=Path, nargs="+", metavar="SPEC")
    parser.add_argument("--base", metavar="REV", help="git revision of the old side")
    parser.add_argument("--head", metavar="REV", help="git revision of the new side")
    parser.add_argument("--old-tf", type=Path, metavar="DIR")
    parser.add_argument("--new-tf", type=Path, metavar="DIR")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument(
        "--fail-on",
        choices=("changes", "gains"),
        default="changes",
        help="exit 1 on any change (default) or only when someone gains access",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xflow_perimeter.diff import json_format, markdown, text
    from xflow_perimeter.diff.engine import diff_sides

    renderers = {"text": text.render, "json": json_format.render, "markdown": markdown.render}
    with tempfile.TemporaryDirectory(prefix="xflow-diff-") as scratch:
        sides = _sides(args, Path(scratch))
        if isinstance(sides, str):
            print(f"xflow diff: {sides}", file=sys.stderr)
            return EXIT_INVALID
        report = diff_sides(*sides)
    sys.stdout.write(renderers[args.format](report))
    return exit_code(report, args.fail_on)


def exit_code(report: DiffReport, fail_on: str) -> int:
    if report.refusals:
        return EXIT_INVALID
    failing = report.gains if fail_on == "gains" else report.changed
    return EXIT_FINDINGS if failing else EXIT_OK


def _sides(args: argparse.Namespace, scratch: Path) -> Any:
    from xflow_perimeter.diff.revisions import checkout
    from xflow_perimeter.diff.sides import load_side

    if args.base is None:
        if len(args.specs) != 2 or args.head is not None:
            return "give OLD_SPEC NEW_SPEC, or SPEC --base REV [--head REV]"
        old_spec, new_spec = args.specs
        return (
            load_side(str(old_spec), old_spec, args.old_tf),
            load_side(str(new_spec), new_spec, args.new_tf),
        )
    if len(args.specs) != 1 or args.old_tf is not None or args.new_tf is not None:
        return "with --base give one SPEC (and no --old-tf/--new-tf)"
    (spec,) = args.specs
    old_path = checkout(spec, args.base, scratch / "base")
    old = load_side(f"{spec} at {args.base}", old_path, None)
    if args.head is None:
        return old, load_side(f"{spec} (working tree)", spec, None)
    new_path = checkout(spec, args.head, scratch / "head")
    return old, load_side(f"{spec} at {args.head}", new_path, None)
