"""Command line for `xflow verify` and `xflow explain`."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from xflow_perimeter.api import default_output, load_spec
from xflow_perimeter.diagnostics import EXIT_INVALID, EXIT_OK, Diagnostic, XflowError
from xflow_perimeter.prove.explain import (
    ExplainError,
    ExplainRequest,
    explain_lines,
    explain_one,
    prepare_batch,
    result_json,
)
from xflow_perimeter.prove.network_paths import topology
from xflow_perimeter.prove.request_classes import constants
from xflow_perimeter.prove.verify import Report, verify
from xflow_perimeter.terraform.perimeter import read_perimeter
from xflow_perimeter.terraform.reader import read_tree


def add_verify(commands: Any) -> None:
    parser = commands.add_parser("verify", help="prove the Terraform grants exactly the spec")
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--tf", type=Path, help="Terraform root (default: terraform/ beside the spec)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run_verify)


def add_explain(commands: Any) -> None:
    parser = commands.add_parser("explain", help="decide one request, or a JSON Lines batch")
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--tf", type=Path, help="Terraform root (default: terraform/ beside the spec)"
    )
    parser.add_argument("--principal", help="IAM ARN of the caller, or 'anonymous'")
    parser.add_argument("--network", help="spec network name, or 'internet'")
    parser.add_argument("--bucket", help="bucket name (or spec bucket name)")
    parser.add_argument(
        "--bucket-account", help="account that owns the bucket (default: the spec's)"
    )
    parser.add_argument("--key", help="object key; for listing actions, the s3:prefix")
    parser.add_argument("--action", help="S3 action, e.g. s3:GetObject")
    parser.add_argument("--identity", choices=("allow-all", "none"), default="allow-all")
    parser.add_argument("--requests", type=Path, help="JSON Lines file of requests ('-' for stdin)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run_explain)


def _report_json(report: Report) -> dict[str, object]:
    def diag(d: Diagnostic) -> dict[str, object]:
        return {"code": d.code, "message": d.message, "location": str(d.span) if d.span else None}

    return {
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


def run_verify(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    root = args.tf if args.tf is not None else default_output(args.spec)
    if not root.is_dir():
        raise XflowError([Diagnostic("XF302", f"Terraform directory {root} does not exist")])
    report = verify(spec, read_tree(root, spec_path=args.spec))
    if args.format == "json":
        print(json.dumps(_report_json(report), indent=2))
        return report.exit_code
    for diagnostic in report.refusals:
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


def run_explain(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    root = args.tf if args.tf is not None else default_output(args.spec)
    perimeter = read_perimeter(read_tree(root, spec_path=args.spec), spec.exceptions)
    if perimeter.refusals:
        raise XflowError(list(perimeter.refusals))
    topo = topology(spec, perimeter, constants(perimeter.policies()).vpces)
    if args.requests is not None:
        try:
            stream = (
                sys.stdin if str(args.requests) == "-" else args.requests.open(encoding="utf-8")
            )
        except OSError as error:
            print(f"xflow explain: cannot read {args.requests}: {error.strerror}", file=sys.stderr)
            return EXIT_INVALID
        table = prepare_batch(spec, perimeter)
        gc.freeze()  # what is loaded lives to the end: keep the cyclic GC from rescanning it
        counts = {"allow": 0, "deny": 0, "error": 0}
        started = time.perf_counter()
        with stream:
            for result in explain_lines(spec, perimeter, topo, stream, table):
                print(json.dumps(result, sort_keys=True))
                counts[str(result.get("decision", "error"))] += 1
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        rate = f", {total / elapsed:,.0f} requests/s" if elapsed > 0 else ""
        print(
            f"xflow explain: {total} request{'' if total == 1 else 's'} ({counts['allow']} allow, "
            f"{counts['deny']} deny, "
            f"{counts['error']} errors) in {elapsed:.2f} s after loading{rate}",
            file=sys.stderr,
        )
        return EXIT_OK
    missing = [
        name for name in ("principal", "network", "bucket", "action") if getattr(args, name) is None
    ]
    if missing:
        print(
            f"xflow explain: missing --{', --'.join(missing)} (or give --requests FILE)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    ask = ExplainRequest(
        principal=None if args.principal == "anonymous" else args.principal,
        network=None if args.network == "internet" else args.network,
        bucket=args.bucket,
        bucket_account=args.bucket_account,
        key=args.key,
        action=args.action,
        identity=args.identity,
    )
    try:
        answer = explain_one(spec, perimeter, topo, ask)
    except (ExplainError, ValueError) as error:
        print(f"xflow explain: {error}", file=sys.stderr)
        return EXIT_INVALID
    if args.format == "json":
        print(json.dumps(result_json(answer), indent=2, sort_keys=True))
        return EXIT_OK
    print(f"{'ALLOW' if answer.decision.allowed else 'DENY'}: {answer.decision.reason}")
    print(f"  request: {answer.description}")
    for layer, statement in answer.decision.deciding:
        where = f"{statement.span}: " if statement.span else ""
        print(f"  decided by: {where}{statement.sid or '(no Sid)'} ({layer} policy)")
    return EXIT_OK
