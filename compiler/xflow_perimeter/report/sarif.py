"""SARIF 2.1.0 logs for code scanning: one run of the tool "xflow", rules from the diagnostics
catalogue, results located on the statement that decides (paths relative to the repository root,
under the base id SRCROOT)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xflow_perimeter import __version__
from xflow_perimeter.diagnostics import CATALOGUE, Diagnostic, Severity, Span
from xflow_perimeter.report.locations import Locator
from xflow_perimeter.report.text import deciding_lines

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "SRCROOT"
INFORMATION_URI = "https://github.com/OWNER/xflow#diagnostic-codes"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Result:
    """One SARIF result: a code, its message, where it is (first: the primary location)."""

    code: str
    message: str
    severity: Severity
    locations: tuple[Span, ...]  # already relative to the repository root (or absolute)


def rule_name(title: str) -> str:
    """A rule's name in PascalCase, from the catalogue's title (SARIF names are identifiers)."""
    words = re.findall(r"[A-Za-z0-9]+", title.split("(")[0])
    return "".join(w[:1].upper() + w[1:] for w in words)


def _rule(code: str) -> Json:
    entry = CATALOGUE[code]
    return {
        "id": code,
        "name": rule_name(entry.title),
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": entry.explanation},
        "help": {"text": f"{entry.title}. {entry.explanation}"},
        "helpUri": f"{INFORMATION_URI}",
        "defaultConfiguration": {"level": _level(entry.severity)},
    }


def _level(severity: Severity) -> str:
    return {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}[severity]


def _physical(span: Span) -> Json:
    artifact: Json
    if Path(span.file).is_absolute():
        artifact = {"uri": Path(span.file).as_uri()}
    else:
        artifact = {"uri": span.file, "uriBaseId": BASE_ID}
    return {
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {"startLine": span.line, "startColumn": span.column},
        }
    }


def log(results: Sequence[Result], root: Path) -> Json:
    """The SARIF log of one run; ``root`` is the directory relative paths start from."""
    codes = sorted({r.code for r in results})
    index = {code: i for i, code in enumerate(codes)}
    out_results = []
    for r in results:
        item: Json = {
            "ruleId": r.code,
            "ruleIndex": index[r.code],
            "level": _level(r.severity),
            "message": {"text": r.message},
        }
        if r.locations:
            item["locations"] = [_physical(r.locations[0])]
            related = [{"id": i, **_physical(span)} for i, span in enumerate(r.locations[1:], 1)]
            if related:
                item["relatedLocations"] = related
        out_results.append(item)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "xflow",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "originalUriBaseIds": {BASE_ID: {"uri": root.as_uri().rstrip("/") + "/"}},
                "results": out_results,
            }
        ],
    }


def diagnostic_result(d: Diagnostic, locator: Locator, extra: Iterable[str] = ()) -> Result:
    span = locator.span(d.span)
    text = "\n".join((d.message, *d.notes, *extra))
    return Result(d.code, text, d.severity, (span,) if span else ())


def verify_results(report: Any, locator: Locator) -> list[Result]:
    """``report``: prove.verify.Report. A finding is located on its first deciding statement,
    with the finding's own location (a spec entry, say) related to it."""
    out = [diagnostic_result(d, locator) for d in (*report.refusals, *report.warnings)]
    for f in report.findings:
        spans: list[Span] = []
        for candidate in (*(d.span for d in f.deciders), f.span):
            located = locator.span(candidate)
            if located is not None and located not in spans:
                spans.append(located)
        text = f.message
        if f.counterexample:
            text += f"\ncounterexample: {f.counterexample}"
        text += "".join(f"\ndecided by: {line}" for line in deciding_lines(f, locator))
        out.append(Result(f.code, text, CATALOGUE[f.code].severity, tuple(spans)))
    return out
