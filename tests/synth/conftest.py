"""Fixtures for the synthesis tests: hclvalues, hashicorp's HCL parser printing values as JSON."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def find_hclvalues() -> str | None:
    """scripts/hclvalues built by scripts/dev-setup (or named by XFLOW_HCLVALUES, or on PATH)."""
    candidates = [os.environ.get("XFLOW_HCLVALUES"), str(REPO / ".tools" / "bin" / "hclvalues")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("hclvalues")


@pytest.fixture(scope="session")
def hclvalues() -> str:
    """Path to hclvalues; in CI its absence is a failure, elsewhere a skip."""
    found = find_hclvalues()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("hclvalues is required in CI: run scripts/dev-setup first")
        pytest.skip("hclvalues not built: run scripts/dev-setup")
    return found
