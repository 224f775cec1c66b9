"""HCL text for literal values: one escaping function and `terraform fmt`-canonical layout.

Every string that reaches generated Terraform goes through ``quote``, so no spec value can open an
interpolation (``${``), a directive (``%{``) or end a string early.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from xflow_perimeter.iam.policy import JsonValue

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
INDENT = "  "
# Whatever quote() would not copy as it is: a backslash, a quote, a control character, or the
# "${" and "%{" that open a template sequence.
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]|[$%]\{')


def quote(text: str) -> str:
    """Quote ``text`` as an HCL string literal that evaluates to exactly ``text``.

    >>> quote('a"b${c}')
    '"a\\\\"b$${c}"'
    """
    if not _NEEDS_ESCAPE.search(text):
        return f'"{text}"'
    out = ['"']
    for index, char in enumerate(text):
        following = text[index + 1 : index + 2]
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char in "$%" and following == "{":
            out.append(char + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


@functools.lru_cache(maxsize=4096)  # policies repeat a handful of keys thousands of times
def object_key(key: str) -> str:
    # A bare "for" first in an object opens a for expression, so it is quoted like a non-identifier.
    return key if _IDENTIFIER.fullmatch(key) and key != "for" else quote(key)


def _scalar(value: JsonValue) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    raise TypeError(f"not a scalar: {type(value).__name__}")


def _is_mapping(value: object) -> bool:
    return isinstance(value, dict | Mapping)  # dict first: a dict needs no ABC check


def expression(value: JsonValue, depth: int) -> str:
    """Render ``value`` as an HCL expression whose first line continues the current line.

    ``depth`` is the indentation level of the line on which the expression starts. Empty
    mappings and lists of at most one scalar stay on one line.
    """
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        if len(value) <= 1 and not any(isinstance(v, list) or _is_mapping(v) for v in value):
            return "[" + ", ".join(_scalar(v) for v in value) + "]"
        inner = INDENT * (depth + 1)
        lines = ["["]
        lines.extend(f"{inner}{expression(item, depth + 1)}," for item in value)
        lines.append(INDENT * depth + "]")
        return "\n".join(lines)
    if _is_mapping(value):
        assert isinstance(value, Mapping)
        if not value:
            return "{}"
        body = "\n".join(attributes(list(value.items()), depth + 1))
        return "{\n" + body + "\n" + INDENT * depth + "}"
    return _scalar(value)


def attributes(items: Sequence[tuple[str, JsonValue]], depth: int) -> list[str]:
    """``key = value`` lines at ``depth``, with `=` aligned across runs of single-line values."""
    keys = [object_key(key) for key, _ in items]
    rendered = [expression(value, depth) for _, value in items]
    lines: list[str] = []
    run: list[int] = []

    def flush() -> None:
        width = max((len(keys[i]) for i in run), default=0)
        lines.extend(f"{INDENT * depth}{keys[i].ljust(width)} = {rendered[i]}" for i in run)
        run.clear()

    for index, text in enumerate(rendered):
        if "\n" in text:
            flush()
            lines.append(f"{INDENT * depth}{keys[index]} = {text}")
        else:
            run.append(index)
    flush()
    return lines
