"""`xflow verify`: prove the Terraform grants exactly the spec; the report as text or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from xflow_perimeter.api import verify
from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.prove.verify import Report


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("verify", help="prove the Terraform grants exactly the spec")
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--tf", type=Path, help="Terraform root (default: terraform/ beside the spec)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = verify(args.spec, args.tf)
    report, root = result.report, result.tf_root
    if args.format == "json":
        print(json.dumps(report_json(report), indent=2))
        return report.exit_code
    for diagnostic in (*report.warnings, *report.refusals):
        print(diagnostic.render())
    for finding in report.findings:
        print(finding.to_diagnostic().render())
    if report.exceptions:
        print("declared exceptions:")
        for exception in report.exceptions:
            print(f"  - {exception}")
    print("assumptions:")
    for assumption in report.assumptions:
        print(f"  - {assumption}")
    status = {
        0: f"xflow: {root} grants exactly the spec ({report.requests_evaluated} requests evaluated)",
        1: f"xflow: {len(report.findings)} finding(s) in {root}",
        2: f"xflow: verification refused: {len(report.refusals)} construct(s) the verifier cannot prove",
    }[report.exit_code]
    print(status)
    return report.exit_code


def report_json(report: Report) -> dict[str, object]:
    def diag(d: Diagnostic) -> dict[str, object]:
        return {"code": d.code, "message": d.message, "location": str(d.span) if d.span else None}

    out: dict[str, object] = {
        "result": {0: "exact", 1: "findings", 2: "refused"}[report.exit_code],
        "findings": [
            {
                "code": f.code,
                "message": f.message,
                "location": str(f.span) if f.span else None,
                "counterexample": f.counterexample,
                "deciding": list(f.deciding),
            }
            for f in report.findings
        ],
        "refusals": [diag(d) for d in report.refusals],
        "assumptions": list(report.assumptions),
        "exceptions": list(report.exceptions),
        "requests_evaluated": report.requests_evaluated,
    }
    if report.warnings:  # only then, so that a report without warnings reads as it always has
        out["warnings"] = [diag(d) for d in report.warnings]
    return out
