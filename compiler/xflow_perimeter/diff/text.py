"""The diff as plain text for a terminal."""

from __future__ import annotations

from xflow_perimeter.diff.model import DiffReport, Entry
from xflow_perimeter.diff.summary import layer_words, summary_line


def render(report: DiffReport) -> str:
    out = [f"xflow diff: {report.old} -> {report.new}", summary_line(report)]
    for refusal in report.refusals:
        out.append(f"\n{refusal.side} side refused ({refusal.label}):")
        out.extend(f"  {d.render()}" for d in refusal.diagnostics)
    for entry in report.entries:
        out.append("")
        out.extend(entry_lines(entry))
    if report.declared:
        out.append("\ndeclared exceptions and assumptions:")
        out.extend(
            f"  {'+' if d.direction.value == 'gained' else '-'} {d.text}" for d in report.declared
        )
    return "\n".join(out) + "\n"


def entry_lines(entry: Entry) -> list[str]:
    sign = "+" if entry.direction.value == "gained" else "-"
    verb = "gains" if sign == "+" else "loses"
    example = entry.example
    where = example.key if example.key is not None else example.list_prefix
    return [
        f"{sign} {entry.caller} {verb} access ({layer_words(entry)})",
        f"    network: {entry.network}",
        f"    bucket:  {entry.bucket}",
        f"    actions: {', '.join(entry.actions)}",
        f"    scope:   {', '.join(entry.scopes)}",
        *(["    only without TLS"] if entry.tls_only else []),
        f"    e.g. {example.action} {example.bucket}"
        + (f" {where!r}" if where is not None else "")
        + f" by {example.caller} from {example.source}"
        + ("" if example.secure_transport else " without TLS")
        + f": {'allowed now, denied before' if sign == '+' else 'allowed before, denied now'}",
    ]
