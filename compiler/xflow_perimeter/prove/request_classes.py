"""Request classes for the exposure proof, derived from every constant in the spec and the policies.

Two requests that agree on how they compare with every constant and pattern in the policies (and
in the spec's grants) get the same decision, so one witness per class decides the whole class.
Patterns are prefix-shaped (a single trailing ``*``; the evaluator refuses others), which makes
"each prefix plus a fresh suffix, plus a fresh value" a complete set of witnesses.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from xflow_perimeter.iam.evaluate import LOCKOUT_ACTIONS
from xflow_perimeter.iam.globs import Globs, glob_set
from xflow_perimeter.iam.matching import may_target
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller
from xflow_perimeter.spec.actions import all_actions
from xflow_perimeter.spec.model import arn_account

FUTURE_ACTION = "s3:XflowFutureAction"
_WITNESS = "xflow-witness"
# The account of an IAM ARN pattern found in a policy (its resource part may be anything, even a
# glob); a principal's own ARN is parsed by spec.model.arn_account.
_ACCOUNT_OF_PATTERN = re.compile(r"^arn:aws:iam::([0-9]{12}):")
_S3_ARN = "arn:aws:s3:::"
_FRESH_ACCOUNTS = ("123456789012", "444455556666", "777788889999", "210987654321", "135792468024")


@dataclass(frozen=True, slots=True)
class Constants:
    """Literals and patterns found in a set of policies."""

    arns: frozenset[str] = frozenset()  # IAM ARNs and ARN patterns (principals, PrincipalArn)
    accounts: frozenset[str] = frozenset()
    vpcs: frozenset[str] = frozenset()
    vpces: frozenset[str] = frozenset()
    cidrs: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    list_prefixes: frozenset[str] = frozenset()
    keys_used: frozenset[str] = frozenset()  # condition keys, lower-cased
    services: frozenset[str] = frozenset()  # service principals and aws:PrincipalServiceName values
    source_arns: frozenset[str] = frozenset()


def constants(policies: Iterable[PolicyDocument | None], bucket: str | None = None) -> Constants:
    """The constants of ``policies``; with ``bucket``, only of statements that may target it.

    A statement that can match no request on the bucket decides none of them, so its constants
    split no class there: leaving them out keeps every class complete and makes fewer of them.
    """
    arns: set[str] = set()
    accounts: set[str] = set()
    vpcs: set[str] = set()
    vpces: set[str] = set()
    cidrs: set[str] = set()
    resources: set[str] = set()
    actions: set[str] = set()
    list_prefixes: set[str] = set()
    keys_used: set[str] = set()
    services: set[str] = set()
    source_arns: set[str] = set()
    for policy in policies:
        if policy is None:
            continue
        for statement in policy.statements:
            if bucket is not None and not may_target(statement, bucket):
                continue
            resources.update(statement.resources)
            actions.update(statement.actions)
            for principal in statement.principals or ():
                if principal.kind == "Service":
                    services.add(principal.value)
                if principal.kind == "AWS" and principal.value != "*":
                    if principal.value.isdigit():
                        accounts.add(principal.value)
                    else:
                        arns.add(principal.value)
            for condition in statement.conditions:
                key = condition.key.lower()
                keys_used.add(key)
                into = {
                    "aws:principalarn": arns,
                    "aws:principalaccount": accounts,
                    "aws:resourceaccount": accounts,
                    "aws:sourceaccount": accounts,
                    "aws:sourcevpc": vpcs,
                    "aws:sourcevpce": vpces,
                    "aws:sourceip": cidrs,
                    "aws:vpcsourceip": cidrs,
                    "s3:prefix": list_prefixes,
                    "aws:principalservicename": services,
                    "aws:sourcearn": source_arns,
                }.get(key)
                if into is not None:
                    into.update(condition.values)
    for arn in arns:
        match = _ACCOUNT_OF_PATTERN.match(arn)
        if match:
            accounts.add(match.group(1))
    return Constants(
        frozenset(arns),
        frozenset(accounts),
        frozenset(vpcs),
        frozenset(vpces),
        frozenset(cidrs),
        frozenset(resources),
        frozenset(actions),
        frozenset(list_prefixes),
        frozenset(keys_used),
        frozenset(services),
        frozenset(source_arns),
    )


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def fresh_account(known: Iterable[str]) -> str:
    taken = set(known)
    for candidate in _FRESH_ACCOUNTS:
        if candidate not in taken:
            return candidate
    number = 100000000000
    while str(number) in taken:
        number += 1
    return str(number)


def fresh_id(prefix: str, seed: str, known: Iterable[str]) -> str:
    taken = set(known)
    counter = 0
    while True:
        digest = hashlib.sha256(f"{seed}/{counter}".encode()).hexdigest()[:17]
        candidate = f"{prefix}-{digest}"
        if candidate not in taken:
            return candidate
        counter += 1


def witness(pattern: str) -> str:
    """A concrete value matching ``pattern``: each ``*`` becomes a fresh word, each ``?`` an x."""
    return pattern.replace("*", _WITNESS).replace("?", "x")


@dataclass(frozen=True, slots=True)
class CallerClass:
    """A witness caller standing for one class of callers, with the label reports give the class."""

    caller: Caller
    label: str


def caller_classes(
    listed: Sequence[tuple[str, str]],
    arns: Iterable[str],
    accounts: Iterable[str],
    foreign: str,
    anonymous_variants: bool,
) -> list[CallerClass]:
    """Callers: each listed (label, ARN), every ARN constant, root and an unlisted role per account,
    a foreign account's role, and anonymous."""
    out: dict[tuple[str | None, bool], CallerClass] = {}

    def add(arn: str, label: str) -> None:
        if (arn, False) in out:
            return
        try:
            caller = Caller(arn=arn, account=arn_account(arn))
        except ValueError:
            return  # not a principal that can sign a request (e.g. a group ARN): no class of its own
        out[(arn, False)] = CallerClass(caller, label)

    for label, arn in listed:
        add(arn, label)
    for arn in sorted(arns):
        add(witness(arn), f"principal {witness(arn)}")
    for account in sorted({*accounts, foreign}):
        suffix = " (an account outside the spec)" if account == foreign else ""
        add(root_arn(account), f"the root user of account {account}{suffix}")
        add(
            f"arn:aws:iam::{account}:role/xflow-unlisted",
            f"unlisted principals of account {account}{suffix}",
        )
    out[(None, False)] = CallerClass(Caller(arn=None, account=None), "anonymous callers")
    if anonymous_variants:
        out[(None, True)] = CallerClass(
            Caller(arn=None, account=None, anonymous_account_key=True), "anonymous callers"
        )
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Target:
    """What a witness request asks: its action (standing for ``same_as`` too), its object key or,
    for a listing action, its s3:prefix."""

    action: str
    key: str | None
    list_prefix: str | None
    same_as: tuple[str, ...] = field(default=(), compare=False)  # other actions this one stands for


