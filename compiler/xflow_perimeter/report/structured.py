"""Reports as JSON documents, each with a published JSON Schema in schemas/ (SCHEMA_VERSION).

One shape throughout: a location is ``{file, line, column}`` (paths by the Locator's
convention), a deciding statement ``{layer, location, sid}``, a diagnostic carries its code,
severity and the catalogue's title.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xflow_perimeter.diagnostics import CATALOGUE, Diagnostic, Span
from xflow_perimeter.iam.evaluate import Decision
from xflow_perimeter.prove.findings import Deciding, Finding, RequestFields
from xflow_perimeter.report.locations import Locator

SCHEMA_VERSION = 1
SCHEMAS = {  # command -> the schema file in schemas/ its JSON report follows
    "verify": "verify-report.schema.json",
    "explain": "explain-result.schema.json",
    "compile": "compile-check.schema.json",
}

Json = dict[str, Any]


def location(span: Span | None) -> Json | None:
    if span is None:
        return None
    return {"file": span.file, "line": span.line, "column": span.column}


def diagnostic(d: Diagnostic, locator: Locator) -> Json:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "title": CATALOGUE[d.code].title,
        "message": d.message,
        "location": location(locator.span(d.span)),
        "notes": list(d.notes),
    }


def request(fields: RequestFields) -> Json:
    return {
        "principal": fields.principal,
        "principal_account": fields.principal_account,
        "network": fields.network,
        "bucket": fields.bucket,
        "bucket_account": fields.bucket_account,
        "region": fields.region,
        "key": fields.key,
        "list_prefix": fields.list_prefix,
        "action": fields.action,
        "tls": fields.tls,
        "identity": fields.identity,
    }


def deciding(statements: Iterable[Deciding], locator: Locator) -> list[Json]:
    return [
        {"layer": d.layer, "location": location(locator.span(d.span)), "sid": d.sid}
        for d in statements
    ]


def finding(f: Finding, locator: Locator) -> Json:
    counterexample: Json | None = None
    if f.counterexample:
        counterexample = {"description": f.counterexample}
        if f.request is not None:
            counterexample |= request(f.request)
    return {
        "code": f.code,
        "severity": CATALOGUE[f.code].severity.value,
        "title": CATALOGUE[f.code].title,
        "message": f.message,
        "location": location(locator.span(f.span)),
        "counterexample": counterexample,
        "deciding": deciding(f.deciders, locator),
    }


def verify_report(report: Any, locator: Locator, tf_root: Path) -> Json:
    """``report``: prove.verify.Report (typed loosely so that this module loads without prove/)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "verify",
        "result": {0: "exact", 1: "findings", 2: "refused"}[report.exit_code],
        "exit_code": report.exit_code,
        "terraform": locator.path(tf_root),
        "findings": [finding(f, locator) for f in report.findings],
        "refusals": [diagnostic(d, locator) for d in report.refusals],
        "warnings": [diagnostic(d, locator) for d in report.warnings],
        "assumptions": [str(line) for line in report.assumptions],
        "exceptions": [str(line) for line in report.exceptions],
        "requests_evaluated": report.requests_evaluated,
    }


def decision(d: Decision, fields: RequestFields, description: str, locator: Locator) -> Json:
    return {
        "decision": "allow" if d.allowed else "deny",
        "reason": d.reason,
        "request": description,
        "fields": request(fields),
        "deciding": deciding((Deciding(layer, s.span, s.sid) for layer, s in d.deciding), locator),
    }


def explain_result(result: Any, locator: Locator, expected: str | None = None) -> Json:
    """One explained request (``result``: prove.explain.ExplainResult)."""
    out: Json = {"schema_version": SCHEMA_VERSION, "command": "explain"}
    out |= decision(result.decision, result.fields, result.description, locator)
    if expected is not None:
        out["expected"] = expected
    return out


def batch_answer(answer: Any, locator: Locator) -> Json:
    """One line of a batch (``answer``: prove.explain.BatchAnswer)."""
    out: Json = {"schema_version": SCHEMA_VERSION, "command": "explain", "line": answer.line}
    if answer.result is None:
        return out | {"decision": "error", "error": answer.error}
    r = answer.result
    return out | decision(r.decision, r.fields, r.description, locator)


STATES = {"update": "stale", "delete": "no longer generated", "create": "missing"}


def compile_check(
    result: Any, locator: Locator, mode: str, warnings: Iterable[Diagnostic] = ()
) -> Json:
    """``compile --check`` or ``--diff`` (``result``: api.CompileResult)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "compile",
        "mode": mode,
        "result": "stale" if result.changes else "up-to-date",
        "exit_code": 1 if result.changes else 0,
        "output": locator.path(result.output_root),
        "changes": [
            {
                "kind": c.kind,
                "state": STATES[c.kind],
                "file": locator.path(result.output_root / c.path),
            }
            for c in result.changes
        ],
        "warnings": [diagnostic(d, locator) for d in warnings],
    }
