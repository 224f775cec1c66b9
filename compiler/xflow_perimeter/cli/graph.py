"""Command line for `xflow graph`: the picture of a spec's flows as Mermaid or Graphviz DOT."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import EXIT_INVALID, EXIT_OK

# graph.FORMATS, spelled out so that registering the subcommand does not import the renderers
# (tests/cli check that the two agree).
FORMATS = ("mermaid", "dot")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "graph", help="draw the flows a spec declares (Mermaid or Graphviz DOT)"
    )
    parser.add_argument("spec", type=Path)
    parser.add_argument("--format", choices=FORMATS, default="mermaid")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xflow_perimeter import graph

    spec = load_spec(args.spec)
    text = graph.render(graph.draw(spec, str(args.spec)), args.format)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        _write_atomically(args.output, text)
    except OSError as error:
        print(f"xflow graph: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target, then replace it: a failed run leaves the old file as it was."""
    import tempfile

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