def _suffixed(prefix: str, others: Iterable[str]) -> str:
    """``prefix`` plus a suffix that does not run into any longer prefix in ``others``."""
    for suffix in (_WITNESS, "~" + _WITNESS, "0"):
        candidate = prefix + suffix
        if not any(o.startswith(candidate) or o == candidate for o in others if o != prefix):
            return candidate
    return prefix + "\x7f"


def key_witnesses(bucket: str, resources: Iterable[str], prefixes: Iterable[str]) -> list[str]:
    """Object keys: one per region of the key prefixes in the policies and the spec's grants."""
    literal_keys: set[str] = set()
    key_prefixes: set[str] = set(prefixes)
    for resource in resources:
        if resource.startswith(_S3_ARN) and "/" in resource:
            _, _, key = resource[len(_S3_ARN) :].partition("/")
            if key.endswith("*"):
                key_prefixes.add(key[:-1])
            else:
                literal_keys.add(key)
    out = {_suffixed(p, key_prefixes | literal_keys) for p in key_prefixes}
    out |= literal_keys
    out.add(_suffixed("xflow-outside/", key_prefixes | literal_keys))
    return sorted(out)


def list_prefix_witnesses(patterns: Iterable[str], prefixes: Iterable[str]) -> list[str | None]:
    starts: set[str] = {p for p in prefixes if p}
    literals: set[str] = set()
    for pattern in patterns:
        if pattern.endswith("*"):
            starts.add(pattern[:-1])
        else:
            literals.add(pattern)
    values: set[str] = {_suffixed(p, starts | literals) for p in starts} | literals
    values.add("")
    values.add(_suffixed("xflow-outside/", starts | literals))
    return [None, *sorted(values)]


