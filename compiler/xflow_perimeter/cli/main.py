"""Command line: `xflow compile|verify|explain|graph|audit`. Parses arguments, calls the library, sets the exit code.

Each subcommand is a module of this package with ``add_parser(commands)`` (its arguments, and
``run(args) -> exit code`` as the parser's default); COMMANDS names them. A run registers only the
command it names (importing one module, not six): `xflow` runs in pre-commit hooks on every commit,
where start-up is most of the cost. Help, and anything that is not a command, registers them all.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from xflow_perimeter import __version__
from xflow_perimeter.diagnostics import (
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_OK,
    Severity,
    XflowError,
)

COMMANDS = ("compile", "verify", "explain", "graph", "audit", "diff")

EPILOG = """exit codes:
  0  success (compile: written or up to date; verify: the Terraform grants exactly the spec)
  1  compile --check/--diff: output is stale; verify: findings
  2  invalid spec, invalid or unsupported Terraform, or bad usage
  3  internal error in xflow (please report it)
"""


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
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
    named = argv[0] if argv and argv[0] in COMMANDS else None
    for name in COMMANDS if named is None else (named,):
        importlib.import_module(f"xflow_perimeter.cli.{name}").add_parser(commands)
    return parser


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
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = _parser(arguments).parse_args(arguments)
    try:
        return int(args.run(args))
    except XflowError as error:
        print_diagnostics(error)
        return error.exit_code
    except BrokenPipeError:  # the reader went away (`xflow verify ... | head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
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


def main_and_exit() -> NoReturn:
    """The `xflow` command (and `python -m xflow_perimeter`): ``main`` on ``sys.argv``, then exit."""
    code = main()
    # The interpreter's last act is a full collection over every object still alive, thousands
    # from the imports and the run; none of them waits on it (reference counting frees the run's
    # data). Freezing them first spares that scan, about 3% of a small verify; exiting,
    # flushing and closing go on as usual.
    gc.freeze()
    sys.exit(code)
