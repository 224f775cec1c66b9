"""What each side's bucket policies allow AWS service principals, as verify's service layer
builds the classes: each service either spec or either policy names and a fresh one, on behalf
of each source account and resource they name, a foreign one, or none.

A service's request crosses no VPC endpoint, so only the bucket policy decides it: a bucket
whose policy is the same on both sides decides every service request alike and is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from xflow_perimeter.diagnostics import Diagnostic, XflowError
from xflow_perimeter.diff.classes import BucketId, bucket_policy
from xflow_perimeter.diff.exposure import Difference
from xflow_perimeter.diff.model import Direction, Layer
from xflow_perimeter.diff.origins import Origin, Served
from xflow_perimeter.diff.sides import Side
from xflow_perimeter.iam.evaluate import UnsupportedPolicyError, evaluate
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.network_paths import INTERNET_IP
from xflow_perimeter.prove.request_classes import (
    CallerClass,
    Target,
    bucket_targets,
    constants,
)
from xflow_perimeter.prove.sweep import Subject, Sweep, bits
from xflow_perimeter.synth.grants import ServiceGrant, service_grants

WITNESS_SERVICE = "xflow-witness.amazonaws.com"
_SERVED = Served(NetworkPath(source_ip=INTERNET_IP), None)
AWS_SERVICES = Origin("AWS services (no VPC endpoint on the way)", _SERVED, _SERVED)


def service_differences(
    old: Side, new: Side, bucket: BucketId, foreign: str
) -> tuple[list[Difference], int]:
    """Every service request class on ``bucket`` that one side allows and the other denies,
    and the requests evaluated."""
    old_policy, new_policy = bucket_policy(old, bucket), bucket_policy(new, bucket)
    if old_policy == new_policy:
        return [], 0
    grants = [g for side in (old, new) for g in _grants_on(side, bucket)]
    found = constants([old_policy, new_policy], bucket.name)
    services = {g.service for g in grants} | found.services | {WITNESS_SERVICE}
    accounts: set[str | None] = {g.source_account for g in grants}
    accounts |= {foreign, bucket.account, None} | set(found.accounts)
    arns: set[str | None] = {g.source_arn for g in grants if g.source_arn}
    arns |= set(found.source_arns) | {
        f"arn:aws:cloudtrail:us-east-1:{foreign}:trail/xflow-witness",
        None,
    }
    subjects: list[tuple[Subject, CallerClass]] = []
    for service in sorted(services):
        caller = Caller(arn=None, account=None, service=service)
        for account in sorted(accounts, key=str):
            label = f"service {service} on behalf of " + (
                f"account {account}" if account else "no account"
            )
            for source_arn in sorted(arns, key=str):
                subjects.append((Subject(caller, account, source_arn), CallerClass(caller, label)))
    targets = bucket_targets(
        found, bucket.name, {g.scope.prefix for g in grants}, {g.action for g in grants}
    )
    try:
        out = list(_differences(bucket, old_policy, new_policy, subjects, targets))
    except UnsupportedPolicyError as error:
        message = f"cannot compare service requests on bucket {bucket.label}: {error}"
        raise XflowError([Diagnostic("XF801", message)]) from error
    return out, 2 * 2 * len(subjects) * len(targets)


def _grants_on(side: Side, bucket: BucketId) -> list[ServiceGrant]:
    keys = {
        b.key for b in side.spec.buckets if (b.name, b.account_id) == (bucket.name, bucket.account)
    }
    return [g for g in service_grants(side.spec) if g.bucket in keys]


def _differences(
    bucket: BucketId,
    old_policy: PolicyDocument | None,
    new_policy: PolicyDocument | None,
    subjects: list[tuple[Subject, CallerClass]],
    targets: list[Target],
) -> Iterator[Difference]:
    plain = [s for s, _ in subjects]
    before = Sweep(plain, bucket.name, bucket.account, old_policy, None)
    after = Sweep(plain, bucket.name, bucket.account, new_policy, None, shared_with=before)
    for target in targets:
        for tls in (True, False):
            was = _allowed(before, old_policy, bucket, subjects, target, tls)
            now = _allowed(after, new_policy, bucket, subjects, target, tls)
            for bit in bits(was ^ now):
                subject, caller = subjects[bit]
                yield Difference(
                    Direction.GAINED if now >> bit & 1 else Direction.LOST,
                    Layer.COMBINED,
                    caller,
                    AWS_SERVICES,
                    target,
                    tls,
                    _request(bucket, subject, target, tls),
                )


def _allowed(
    sweep: Sweep,
    policy: PolicyDocument | None,
    bucket: BucketId,
    subjects: list[tuple[Subject, CallerClass]],
    target: Target,
    tls: bool,
) -> int:
    mask = sweep.allowed_at(target.action, target.key, target.list_prefix, _SERVED.path, tls)
    if mask is not None:
        return mask
    mask = 0  # some subject's answer rests on an undocumented value: ask evaluate one by one
    for bit, (subject, _) in enumerate(subjects):
        request = _request(bucket, subject, target, tls)
        if evaluate(request, bucket_policy=policy, endpoint_policy=None).allowed:
            mask |= 1 << bit
    return mask


def _request(bucket: BucketId, subject: Subject, target: Target, tls: bool) -> Request:
    return Request(
        caller=subject.caller,
        action=target.action,
        bucket=bucket.name,
        bucket_account=bucket.account,
        key=target.key,
        list_prefix=target.list_prefix,
        path=_SERVED.path,
        secure_transport=tls,
        source_account=subject.source_account,
        source_arn=subject.source_arn,
    )
