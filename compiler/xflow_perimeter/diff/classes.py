"""The request classes both sides are decided on, for one bucket: one set of callers, targets
and paths built from the constants of both specs and both trees, so a request that one side
allows and the other denies is found whichever side names it."""

from __future__ import annotations

from dataclasses import dataclass

from xflow_perimeter.diff.origins import Origin
from xflow_perimeter.diff.sides import Side
from xflow_perimeter.iam.evaluate import ALLOW_EVERYONE_POLICY
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.prove.request_classes import (
    CallerClass,
    Target,
    bucket_targets,
    caller_classes,
    constants,
)
from xflow_perimeter.spec.model import arn_account
from xflow_perimeter.synth.grants import Grant


@dataclass(frozen=True, slots=True)
class BucketId:
    """A bucket as both sides know it: by name and account, never by spec key."""

    name: str
    account: str
    outside: bool = False  # in neither spec: its owner's policy is unknown, the endpoint decides

    @property
    def label(self) -> str:
        if self.outside:
            return f"{self.name} (account {self.account}, a bucket outside both specs)"
        return f"{self.name} (account {self.account})"


@dataclass(frozen=True, slots=True)
class BucketClasses:
    """The request classes one bucket is decided on, and its policy on each side (None: none)."""

    bucket: BucketId
    old_policy: PolicyDocument | None
    new_policy: PolicyDocument | None
    origins: tuple[Origin, ...]  # only the paths on which the two sides may differ
    callers: tuple[CallerClass, ...]
    targets: tuple[Target, ...]


def bucket_policy(side: Side, bucket: BucketId) -> PolicyDocument | None:
    """The bucket's policy on ``side``; a bucket outside both specs is taken to allow everyone
    (an intruder's own bucket may), so that the endpoint alone decides its requests."""
    if bucket.outside:
        return ALLOW_EVERYONE_POLICY
    return side.bucket_policies.get(bucket.name)


def bucket_classes(
    bucket: BucketId,
    old: Side,
    new: Side,
    grants: list[Grant],
    paths: list[Origin],
    foreign: str,
    names: dict[str, str],
) -> BucketClasses | None:
    """The classes of ``bucket`` on the paths where it may differ; None when it cannot differ:
    the same bucket policy on both sides and every path served the same way decide every
    request alike."""
    old_policy, new_policy = bucket_policy(old, bucket), bucket_policy(new, bucket)
    same_policy = old_policy == new_policy
    chosen = tuple(o for o in paths if not (same_policy and o.same_for(bucket.name)))
    if bucket.outside:  # no bucket policy of either side: only an endpoint decides these
        chosen = tuple(o for o in chosen if any(s.endpoint_policy for s in (o.old, o.new)))
    if not chosen:
        return None
    crossed = [
        served.endpoint_policy
        for o in chosen
        for served in (o.old, o.new)
        if served.endpoint_policy
    ]
    found = constants([old_policy, new_policy, *crossed], bucket.name)
    admins = sorted({*old.spec.admins, *new.spec.admins})
    listed = [(names.get(g.principal_arn, g.principal_arn), g.principal_arn) for g in grants]
    listed += [(f"admin {arn}", arn) for arn in admins]
    accounts = {bucket.account, *found.accounts, *(arn_account(arn) for _, arn in listed)}
    callers = [
        CallerClass(c.caller, names.get(c.caller.arn or "", c.label))
        for c in caller_classes(
            listed, found.arns, accounts, foreign, "aws:principalaccount" in found.keys_used
        )
    ]
    targets = bucket_targets(
        found, bucket.name, {g.scope.prefix for g in grants}, {g.action for g in grants}
    )
    return BucketClasses(bucket, old_policy, new_policy, chosen, tuple(callers), tuple(targets))


def principal_names(old: Side, new: Side) -> dict[str, str]:
    """How entries name a principal: its spec key (the new side's first) and its ARN."""
    names: dict[str, str] = {}
    for side in (new, old):
        for principal in side.spec.principals:
            names.setdefault(principal.arn, f"principal {principal.key} ({principal.arn})")
    return names
