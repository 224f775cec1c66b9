"""Stage 2: check a loaded spec against the JSON Schema, reporting every violation with its span."""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from xflow_perimeter.diagnostics import Diagnostic, XflowError, sort_key
from xflow_perimeter.spec.quickcheck import Check, compile_check, ecma
from xflow_perimeter.spec.source import Document, escape

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
    text = (
        resources.files("xflow_perimeter.spec")
        .joinpath("data", "xflow.schema.json")
        .read_text("utf-8")
    )
    loaded: dict[str, object] = json.loads(text)
    return loaded


def validate(document: Document) -> None:
    """Check ``document.data`` against the schema.

    Raises:
        XflowError: every violation (XF101-XF105), sorted by position, each at its node's span.
    """
    data: Any = document.data
    if _quick_check()(data):
        return
    found: set[Diagnostic] = set()
    for error in _validator().iter_errors(data):
        found.update(_diagnose(document, error))
    if found:
        raise XflowError(sorted(found, key=lambda d: (sort_key(d), d.message)))


def _pattern(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _validator() -> Validator:
    cls = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    checker: Validator = cls(schema())
    return checker


@functools.cache
def _quick_check() -> Check:
    return compile_check(schema())


def _diagnose(document: Document, error: ValidationError) -> list[Diagnostic]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = best_match([error])  # descends into the most relevant branch, if one stands out
        return _diagnose(document, best) if best is not error else [_alternatives(document, error)]
    path = list(error.absolute_path)
    pointer, where = _pointer(path), _where(path)
    span = document.span(pointer)
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
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
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
