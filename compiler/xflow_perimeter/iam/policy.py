"""The IAM policy model shared by compile (plan, render) and verify (terraform, evaluate).

Policies are frozen data. ``to_json`` gives the canonical JSON-like form that compile renders;
``parse_policy`` reads a JSON-like value back strictly and reports what it cannot represent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal, Union

from xflow_perimeter.diagnostics import Span

JsonValue = Union[str, int, float, bool, None, list["JsonValue"], dict[str, "JsonValue"]]  # noqa: UP007

Effect = Literal["Allow", "Deny"]
POLICY_VERSION = "2012-10-17"

# PrivateLink: "The size of an endpoint policy cannot exceed 20,480 characters, including white space."
ENDPOINT_POLICY_LIMIT = 20_480
# S3: "Bucket policies are limited to 20 KB in size." Measured on the compact JSON, in bytes.
BUCKET_POLICY_LIMIT = 20_480


def compact_size(value: object, *, in_bytes: bool) -> int:
    """Size of ``value`` as Terraform's jsonencode sends it: compact JSON."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8")) if in_bytes else len(text)


# No policy within AWS's limits holds more statements than this many of the smallest one
# parse_policy accepts, each with the comma after it.
_SMALLEST_STATEMENT = {"Effect": "Deny", "Action": "", "Resource": ""}
MAX_STATEMENTS = max(ENDPOINT_POLICY_LIMIT, BUCKET_POLICY_LIMIT) // (
    compact_size(_SMALLEST_STATEMENT, in_bytes=False) + 1
)


@dataclass(frozen=True, slots=True)
class PrincipalRef:
    """One entry of a Principal element. ``kind`` is "*" (the bare wildcard), "AWS" or "Service"."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One operator/key pair of a Condition block, e.g. ("ArnNotEquals", "aws:PrincipalArn", (...))."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a policy: its elements as written, and where it was written."""

    sid: str
    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[PrincipalRef, ...] | None = None  # None: no Principal element
    conditions: tuple[Condition, ...] = ()
    not_actions: bool = False  # True: ``actions`` is a NotAction list
    not_resources: bool = False  # True: ``resources`` is a NotResource list
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """An IAM policy (bucket or endpoint): its statements, its version and where it was written."""

    statements: tuple[Statement, ...]
    version: str = POLICY_VERSION
    span: Span | None = field(default=None, compare=False)


class PolicyParseError(ValueError):
    """A policy value that the model cannot represent; ``message`` says what and where."""

    def __init__(
        self, message: str, span: Span | None = None, *, unsupported: bool = False
    ) -> None:
        super().__init__(message)
        self.span = span
        self.unsupported = unsupported  # valid IAM that xflow does not model (vs malformed)


_STATEMENT_ORDER = (
    "Sid",
    "Effect",
    "Principal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


def principal_to_json(principals: tuple[PrincipalRef, ...]) -> JsonValue:
    if len(principals) == 1 and principals[0].kind == "*":
        return "*"
    grouped: dict[str, list[JsonValue]] = {}
    for ref in principals:
        grouped.setdefault(ref.kind, []).append(ref.value)
    return {kind: sorted(values, key=str) for kind, values in sorted(grouped.items())}


def conditions_to_json(conditions: tuple[Condition, ...]) -> dict[str, JsonValue]:
    block: dict[str, dict[str, JsonValue]] = {}
    for condition in conditions:
        block.setdefault(condition.operator, {})[condition.key] = list(condition.values)
    return {op: dict(sorted(keys.items())) for op, keys in sorted(block.items())}


def statement_to_json(statement: Statement) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"Sid": statement.sid, "Effect": statement.effect}
    if statement.principals is not None:
        out["Principal"] = principal_to_json(statement.principals)
    out["NotAction" if statement.not_actions else "Action"] = list(statement.actions)
    out["NotResource" if statement.not_resources else "Resource"] = list(statement.resources)
    if statement.conditions:
        out["Condition"] = conditions_to_json(statement.conditions)
    return out


def to_json(policy: PolicyDocument) -> dict[str, JsonValue]:
    """The canonical JSON-like form: fixed key order, lists exactly as the statements hold them."""
    return {
        "Version": policy.version,
        "Statement": [statement_to_json(s) for s in policy.statements],
    }


