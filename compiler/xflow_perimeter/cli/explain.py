"""`xflow explain`: decide one request, or a JSON Lines batch, against the Terraform."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from xflow_perimeter.api import Explainer, default_output, explain, explain_batch, open_explainer
from xflow_perimeter.cli.locating import located_errors, locator_for
from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK
from xflow_perimeter.report.locations import Locator


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("explain", help="decide one request, or a JSON Lines batch")
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--tf", type=Path, help="Terraform root (default: terraform/ beside the spec)"
    )
    parser.add_argument(
        "--principal", help="IAM ARN of the caller, a spec principal's name, or 'anonymous'"
    )
    parser.add_argument("--network", help="spec network name, or 'internet'")
    parser.add_argument("--bucket", help="bucket name (or spec bucket name)")
    parser.add_argument(
        "--bucket-account", help="account that owns the bucket (default: the spec's)"
    )
    parser.add_argument(
        "--bucket-region",
        help="Region of a bucket outside the spec (default: the network's); decides the path",
    )
    parser.add_argument("--key", help="object key; for listing actions, the s3:prefix")
    parser.add_argument("--action", help="S3 action, e.g. s3:GetObject")
    parser.add_argument("--identity", choices=("allow-all", "none"), default="allow-all")
    parser.add_argument("--requests", type=Path, help="JSON Lines file of requests ('-' for stdin)")
    parser.add_argument(
        "--expect",
        choices=("allow", "deny"),
        help="exit 1 when the decision is not this one (as a spec assertion would fail)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: schemas/explain-result.schema.json (one document per line for --requests)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    locator = locator_for(args.spec, args.tf if args.tf is not None else default_output(args.spec))
    with located_errors(locator):
        explainer = open_explainer(args.spec, args.tf)
    for warning in explainer.warnings:
        print(locator.diagnostic(warning).render(), file=sys.stderr)
    if args.requests is not None:
        return _batch(explainer, args.requests, locator)
    missing = [
        name for name in ("principal", "network", "bucket", "action") if getattr(args, name) is None
    ]
    if missing:
        print(
            f"xflow explain: missing --{', --'.join(missing)} (or give --requests FILE)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    from xflow_perimeter.prove.explain import ExplainError, ExplainRequest

    ask = ExplainRequest(
        principal=None if args.principal == "anonymous" else args.principal,
        network=None if args.network == "internet" else args.network,
        bucket=args.bucket,
        bucket_account=args.bucket_account,
        bucket_region=args.bucket_region,
        key=args.key,
        action=args.action,
        identity=args.identity,
    )
    try:
        answer = explain(explainer, ask)
    except ExplainError as error:
        print(f"xflow explain: {error}", file=sys.stderr)
        return EXIT_INVALID
    decided = "allow" if answer.decision.allowed else "deny"
    code = EXIT_FINDINGS if args.expect not in (None, decided) else EXIT_OK
    if args.format == "json":
        from xflow_perimeter.report import structured

        document = structured.explain_result(answer, locator, args.expect)
        print(json.dumps(document, indent=2, sort_keys=True))
        return code
    print(f"{decided.upper()}: {answer.decision.reason}")
    print(f"  request: {answer.description}")
    for layer, statement in answer.decision.deciding:
        span = locator.span(statement.span)
        where = f"{span}: " if span else ""
        print(f"  decided by: {where}{statement.sid or '(no Sid)'} ({layer} policy)")
    if code != EXIT_OK:
        print(f"xflow explain: expected {args.expect}, but the Terraform says {decided}")
    return code


def _batch(explainer: Explainer, requests: Path, locator: Locator) -> int:
    """Exit 0 when every line was answered, 2 (invalid input) when any line was an error."""
    from xflow_perimeter.report import structured

    try:
        stream = sys.stdin if str(requests) == "-" else requests.open(encoding="utf-8")
    except OSError as error:
        print(f"xflow explain: cannot read {requests}: {error.strerror}", file=sys.stderr)
        return EXIT_INVALID
    answers = explain_batch(explainer, stream)
    gc.freeze()  # what is loaded lives to the end: keep the cyclic GC from rescanning it
    counts = {"allow": 0, "deny": 0, "error": 0}
    started = time.perf_counter()
    with stream:
        for answer in answers:
            print(json.dumps(structured.batch_answer(answer, locator), sort_keys=True))
            counts[answer.outcome] += 1
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    rate = f", {total / elapsed:,.0f} requests/s" if elapsed > 0 else ""
    print(
        f"xflow explain: {total} request{'' if total == 1 else 's'} ({counts['allow']} allow, "
        f"{counts['deny']} deny, "
        f"{counts['error']} errors) in {elapsed:.2f} s after loading{rate}",
        file=sys.stderr,
    )
    return EXIT_INVALID if counts["error"] else EXIT_OK
