"""The bucket layer for AWS service principals: each service the spec or the policy names and a
fresh one, on behalf of each source account and resource, a foreign one, or none."""

from __future__ import annotations

from collections.abc import Iterator

from xflow_perimeter.iam.evaluate import UnsupportedPolicyError, evaluate
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, Request
from xflow_perimeter.prove.layers.mismatch import Mismatch, sweep_or_plain
from xflow_perimeter.prove.network_paths import PathClass
from xflow_perimeter.prove.request_classes import CallerClass, Constants, Target
from xflow_perimeter.prove.sweep import Subject, Sweep, bits
from xflow_perimeter.prove.verifier import Verifier
from xflow_perimeter.spec.model import Bucket
from xflow_perimeter.synth.grants import ServiceGrant

_Labelled = tuple[Subject, str]  # a service subject and the caller label findings give it


def service_mismatches(
    verifier: Verifier, bucket: Bucket, policy: PolicyDocument | None, found: Constants
) -> Iterator[Mismatch]:
    """Every service request class on which ``bucket``'s policy differs from the spec's service
    flows (``found``: the constants of the policy and the endpoints its requests cross)."""
    grants = verifier.intent.service_grants.get(bucket.key, [])
    services = {g.service for g in grants} | found.services | {"xflow-witness.amazonaws.com"}
    accounts: set[str | None] = {g.source_account for g in grants}
    accounts |= {verifier.foreign, bucket.account_id, None} | set(found.accounts)
    fresh_arn = f"arn:aws:cloudtrail:us-east-1:{verifier.foreign}:trail/xflow-witness"
    arns: set[str | None] = {g.source_arn for g in grants if g.source_arn}
    arns |= set(found.source_arns) | {fresh_arn, None}
    internet = next(p for p in verifier.outside if p.kind == "internet")
    targets = verifier.targets(
        found,
        [],
        bucket.name,
        extra_prefixes={g.scope.prefix for g in grants},
        extra_actions={g.action for g in grants},
    )
    subjects: list[_Labelled] = []
    for service in sorted(services):
        caller = Caller(arn=None, account=None, service=service)
        for account in sorted(accounts, key=str):
            label = f"service {service} on behalf of " + (
                f"account {account}" if account else "no account"
            )
            for source_arn in sorted(arns, key=str):
                subjects.append((Subject(caller, account, source_arn), label))
    yield from sweep_or_plain(
        verifier,
        lambda: _swept(verifier, bucket, policy, grants, subjects, targets, internet),
        lambda: _plain(verifier, bucket, policy, subjects, targets, internet),
    )


def _plain(
    verifier: Verifier,
    bucket: Bucket,
    policy: PolicyDocument | None,
    subjects: list[_Labelled],
    targets: list[Target],
    internet: PathClass,
) -> Iterator[Mismatch]:
    """The service subjects one request at a time: the reference the sweep must agree with."""
    for subject, label in subjects:
        for tls in (True, False):
            for target in targets:
                request = _request(bucket, subject, target, tls, internet)
                decision = verifier.decide(request, policy, None)
                expected = verifier.intent.service_layer(
                    bucket,
                    subject.caller.service or "",
                    subject.source_account,
                    subject.source_arn,
                    target.action,
                    target.key,
                    target.list_prefix,
                    tls,
                )
                if decision.allowed != expected:
                    yield Mismatch.on_bucket(
                        bucket,
                        CallerClass(subject.caller, label),
                        internet,
                        target,
                        tls,
                        expected,
                        decision,
                        request,
                    )


def _swept(
    verifier: Verifier,
    bucket: Bucket,
    policy: PolicyDocument | None,
    grants: list[ServiceGrant],
    subjects: list[_Labelled],
    targets: list[Target],
    internet: PathClass,
) -> list[Mismatch] | None:
    """The service subjects all at once, in the plain loop's order; None when the sweep
    cannot decide and the plain loop must."""
    covered: dict[ServiceGrant, int] = {}  # the subjects each service flow is for
    for grant in grants:
        mask = 0
        for bit, (subject, _) in enumerate(subjects):
            if grant.covers(subject.caller.service, subject.source_account, subject.source_arn):
                mask |= 1 << bit
        covered[grant] = mask
    try:
        sweep = Sweep([s for s, _ in subjects], bucket.name, bucket.account_id, policy, None)
    except UnsupportedPolicyError:
        return None
    found: list[tuple[int, int, int, bool]] = []
    for tls_index, tls in enumerate((True, False)):
        for target_index, target in enumerate(targets):
            allowed = sweep.allowed_at(
                target.action, target.key, target.list_prefix, internet.path, tls
            )
            if allowed is None:
                return None
            expected = 0
            for grant in verifier.intent.service_share(bucket, target.action, tls):
                if grant.scope.covers(target.key, target.list_prefix):
                    expected |= covered[grant]
            for index in bits(allowed ^ expected):
                found.append((index, tls_index, target_index, bool(allowed >> index & 1)))
    mismatches = []
    for subject_index, tls_index, target_index, allowed_now in sorted(found):
        subject, label = subjects[subject_index]
        target, tls = targets[target_index], tls_index == 0
        request = _request(bucket, subject, target, tls, internet)
        decision = evaluate(request, bucket_policy=policy, endpoint_policy=None)
        if decision.allowed != allowed_now:
            return None  # the sweep and the evaluator disagree: trust the evaluator
        mismatches.append(
            Mismatch.on_bucket(
                bucket,
                CallerClass(subject.caller, label),
                internet,
                target,
                tls,
                not allowed_now,
                decision,
                request,
            )
        )
    verifier.evaluated += len(subjects) * 2 * len(targets)
    return mismatches


def _request(
    bucket: Bucket, subject: Subject, target: Target, tls: bool, internet: PathClass
) -> Request:
    return Request(
        caller=subject.caller,
        action=target.action,
        bucket=bucket.name,
        bucket_account=bucket.account_id,
        key=target.key,
        list_prefix=target.list_prefix,
        path=internet.path,
        secure_transport=tls,
        source_account=subject.source_account,
        source_arn=subject.source_arn,
    )
