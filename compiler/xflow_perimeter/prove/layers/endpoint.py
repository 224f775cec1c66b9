"""The endpoint layer: a network's endpoint policy alone (every bucket allowing everyone), for
every caller class, bucket (the spec's, and the ones the policy names or an intruder owns),
account, TLS setting where the policy tests it, and target."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from xflow_perimeter.iam.evaluate import (
    ALLOW_EVERYONE_POLICY,
    Decision,
    UnsupportedPolicyError,
    evaluate,
)
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Request
from xflow_perimeter.prove.layers.bucket import varies_anonymous
from xflow_perimeter.prove.layers.mismatch import (
    ExpectedCallers,
    Mismatch,
    sweep_or_plain,
)
from xflow_perimeter.prove.network_paths import PathClass
from xflow_perimeter.prove.request_classes import (
    CallerClass,
    Target,
    bucket_witnesses,
    caller_classes,
    constants,
)
from xflow_perimeter.prove.sweep import Subject, Sweep, bits
from xflow_perimeter.prove.verifier import Verifier
from xflow_perimeter.spec.model import Network, arn_account


@dataclass(frozen=True, slots=True)
class _EndpointShape:
    """One bucket (name and account) seen through one endpoint, with its request classes."""

    network: Network
    path: PathClass
    policy: PolicyDocument | None
    name: str
    account: str
    callers: list[CallerClass]
    targets: list[Target]
    tls_values: tuple[bool, ...]


def endpoint_mismatches(verifier: Verifier, network: Network) -> Iterator[Mismatch]:
    """Every request class on which ``network``'s endpoint policy alone differs from its share
    of the spec."""
    endpoint_paths = [
        p for p in verifier.topology.paths.get(network.name, ()) if p.kind == "endpoint"
    ]
    if not endpoint_paths:
        return
    path = endpoint_paths[0]
    policy = path.endpoint_policy
    mine = verifier.grants_by_network.get(network.name, [])
    found = constants([policy])
    endpoint_keys = found.keys_used
    spec_buckets = {b.key: b for b in verifier.spec.buckets}
    names: dict[str, set[str]] = {}
    for grant in mine:
        bucket = spec_buckets[grant.bucket]
        names.setdefault(bucket.name, set()).update({bucket.account_id, verifier.foreign})
    for name in bucket_witnesses(found.resources) | {"xflow-intruder-bucket"}:
        accounts = names.setdefault(name, {verifier.foreign})
        accounts.update(found.accounts & verifier.accounts)
        accounts.update(b.account_id for b in verifier.spec.buckets if b.name == name)
    accounts_all = {
        network.account_id,
        *found.accounts,
        *(arn_account(g.principal_arn) for g in mine),
    }
    for name, bucket_accounts in sorted(names.items()):
        spec_policy = verifier.policies.get(name)
        found = constants([policy, spec_policy.policy if spec_policy else None], name)
        on_bucket = [g for g in mine if spec_buckets[g.bucket].name == name]
        listed = [
            (f"principal {verifier.name(g.principal_arn)}", g.principal_arn) for g in on_bucket
        ]
        callers = caller_classes(
            listed,
            found.arns,
            accounts_all | found.accounts,
            verifier.foreign,
            varies_anonymous(found),
        )
        targets = verifier.targets(found, on_bucket, name)
        # TLS matters to the endpoint layer only when the endpoint policy itself tests it.
        tls_values = (True, False) if "aws:securetransport" in endpoint_keys else (True,)
        siblings: list[Sweep] = []  # the accounts' sweeps share their per-policy work
        for account in sorted(bucket_accounts):
            shape = _EndpointShape(
                network, path, policy, name, account, callers, targets, tls_values
            )
            yield from sweep_or_plain(
                verifier,
                functools.partial(_swept, verifier, shape, siblings),
                functools.partial(_plain, verifier, shape),
            )


def _plain(verifier: Verifier, shape: _EndpointShape) -> Iterator[Mismatch]:
    """The endpoint layer one request at a time: the reference the sweep must agree with."""
    for caller in shape.callers:
        for tls in shape.tls_values:
            for target in shape.targets:
                request = verifier.request(
                    caller, shape.path, shape.name, shape.account, target, tls
                )
                decision = verifier.decide(request, ALLOW_EVERYONE_POLICY, shape.policy)
                expected = verifier.intent.endpoint_layer(
                    shape.network,
                    caller.caller.arn,
                    shape.name,
                    shape.account,
                    target.action,
                    target.key,
                    target.list_prefix,
                )
                if decision.allowed != expected:
                    yield _mismatch(
                        verifier, shape, caller, target, tls, expected, decision, request
                    )


def _swept(
    verifier: Verifier, shape: _EndpointShape, siblings: list[Sweep]
) -> list[Mismatch] | None:
    """The endpoint layer for all callers at once, in the plain loop's order; None when the
    sweep cannot decide and the plain loop must."""
    callers, targets = shape.callers, shape.targets
    expect = ExpectedCallers(callers)
    try:
        sweep = Sweep(
            siblings[0].subjects if siblings else [Subject(c.caller) for c in callers],
            shape.name,
            shape.account,
            ALLOW_EVERYONE_POLICY,
            shape.policy,
            shared_with=siblings[0] if siblings else None,
        )
        siblings.append(sweep)
    except UnsupportedPolicyError:
        return None
    intent = verifier.intent
    flows = intent.endpoint_flows(shape.network, shape.name, shape.account)
    if flows:
        expected_row = expect.per_target(lambda action: flows.get(action.lower(), ()), targets)
    else:
        expected_row = [0] * len(targets)
    everyone = (1 << len(callers)) - 1
    for target_index, target in enumerate(targets):
        if intent.aws_owned(shape.network, shape.name, target.action, target.key):
            expected_row[target_index] = everyone
    found: list[tuple[int, int, int, bool]] = []
    for tls_index, tls in enumerate(shape.tls_values):
        for target_index, target in enumerate(targets):
            allowed = sweep.allowed_at(
                target.action, target.key, target.list_prefix, shape.path.path, tls
            )
            if allowed is None:
                return None
            expected = expected_row[target_index]
            for index in bits(allowed ^ expected):
                found.append((index, tls_index, target_index, bool(allowed >> index & 1)))
    mismatches = []
    for caller_index, tls_index, target_index, allowed_now in sorted(found):
        caller, target = callers[caller_index], targets[target_index]
        tls = shape.tls_values[tls_index]
        request = verifier.request(caller, shape.path, shape.name, shape.account, target, tls)
        decision = evaluate(
            request, bucket_policy=ALLOW_EVERYONE_POLICY, endpoint_policy=shape.policy
        )
        if decision.allowed != allowed_now:
            return None  # the sweep and the evaluator disagree: trust the evaluator
        mismatches.append(
            _mismatch(verifier, shape, caller, target, tls, not allowed_now, decision, request)
        )
    verifier.evaluated += len(callers) * len(shape.tls_values) * len(targets)
    return mismatches


def _mismatch(
    verifier: Verifier,
    shape: _EndpointShape,
    caller: CallerClass,
    target: Target,
    tls: bool,
    expected: bool,
    decision: Decision,
    request: Request,
) -> Mismatch:
    spec_bucket = verifier.intent.spec_bucket(shape.name, shape.account)
    label = (
        shape.name
        if spec_bucket
        else f"{shape.name} in account {shape.account} (not a spec bucket)"
    )
    return Mismatch(
        "endpoint",
        caller,
        shape.path,
        label,
        shape.name,
        shape.account,
        target,
        tls,
        expected,
        decision,
        request,
    )
