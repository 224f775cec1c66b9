"""The diff as JSON, in the shape of schemas/diff-report.schema.json."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from xflow_perimeter.diff.model import DiffReport
from xflow_perimeter.diff.summary import summary_line

SCHEMA_VERSION = 1


def document(report: DiffReport) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "old": report.old,
        "new": report.new,
        "changed": report.changed,
        "summary": summary_line(report),
        "refused": [
            {
                "side": r.side,
                "label": r.label,
                "diagnostics": [
                    {
                        "code": d.code,
                        "message": d.message,
                        "location": str(d.span) if d.span else None,
                    }
                    for d in r.diagnostics
                ],
            }
            for r in report.refusals
        ],
        "entries": [
            {
                "direction": e.direction.value,
                "layer": e.layer.value,
                "caller": e.caller,
                "network": e.network,
                "bucket": e.bucket,
                "actions": list(e.actions),
                "scopes": list(e.scopes),
                "tls_only": e.tls_only,
                "example": asdict(e.example),
            }
            for e in report.entries
        ],
        "declared": [{"direction": d.direction.value, "text": d.text} for d in report.declared],
        "cost": {
            "buckets_compared": report.buckets_compared,
            "buckets_skipped": report.buckets_skipped,
            "requests_evaluated": report.requests_evaluated,
        },
    }


def render(report: DiffReport) -> str:
    return json.dumps(document(report), indent=2, sort_keys=True) + "\n"
