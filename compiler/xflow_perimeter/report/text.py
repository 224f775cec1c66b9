"""Reports as text for a terminal or a log: every location by the Locator's convention, long
lists summarised to their count and first items (the JSON report has them whole)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.prove.listing import Listed
from xflow_perimeter.report.locations import Locator

SHOWN = 5  # items of a long list shown in text before "and N more"


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


def verify_report(report: Any, locator: Locator, tf_root: Path) -> list[str]:
    """``report``: prove.verify.Report, as the lines verify prints."""
    lines = [locator.diagnostic(d).render() for d in (*report.warnings, *report.refusals)]
    lines += [finding_diagnostic(f, locator).render() for f in report.findings]
    lines += _bullets("declared exceptions", report.exceptions)
    lines += _bullets("assumptions", report.assumptions)
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


def summary(line: str | Listed, shown: int = SHOWN) -> str:
    """``line`` with each list built into it cut to its first ``shown`` items and its count."""
    return line if isinstance(line, str) else line.render(shown)


def _bullets(title: str, lines: Sequence[str | Listed]) -> list[str]:
    if not lines:
        return []
    if any(isinstance(line, Listed) and line.shortened(SHOWN) for line in lines):
        title += " (long lists shortened; --format json lists every item)"
    return [f"{title}:", *(f"  - {summary(line)}" for line in lines)]
