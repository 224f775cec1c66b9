"""Who hears of a proof's progress: ``reporting(progress)`` scopes a callback that every proof run
inside the block tells ``(done, total)`` as its bucket and network tasks finish (see
layers/schedule.py). Kept apart from the proof so that a caller sets it up without loading it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Progress = Callable[[int, int], None]
"""Told ``(done, total)`` after each bucket's or network's checks, in the calling process."""

_PROGRESS: ContextVar[Progress | None] = ContextVar("xflow_progress", default=None)


@contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Within the block, every proof's tasks report to ``progress`` as they finish (the CLI's
    progress display; a library caller's own). Scoped to the block and to this context, so
    concurrent verifies in other threads or tasks report to their own."""
    token = _PROGRESS.set(progress)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def current() -> Progress | None:
    """The callback of the innermost ``reporting`` block around the caller, if any."""
    return _PROGRESS.get()
