"""The diagnostics catalogue: every code documented once, raised somewhere, and in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from xflow_perimeter.diagnostics import CATALOGUE, CODES, Diagnostic, Severity, markdown_table

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SOURCES = REPO / "compiler" / "xflow_perimeter"
BEGIN = "<!-- BEGIN diagnostic codes: generated from compiler/xflow_perimeter/diagnostics.py -->\n"
END = "<!-- END diagnostic codes -->\n"
CODE = re.compile(r"XF[0-9]{3}")


def raised_codes() -> dict[str, list[str]]:
    """Each code written as a string literal in xflow's source outside the catalogue, with where.

    A literal only compared against (``code == "XF503"``) does not count: it raises nothing.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(SOURCES.rglob("*.py")):
        if path.name == "diagnostics.py" and path.parent == SOURCES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        compared = {
            id(operand)
            for node in ast.walk(tree)
            if isinstance(node, ast.Compare)
            for operand in (node.left, *node.comparators)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and CODE.fullmatch(node.value)
                and id(node) not in compared
            ):
                where = f"{path.relative_to(REPO)}:{node.lineno}"
                found.setdefault(node.value, []).append(where)
    return found


def test_the_catalogue_is_in_code_order_without_gaps_in_its_fields() -> None:
    codes = list(CATALOGUE)
    assert codes == sorted(codes)
    for code, entry in CATALOGUE.items():
        assert CODE.fullmatch(code) and entry.code == code
        assert entry.title and entry.explanation.endswith("."), code
        assert entry.title == CODES[code]


def test_every_catalogued_code_is_raised_somewhere() -> None:
    raised = raised_codes()
    unused = sorted(set(CATALOGUE) - set(raised))
    assert not unused, f"catalogued but never raised (retire them from the catalogue): {unused}"


def test_every_raised_code_is_catalogued() -> None:
    stray = {code: where for code, where in raised_codes().items() if code not in CATALOGUE}
    assert not stray, f"raised but not in the catalogue of diagnostics.py: {stray}"


def test_the_scan_sees_raise_sites_and_ignores_comparisons() -> None:
    raised = raised_codes()
    assert any("spec/build.py" in where for where in raised["XF211"])
    exposure = "prove/checks/exposure.py"
    assert any(exposure in where for where in raised["XF503"])  # a finding code
    source = (SOURCES / exposure).read_text(encoding="utf-8")
    assert 'code == "XF503"' in source  # compared there too, and counted only where raised
    compared_lines = {
        number for number, line in enumerate(source.splitlines(), 1) if 'code == "XF503"' in line
    }
    counted = {int(w.rsplit(":", 1)[1]) for w in raised["XF503"] if exposure in w}
    assert counted and not counted & compared_lines


def test_an_uncatalogued_code_cannot_be_reported() -> None:
    with pytest.raises(ValueError, match="XF999"):
        Diagnostic("XF999", "no such code")


def test_warnings_are_catalogued_as_warnings() -> None:
    assert CATALOGUE["XF220"].severity is Severity.WARNING


def test_the_readme_table_is_generated_from_the_catalogue(update_golden: bool) -> None:
    text = README.read_text(encoding="utf-8")
    head, begin, rest = text.partition(BEGIN)
    table, end, tail = rest.partition(END)
    assert begin and end, f"README.md lacks the markers {BEGIN.strip()} and {END.strip()}"
    expected = markdown_table()
    if update_golden and table != expected:
        README.write_text(head + BEGIN + expected + END + tail, encoding="utf-8")
        table = expected
    assert table == expected, (
        "README.md's table of diagnostic codes differs from the catalogue in "
        "compiler/xflow_perimeter/diagnostics.py; regenerate it with "
        "`pytest tests/test_diagnostics.py --update-golden` and review the diff"
    )


def test_the_readme_names_every_code_once() -> None:
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (XF[0-9]{3}) \|", text, re.M)
    assert rows == list(CATALOGUE)
