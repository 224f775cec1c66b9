"""Reports as text for a terminal or a log: every location by the Locator's convention, long
lists summarised (the JSON report has them whole)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.report.locations import Locator

SHOWN = 5  # items of a long list shown in text before "and N more"
LONG = 300  # characters: a report line longer than this has its lists summarised


def deciding_lines(finding: Any, locator: Locator) -> list[str]:
    """``finding``: prove.findings.Finding; its deciding statements, each "file:line:col Sid (layer policy)"."""
    if not finding.deciders:
        return list(finding.deciding)
    return [
        f"{locator.span(d.span)}: {d.sid or '(no Sid)'} ({d.layer} policy)"
        for d in finding.deciders
    ]


def finding_diagnostic(finding: Any, locator: Locator) -> Diagnostic:
    notes: tuple[str, ...] = ()
    if finding.counterexample:
        notes = (f"counterexample: {finding.counterexample}",)
    notes += tuple(f"decided by: {line}" for line in deciding_lines(finding, locator))
    return Diagnostic(finding.code, finding.message, locator.span(finding.span), notes=notes)


def summarise(line: str, shown: int = SHOWN) -> str:
    """A long line with its comma-separated lists cut to their first ``shown`` items."""
    if len(line) <= LONG:
        return line
    parts = line.split(", ")
    if len(parts) <= shown + 1:
        return line
    head = ", ".join(parts[:shown])
    return f"{head}, ... ({len(parts) - shown} more; --format json lists them all)"


def verify_report(report: Any, locator: Locator, tf_root: Path) -> list[str]:
    """``report``: prove.verify.Report, as the lines verify prints."""
    lines = [locator.diagnostic(d).render() for d in (*report.warnings, *report.refusals)]
    lines += [finding_diagnostic(f, locator).render() for f in report.findings]
    lines += _bullets("declared exceptions:", report.exceptions)
    lines += _bullets("assumptions:", report.assumptions)
    root = locator.path(tf_root)
    lines.append(
        {
            0: f"xflow: {root} grants exactly the spec "
            f"({report.requests_evaluated} requests evaluated)",
            1: f"xflow: {len(report.findings)} finding(s) in {root}",
            2: f"xflow: verification refused: {len(report.refusals)} construct(s) the verifier "
            "cannot prove",
        }[report.exit_code]
    )
    return lines


def _bullets(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    return [title, *(f"  - {summarise(item)}" for item in items)]
