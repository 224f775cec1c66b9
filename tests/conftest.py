"""Shared fixtures: the --update-golden flag and the reference HCL formatter."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files and examples' committed Terraform from the current compiler",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def find_hclfmt() -> str | None:
    candidates = [os.environ.get("XFLOW_HCLFMT"), str(REPO / ".tools" / "bin" / "hclfmt")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("hclfmt")


@pytest.fixture(scope="session")
def hclfmt() -> str:
    """Path to hashicorp's hclfmt; in CI its absence is a failure, elsewhere a skip."""
    found = find_hclfmt()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("hclfmt is required in CI: run scripts/dev-setup first")
        pytest.skip("hclfmt not built: run scripts/dev-setup")
    return found


@pytest.fixture(autouse=True, scope="session")
def cross_check_sweeps() -> Iterator[None]:
    """Every verify in the suite also runs the plain one-request-at-a-time loop beside each
    sweep and fails on any difference (xflow_perimeter.prove.sweep must answer exactly like evaluate)."""
    from xflow_perimeter.prove.layers import mismatch

    mismatch.CROSS_CHECK = True
    yield
    mismatch.CROSS_CHECK = False
