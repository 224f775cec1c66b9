"""`xflow explain`: decide one request, or a JSON Lines batch, against the Terraform."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from xflow_perimeter.api import (
    Explainer,
    ExplainError,
    ExplainRequest,
    explain,
    explain_batch,
    open_explainer,
)
from xflow_perimeter.diagnostics import EXIT_INVALID, EXIT_OK


def add_parser(commands: Any) -> None:
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
    parser.add_argument(
        "--bucket-region",
        help="Region of a bucket outside the spec (default: the network's); decides the path",
    )
    parser.add_argument("--key", help="object key; for listing actions, the s3:prefix")
    parser.add_argument("--action", help="S3 action, e.g. s3:GetObject")
    parser.add_argument("--identity", choices=("allow-all", "none"), default="allow-all")
    parser.add_argument("--requests", type=Path, help="JSON Lines file of requests ('-' for stdin)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    explainer = open_explainer(args.spec, args.tf)
    for warning in explainer.warnings:
        print(warning.render(), file=sys.stderr)
    if args.requests is not None:
        return _batch(explainer, args.requests)
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
    if args.format == "json":
        print(json.dumps(answer.to_json(), indent=2, sort_keys=True))
        return EXIT_OK
    print(f"{'ALLOW' if answer.decision.allowed else 'DENY'}: {answer.decision.reason}")
    print(f"  request: {answer.description}")
    for layer, statement in answer.decision.deciding:
        where = f"{statement.span}: " if statement.span else ""
        print(f"  decided by: {where}{statement.sid or '(no Sid)'} ({layer} policy)")
    return EXIT_OK


def _batch(explainer: Explainer, requests: Path) -> int:
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
            print(json.dumps(answer.to_json(), sort_keys=True))
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
    return EXIT_OK
