"""The bucket layer: a spec bucket's policy alone (every network and identity allowing
everything), for every caller class, path, TLS setting and target; then its service principals."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from xflow_perimeter.iam.evaluate import (
    DEFAULT_ENDPOINT_POLICY,
    UnsupportedPolicyError,
    evaluate,
)
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.prove.layers.mismatch import (
    ExpectedCallers,
    Mismatch,
    sweep_or_plain,
)
from xflow_perimeter.prove.layers.service import service_mismatches
from xflow_perimeter.prove.network_paths import PathClass
from xflow_perimeter.prove.request_classes import (
    CallerClass,
    Constants,
    Target,
    caller_classes,
)
from xflow_perimeter.prove.sweep import Subject, Sweep, bits
from xflow_perimeter.prove.verifier import Verifier
from xflow_perimeter.spec.model import Bucket, arn_account


def bucket_mismatches(verifier: Verifier, bucket: Bucket) -> Iterator[Mismatch]:
    """Every request class on which ``bucket``'s policy alone differs from its share of the spec."""
    tf = verifier.policies.get(bucket.name)
    policy = tf.policy if tf else None
    mine = verifier.grants_by_bucket.get(bucket.key, [])
    found = verifier.with_endpoints(policy, {g.network for g in mine}, bucket.name)
    listed = [(f"principal {verifier.name(g.principal_arn)}", g.principal_arn) for g in mine]
    listed += [(f"admin {arn}", arn) for arn in verifier.spec.admins]
    listed += [(f"auditor {arn}", arn) for arn in verifier.spec.auditors]
    accounts = {bucket.account_id, *found.accounts, *(arn_account(arn) for _, arn in listed)}
    callers = caller_classes(
        listed, found.arns, accounts, verifier.foreign, varies_anonymous(found)
    )
    networks = {g.network for g in mine}
    paths = [
        p
        for n in verifier.spec.networks
        for p in verifier.topology.paths.get(n.name, ())
        if n.name in networks or n.vpc_id in found.vpcs or n.endpoint_id in found.vpces
    ]
    paths += verifier.outside
    targets = verifier.targets(found, mine, bucket.name)
    yield from sweep_or_plain(
        verifier,
        lambda: _swept(verifier, bucket, policy, callers, paths, targets),
        lambda: _plain(verifier, bucket, policy, callers, paths, targets),
    )
    yield from service_mismatches(verifier, bucket, policy, found)


def varies_anonymous(found: Constants) -> bool:
    """Whether the policies test aws:PrincipalAccount, which AWS may or may not set for anonymous
    callers: then anonymous callers are tried both ways."""
    return "aws:principalaccount" in found.keys_used


def _plain(
    verifier: Verifier,
    bucket: Bucket,
    policy: PolicyDocument | None,
    callers: list[CallerClass],
    paths: list[PathClass],
    targets: list[Target],
) -> Iterator[Mismatch]:
    """The bucket layer one request at a time: the reference the sweep must agree with."""
    for caller in callers:
        for path in paths:
            alone = DEFAULT_ENDPOINT_POLICY if path.path.via_endpoint else None
            for tls in (True, False):
                for target in targets:
                    request = verifier.request(
                        caller, path, bucket.name, bucket.account_id, target, tls
                    )
                    decision = verifier.decide(request, policy, alone)
                    expected = verifier.intent.bucket_layer(
                        bucket,
                        path.network,
                        caller.caller.arn,
                        target.action,
                        target.key,
                        target.list_prefix,
                        tls,
                    )
                    if decision.allowed != expected:
                        yield Mismatch.on_bucket(
                            bucket, caller, path, target, tls, expected, decision, request
                        )


def _swept(
    verifier: Verifier,
    bucket: Bucket,
    policy: PolicyDocument | None,
    callers: list[CallerClass],
    paths: list[PathClass],
    targets: list[Target],
) -> list[Mismatch] | None:
    """The bucket layer for all callers at once (see sweep.py), in the plain loop's order;
    None when the sweep cannot decide and the plain loop must."""
    expect = ExpectedCallers(callers)
    expected_at: dict[tuple[str | None, bool], list[int]] = {}  # by network and TLS
    subjects = [Subject(c.caller) for c in callers]
    sweeps: dict[bool, Sweep] = {}
    try:
        for via in sorted({p.path.via_endpoint for p in paths}):
            sweeps[via] = Sweep(
                subjects,
                bucket.name,
                bucket.account_id,
                policy,
                DEFAULT_ENDPOINT_POLICY if via else None,
                shared_with=next(iter(sweeps.values()), None),
            )
    except UnsupportedPolicyError:
        return None
    found: list[tuple[int, int, int, int, bool]] = []
    for path_index, path in enumerate(paths):
        sweep = sweeps[path.path.via_endpoint]
        network = path.network.name if path.network is not None else None
        for tls_index, tls in enumerate((True, False)):
            expected_row = expected_at.get((network, tls))
            if expected_row is None:
                expected_row = expect.per_target(
                    functools.partial(
                        verifier.intent.bucket_share, bucket, path.network, secure_transport=tls
                    ),
                    targets,
                )
                expected_at[(network, tls)] = expected_row
            for target_index, target in enumerate(targets):
                allowed = sweep.allowed_at(
                    target.action, target.key, target.list_prefix, path.path, tls
                )
                if allowed is None:
                    return None
                expected = expected_row[target_index]
                for index in bits(allowed ^ expected):
                    found.append(
                        (index, path_index, tls_index, target_index, bool(allowed >> index & 1))
                    )
    mismatches = []
    for caller_index, path_index, tls_index, target_index, allowed_now in sorted(found):
        caller, path, target = callers[caller_index], paths[path_index], targets[target_index]
        tls = tls_index == 0
        request = verifier.request(caller, path, bucket.name, bucket.account_id, target, tls)
        alone = DEFAULT_ENDPOINT_POLICY if path.path.via_endpoint else None
        decision = evaluate(request, bucket_policy=policy, endpoint_policy=alone)
        if decision.allowed != allowed_now:
            return None  # the sweep and the evaluator disagree: trust the evaluator
        mismatches.append(
            Mismatch.on_bucket(
                bucket, caller, path, target, tls, not allowed_now, decision, request
            )
        )
    verifier.evaluated += len(callers) * len(paths) * 2 * len(targets)
    return mismatches
