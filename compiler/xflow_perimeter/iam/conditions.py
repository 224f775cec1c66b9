"""Condition operators and keys: what the evaluator models, compiled once per condition.

Semantics (IAM User Guide, condition operators and multi-value conditions):

* AND across operators and keys; OR across the values of a positive operator; a negated operator
  (StringNot*, ArnNot*, NotIpAddress) holds iff the request value matches none of the values.
* A key missing from the request: positive operator false, negated true, ``...IfExists`` true,
  ``ForAnyValue:`` false, ``ForAllValues:`` true; ``Null`` "true" means absent.
* Every supported key is single-valued, so a set operator over a present key sees a one-element
  set and behaves like the plain operator.
* ``*IgnoreCase`` folds case with ``str.lower`` (exact for ASCII, which every modelled key holds
  except s3:prefix).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xflow_perimeter.iam.globs import arn_source, compile_arn_globs, glob_set, has_wildcard
from xflow_perimeter.iam.policy import Condition


class Unknown(enum.Enum):
    """A context value AWS does not document (e.g. the PrincipalAccount of a service principal)."""

    VALUE = "unknown"


ContextValue = str | None | Unknown

# Supported keys (lower-cased: key names are case-insensitive) and their value types.
KEY_TYPES: dict[str, str] = {
    "aws:sourcevpce": "string",
    "aws:sourcevpc": "string",
    "aws:vpcsourceip": "ip",
    "aws:sourceip": "ip",
    "aws:securetransport": "bool",
    "aws:principalarn": "arn",
    "aws:principalaccount": "string",
    "aws:principalisawsservice": "bool",
    "aws:principalservicename": "string",
    "aws:resourceaccount": "string",
    "aws:sourceaccount": "string",
    "aws:sourcearn": "arn",
    "s3:prefix": "string",
}

# System-generated IDs: AWS forbids wildcards on them, so a wildcard there is not modelled.
SENSITIVE_KEYS = frozenset(
    {
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:principalaccount",
        "aws:resourceaccount",
        "aws:sourceaccount",
    }
)

Test = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class _Operator:
    """A modelled condition operator: its family (which key types it compares), whether it is
    negated, and how its test is built from a condition's values."""

    family: str  # "string", "arn", "bool", "ip" or "null"
    negated: bool
    build: Callable[[tuple[str, ...]], Test] | None  # None for Null


def _equals(values: tuple[str, ...]) -> Test:
    return frozenset(values).__contains__


def _equals_ignore_case(values: tuple[str, ...]) -> Test:
    folded = frozenset(v.lower() for v in values)
    return lambda value: value.lower() in folded


def _like(values: tuple[str, ...]) -> Test:
    return glob_set(values).matches


def _arn_like(values: tuple[str, ...]) -> Test:
    return _literals_or(values, compile_arn_globs)


def _literals_or(
    values: tuple[str, ...], compile_patterns: Callable[[tuple[str, ...]], re.Pattern[str]]
) -> Test:
    """A value without wildcards matches exactly itself (in ArnLike too: every segment is then
    literal), so only the patterns with wildcards need a regex; long lists of ARNs are common."""
    literals = frozenset(v for v in values if not has_wildcard(v))
    patterns = tuple(v for v in values if has_wildcard(v))
    if not patterns:
        return literals.__contains__
    regex = compile_patterns(patterns)
    return lambda value: value in literals or regex.fullmatch(value) is not None


def _bool(values: tuple[str, ...]) -> Test:
    return frozenset(v.lower() for v in values).__contains__


def _ip(values: tuple[str, ...]) -> Test:
    networks = tuple(ipaddress.ip_network(v, strict=False) for v in values)

    def test(value: str) -> bool:
        address = ipaddress.ip_address(value)
        return any(address in network for network in networks)

    return test


OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator("string", False, _equals),
    "StringNotEquals": _Operator("string", True, _equals),
    "StringEqualsIgnoreCase": _Operator("string", False, _equals_ignore_case),
    "StringNotEqualsIgnoreCase": _Operator("string", True, _equals_ignore_case),
    "StringLike": _Operator("string", False, _like),
    "StringNotLike": _Operator("string", True, _like),
    # ArnEquals behaves exactly like ArnLike: the IAM guide documents both together, as
    # case-sensitive per-segment matching with wildcards.
    "ArnEquals": _Operator("arn", False, _arn_like),
    "ArnLike": _Operator("arn", False, _arn_like),
    "ArnNotEquals": _Operator("arn", True, _arn_like),
    "ArnNotLike": _Operator("arn", True, _arn_like),
    "Bool": _Operator("bool", False, _bool),
    "IpAddress": _Operator("ip", False, _ip),
    "NotIpAddress": _Operator("ip", True, _ip),
    "Null": _Operator("null", False, None),
}

