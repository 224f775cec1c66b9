"""Golden files: every spec compiles, in memory, to exactly the Terraform committed beside it.

Cases are ``tests/golden/<case>/spec.yaml`` (expected output in ``expected/``) and every example,
``examples/<name>/spec.yaml``, whose expected output is its committed ``terraform/`` directory.
Run ``pytest tests/test_golden.py --update-golden`` to rewrite the expected files from the current
compiler (stale files are deleted); then review the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.synth.manifest import with_manifests

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
EXAMPLES = REPO / "examples"


def golden_specs() -> list[Path]:
    return sorted(GOLDEN.glob("*/spec.yaml"))


def example_specs() -> list[Path]:
    return sorted(EXAMPLES.glob("*/spec.yaml"))


def expected_dir(spec: Path) -> Path:
    """Where a case's expected Terraform lives."""
    if spec.parent.parent == EXAMPLES:
        return spec.parent / "terraform"
    return spec.parent / "expected"


def case_id(spec: Path) -> str:
    return f"{spec.parent.parent.name}/{spec.parent.name}"


CASES = [pytest.param(spec, id=case_id(spec)) for spec in [*golden_specs(), *example_specs()]]


def committed_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (skipping hidden folders such as .terraform/), by posix path."""
    if not root.is_dir():
        return {}
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            out[relative.as_posix()] = path.read_bytes()
    return out


def compiled_files(spec: Path) -> dict[str, bytes]:
    """What compile writes for ``spec`` into its expected directory, module manifests included."""
    _, files = generate(load_spec(spec), "spec.yaml")
    files = with_manifests(files, expected_dir(spec), spec)
    return {path: text.encode("utf-8") for path, text in files.items()}


def rewrite(root: Path, files: dict[str, bytes]) -> None:
    """Make ``root`` hold exactly ``files``: write changed ones, delete stale ones."""
    current = committed_files(root)
    for relative, data in files.items():
        if current.get(relative) != data:
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    for relative in current.keys() - files.keys():
        stale = root / relative
        stale.unlink()
        parent = stale.parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def test_there_are_enough_golden_cases() -> None:
    names = {spec.parent.name for spec in golden_specs()}
    assert len(names) >= 4, names
    assert len(example_specs()) >= 1


@pytest.mark.parametrize("spec", CASES)
def test_compiles_to_the_committed_terraform(spec: Path, update_golden: bool) -> None:
    root = expected_dir(spec)
    actual = compiled_files(spec)
    assert actual, f"{spec} compiles to no files at all"
    if update_golden:
        rewrite(root, actual)
    expected = committed_files(root)
    assert expected, f"{root} is missing: run pytest {__file__} --update-golden and review it"
    missing = sorted(actual.keys() - expected.keys())
    extra = sorted(expected.keys() - actual.keys())
    assert (missing, extra) == ([], []), (
        f"file sets differ under {root}: not committed {missing}, no longer generated {extra}; "
        "run with --update-golden"
    )
    for relative in sorted(actual):
        assert actual[relative] == expected[relative], (
            f"{root / relative} differs from the compiler's output; run with --update-golden"
        )
