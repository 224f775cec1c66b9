"""Every layer check of a verify, bucket by bucket then network by network: in forked worker
processes when there are enough of them (see pool.py), with the same result and order."""

from __future__ import annotations

from xflow_perimeter.iam.evaluate import UnsupportedPolicyError
from xflow_perimeter.prove import pool, progress
from xflow_perimeter.prove.layers.bucket import bucket_mismatches
from xflow_perimeter.prove.layers.endpoint import endpoint_mismatches
from xflow_perimeter.prove.layers.mismatch import Mismatch
from xflow_perimeter.prove.verifier import Verifier

# Below this many buckets and networks, forking workers costs more than it saves.
_PARALLEL_FROM = 64

_TaskResult = tuple[list[Mismatch], int, "UnsupportedPolicyError | None"]


def all_mismatches(verifier: Verifier, workers: int | None) -> list[Mismatch]:
    """Every layer mismatch, bucket by bucket then network by network: in worker processes when
    there are enough of them, with the same result and order as one after another."""
    spec = verifier.spec
    count = len(spec.buckets) + len(spec.networks)
    if workers is None:
        workers = pool.available_workers() if count >= _PARALLEL_FROM else 1
    told = progress.current()

    def task(index: int) -> _TaskResult:
        before = verifier.evaluated
        found: list[Mismatch] = []
        try:
            if index < len(spec.buckets):
                found.extend(bucket_mismatches(verifier, spec.buckets[index]))
            else:
                found.extend(
                    endpoint_mismatches(verifier, spec.networks[index - len(spec.buckets)])
                )
        except UnsupportedPolicyError as error:
            return found, verifier.evaluated - before, error
        return found, verifier.evaluated - before, None

    if workers <= 1:  # the tasks count into verifier.evaluated themselves
        mismatches: list[Mismatch] = []
        for index in range(count):
            found, _, error = task(index)
            if error is not None:
                raise error
            mismatches.extend(found)
            if told is not None:
                told(index + 1, count)
        return mismatches
    done = (lambda finished: told(finished, count)) if told is not None else None
    mismatches = []
    for found, evaluated, error in pool.run_in_order(task, count, workers, done):
        verifier.evaluated += evaluated
        if error is not None:
            raise error
        mismatches.extend(found)
    return mismatches
