"""Stage 2: check a loaded spec against the JSON Schema, reporting every violation with its span."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xflow_perimeter.diagnostics import Diagnostic, XflowError, sort_key
from xflow_perimeter.spec import build, hints
from xflow_perimeter.spec.quickcheck import Check, compile_check, ecma
from xflow_perimeter.spec.source import Document, escape

if TYPE_CHECKING:  # jsonschema is imported only when the quick check refuses a spec
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

_VALUE_CODES = {"pattern": "XF104", "enum": "XF104", "const": "XF104"}
_TYPE_NAMES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


@functools.cache
def schema() -> Mapping[str, object]:
    """The spec's JSON Schema (``compiler/data/xflow.schema.json``), read once on first use."""
    text = (Path(__file__).parent / "data" / "xflow.schema.json").read_text("utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def validate(document: Document) -> None:
    """Check ``document.data`` against the schema.

    Where the schema refuses something, the semantic checks still run on every entry it
    accepted (a network, a bucket, a flow...), so that one run reports every error it can.

    Raises:
        XflowError: every schema violation (XF101-XF105, and XF213 for a flow that names
            neither a principal and a network nor a service) at its node's span, with the
            semantic errors of the accepted entries, sorted by position.
    """
    data: Any = document.data
    if _quick_check()(data):
        return
    found: set[Diagnostic] = set()
    refused: set[str] = set()
    for error in _validator().iter_errors(data):
        found.update(_diagnose(document, error))
        refused.update(_refused_entries(error))
    if not found:
        return
    if isinstance(data, dict):
        found.update(build.diagnose(document, frozenset(refused)))
    raise XflowError(sorted(found, key=lambda d: (sort_key(d), d.message)))


def _refused_entries(error: ValidationError) -> list[str]:
    """The pointers of the entries (``/networks/app``, ``/flows/3``) or whole sections
    (``/flows``) that ``error`` refuses, missing required sections included."""
    path = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path.append(str(error.instance))  # the refused key, not the mapping holding it
    required: Any = error.validator_value
    if not path and error.validator == "required" and isinstance(error.instance, dict):
        # A missing section is reported once, not again at every reference into it.
        return [_pointer([name]) for name in required if name not in error.instance]
    return [_pointer(path[:2])] if path else []


def _pattern(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if isinstance(instance, str) and not ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _validator() -> Validator:
    from jsonschema import Draft202012Validator, validators

    cls = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    checker: Validator = cls(schema())
    return checker


@functools.cache
def _quick_check() -> Check:
    return compile_check(schema())


def _diagnose(document: Document, error: ValidationError) -> list[Diagnostic]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        best = best_match([error])  # descends into the most relevant branch, if one stands out
        if best is error:
            return [_alternatives(document, error)]
        while best.parent is not None and best.parent is not error:
            best = best.parent
        branch = best.relative_schema_path[0]  # report every error of that branch, not only one
        chosen = [sub for sub in error.context if sub.relative_schema_path[0] == branch]
        return [found for sub in chosen or [best] for found in _diagnose(document, sub)]
    path = list(error.absolute_path)
    pointer, where = _pointer(path), _where(path)
    span = document.span(pointer)
    if _breaks_flow_shape(error, path):
        message = f"{_where(path[:2])}: {_flow_shape(document, path[:2])}"
        return [Diagnostic("XF213", message, span)]
    validator = error.validator
    instance: Any = error.instance
    expected: Any = error.validator_value
    if "propertyNames" in error.absolute_schema_path:
        key = str(instance)
        key_span = document.key_spans.get(f"{pointer}/{escape(key)}", span)
        message = f"{where}: name {_show(key)} is not allowed; expected {_allowed(error)}"
        return [Diagnostic("XF104", message, key_span)]
    if validator == "required":
        missing = [name for name in expected if name not in instance]
        return [
            Diagnostic("XF101", f"{where}: missing required field {name!r}", span)
            for name in missing
        ]
    if validator == "additionalProperties":
        return _unknown_fields(document, error, path)
    if validator == "type":
        return [Diagnostic("XF103", _type_message(document, pointer, where, error), span)]
    if validator in _VALUE_CODES:
        message = f"{where}: {_show(instance)} is not allowed; expected {_allowed(error)}"
        message = _with_fix(document, error, path, message)
        return [Diagnostic(_VALUE_CODES[str(validator)], message, span)]
    return [Diagnostic("XF105", f"{where}: {_other(error)}", span)]


def _alternatives(document: Document, error: ValidationError) -> Diagnostic:
    """An anyOf/oneOf where no branch stands out: name every allowed form."""
    path = list(error.absolute_path)
    pointer, where = _pointer(path), _where(path)
    branches = [sub for sub in error.context if list(sub.absolute_path) == path]
    kinds = {sub.validator for sub in branches}
    if kinds == {"type"}:
        expected = [t for sub in branches for t in _types(sub.validator_value)]
        message = _type_message(document, pointer, where, error, expected)
        return Diagnostic("XF103", message, document.span(pointer))
    forms = dict.fromkeys(_allowed(sub) for sub in branches)
    allowed = "; or ".join(forms) or "a form the schema allows"
    code = "XF104" if kinds <= set(_VALUE_CODES) else "XF105"
    message = f"{where}: {_show(error.instance)} is not allowed; expected {allowed}"
    return Diagnostic(code, message, document.span(pointer))


def _breaks_flow_shape(error: ValidationError, path: Sequence[str | int]) -> bool:
    """Whether ``error`` is the flow's if/then/else: a principal and a network, or a service."""
    in_flow = path[:1] == ["flows"] and len(path) >= 2
    return in_flow and not {"then", "else"}.isdisjoint(error.absolute_schema_path)


def _flow_shape(document: Document, path: Sequence[str | int]) -> str:
    flow = _at(document.data, path)
    fields = [str(key) for key in flow] if isinstance(flow, dict) else []
    return hints.flow_shape_problem(fields) or "name a principal and a network, or a service"


def _with_fix(
    document: Document, error: ValidationError, path: Sequence[str | int], message: str
) -> str:
    """``message`` with the fix for the refused value, where xflow knows one."""
    value = error.instance
    if not isinstance(value, str):
        return message
    expected: Any = error.validator_value
    if error.validator == "enum":
        allowed = [v for v in expected if isinstance(v, str)]
        return message + hints.did_you_mean(value, allowed)
    section, field = (path[0], path[2]) if len(path) >= 3 else (None, None)
    if section == "flows" and field == "access":
        return message + hints.access_hint(value)
    if section == "assertions" and field == "action":
        return message + hints.action_hint(value)
    if section == "flows" and field == "principal":
        declared = _at(document.data, ["principals"])
        arns = {
            str(name): entry["arn"]
            for name, entry in (declared.items() if isinstance(declared, dict) else ())
            if isinstance(entry, dict) and isinstance(entry.get("arn"), str)
        }
        fix = hints.principal_for_arn(value, arns)
        if fix is not None:
            return f"{_where(path)}: a flow names a principal by its spec name, not its ARN; {fix}"
    return message


def _at(data: object, path: Sequence[str | int]) -> object:
    """The value at ``path`` in ``data``, or None if there is none."""
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _unknown_fields(
    document: Document, error: ValidationError, path: Sequence[str | int]
) -> list[Diagnostic]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = sorted(schema.get("properties", {}))
    patterns = [ecma(p) for p in schema.get("patternProperties", {})]
    pointer, where = _pointer(path), _where(path)
    diagnostics = []
    instance: Any = error.instance
    for key in instance:
        if key in known or any(p.search(key) for p in patterns):
            continue
        hint = hints.did_you_mean(key, known) or f" (known: {', '.join(known)})"
        span = document.key_spans.get(f"{pointer}/{escape(key)}", document.span(pointer))
        diagnostics.append(Diagnostic("XF102", f"{where}: unknown field {_show(key)}{hint}", span))
    return diagnostics


def _type_message(
    document: Document,
    pointer: str,
    where: str,
    error: ValidationError,
    expected: list[str] | None = None,
) -> str:
    wanted = expected if expected is not None else _types(error.validator_value)
    names = " or ".join(_TYPE_NAMES.get(t, t) for t in dict.fromkeys(wanted))
    value = error.instance
    text = document.implicit.get(pointer)
    if pointer == "" and value is None and text is None:
        return f"the spec is empty; expected {names}"
    if text == "":
        return f"{where}: the value is empty; expected {names}"
    if text is not None and "string" in wanted:
        return (
            f"{where}: '{text}' was read as {_kind(value)} because it is not quoted;"
            f' write "{text}"'
        )
    return f"{where}: expected {names}, got {_kind(value)}"


def _types(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(t) for t in value] if isinstance(value, list) else []


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    return "a list" if isinstance(value, list) else "a mapping"


def _allowed(error: ValidationError) -> str:
    """What the failed keyword allows, in words: the schema's description when it has one."""
    expected: Any = error.validator_value
    description = error.schema.get("description") if isinstance(error.schema, Mapping) else None
    if error.validator == "pattern" and isinstance(description, str) and description:
        text = description.rstrip(".")
        acronym = sum(c.isupper() for c in text.split(" ", 1)[0]) > 1  # keep "IAM ..." as it is
        return text if acronym else text[0].lower() + text[1:]
    if error.validator == "enum":
        return "one of " + ", ".join(_show(v) for v in expected)
    if error.validator == "const":
        return _show(expected)
    if error.validator == "pattern":
        return f"a value matching {expected}"
    return error.message


def _other(error: ValidationError) -> str:
    limit = error.validator_value
    messages = {
        "uniqueItems": "has duplicate items",
        "minItems": f"needs at least {limit} item(s)",
        "maxItems": f"allows at most {limit} item(s)",
        "minProperties": f"needs at least {limit} field(s)",
        "maxProperties": f"allows at most {limit} field(s)",
        "minLength": f"must be at least {limit} character(s) long",
        "maxLength": f"must be at most {limit} character(s) long",
    }
    return messages.get(str(error.validator), error.message)


def _show(value: object) -> str:
    shown = repr(value) if isinstance(value, str) else json.dumps(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _pointer(path: Sequence[str | int]) -> str:
    return "".join(f"/{escape(str(part))}" for part in path)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


def _where(path: Sequence[str | int]) -> str:
    """A location in user terms, e.g. ``flows[2].bucket`` or ``networks.app``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "top level"
