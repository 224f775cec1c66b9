"""Stage 1: read a YAML spec into plain data with the position of every node (the PyYAML adapter).

PyYAML composes the node graph; plain data is built here from the nodes, so every YAML quirk is
decided in one place: duplicate and non-string keys are errors, timestamps stay strings, custom
tags and merge keys are refused, and plain scalars that YAML read as a number, boolean or null
keep their original text so that later stages can say "quote it".
"""

from __future__ import annotations

import gc
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from xflow_perimeter.diagnostics import Diagnostic, Span, XflowError

MAX_NODES = 1_000_000  # keys and values, counting every use of an alias (stops "billion laughs")
MAX_DEPTH = 100  # nesting levels; PyYAML's composer recurses, deeper input overflows the stack
_CSafeLoader = getattr(yaml, "CSafeLoader", None)  # libyaml's parser and composer, if built
# Text where libyaml and PyYAML part ways, so only PyYAML may compose it: tabs (PyYAML refuses
# some libyaml takes), BOMs past the start, "?" (which ends a plain scalar in flow context only
# for PyYAML), tags and directives, block scalar headers and escapes (PyYAML's scanner is
# stricter), and "#" right after a token. A missing final newline or an empty node (marked a
# column apart) also falls back.
_UNLIKE = re.compile(r"[\t\ufeff?!%|>\\]|\S#")

