"""Forked workers: results in task order, errors surfaced, a dead worker never hangs the caller."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from xflow_perimeter.prove import pool


def test_results_come_back_in_task_order_from_forked_workers() -> None:
    parent = os.getpid()
    results = pool.run_in_order(lambda i: (i * i, os.getpid() != parent), 50, 2)
    assert [square for square, _ in results] == [i * i for i in range(50)]
    assert all(forked for _, forked in results)


def test_one_worker_runs_here() -> None:
    parent = os.getpid()
    assert pool.run_in_order(lambda i: os.getpid() == parent, 3, 1) == [True] * 3


def test_an_exception_in_a_worker_is_raised_here() -> None:
    def task(index: int) -> int:
        if index == 7:
            raise ValueError("task 7")
        return index

    with pytest.raises(ValueError, match="task 7"):
        pool.run_in_order(task, 20, 2)


def test_a_worker_that_dies_raises_instead_of_hanging() -> None:
    def task(index: int) -> int:
        if index == 3:
            os._exit(1)
        return index

    with pytest.raises(BrokenProcessPool):
        pool.run_in_order(task, 20, 2)


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("3", 3)])
def test_xflow_workers_sets_the_count(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: int
) -> None:
    monkeypatch.setenv("XFLOW_WORKERS", value)
    assert pool.available_workers() == expected
