"""One policy statement, compiled for fast matching, and the reasons it may be outside the model.

A match has a strength, because S3 treats principals differently by account:

* ``FULL``: the statement names the caller itself ("*", its user or role ARN, its service, or an
  account principal when the caller is that account's root user).
* ``DELEGATED``: a bucket-policy account principal and a non-root caller of that account. It only
  delegates to the account, so the caller's identity policy must allow as well.

On a gateway endpoint an account principal means that account's root user only (PrivateLink guide).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from xflow_perimeter.iam.conditions import (
    CompiledCondition,
    compile_condition,
    condition_problems,
    conditions_hold,
)
from xflow_perimeter.iam.globs import Globs, glob_set
from xflow_perimeter.iam.policy import POLICY_VERSION, PolicyDocument, Statement
from xflow_perimeter.iam.request import Caller, Request, context_value

Layer = Literal["bucket", "endpoint"]

NONE, DELEGATED, FULL = 0, 1, 2

_ACCOUNT = re.compile(r"\d{12}")
_ROOT = re.compile(r"arn:aws:iam::(\d{12}):root")
_USER_OR_ROLE = re.compile(r"arn:aws:iam::\d{12}:(?:user|role)(?:/[A-Za-z0-9_+=,.@-]+)+")
_SERVICE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?")
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
S3_ARN_PREFIX = "arn:aws:s3:::"


@dataclass(frozen=True, slots=True)
class Principals:
    """A statement's Principal element by kind: anyone, accounts, user and role ARNs, services."""

    anyone: bool
    accounts: frozenset[str]  # from "123456789012" and "arn:aws:iam::123456789012:root"
    arns: frozenset[str]  # user and role ARNs
    folded_arns: frozenset[str]  # the same, lower-cased, to detect case-only differences
    services: frozenset[str]


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement compiled for matching; one with problems is outside the model, never matched."""

    deny: bool
    principals: Principals
    actions: Globs | None  # None: every action; matches lower-cased actions
    not_actions: bool
    resources: Globs | None  # None: every resource
    not_resources: bool
    conditions: tuple[CompiledCondition, ...]
    problems: tuple[str, ...]  # non-empty: not modelled, must not be evaluated


Problems = tuple[tuple[Statement | None, str], ...]


def unsupported(policy: PolicyDocument, layer: Layer) -> Problems:
    """Every construct the evaluator does not model, each with a message; empty = fully modelled.
    (Here rather than in evaluate.py: reading the Terraform refuses these without evaluating.)"""
    problems: list[tuple[Statement | None, str]] = []
    if policy.version != POLICY_VERSION:
        message = f"policy Version {policy.version!r} is not modelled (only {POLICY_VERSION})"
        problems.append((None, message))
    for statement in policy.statements:
        problems.extend((statement, message) for message in statement_problems(statement, layer))
    return tuple(problems)


def statement_problems(statement: Statement, layer: Layer) -> tuple[str, ...]:
    """Every construct in the statement that the evaluator does not model; empty = modelled."""
    problems = list(_principal_problems(statement, layer))
    problems.extend(p for a in statement.actions if (p := _action_problem(a)))
    problems.extend(p for r in statement.resources if (p := _resource_problem(r)))
    for condition in statement.conditions:
        problems.extend(condition_problems(condition))
    return tuple(problems)


def _principal_problems(statement: Statement, layer: Layer) -> list[str]:
    if statement.principals is None:
        return ["statement has no Principal"]
    problems = []
    for ref in statement.principals:
        if ref.kind == "*" and ref.value == "*":
            continue
        if ref.kind == "AWS":
            problem = _aws_principal_problem(ref.value)
            if problem is None and _account_deny_on_endpoint(statement, layer, ref.value):
                problem = f"account principal {ref.value!r} in an endpoint Deny (AWS documents "
                problem += "account principals on gateway endpoints only for grants)"
        elif ref.kind == "Service" and layer == "bucket":
            problem = None if _SERVICE.fullmatch(ref.value) else f"service principal {ref.value!r}"
        else:
            problem = f"{ref.kind} principal {ref.value!r} in a {layer} policy"
        if problem:
            problems.append(f"{problem} is not modelled")
    return problems


def _account_deny_on_endpoint(statement: Statement, layer: Layer, value: str) -> bool:
    is_account = bool(_ACCOUNT.fullmatch(value) or _ROOT.fullmatch(value))
    return layer == "endpoint" and statement.effect == "Deny" and is_account


def _aws_principal_problem(value: str) -> str | None:
    if value == "*" or _ACCOUNT.fullmatch(value) or _ROOT.fullmatch(value):
        return None
    if _USER_OR_ROLE.fullmatch(value):
        return None
    if value.startswith("arn:aws:sts::"):
        return f"role-session principal {value!r}"
    return f"AWS principal {value!r} (only *, an account, or a user or role ARN without wildcards)"


def _action_problem(action: str) -> str | None:
    if action == "*" or _ACTION.fullmatch(action):
        return None
    return f"action {action!r} is not modelled (expected * or service:pattern)"


def _resource_problem(resource: str) -> str | None:
    if resource == "*":
        return None
    if not resource.startswith(S3_ARN_PREFIX):
        return f"resource {resource!r} is not modelled (only * and arn:aws:s3:::...)"
    if "${" in resource:
        return f"policy variable in resource {resource!r} is not modelled"
    return None


def _compile_principals(statement: Statement) -> Principals:
    refs = statement.principals or ()
    accounts, arns, services = set(), set(), set()
    anyone = False
    for ref in refs:
        if ref.value == "*" and ref.kind in ("*", "AWS"):
            anyone = True
        elif ref.kind == "Service":
            services.add(ref.value)
        elif _ACCOUNT.fullmatch(ref.value):
            accounts.add(ref.value)
        elif root := _ROOT.fullmatch(ref.value):
            accounts.add(root.group(1))
        else:
            arns.add(ref.value)
    folded = frozenset(a.lower() for a in arns)
    return Principals(anyone, frozenset(accounts), frozenset(arns), folded, frozenset(services))


@functools.lru_cache(maxsize=65536)
def compile_statement(statement: Statement, layer: Layer) -> CompiledStatement:
    """Compile once; a statement with problems compiles to a stub that must not be matched."""
    problems = statement_problems(statement, layer)
    if problems:
        nobody = Principals(False, frozenset(), frozenset(), frozenset(), frozenset())
        deny = statement.effect == "Deny"
        return CompiledStatement(deny, nobody, None, False, None, False, (), problems)
    actions = None if "*" in statement.actions else glob_set(statement.actions, True)
    resources = None if "*" in statement.resources else glob_set(statement.resources)
    return CompiledStatement(
        deny=statement.effect == "Deny",
        principals=_compile_principals(statement),
        actions=actions,
        not_actions=statement.not_actions,
        resources=resources,
        not_resources=statement.not_resources,
        conditions=tuple(compile_condition(c) for c in statement.conditions),
        problems=(),
    )


def may_target(statement: Statement, bucket: str) -> bool:
    """Whether the statement's Resource (or NotResource) may match the bucket or an object in it.

    Conservative: only a resource whose every match starts with another bucket's ARN is ruled out.
    """
    if statement.not_resources or not statement.resources:
        return True
    arn = S3_ARN_PREFIX + bucket
    inside = arn + "/"
    for resource in statement.resources:
        cut = min((i for i in (resource.find("*"), resource.find("?")) if i >= 0), default=-1)
        if cut < 0:
            if resource == arn or resource.startswith(inside):
                return True
        elif inside.startswith(resource[:cut]) or resource[:cut].startswith(inside):
            return True
    return False


def principal_strength(principals: Principals, caller: Caller, layer: Layer) -> int | None:
    """NONE, DELEGATED or FULL; None when a listed ARN differs from the caller's only in case.

    IAM resolves principal ARNs to unique IDs, and whether that resolution ignores case is not
    documented, so such a match is left undecided rather than guessed.
    """
    if principals.anyone:
        return FULL
    if caller.service is not None:
        return FULL if caller.service in principals.services else NONE
    if caller.arn is None:
        return NONE
    in_account = caller.account in principals.accounts
    if caller.arn in principals.arns or (in_account and caller.is_root):
        return FULL
    if caller.arn.lower() in principals.folded_arns:
        return None
    if in_account and layer == "bucket":
        return DELEGATED
    return NONE


NO_MATCH: tuple[int, bool] = (NONE, True)


def targets(compiled: CompiledStatement, action: str, resource: str) -> bool:
    """Action and resource match (``action`` lower-cased). Depends on nothing else, so callers
    may memoise it per (action, resource)."""
    return action_matches(compiled, action) and resource_matches(compiled, resource)


def action_matches(compiled: CompiledStatement, action: str) -> bool:
    """The Action (or NotAction) element matches ``action`` (lower-cased)."""
    if compiled.problems:
        raise ValueError("statement is not modelled: " + "; ".join(compiled.problems))
    if compiled.actions is None:
        return not compiled.not_actions
    return compiled.actions.matches(action) != compiled.not_actions


def resource_matches(compiled: CompiledStatement, resource: str) -> bool:
    """The Resource (or NotResource) element matches the ARN ``resource``."""
    if compiled.resources is None:
        return not compiled.not_resources
    return compiled.resources.matches(resource) != compiled.not_resources


def applies(compiled: CompiledStatement, request: Request, layer: Layer) -> tuple[int, bool]:
    """Principal and conditions: (strength, decided), for a statement whose targets match.

    ``decided`` is False when the answer rests on a value AWS does not document; ``strength``
    is then what the match would be if it held.
    """
    strength = principal_strength(compiled.principals, request.caller, layer)
    if strength == NONE:
        return NO_MATCH
    if not compiled.conditions:
        return (FULL, False) if strength is None else (strength, True)
    holds = conditions_hold(compiled.conditions, lambda key: context_value(request, key))
    if holds is False:
        return NO_MATCH
    return (FULL if strength is None else strength), (holds is True and strength is not None)


def match(compiled: CompiledStatement, request: Request, layer: Layer) -> tuple[int, bool]:
    """Principal, action, resource and condition: (strength, decided) as in ``applies``."""
    if not targets(compiled, request.action.lower(), request.resource_arn):
        return NO_MATCH
    return applies(compiled, request, layer)
