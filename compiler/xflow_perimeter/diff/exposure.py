"""Decide every request class of a bucket on both sides, per layer, and keep the differences.

Each side decides a request with its own bucket policy and the endpoint its path crosses (the
combined exposure), and each layer alone: the endpoint policy with the bucket allowing everyone,
and the bucket policy with the endpoint allowing everything. A difference is reported in the
combined exposure when it shows there, else in the layer that differs: a widened endpoint policy
behind a bucket policy that still denies is a gain for the endpoint layer, not nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from xflow_perimeter.diagnostics import Diagnostic, XflowError
from xflow_perimeter.diff.classes import BucketClasses
from xflow_perimeter.diff.model import Direction, Layer
from xflow_perimeter.diff.origins import Origin, Served
from xflow_perimeter.iam.evaluate import (
    ALLOW_EVERYONE_POLICY,
    DEFAULT_ENDPOINT_POLICY,
    UnsupportedPolicyError,
    evaluate,
)
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Request
from xflow_perimeter.prove.request_classes import CallerClass, Target
from xflow_perimeter.prove.sweep import Subject, Sweep, bits


@dataclass(frozen=True, slots=True)
class Difference:
    """One request class that one side allows and the other denies."""

    direction: Direction
    layer: Layer
    caller: CallerClass
    origin: Origin
    target: Target
    secure_transport: bool
    request: Request  # as the allowing side receives it


class _Decider:
    """Caller bitsets for one bucket and one side, memoising a sweep per pair of policies."""

    def __init__(self, classes: BucketClasses, policy: PolicyDocument | None) -> None:
        self.classes = classes
        self.policy = policy
        self.subjects = tuple(Subject(c.caller) for c in classes.callers)
        self.everyone = (1 << len(self.subjects)) - 1
        self.sweeps: dict[
            tuple[int, int], tuple[Sweep, PolicyDocument | None, PolicyDocument | None]
        ] = {}
        self.evaluated = 0

    def allowed(
        self,
        bucket_policy: PolicyDocument | None,
        served: Served,
        endpoint_policy: PolicyDocument | None,
        target: Target,
        tls: bool,
    ) -> int:
        bucket = self.classes.bucket
        key = (id(bucket_policy), id(endpoint_policy))
        found = self.sweeps.get(key)
        if found is None:
            shared = next(iter(self.sweeps.values()), None)
            sweep = Sweep(
                self.subjects,
                bucket.name,
                bucket.account,
                bucket_policy,
                endpoint_policy,
                shared_with=shared[0] if shared else None,
            )
            found = (sweep, bucket_policy, endpoint_policy)
            self.sweeps[key] = found
        self.evaluated += len(self.subjects)
        mask = found[0].allowed_at(target.action, target.key, target.list_prefix, served.path, tls)
        if mask is not None:
            return mask
        mask = 0  # some caller's answer rests on an undocumented value: ask evaluate one by one
        for bit, caller in enumerate(self.classes.callers):
            request = make_request(caller, served, self.classes, target, tls)
            if evaluate(
                request, bucket_policy=bucket_policy, endpoint_policy=endpoint_policy
            ).allowed:
                mask |= 1 << bit
        return mask

    def layers(self, served: Served, target: Target, tls: bool) -> tuple[int, int, int]:
        """Callers allowed with every layer, by the endpoint alone, and by the bucket alone."""
        if served.endpoint_policy is None:
            if self.classes.bucket.outside:
                return self.everyone, self.everyone, self.everyone
            combined = self.allowed(self.policy, served, None, target, tls)
            return combined, self.everyone, combined  # no endpoint on the way: it lets all by
        endpoint = self.allowed(ALLOW_EVERYONE_POLICY, served, served.endpoint_policy, target, tls)
        if self.classes.bucket.outside:
            # The owner's policy is unknown (taken to allow everyone): the endpoint decides, and
            # what it lets through is shown as the endpoint layer's, never as the exposure.
            return endpoint, endpoint, self.everyone
        combined = self.allowed(self.policy, served, served.endpoint_policy, target, tls)
        bucket = self.allowed(self.policy, served, DEFAULT_ENDPOINT_POLICY, target, tls)
        return combined, endpoint, bucket


def make_request(
    caller: CallerClass, served: Served, classes: BucketClasses, target: Target, tls: bool
) -> Request:
    return Request(
        caller=caller.caller,
        action=target.action,
        bucket=classes.bucket.name,
        bucket_account=classes.bucket.account,
        key=target.key,
        list_prefix=target.list_prefix,
        path=served.path,
        secure_transport=tls,
    )


def differences(classes: BucketClasses) -> tuple[list[Difference], int]:
    """Every request class of ``classes`` decided differently, and the requests evaluated."""
    old = _Decider(classes, classes.old_policy)
    new = _Decider(classes, classes.new_policy)
    try:
        found = list(_differences(classes, old, new))
    except UnsupportedPolicyError as error:
        raise XflowError(
            [
                Diagnostic(
                    "XF801",
                    f"cannot compare bucket {classes.bucket.label}: {error}",
                )
            ]
        ) from error
    return found, old.evaluated + new.evaluated


def _differences(classes: BucketClasses, old: _Decider, new: _Decider) -> Iterator[Difference]:
    for origin in classes.origins:
        for target in classes.targets:
            with_tls: tuple[tuple[int, int, int], tuple[int, int, int], int] | None = None
            for tls in (True, False):
                before = old.layers(origin.old, target, tls)
                after = new.layers(origin.new, target, tls)
                explained = _explained(with_tls, before, after) if with_tls else (0, 0, 0)
                reported = 0
                for layer, was, now, folded in zip(Layer, before, after, explained, strict=True):
                    if classes.bucket.outside and layer is not Layer.ENDPOINT:
                        continue  # outside both specs only the endpoint decides (see layers())
                    changed = (was ^ now) & ~reported & ~folded
                    reported |= changed
                    for bit in bits(changed):
                        gained = bool(now >> bit & 1)
                        caller = classes.callers[bit]
                        served = origin.new if gained else origin.old
                        yield Difference(
                            Direction.GAINED if gained else Direction.LOST,
                            Layer.ENDPOINT if classes.bucket.outside else layer,
                            caller,
                            origin,
                            target,
                            tls,
                            make_request(caller, served, classes, target, tls),
                        )
                combined_changed = before[0] ^ after[0]
                with_tls = (before, after, combined_changed)


def _explained(
    with_tls: tuple[tuple[int, int, int], tuple[int, int, int], int],
    before: tuple[int, int, int],
    after: tuple[int, int, int],
) -> tuple[int, int, int]:
    """Callers whose one-layer difference without TLS is the combined difference reported with
    TLS: that layer decides them alike with and without TLS on both sides, and the exposure
    changed with TLS in the same direction (the other layer only refuses plain HTTP)."""
    before_tls, after_tls, combined_changed = with_tls
    explained = [0, 0, 0]  # never the combined exposure's own difference
    for index in (1, 2):  # the endpoint layer, the bucket layer
        alike = ~(before[index] ^ before_tls[index]) & ~(after[index] ^ after_tls[index])
        changed = before[index] ^ after[index]
        same_way = ~(after[index] ^ after_tls[0])
        explained[index] = alike & changed & combined_changed & same_way
    return explained[0], explained[1], explained[2]
