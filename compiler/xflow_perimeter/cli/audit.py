"""Command line for `xflow audit`: hold the deployed perimeter to the committed Terraform."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xflow_perimeter.diagnostics import EXIT_OK, Diagnostic, XflowError


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "audit", help="read the deployed perimeter (read-only) and compare it with the Terraform"
    )
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--tf", type=Path, help="Terraform root (default: terraform/ beside the spec)"
    )
    parser.add_argument(
        "--role-name",
        help="assume arn:aws:iam::ACCOUNT:role/NAME in each account of the spec (default: use "
        "the caller's own credentials, which then reach their own account only)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on stderr (shown on a terminal)"
    )
    parser.add_argument(
        "--print-iam-policy",
        action="store_true",
        help="print the IAM policy the audit role needs for this spec, and exit",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, session_hook: Callable[[Any], None] | None = None) -> int:
    """``session_hook`` sees every boto3 session the audit makes (to register event handlers)."""
    from xflow_perimeter.api import default_output, load_spec

    spec = load_spec(args.spec)
    if args.print_iam_policy:
        from xflow_perimeter.audit.permissions import audit_policy

        print(json.dumps(audit_policy(spec), indent=2))
        return EXIT_OK
    try:
        import boto3  # noqa: F401  # the audit extra
    except ImportError:
        raise XflowError(
            [
                Diagnostic(
                    "XF603",
                    "xflow audit needs boto3: pip install 'xflow-perimeter[audit]'",
                )
            ]
        ) from None
    from xflow_perimeter.audit.committed import load_committed
    from xflow_perimeter.audit.run import AuditSettings, audit

    root = args.tf if args.tf is not None else default_output(args.spec)
    if not root.is_dir():
        raise XflowError([Diagnostic("XF302", f"Terraform directory {root} does not exist")])
    committed = load_committed(spec, root)
    settings = AuditSettings(role_name=args.role_name, session_hook=session_hook)
    drawn = sys.stderr.isatty() and not args.quiet
    report = audit(committed, settings, _progress if drawn else None)
    if drawn:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
        return report.exit_code
    for finding in report.findings:
        print(finding.to_diagnostic().render())
    print("checked on the deployment (assumed by verify):")
    for line in report.checked:
        print(f"  - {line}")
    print("still assumed:")
    for line in report.assumed:
        print(f"  - {line}")
    print("not read by the audit:")
    for limit in report.limits:
        print(f"  - {limit}")
    read = (
        f"{report.accounts} account(s), {report.account_regions} account-Region(s), "
        f"{report.networks} network(s), {report.buckets} bucket(s)"
    )
    if report.proof:
        print(f"xflow: {report.proof}")
    if report.findings:
        unchecked = f", {report.unchecked} of them reads that failed" if report.unchecked else ""
        print(
            f"xflow: {len(report.findings)} finding(s) in the deployed perimeter{unchecked} ({read})"
        )
    else:
        print(f"xflow: the deployed perimeter matches {root} ({read} read)")
    return report.exit_code


def _progress(done: int, total: int, what: str) -> None:
    print(f"\r\033[Kxflow audit: {done}/{total} read ({what})", end="", file=sys.stderr, flush=True)
