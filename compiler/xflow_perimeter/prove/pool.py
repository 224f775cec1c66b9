"""Run independent, deterministic tasks in forked worker processes, results kept in task order.

Verify's per-bucket and per-network checks share nothing but read-only state, so on a machine
with several cores they run side by side. Workers are forked, so they start with that state
already built (nothing is pickled on the way in); only each task's result comes back. Where fork
is not available (or one core is), tasks simply run here, one after another.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

T = TypeVar("T")

_TASK: Callable[[int], object] | None = None  # set in the parent just before forking


def available_workers() -> int:
    """One per core this process may use, or ``XFLOW_WORKERS`` (1 turns the workers off)."""
    configured = os.environ.get("XFLOW_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured) if sys.platform == "linux" else 1
    if sys.platform != "linux":  # fork is only safe to rely on here
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_in_order(
    task: Callable[[int], T],
    count: int,
    workers: int,
    finished: Callable[[int], None] | None = None,
) -> Sequence[T]:
    """``[task(0), ..., task(count - 1)]``, computed by up to ``workers`` forked processes;
    ``finished(n)`` is called here as the first ``n`` results have come back.

    ``task`` must be deterministic and leave no state behind that later tasks depend on, and its
    results must pickle. An exception in a worker is re-raised here; a worker that dies (killed,
    out of memory) raises BrokenProcessPool rather than leaving the caller waiting.
    """
    if workers <= 1 or count <= 1:
        results = []
        for index in range(count):
            results.append(task(index))
            if finished is not None:
                finished(index + 1)
        return results
    # Imported here: a small run never forks, and these imports cost more than its work.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _TASK
    _TASK = task
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, count), mp_context=context) as pool:
            # Small chunks: task costs are skewed (a few buckets carry most flows).
            chunk = max(1, count // (workers * 16))
            gathered = []
            for result in pool.map(_run, range(count), chunksize=chunk):
                gathered.append(cast(T, result))
                if finished is not None:
                    finished(len(gathered))
            return gathered
    finally:
        _TASK = None


def _run(index: int) -> object:
    assert _TASK is not None
    return _TASK(index)
