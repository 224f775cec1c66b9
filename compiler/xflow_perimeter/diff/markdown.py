"""The diff as a pull-request comment: a summary line, a table, the picture of what changed and
the details in <details>, kept under GitHub's 65,536-character limit by summarising."""

from __future__ import annotations

from xflow_perimeter.diff.model import DiffReport, Entry
from xflow_perimeter.diff.picture import mermaid_picture
from xflow_perimeter.diff.summary import layer_words, summary_line
from xflow_perimeter.diff.text import entry_lines
from xflow_perimeter.graph import Budget

GITHUB_LIMIT = 65_536
_RESERVE = 600  # room for the note that says what was left out
_MIN_PICTURE = 6_000


def cell(text: str) -> str:
    """``text`` safe in a table cell: no pipe or newline ends it, no HTML or Markdown opens."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for char in "<>*_`[]~":
        escaped = escaped.replace(char, f"&#{ord(char)};")
    return escaped


def render(report: DiffReport, limit: int = GITHUB_LIMIT) -> str:
    head = [
        f"### xflow diff: {cell(report.old)} → {cell(report.new)}",
        "",
        f"**{cell(summary_line(report))}**",
        "",
    ]
    for refusal in report.refusals:
        head.append(f"The {refusal.side} side ({cell(refusal.label)}) is refused by verify:")
        head.extend(f"- `{d.code}` {cell(d.message)}" for d in refusal.diagnostics)
        head.append("")
    rows = [_row(e) for e in report.entries]
    table = ["| | Caller | Network path | Bucket | Actions | Layer |", "|---|---|---|---|---|---|"]
    budget = limit - _RESERVE
    picture_room = min(50_000, budget // 3)
    # Below this even the coarsest picture (accounts as single nodes) may not fit: leave it out.
    picture = (
        mermaid_picture(report, Budget(text=picture_room)) if picture_room >= _MIN_PICTURE else ""
    )

    pictured = (
        [
            "<details><summary>Picture of what changed</summary>",
            "",
            "```mermaid",
            picture.rstrip("\n"),
            "```",
            "",
            "</details>",
            "",
        ]
        if picture
        else []
    )
    details_open = [
        "<details><summary>Details: a concrete request for each change</summary>",
        "",
        "```",
    ]
    details_close = ["```", "", "</details>", ""]
    declared = [
        f"- {'added' if d.direction.value == 'gained' else 'removed'}: {cell(d.text)}"
        for d in report.declared
    ]
    declared_block = (
        ["Declared exceptions and assumptions that changed:", "", *declared, ""] if declared else []
    )
    size = len("\n".join(head + table + pictured + details_open + details_close + declared_block))
    shown_rows: list[str] = []
    for row in rows:
        if size + len(row) + 1 > budget * 2 // 3:
            break
        shown_rows.append(row)
        size += len(row) + 1
    shown_details: list[str] = []
    for entry in report.entries:
        lines = [line.replace("```", "'''") for line in entry_lines(entry)] + [""]
        length = sum(len(line) + 1 for line in lines)
        if size + length > budget:
            break
        shown_details.extend(lines)
        size += length
    out = list(head)
    if rows:
        out += table + shown_rows + [""]
        if len(shown_rows) < len(rows):
            out.append(
                f"_{len(rows) - len(shown_rows)} more changes are not shown; run `xflow diff` locally for all of them._\n"
            )
    out += pictured
    if shown_details:
        out += details_open + shown_details + details_close
    out += declared_block
    return "\n".join(out)


def _row(entry: Entry) -> str:
    sign = "**+**" if entry.direction.value == "gained" else "**-**"
    actions = ", ".join(entry.actions) + (" (without TLS only)" if entry.tls_only else "")
    return (
        "| "
        + " | ".join(
            [
                sign,
                cell(entry.caller),
                cell(entry.network),
                cell(entry.bucket),
                cell(actions),
                cell(layer_words(entry)),
            ]
        )
        + " |"
    )