def bucket_witnesses(resources: Iterable[str]) -> set[str]:
    """Bucket names that patterns in Resource elements reach beyond the literal names."""
    names: set[str] = set()
    for resource in resources:
        if resource == "*":
            names.add("xflow-intruder-bucket")
            continue
        if not resource.startswith(_S3_ARN):
            continue
        bucket, slash, _ = resource[len(_S3_ARN) :].partition("/")
        if bucket.endswith("*") and not slash:
            names.add(bucket[:-1] + _WITNESS)
        elif "*" in bucket or "?" in bucket:
            names.add(witness(bucket))
        else:
            names.add(bucket)
    return names


@functools.lru_cache(maxsize=4096)
def _action_glob(pattern: str) -> Globs:
    return glob_set((pattern,), True)


@functools.lru_cache(maxsize=1024)
def _action_classes(
    pattern_list: tuple[str, ...], distinct: frozenset[str]
) -> tuple[tuple[str, bool, tuple[str, ...]], ...]:
    """Catalogue actions grouped by resource type and the patterns they match (lower-cased
    actions in ``distinct`` keep a class of their own): (resource, prefix_key, names)."""
    classes: dict[tuple[str, bool, tuple[bool, ...], str | None], list[str]] = {}
    catalogue: list[tuple[str, str, bool]] = [
        (a.name, a.resource, a.prefix_key) for a in all_actions() if a.resource != "other"
    ]
    catalogue += [
        (witness(p), kind, True)
        for p in pattern_list
        if p.lower().startswith("s3:") and ("*" in p or "?" in p)
        for kind in ("object", "bucket")
    ]
    catalogue += [(FUTURE_ACTION, "object", True), (FUTURE_ACTION, "bucket", True)]
    regexes = [_action_glob(p) for p in pattern_list]
    for name, resource, prefix_key in catalogue:
        lowered = name.lower()
        signature = (
            resource,
            prefix_key,
            tuple(r.matches(lowered) for r in regexes),
            lowered if lowered in distinct else None,
        )
        classes.setdefault(signature, []).append(name)
    return tuple((key[0], key[1], tuple(names)) for key, names in classes.items())


def bucket_targets(
    found: Constants, bucket_name: str, prefixes: Iterable[str], actions: Iterable[str]
) -> list[Target]:
    """The actions and keys that stand for every request on ``bucket_name``: the policies'
    constants (``found``) with the spec's prefixes and actions for it, and the lockout actions."""
    wanted = {prefix for prefix in prefixes if prefix}
    return action_targets(
        found.actions,
        set(actions),
        key_witnesses(bucket_name, found.resources, wanted),
        list_prefix_witnesses(found.list_prefixes, wanted),
        LOCKOUT_ACTIONS,
    )


def action_targets(
    patterns: Iterable[str],
    granted: Iterable[str],
    keys: Sequence[str],
    list_prefixes: Sequence[str | None],
    special: Iterable[str] = (),
) -> list[Target]:
    """One target per class of S3 action (by resource type and every pattern it matches), times
    the key or listing-prefix witnesses."""
    classes = _action_classes(
        tuple(sorted(set(patterns))),
        frozenset(a.lower() for a in granted) | frozenset(a.lower() for a in special),
    )
    out: list[Target] = []
    for resource, prefix_key, names in classes:
        representative, others = names[0], names[1:]
        if resource == "object":
            out.extend(Target(representative, key, None, others) for key in keys)
        elif prefix_key:
            out.extend(Target(representative, None, lp, others) for lp in list_prefixes)
        else:
            out.append(Target(representative, None, None, others))
    return out


def ip_witnesses(cidrs: Iterable[str], default: str) -> list[str]:
    out = {default}
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        out.add(str(network.network_address))
    return sorted(out)


def pattern_problems(found: Constants) -> list[str]:
    """Patterns whose classes the witnesses above would not cover: wildcards not at the end."""
    problems = []
    for kind, values in (
        ("Resource", found.resources),
        ("s3:prefix value", found.list_prefixes),
        ("principal ARN", found.arns),
    ):
        for value in sorted(values):
            body = value[:-1] if value.endswith("*") else value
            if value != "*" and ("*" in body or "?" in body):
                problems.append(
                    f"{kind} {value!r} has a wildcard before its end; the verifier proves only "
                    "patterns whose one wildcard is a trailing '*'"
                )
    return problems
