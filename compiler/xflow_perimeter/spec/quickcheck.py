"""A fast, conservative stand-in for JSON Schema validation, and ECMA-262 patterns in Python.

:func:`compile_check` turns the spec's schema into a predicate that is True only for data the
schema accepts, many times faster than jsonschema on a large spec; the schema stage asks
jsonschema only when it answers False.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any


@functools.cache
def ecma(pattern: str) -> re.Pattern[str]:
    r"""Compile a JSON Schema (ECMA-262) pattern so that Python matches what ECMA matches.

    Python's ``$`` also matches before a final newline, so ``^[a-z]+$`` would accept ``"app\n"``;
    ECMA's does not. Outside a character class ``$`` becomes ``\Z``; ``re.ASCII`` keeps ``\d`` and
    ``\w`` ASCII as in ECMA. For example ``^a$`` -> ``^a\Z`` and ``^[$]$`` -> ``^[$]\Z``.
    """
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out), re.ASCII)


Check = Callable[[object], bool]
_ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description", "default"}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class _Unsupported(Exception):
    """The schema uses a keyword or form the quick check does not model."""


def compile_check(root: Mapping[str, object]) -> Check:
    """A predicate that is True only for data the schema ``root`` accepts.

    It models the keywords the spec schema uses, conservatively: whenever it is unsure (a float
    that might be an integer, an enum of non-strings, uniqueness of non-strings) it answers
    False, and so does it for every document if the schema uses any other keyword. False only
    means "ask jsonschema", which then finds and words every violation as before.
    """
    try:
        return _compile(root, root, {})
    except _Unsupported:
        return lambda data: False


def _compile(node: object, root: Mapping[str, object], refs: dict[str, Check]) -> Check:
    if node is True:
        return lambda value: True
    if not isinstance(node, Mapping):  # False, or not a schema
        return lambda value: False
    checks: list[Check] = []
    for keyword in node:
        if keyword not in _ANNOTATIONS:
            checks.append(_keyword(node, keyword, root, refs))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _keyword(
    node: Mapping[str, Any], keyword: str, root: Mapping[str, object], refs: dict[str, Check]
) -> Check:
    expected: Any = node[keyword]
    if keyword == "$ref":
        return _ref(expected, root, refs)
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else expected
        if not isinstance(names, list) or not names or any(t not in _TYPES for t in names):
            raise _Unsupported(keyword)
        tests = [_TYPES[t] for t in names]
        if len(tests) == 1:
            return tests[0]
        return lambda value: any(test(value) for test in tests)
    if keyword == "properties":
        props = {name: _compile(sub, root, refs) for name, sub in expected.items()}
        return lambda value: (
            not isinstance(value, dict)
            or all(check(value[name]) for name, check in props.items() if name in value)
        )
    if keyword == "additionalProperties":
        if "patternProperties" in node:
            raise _Unsupported(keyword)
        known = set(node.get("properties", {}))
        extra = _compile(expected, root, refs)
        return lambda value: (
            not isinstance(value, dict)
            or all(extra(item) for key, item in value.items() if key not in known)
        )
    if keyword == "required":
        names = list(expected)
        return lambda value: not isinstance(value, dict) or all(name in value for name in names)
    if keyword == "propertyNames":
        key_check = _compile(expected, root, refs)
        return lambda value: not isinstance(value, dict) or all(key_check(key) for key in value)
    if keyword == "items" and "prefixItems" not in node:
        item_check = _compile(expected, root, refs)
        return lambda value: not isinstance(value, list) or all(item_check(i) for i in value)
    if keyword == "minItems" and isinstance(expected, int):
        return lambda value: not isinstance(value, list) or len(value) >= expected
    if keyword == "uniqueItems":
        if not expected:
            return lambda value: True
        return lambda value: (
            not isinstance(value, list)
            or (all(isinstance(i, str) for i in value) and len(set(value)) == len(value))
        )
    if keyword == "if":
        condition = _presence(expected)
        then = _compile(node.get("then", True), root, refs)
        otherwise = _compile(node.get("else", True), root, refs)
        return lambda value: then(value) if condition(value) else otherwise(value)
    if keyword in ("then", "else"):
        return lambda value: True  # applied with "if" above; without one JSON Schema ignores them
    if keyword == "anyOf":
        branches = [_compile(sub, root, refs) for sub in expected]
        return lambda value: any(branch(value) for branch in branches)
    if keyword in ("enum", "const"):
        allowed = list(expected) if keyword == "enum" else [expected]
        exact = {(type(a), a) for a in allowed if type(a) in (str, int)}  # as they compare
        return lambda value: type(value) in (str, int) and (type(value), value) in exact
    if keyword == "pattern":
        return _pattern(expected)
    raise _Unsupported(keyword)


def _pattern(pattern: str) -> Check:
    # Compiled on first use (ecma caches it): a spec's values meet only some of the schema's
    # patterns, and each compile costs about as much as checking a small spec.
    return lambda value: not isinstance(value, str) or ecma(pattern).search(value) is not None


def _presence(node: object) -> Check:
    """The check for an ``if``, which must be exact rather than conservative: one that answered
    False by mistake would apply ``else`` where jsonschema applies ``then``. Only ``required``
    is modelled."""
    if not isinstance(node, Mapping) or set(node) - _ANNOTATIONS != {"required"}:
        raise _Unsupported("if")
    names = list(node["required"])
    return lambda value: not isinstance(value, dict) or all(name in value for name in names)


def _ref(target: object, root: Mapping[str, object], refs: dict[str, Check]) -> Check:
    if not isinstance(target, str) or not target.startswith("#/"):
        raise _Unsupported("$ref")
    if target not in refs:
        refs[target] = lambda value: False  # a placeholder while a recursive target compiles
        node: object = root
        for part in target[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise _Unsupported("$ref")
            node = node[part]
        refs[target] = _compile(node, root, refs)
    return lambda value: refs[target](value)
