"""Compare a deployed policy with the committed one in meaning, ignoring what AWS rewrites.

AWS stores a policy as given but may return it with other whitespace and key order, a
one-item list as a plain string, statements reordered, and an account id principal as its root
ARN. Sid and Id carry no meaning. Everything else (effects, principals, actions, resources,
conditions, the policy version) is compared, and a difference is described statement by
statement.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from xflow_perimeter.iam.policy import JsonValue

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_BLOCK_KEYS = ("Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource")
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Condition", *_BLOCK_KEYS})

Values = tuple[str, ...]


class PolicyShapeError(ValueError):
    """The deployed text is not a policy the comparison can read (not JSON, wrong shape)."""


@dataclass(frozen=True, slots=True)
class CanonicalStatement:
    """One statement in canonical form: its effect, elements and conditions as sorted values; the
    Sid only names it in messages (it is not compared)."""

    effect: str
    blocks: tuple[tuple[str, tuple[tuple[str, Values], ...]], ...]  # element -> (kind, values)
    conditions: tuple[tuple[str, str, Values], ...]  # (operator, key, values), sorted
    sid: str = field(default="", compare=False)

    def summary(self) -> str:
        parts = [self.effect]
        for name, groups in self.blocks:
            shown = "; ".join(f"{kind + ' ' if kind else ''}{', '.join(v)}" for kind, v in groups)
            parts.append(f"{name} {shown}")
        for operator, key, values in self.conditions:
            parts.append(f"{operator} {key} = {', '.join(values)}")
        return " | ".join(parts)


@dataclass(frozen=True, slots=True)
class CanonicalPolicy:
    """A policy in canonical form: two policies that mean the same have equal canonical forms."""

    version: str
    statements: tuple[CanonicalStatement, ...]  # sorted, duplicates removed


def canonical(document: JsonValue) -> CanonicalPolicy:
    """The policy's meaning-bearing content in one canonical form."""
    if not isinstance(document, dict):
        raise PolicyShapeError("a policy must be a JSON object")
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if items is None:
        raise PolicyShapeError("Statement must be an object or a list of objects")
    statements = {_statement(item, i) for i, item in enumerate(items)}
    return CanonicalPolicy(
        version=str(document.get("Version", "")),
        statements=tuple(sorted(statements, key=_order)),
    )


def canonical_text(text: str) -> CanonicalPolicy:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise PolicyShapeError(f"not JSON: {error}") from None
    return canonical(document)


def differences(committed: CanonicalPolicy, deployed: CanonicalPolicy) -> tuple[str, ...]:
    """What the deployed policy changes, one line each; () when they mean the same."""
    out: list[str] = []
    if committed.version != deployed.version:
        out.append(f"Version is {deployed.version!r} instead of {committed.version!r}")
    only_committed = Counter(committed.statements) - Counter(deployed.statements)
    only_deployed = Counter(deployed.statements) - Counter(committed.statements)
    by_sid = {s.sid: s for s in only_committed if s.sid}
    for statement in sorted(only_deployed, key=_order):
        before = by_sid.pop(statement.sid, None) if statement.sid else None
        if before is None:
            out.append(f"adds statement {_name(statement)}: {statement.summary()}")
            continue
        del only_committed[before]
        out.extend(f"statement {_name(statement)}: {d}" for d in _changed(before, statement))
    for statement in sorted(only_committed, key=_order):
        out.append(f"lacks statement {_name(statement)}: {statement.summary()}")
    return tuple(out)


def _changed(before: CanonicalStatement, after: CanonicalStatement) -> list[str]:
    out = []
    if before.effect != after.effect:
        out.append(f"Effect is {after.effect} instead of {before.effect}")
    old_blocks, new_blocks = dict(before.blocks), dict(after.blocks)
    for name in _BLOCK_KEYS:
        old, new = dict(old_blocks.get(name, ())), dict(new_blocks.get(name, ()))
        if old == new:
            continue
        if name not in old_blocks or name not in new_blocks:
            verb = "adds" if name in new_blocks else "drops"
            out.append(f"{verb} {name}")
            continue
        for kind in sorted(set(old) | set(new)):
            label = f"{name} {kind}".rstrip() if kind else name
            out.extend(_set_change(label, old.get(kind, ()), new.get(kind, ())))
    old_conditions = {(op, key): values for op, key, values in before.conditions}
    new_conditions = {(op, key): values for op, key, values in after.conditions}
    for op, key in sorted(set(old_conditions) | set(new_conditions)):
        label = f"Condition {op} {key}"
        if (op, key) not in new_conditions:
            out.append(f"drops {label}")
        elif (op, key) not in old_conditions:
            out.append(f"adds {label} = {', '.join(new_conditions[op, key])}")
        else:
            out.extend(_set_change(label, old_conditions[op, key], new_conditions[op, key]))
    return out


def _set_change(label: str, old: Values, new: Values) -> list[str]:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    out = []
    if added:
        out.append(f"{label} adds {', '.join(added)}")
    if removed:
        out.append(f"{label} drops {', '.join(removed)}")
    return out


def _name(statement: CanonicalStatement) -> str:
    return repr(statement.sid) if statement.sid else "(no Sid)"


def _order(statement: CanonicalStatement) -> tuple[object, ...]:
    return (statement.effect, statement.blocks, statement.conditions, statement.sid)


def _statement(value: JsonValue, index: int) -> CanonicalStatement:
    if not isinstance(value, dict):
        raise PolicyShapeError(f"Statement {index} is not an object")
    unknown = sorted(set(value) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyShapeError(f"Statement {index} has unknown element(s) {', '.join(unknown)}")
    blocks = []
    for name in _BLOCK_KEYS:
        if name in value:
            groups = _principal(value[name]) if name.endswith("Principal") else _plain(value[name])
            blocks.append((name, groups))
    sid = value.get("Sid", "")
    return CanonicalStatement(
        effect=str(value.get("Effect", "")),
        blocks=tuple(blocks),
        conditions=_conditions(value.get("Condition", {}), index),
        sid=sid if isinstance(sid, str) else json.dumps(sid),
    )


def _values(value: JsonValue) -> Values:
    items = value if isinstance(value, list) else [value]
    return tuple(sorted({_scalar(item) for item in items}))


def _scalar(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _plain(value: JsonValue) -> tuple[tuple[str, Values], ...]:
    return (("", _values(value)),)


def _principal(value: JsonValue) -> tuple[tuple[str, Values], ...]:
    if not isinstance(value, dict):
        return (("", _values(value)),)  # "*"
    groups = []
    for kind, entries in sorted(value.items()):
        values = _values(entries)
        if kind == "AWS":
            values = tuple(
                sorted({f"arn:aws:iam::{v}:root" if _ACCOUNT_ID.match(v) else v for v in values})
            )
        groups.append((kind, values))
    return tuple(groups)


def _conditions(value: JsonValue, index: int) -> tuple[tuple[str, str, Values], ...]:
    if not isinstance(value, dict):
        raise PolicyShapeError(f"Statement {index}: Condition is not an object")
    out: list[tuple[str, str, Values]] = []
    for operator, keys in value.items():
        if not isinstance(keys, dict):
            raise PolicyShapeError(f"Statement {index}: Condition {operator} is not an object")
        out.extend((operator, key, _values(values)) for key, values in keys.items())
    return tuple(sorted(out))
