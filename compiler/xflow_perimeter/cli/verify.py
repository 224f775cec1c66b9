"""`xflow verify`: prove the Terraform grants exactly the spec; the report as text, JSON or SARIF."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from xflow_perimeter.cli.locating import located_errors, locator_for
from xflow_perimeter.cli.progress import progress_for


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("verify", help="prove the Terraform grants exactly the spec")
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--tf", type=Path, help="Terraform root (default: terraform/ beside the spec)"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="json: schemas/verify-report.schema.json; sarif: SARIF 2.1.0 for code scanning",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on stderr (shown on a terminal)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xflow_perimeter.api import default_output, verify

    tf_root = args.tf if args.tf is not None else default_output(args.spec)
    bar = progress_for("xflow verify", quiet=args.quiet)
    try:
        with located_errors(locator_for(args.spec, tf_root)):
            result = verify(args.spec, args.tf, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    report, root = result.report, result.tf_root
    if args.format == "json":
        from xflow_perimeter.report import structured

        document = structured.verify_report(report, locator_for(args.spec, root), root)
        print(json.dumps(document, indent=2))
    elif args.format == "sarif":
        from xflow_perimeter.report import sarif
        from xflow_perimeter.report.locations import repository_root

        base = repository_root()
        results = sarif.verify_results(report, locator_for(args.spec, root, base))
        print(json.dumps(sarif.log(results, base), indent=2))
    else:
        from xflow_perimeter.report import text

        print("\n".join(text.verify_report(report, locator_for(args.spec, root), root)))
    return report.exit_code