_YAML = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _YAML + "str", _YAML + "seq", _YAML + "map"
_NULL, _BOOL, _INT, _FLOAT = _YAML + "null", _YAML + "bool", _YAML + "int", _YAML + "float"
_MERGE = _YAML + "merge"
_AS_STRING = {_STR, _YAML + "timestamp", _YAML + "value"}  # plain scalars that stay text
_KINDS = {_NULL: "null", _BOOL: "a boolean", _INT: "a number", _FLOAT: "a number"}


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded spec: plain data plus the source position of every value and key.

    Pointers are JSON pointers (RFC 6901): ``""`` is the root, ``"/flows/0/bucket"`` a nested value.
    A value reached through an alias carries the span of the anchored node.
    """

    path: str
    data: object
    spans: Mapping[str, Span]
    key_spans: Mapping[str, Span]
    implicit: Mapping[str, str]

    def span(self, pointer: str) -> Span:
        """The span of the value at ``pointer``, or of its nearest ancestor that has one."""
        while pointer not in self.spans and pointer:
            pointer = pointer.rpartition("/")[0]
        return self.spans.get(pointer, Span(self.path, 1, 1))


def load(path: Path, display: str | None = None) -> Document:
    """Read and load a spec file.

    Args:
        path: the file to read.
        display: how diagnostics name the file (default: ``str(path)``).

    Raises:
        XflowError: XF001 if the file cannot be read or is not UTF-8, else as ``loads``.
    """
    shown = str(path) if display is None else display
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise XflowError([Diagnostic("XF001", f"cannot read {shown}: {reason}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"{shown} is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        raise XflowError([Diagnostic("XF001", message, Span(shown, line, column))]) from None
    return loads(text, shown)


def loads(text: str, display: str) -> Document:
    """Load a spec from text; ``display`` names the file in diagnostics.

    Raises:
        XflowError: XF002 for a syntax error (alone); otherwise every XF003, XF004 and XF005 found.
    """
    # Loading allocates a node and a span per value and frees little: the cyclic garbage collector
    # would rescan everything loaded so far again and again (most of the time at 10,000 flows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        root, loader = _compose(text, display)
        builder = _Builder(display, loader)
        data = None
        if root is not None:
            _measure(root, display)
            data = builder.value(root, "")
    finally:
        if collecting:
            gc.enable()
    if builder.diagnostics:
        raise XflowError(builder.diagnostics)
    return Document(
        path=display,
        data=data,
        spans=MappingProxyType(builder.spans),
        key_spans=MappingProxyType(builder.key_spans),
        implicit=MappingProxyType(builder.implicit),
    )


def escape(key: str) -> str:
    """Escape one JSON pointer token (RFC 6901): ``a/b~c`` -> ``a~1b~0c``."""
    return key.replace("~", "~0").replace("/", "~1")


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__("too deep")
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer refuses to nest deeper than MAX_DEPTH."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self._depth >= MAX_DEPTH:
            raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _fast_loader(text: str) -> Any:
    """libyaml's loader, resolving each distinct scalar once (a spec repeats its names)."""
    assert _CSafeLoader is not None
    memo: dict[tuple[str, bool, bool], str] = {}  # scalar tag by (text, implicit flags)
    loader = _CSafeLoader(text)
    plain_resolve = loader.resolve

    def resolve(kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode:
            return str(plain_resolve(kind, value, implicit))
        key = (value, implicit[0], implicit[1])
        tag = memo.get(key)
        if tag is None:
            tag = memo[key] = plain_resolve(kind, value, implicit)
        return tag

    loader.resolve = resolve
    return loader


def _fast_compose(text: str) -> tuple[bool, Node | None]:
    """Compose with libyaml: (True, root), or (False, None) if only PyYAML can say what happens.

    libyaml builds the same nodes with the same marks several times faster (only a plain scalar's
    style is "" rather than None), but words its errors differently and does not stop at
    MAX_DEPTH; for any error, and for a document nested that deep, the caller composes again
    with PyYAML, whose node graph or diagnostic is then the one reported.
    """
    if _CSafeLoader is None or not text.endswith("\n") or _UNLIKE.search(text):
        return False, None
    loader = _fast_loader(text)
    try:
        root: Node | None = loader.get_single_node()
    except yaml.YAMLError:
        return False, None
    finally:
        loader.dispose()
    return (True, root) if root is None or _shallow(root) else (False, None)


def _shallow(root: Node) -> bool:
    """Whether PyYAML would compose the same graph: no empty plain scalar and not too deep.

    PyYAML's composer counts nesting as it goes and refuses MAX_DEPTH levels.

    It enters every node where its event appears (an alias's target only at its anchor), so the
    walk follows document order and descends into each collection once.
    """
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return False
        if isinstance(node, ScalarNode):
            if not node.value and not node.style:
                return False
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        children = node.value if isinstance(node, SequenceNode) else chain(*node.value)
        stack.extend((child, depth + 1) for child in reversed(list(children)))
    return True


def _compose(text: str, display: str) -> tuple[Node | None, _Loader]:
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader rejects non-printable characters up front
        raise XflowError([_syntax(exc, text, display)]) from None
    try:
        composed, root = _fast_compose(text)
        if composed:
            return root, loader
        return loader.get_single_node(), loader
    except _TooDeep as exc:
        message = f"nested more than {MAX_DEPTH} levels deep"
        raise XflowError([Diagnostic("XF005", message, _span(display, exc.mark))]) from None
    except yaml.YAMLError as exc:
        raise XflowError([_syntax(exc, text, display)]) from None
    finally:
        loader.dispose()


def _syntax(exc: yaml.YAMLError, text: str, display: str) -> Diagnostic:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        message = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark is not None:
            message = f"{exc.context} at line {exc.context_mark.line + 1}: {message}"
        return Diagnostic("XF002", message, _span(display, exc.problem_mark))
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        message = f"character U+{exc.character:04X} is not allowed in YAML"
        return Diagnostic("XF002", message, Span(display, line, column))
    return Diagnostic("XF002", str(exc).splitlines()[0] or "invalid YAML", Span(display, 1, 1))


def _span(display: str, mark: yaml.Mark) -> Span:
    return Span(display, mark.line + 1, mark.column + 1)


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag


def _measure(root: Node, display: str) -> None:
    """Refuse alias cycles, nesting deeper than MAX_DEPTH and documents over MAX_NODES values.

    Size and height are memoised per node, so a "billion laughs" document or a chain of aliases
    nesting ever deeper is refused without expanding it.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) once expanded
    open_nodes: set[int] = set()

    def refuse(message: str, node: Node) -> XflowError:
        return XflowError([Diagnostic("XF005", message, _span(display, node.start_mark))])

    def measure(node: Node) -> tuple[int, int]:
        if isinstance(node, ScalarNode):
            return 1, 0
        if id(node) in measured:
            return measured[id(node)]
        if id(node) in open_nodes:
            raise refuse("an alias refers to a collection that contains it", node)
        open_nodes.add(id(node))
        children = node.value if isinstance(node, SequenceNode) else chain(*node.value)
        sizes = [measure(child) for child in children]
        size = 1 + sum(count for count, _ in sizes)
        height = 1 + max((levels for _, levels in sizes), default=0)
        if size > MAX_NODES:
            raise refuse(f"the document expands to more than {MAX_NODES:,} values", node)
        if height > MAX_DEPTH:
            raise refuse(f"nested more than {MAX_DEPTH} levels deep through aliases", node)
        open_nodes.discard(id(node))
        measured[id(node)] = size, height
        return size, height

    measure(root)


class _Builder:
    """Builds plain data from a node graph, recording spans and collecting diagnostics."""

    def __init__(self, display: str, loader: _Loader) -> None:
        self.display = display
        self._loader = loader  # PyYAML's own tag resolution and number conversion
        self.spans: dict[str, Span] = {}
        self.key_spans: dict[str, Span] = {}
        self.implicit: dict[str, str] = {}
        self.diagnostics: list[Diagnostic] = []
        self._resolved: dict[str, str] = {}

    def _error(self, code: str, message: str, node: Node) -> None:
        self.diagnostics.append(Diagnostic(code, message, _span(self.display, node.start_mark)))

    def value(self, node: Node, pointer: str) -> object:
        self.spans[pointer] = _span(self.display, node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, pointer)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _SEQ)
            return [self.value(item, f"{pointer}/{index}") for index, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        self._check_tag(node, _MAP)
        return self._mapping(node, pointer)

    def _check_tag(self, node: Node, expected: str) -> bool:
        if node.tag == expected:
            return True
        self._error("XF005", f"tag {_tag(node.tag)} is not allowed in a spec", node)
        return False

    def _resolve(self, text: str) -> str:
        """The tag PyYAML gives a plain scalar (memoised: a spec repeats its names)."""
        tag = self._resolved.get(text)
        if tag is None:
            implicit = (True, False)
            tag = self._loader.resolve(ScalarNode, text, implicit)  # type: ignore[no-untyped-call]
            self._resolved[text] = tag
        return tag

    def _tag_of(self, node: ScalarNode) -> str | None:
        """The scalar's effective tag, or None (reported) for a refused tag or a merge key."""
        resolved = _STR  # quoted and block scalars are strings; plain ones are resolved
        if not node.style:  # plain: None from PyYAML's composer, "" from libyaml's
            resolved = self._resolve(node.value)
        if node.tag not in (resolved, _STR):  # an explicit !!str is a way of quoting
            self._error("XF005", f"tag {_tag(node.tag)} is not allowed in a spec", node)
            return None
        if node.tag == _MERGE:
            self._error("XF005", "merge keys ('<<') are not allowed; write the keys out", node)
            return None
        return str(node.tag)

    def _scalar(self, node: ScalarNode, pointer: str) -> object:
        tag = self._tag_of(node)
        if tag is None or tag in _AS_STRING:
            return None if tag is None else node.value
        value = self._plain(node, tag)
        if not isinstance(value, str):
            self.implicit[pointer] = node.value
        return value

    def _plain(self, node: ScalarNode, tag: str) -> object:
        """The value PyYAML gives a plain scalar; text it resolves but cannot convert stays text."""
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return self._loader.bool_values[node.value.lower()]
        try:
            if tag == _INT:
                return self._loader.construct_yaml_int(node)
            if tag == _FLOAT:
                return self._loader.construct_yaml_float(node)
        except ValueError:  # e.g. "0b_" or "._" match PyYAML's patterns but are not numbers
            pass
        return node.value

    def _mapping(self, node: MappingNode, pointer: str) -> dict[str, object]:
        result: dict[str, object] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key is None:
                self.value(value_node, f"{pointer}/?")  # still report what is inside
                continue
            entry = f"{pointer}/{escape(key)}"
            if key in first_line:
                message = f"duplicate key {key!r} (first defined at line {first_line[key]})"
                self._error("XF003", message, key_node)
                self.value(value_node, entry)
                continue
            first_line[key] = key_node.start_mark.line + 1
            self.key_spans[entry] = _span(self.display, key_node.start_mark)
            result[key] = self.value(value_node, entry)
        return result

    def _key(self, node: Node) -> str | None:
        if not isinstance(node, ScalarNode):
            self._error("XF004", "a mapping key must be a string, not a list or mapping", node)
            return None
        tag = self._tag_of(node)
        if tag is None or tag in _AS_STRING:
            return None if tag is None else node.value
        shown = "an empty key" if node.value == "" else f"key {node.value!r}"
        self._error("XF004", f"{shown} is read as {_KINDS[tag]}, not a string; quote it", node)
        return None
