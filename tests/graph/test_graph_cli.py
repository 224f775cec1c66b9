"""`xflow graph` on the command line: output, files, exit codes, golden pictures, the README's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xflow_perimeter.cli.main import main

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/spec.yaml"))
SUFFIXES = {"mermaid": "mmd", "dot": "dot"}
DIAGNOSTIC = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error (?P<code>XF\d{3}): \S")
README_MARKER = "<!-- xflow graph examples/cross-account/spec.yaml -->"


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root, so pictures name their spec as the README does."""
    monkeypatch.chdir(REPO)


@pytest.mark.usefixtures("in_repo")
@pytest.mark.parametrize("fmt", sorted(SUFFIXES))
@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_match_their_golden_pictures(
    example: str, fmt: str, capsys: pytest.CaptureFixture[str], update_golden: bool
) -> None:
    code, out, err = run(capsys, "graph", f"examples/{example}/spec.yaml", "--format", fmt)
    assert (code, err) == (0, "")
    golden = GOLDEN / f"{example}.{SUFFIXES[fmt]}"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == out, (
        f"{golden} is stale; regenerate with: pytest tests/graph --update-golden"
    )


@pytest.mark.usefixtures("in_repo")
def test_mermaid_is_the_default_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", "examples/cross-account/spec.yaml")
    assert code == 0
    assert out.startswith('---\ntitle: "Flows declared by examples/cross-account/spec.yaml"\n')
    assert "\nflowchart LR\n" in out


def test_output_file_is_written_and_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = REPO / "examples" / "cross-account" / "spec.yaml"
    target = tmp_path / "flows.dot"
    target.write_text("old picture\n", encoding="utf-8")
    code, out, err = run(capsys, "graph", spec, "--format", "dot", "-o", target)
    assert (code, out, err) == (0, "", "")
    assert target.read_text(encoding="utf-8").startswith("digraph xflow {\n")
    assert [p.name for p in tmp_path.iterdir()] == ["flows.dot"]  # no temporary file left


def test_unwritable_output_is_exit_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = REPO / "examples" / "cross-account" / "spec.yaml"
    target = tmp_path / "missing" / "flows.mmd"
    code, out, err = run(capsys, "graph", spec, "-o", target)
    assert (code, out) == (2, "")
    assert err == f"xflow graph: cannot write {target}: No such file or directory\n"


def test_invalid_spec_is_exit_2_with_located_diagnostics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = REPO / "tests" / "invalid" / "XF201-unknown-reference.yaml"
    code, out, err = run(capsys, "graph", spec)
    assert (code, out) == (2, "")
    found = [m for m in map(DIAGNOSTIC.match, err.splitlines()) if m]
    assert found and {m["code"] for m in found} == {"XF201"}
    assert all(m["file"] == str(spec) for m in found)
    assert err.splitlines()[-1] == f"xflow: {len(found)} errors"


def test_missing_spec_and_unknown_format_are_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "graph", tmp_path / "nope.yaml")
    assert (code, out) == (2, "")
    assert "error XF001:" in err
    with pytest.raises(SystemExit) as exited:
        main(["graph", str(tmp_path / "nope.yaml"), "--format", "svg"])
    assert exited.value.code == 2


@pytest.mark.usefixtures("in_repo")
def test_readme_shows_the_current_cross_account_picture(
    capsys: pytest.CaptureFixture[str], update_golden: bool
) -> None:
    code, picture, _ = run(capsys, "graph", "examples/cross-account/spec.yaml")
    assert code == 0
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = re.compile(re.escape(README_MARKER) + r"\n```mermaid\n(?P<picture>.*?)```\n", re.S)
    found = block.search(text)
    assert found, f"README.md has no ```mermaid block after {README_MARKER}"
    if update_golden:
        start, end = found.span("picture")
        text = text[:start] + picture + text[end:]
        readme.write_text(text, encoding="utf-8")
    assert block.search(text)["picture"] == picture, (  # type: ignore[index]
        "README.md's picture of examples/cross-account is stale; regenerate with: "
        "pytest tests/graph --update-golden"
    )
