"""What a layer check finds (a ``Mismatch``), and how each check picks the sweep or its
one-request-at-a-time reference loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xflow_perimeter.iam.evaluate import Decision
from xflow_perimeter.iam.request import Request
from xflow_perimeter.prove.intent import Share
from xflow_perimeter.prove.network_paths import PathClass
from xflow_perimeter.prove.request_classes import CallerClass, Target
from xflow_perimeter.spec.model import Bucket
from xflow_perimeter.synth.grants import Scope

if TYPE_CHECKING:
    from xflow_perimeter.prove.verifier import Verifier

# Tests set this to run the plain loop beside every sweep and fail on any difference.
CROSS_CHECK = False


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A request class that a layer's policy decides otherwise than the spec intends: who, from
    where, on which bucket, and the decision."""

    layer: str  # "bucket" or "endpoint"
    caller: CallerClass
    path: PathClass
    bucket_label: str
    bucket_name: str
    bucket_account: str
    target: Target
    secure_transport: bool
    expected: bool
    decision: Decision
    request: Request

    @classmethod
    def on_bucket(
        cls,
        bucket: Bucket,
        caller: CallerClass,
        path: PathClass,
        target: Target,
        tls: bool,
        expected: bool,
        decision: Decision,
        request: Request,
    ) -> Mismatch:
        """A mismatch of a spec bucket's own policy."""
        return cls(
            "bucket",
            caller,
            path,
            bucket.name,
            bucket.name,
            bucket.account_id,
            target,
            tls,
            expected,
            decision,
            request,
        )


def sweep_or_plain(
    verifier: Verifier,
    swept: Callable[[], list[Mismatch] | None],
    plain: Callable[[], Iterator[Mismatch]],
) -> Iterator[Mismatch]:
    """The sweep's mismatches, or the plain loop's where the sweep cannot decide (or the verifier
    is exhaustive). Under CROSS_CHECK the plain loop also runs, uncounted, beside every sweep, and
    any difference fails."""
    found = None if verifier.exhaustive else swept()
    if found is None:
        yield from plain()
        return
    if CROSS_CHECK:
        counted = verifier.evaluated
        reference = list(plain())
        verifier.evaluated = counted
        if reference != found:
            raise AssertionError(f"sweep {found[:3]} != plain loop {reference[:3]}")
    yield from found


class ExpectedCallers:
    """Caller classes by ARN, as bits of the sweep's bitsets: a layer's share of the spec (from
    prove.intent, never restated here) becomes the bitset of the callers it allows."""

    def __init__(self, callers: list[CallerClass]) -> None:
        self.bits = {c.caller.arn: 1 << i for i, c in enumerate(callers) if c.caller.arn}

    def per_target(self, share_of: Callable[[str], Share], targets: list[Target]) -> list[int]:
        """For each target, the callers allowed it by ``share_of(action)``, a layer's share."""
        bits = self.bits
        by_action: dict[str, list[tuple[Scope | None, int]]] = {}
        out = []
        for target in targets:
            share = by_action.get(target.action)
            if share is None:
                share = [
                    (scope, bit) for arn, scope in share_of(target.action) if (bit := bits.get(arn))
                ]
                by_action[target.action] = share
            expected = 0
            for scope, bit in share:
                if scope is None or scope.covers(target.key, target.list_prefix):
                    expected |= bit
            out.append(expected)
        return out
