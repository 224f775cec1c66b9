"""Read Terraform's JSON syntax (``.tf.json``) into the same records as the HCL readers.

Terraform reads a ``.tf.json`` file as blocks whose labels are nested object keys
(``{"resource": {"TYPE": {"NAME": {...}}}}``, any level of which may also be a list of such
objects). This reader walks those levels itself to locate every block and attribute (line and
column of its key) and hands each attribute's value to the C JSON decoder. Strings are templates
in Terraform's JSON syntax: ``"${a.b}"`` is the reference ``a.b``, and any other string holding
``${`` or ``%{`` is an opaque template. A policy here is always a string, which verify refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from xflow_perimeter.diagnostics import Diagnostic, Span, XflowError
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.positions import Positions
from xflow_perimeter.terraform.records import Block, Literal, Opaque, Reference, TfFile, Value

# How many labels each top-level block type takes; other keys are refused by the closed world.
_TOP_LEVEL_LABELS = {
    "resource": 2,
    "data": 2,
    "module": 1,
    "provider": 1,
    "variable": 1,
    "output": 1,
    "check": 1,
    "locals": 0,
    "terraform": 0,
    "moved": 0,
    "import": 0,
    "removed": 0,
}
# The nested blocks Terraform's JSON syntax knows in each kind of block (name: label count);
# every other key of a body is an attribute.
_RESOURCE_NESTED = {
    "lifecycle": 0,
    "provisioner": 1,
    "connection": 0,
    "dynamic": 1,
    "timeouts": 0,
}
_NESTED: dict[str, dict[str, int]] = {
    "resource": _RESOURCE_NESTED,
    "data": _RESOURCE_NESTED,
    "dynamic": {"content": 0, "dynamic": 1},
    "content": {"dynamic": 1},
    "lifecycle": {"precondition": 0, "postcondition": 0},
    "provisioner": {"connection": 0},
    "removed": {"lifecycle": 0, "provisioner": 1, "connection": 0},
    "variable": {"validation": 0},
    "output": {"precondition": 0},
    "check": {"data": 2, "assert": 0},
    "terraform": {"required_providers": 0, "backend": 1, "cloud": 0},
}
_COMMENT = "//"
_BLANK = re.compile(r"[ \t\n\r]*")
_TRAVERSAL = r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])*"
_SOLE_REFERENCE = re.compile(r"\$\{\s*(" + _TRAVERSAL + r")\s*\}")
_TEMPLATE = re.compile(r"[$%]\{")


class _JsonProblem(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {repeated!r}")
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


@dataclass(frozen=True, slots=True)
class _Key:
    """One key of a JSON object: its name, and the offsets of its opening quote and of its value."""

    name: str
    pos: int  # where the key's opening quote is
    value_pos: int  # where its value starts


def read_json_text(text: str, path: str) -> TfFile:
    """Read one ``.tf.json`` file's text; ``path`` is only used in spans.

    Raises:
        XflowError: XF401 when the text is not JSON or not Terraform's JSON layout, XF416 when it
            is beyond the readers' limits.
    """
    reader = _Reader(text, path)
    try:
        blocks = reader.top_level()
    except _JsonProblem as problem:
        code = "XF416" if problem.message.startswith("more than") else "XF401"
        raise XflowError([Diagnostic(code, problem.message, reader.span(problem.pos))]) from None
    return TfFile(path, tuple(blocks), None)


class _Reader:
    """Walks the block levels of one file. Every method takes the offset where its part starts
    and returns the offset where that part ends."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.positions = Positions(text, path)
        self.elements = limits.MAX_FILE_ELEMENTS

    def span(self, pos: int) -> Span:
        return self.positions.span(pos)

    def count(self, pos: int, elements: int = 1) -> None:
        self.elements -= elements
        if self.elements < 0:
            raise _JsonProblem(
                f"more than {limits.MAX_FILE_ELEMENTS} blocks, attributes and values", pos
            )

    def blank(self, pos: int) -> int:
        found = _BLANK.match(self.text, pos)
        assert found is not None  # it matches the empty string
        return found.end()

    def members(self, pos: int, what: str, visit: Callable[[_Key], int]) -> int:
        """Call ``visit`` on each key of the object at ``pos``; it returns where the value ends."""
        text = self.text
        if not text.startswith("{", pos):
            raise _JsonProblem(f"{what} must be a JSON object", pos)
        pos = self.blank(pos + 1)
        if text.startswith("}", pos):
            return pos + 1
        seen: set[str] = set()
        while True:
            if not text.startswith('"', pos):
                raise _JsonProblem("expected a quoted key", pos)
            name, after = self.decode(pos)
            assert isinstance(name, str)  # the text there starts with a quote
            if name in seen:
                raise _JsonProblem(f"{name!r} is defined twice in {what}", pos)
            seen.add(name)
            after = self.blank(after)
            if not text.startswith(":", after):
                raise _JsonProblem("expected ':'", after)
            pos = self.blank(visit(_Key(name, pos, self.blank(after + 1))))
            if text.startswith("}", pos):
                return pos + 1
            if not text.startswith(",", pos):
                raise _JsonProblem("expected ',' or '}'", pos)
            pos = self.blank(pos + 1)

    def objects(self, pos: int, what: str, visit: Callable[[int], int]) -> int:
        """Call ``visit`` on the object at ``pos``, or on each object of the list there."""
        text = self.text
        if not text.startswith("[", pos):
            return visit(pos)
        pos = self.blank(pos + 1)
        if text.startswith("]", pos):
            return pos + 1
        while True:
            pos = self.blank(visit(pos))
            if text.startswith("]", pos):
                return pos + 1
            if not text.startswith(",", pos):
                raise _JsonProblem(f"expected ',' or ']' in the list of {what}", pos)
            pos = self.blank(pos + 1)

    def top_level(self) -> list[Block]:
        blocks: list[Block] = []

        def block_type(key: _Key) -> int:
            if key.name == _COMMENT:
                return self.decode(key.value_pos)[1]
            labels = _TOP_LEVEL_LABELS.get(key.name, 0)
            return self.labelled(key.name, labels, (), key.pos, key.value_pos, blocks)

        end = self.blank(self.members(self.blank(0), "a .tf.json file", block_type))
        if end != len(self.text):
            raise _JsonProblem("unexpected text after the top-level object", end)
        return blocks

    def labelled(
        self,
        block_type: str,
        labels: int,
        known: tuple[str, ...],
        key_pos: int,
        pos: int,
        out: list[Block],
    ) -> int:
        """The blocks at ``pos`` into ``out``: ``labels`` more levels of label keys, then bodies."""
        what = f"{block_type} blocks"
        if labels == 0:

            def body(at: int) -> int:
                block, end = self.body(block_type, known, key_pos, at)
                out.append(block)
                return end

            return self.objects(pos, what, body)

        def label(key: _Key) -> int:
            return self.labelled(
                block_type, labels - 1, (*known, key.name), key.pos, key.value_pos, out
            )

        return self.objects(pos, what, lambda at: self.members(at, what, label))

    def body(
        self, block_type: str, labels: tuple[str, ...], key_pos: int, pos: int
    ) -> tuple[Block, int]:
        self.count(pos)
        attributes: list[tuple[str, Value, Span]] = []
        nested: list[Block] = []

        def member(key: _Key) -> int:
            if key.name == _COMMENT:
                return self.decode(key.value_pos)[1]
            labels = _NESTED.get(block_type, {}).get(key.name)
            if labels is not None and self.text.startswith(("{", "["), key.value_pos):
                return self.labelled(key.name, labels, (), key.pos, key.value_pos, nested)
            self.count(key.pos)
            data, end = self.decode(key.value_pos)
            value = self.convert(data, self.text[key.value_pos : end], key.value_pos, 0)
            attributes.append((key.name, value, self.span(key.pos)))
            return end

        end = self.members(pos, f"the body of {block_type}", member)
        block = Block(block_type, labels, tuple(attributes), tuple(nested), self.span(key_pos))
        return block, end

    def decode(self, pos: int) -> tuple[object, int]:
        try:
            return _DECODER.raw_decode(self.text, pos)
        except RecursionError:
            raise _JsonProblem(f"more than {limits.MAX_DEPTH} levels of nesting", pos) from None
        except json.JSONDecodeError as error:
            raise _JsonProblem(f"invalid JSON: {error.msg}", error.pos) from None
        except ValueError as error:  # from _no_duplicates
            raise _JsonProblem(f"invalid JSON: {error}", pos) from None

    def convert(self, data: object, text: str, pos: int, depth: int) -> Value:
        if depth > limits.MAX_DEPTH:
            raise _JsonProblem(f"more than {limits.MAX_DEPTH} levels of nesting", pos)
        if isinstance(data, str):
            return _string_value(data)
        if isinstance(data, bool | int | float) or data is None:
            return Literal(data)
        if isinstance(data, list):
            self.count(pos, len(data))
            items = tuple(self.convert(item, _dump(item), pos, depth + 1) for item in data)
            return Opaque("list", text, items=items)
        assert isinstance(data, dict)
        self.count(pos, len(data))
        entries = tuple(
            (key, self.convert(item, _dump(item), pos, depth + 1)) for key, item in data.items()
        )
        return Opaque("object", text, entries=entries)


def _dump(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def _string_value(data: str) -> Value:
    """A JSON string as Terraform reads it: a literal, a sole reference, or a template."""
    if not _TEMPLATE.search(data):
        return Literal(data)
    found = _SOLE_REFERENCE.fullmatch(data)
    if found is not None:
        return Reference(found.group(1))
    return Opaque("template", json.dumps(data, ensure_ascii=False))