# Which key types each operator family may compare (anything else is a type mismatch).
_FAMILY_KEYS: dict[str, frozenset[str]] = {
    "string": frozenset({"string", "arn"}),
    "arn": frozenset({"arn"}),
    "bool": frozenset({"bool"}),
    "ip": frozenset({"ip"}),
    "null": frozenset(KEY_TYPES.values()),
}

QUALIFIERS = ("ForAnyValue:", "ForAllValues:")


@dataclass(frozen=True, slots=True)
class ParsedOperator:
    """A condition operator's name taken apart: base operator, set qualifier and IfExists."""

    base: str
    qualifier: str  # "", "ForAnyValue:" or "ForAllValues:"
    if_exists: bool


def parse_operator(name: str) -> ParsedOperator | str:
    """Split an operator name into qualifier, base and IfExists, or return why it is refused.

    Operator names are matched exactly as AWS documents them.
    """
    qualifier = next((q for q in QUALIFIERS if name.startswith(q)), "")
    rest = name[len(qualifier) :]
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in OPERATORS:
        return f"condition operator {name} is not modelled"
    if base == "Null" and (qualifier or if_exists):
        return f"condition operator {name} is not modelled (Null takes no qualifier or IfExists)"
    if qualifier and if_exists:
        return f"condition operator {name} is not modelled (a set qualifier with IfExists)"
    return ParsedOperator(base, qualifier, if_exists)


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """One condition, ready to test: its key, and its result with the key absent or present."""

    key: str  # lower-cased
    when_missing: bool  # the result when the key is absent from the request
    test: Test  # the result for a present value


def condition_problems(condition: Condition) -> tuple[str, ...]:
    """Every reason this condition is outside what the evaluator models; empty = modelled."""
    parsed = parse_operator(condition.operator)
    if isinstance(parsed, str):
        return (parsed,)
    key = condition.key.lower()
    where = f"{condition.operator} {condition.key}"
    if key not in KEY_TYPES:
        return (f"condition key {condition.key} is not modelled",)
    operator = OPERATORS[parsed.base]
    problems: list[str] = []
    if KEY_TYPES[key] not in _FAMILY_KEYS[operator.family]:
        problems.append(f"{where}: operator does not fit the key's type ({KEY_TYPES[key]})")
    for value in condition.values:
        problems.extend(_value_problems(where, key, operator.family, value))
    return tuple(problems)


def _value_problems(where: str, key: str, family: str, value: str) -> list[str]:
    if "${" in value:
        return [f"{where}: policy variable in {value!r} is not modelled"]
    if key in SENSITIVE_KEYS and has_wildcard(value):
        return [f"{where}: wildcard in {value!r} on a system-generated ID is not modelled"]
    if family == "null" and value not in ("true", "false"):
        return [f'{where}: Null takes "true" or "false", not {value!r}']
    if family == "bool" and value.lower() not in ("true", "false"):
        return [f'{where}: Bool takes "true" or "false", not {value!r}']
    if family == "arn" and arn_source(value) is None:
        return [f"{where}: {value!r} is not an ARN of six segments"]
    if family == "ip":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return [f"{where}: {value!r} is not an IP address or CIDR block"]
    return []


def compile_condition(condition: Condition) -> CompiledCondition:
    """Compile a modelled condition: ``condition_problems`` must have found nothing (the
    statement compiler checks first, so the checks do not run twice)."""
    parsed = parse_operator(condition.operator)
    assert isinstance(parsed, ParsedOperator)
    operator = OPERATORS[parsed.base]
    key = condition.key.lower()
    if operator.build is None:  # Null
        present = _constant("false" in condition.values)
        return CompiledCondition(key, "true" in condition.values, present)
    positive = operator.build(condition.values)
    test = _negate(positive) if operator.negated else positive
    if parsed.if_exists or parsed.qualifier == "ForAllValues:":
        when_missing = True
    elif parsed.qualifier == "ForAnyValue:":
        when_missing = False
    else:
        when_missing = operator.negated
    return CompiledCondition(key, when_missing, test)


def _negate(test: Test) -> Test:
    return lambda value: not test(value)


def _constant(result: bool) -> Test:
    return lambda _value: result


def conditions_hold(
    conditions: Sequence[CompiledCondition], lookup: Callable[[str], ContextValue]
) -> bool | None:
    """AND of the conditions; None when the answer depends on a value AWS does not document."""
    undecided = False
    for condition in conditions:
        value = lookup(condition.key)
        if value is None:
            holds = condition.when_missing
        elif value is Unknown.VALUE:
            undecided = True
            continue
        else:
            holds = condition.test(value)
        if not holds:
            return False
    return None if undecided else True
