"""The CLI's side of the location convention: a Locator per run, and errors relocated by it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xflow_perimeter.diagnostics import XflowError
from xflow_perimeter.report.locations import Locator


def locator_for(spec: Path, tf_root: Path | None, base: Path | None = None) -> Locator:
    """Spec spans name the spec as given on the command line; Terraform spans its root."""
    return Locator(str(spec), tf_root, base)


@contextmanager
def located_errors(locator: Locator) -> Iterator[None]:
    """Re-raise an XflowError with its spans by the convention (relative to the cwd)."""
    try:
        yield
    except XflowError as error:
        raise XflowError(
            [locator.diagnostic(d) for d in error.diagnostics], error.exit_code
        ) from None