def _strings(value: JsonValue, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value:
        strings = tuple(value)
        if all(isinstance(v, str) for v in strings):
            return strings  # type: ignore[return-value]  # checked element by element above
    raise PolicyParseError(f"{what} must be a string or a non-empty list of strings")


def _principals(value: JsonValue) -> tuple[PrincipalRef, ...]:
    if value == "*":
        return (PrincipalRef("*", "*"),)
    if not isinstance(value, dict) or not value:
        raise PolicyParseError('Principal must be "*" or an object such as {"AWS": [...]}')
    refs: list[PrincipalRef] = []
    for kind, entries in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyParseError(f"unknown Principal type {kind!r}")
        refs.extend(PrincipalRef(kind, v) for v in _strings(entries, f"Principal {kind}"))
    return tuple(refs)


def _conditions(value: JsonValue) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyParseError("Condition must be an object of operators")
    out: list[Condition] = []
    for operator, keys in value.items():
        if not isinstance(keys, dict) or not keys:
            raise PolicyParseError(f"Condition operator {operator} must map keys to values")
        for key, values in keys.items():
            if isinstance(values, bool):
                values = "true" if values else "false"
            if isinstance(values, list):
                values = ["true" if v is True else "false" if v is False else v for v in values]
            out.append(Condition(operator, key, _strings(values, f"Condition {operator} {key}")))
    return tuple(out)


def parse_statement(value: JsonValue, index: int, span: Span | None = None) -> Statement:
    if not isinstance(value, dict):
        raise PolicyParseError(f"Statement {index} must be an object")
    unknown = sorted(set(value) - set(_STATEMENT_ORDER) - {"NotPrincipal"})
    if unknown:
        raise PolicyParseError(f"Statement {index} has unknown element(s) {', '.join(unknown)}")
    if "NotPrincipal" in value:
        raise PolicyParseError(
            f"Statement {index} uses NotPrincipal, whose evaluation AWS does not define for every case",
            span,
            unsupported=True,
        )
    sid = value.get("Sid", "")
    if not isinstance(sid, str):
        raise PolicyParseError(f"Statement {index}: Sid must be a string")
    raw_effect = value.get("Effect")
    if raw_effect not in ("Allow", "Deny"):
        raise PolicyParseError(f"Statement {index}: Effect must be Allow or Deny")
    effect: Effect = "Allow" if raw_effect == "Allow" else "Deny"
    if ("Action" in value) == ("NotAction" in value):
        raise PolicyParseError(f"Statement {index} needs exactly one of Action and NotAction")
    if ("Resource" in value) == ("NotResource" in value):
        raise PolicyParseError(f"Statement {index} needs exactly one of Resource and NotResource")
    not_actions = "NotAction" in value
    not_resources = "NotResource" in value
    return Statement(
        sid=sid,
        effect=effect,
        principals=_principals(value["Principal"]) if "Principal" in value else None,
        actions=_strings(
            value["NotAction" if not_actions else "Action"], f"Statement {index} Action"
        ),
        resources=_strings(
            value["NotResource" if not_resources else "Resource"], f"Statement {index} Resource"
        ),
        conditions=_conditions(value["Condition"]) if "Condition" in value else (),
        not_actions=not_actions,
        not_resources=not_resources,
        span=span,
    )


def parse_policy(
    value: JsonValue, span: Span | None = None, statement_spans: tuple[Span, ...] = ()
) -> PolicyDocument:
    """Read a JSON-like policy strictly; raise PolicyParseError on anything it cannot represent.

    A missing Version or "2008-10-17" is reported too: it turns policy variables into literals,
    and xflow's policies always say "2012-10-17".
    """
    if not isinstance(value, dict):
        raise PolicyParseError("a policy must be an object")
    unknown = sorted(set(value) - {"Version", "Statement", "Id"})
    if unknown:
        raise PolicyParseError(f"unknown top-level element(s) {', '.join(unknown)}")
    if value.get("Version") != POLICY_VERSION:
        raise PolicyParseError(f'Version must be "{POLICY_VERSION}"')
    raw = value.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if not items:
        raise PolicyParseError("Statement must be an object or a non-empty list of objects")
    if len(items) > MAX_STATEMENTS:
        raise PolicyParseError(
            f"{len(items)} statements: no policy within AWS's size limits holds more than "
            f"{MAX_STATEMENTS}"
        )
    return PolicyDocument(
        statements=tuple(
            parse_statement(item, i, statement_spans[i] if i < len(statement_spans) else span)
            for i, item in enumerate(items)
        ),
        version=POLICY_VERSION,
        span=span,
    )
