"""Read Terraform fast: a strict reader for the HCL that xflow generates and its usual hand edits.

For every file it accepts, :func:`read_text_fast` returns exactly the ``TfFile`` that the
python-hcl2 reader (:mod:`xflow_perimeter.terraform.hcl2_reader`) returns, spans included, some fifty times faster.
Anything outside its subset raises :class:`NotInSubset` and the caller reads the file with
python-hcl2 instead; so do syntax errors, to keep python-hcl2's diagnostics. When in doubt it gives
up: a wrong parse could make verify call an unsafe policy safe.

The subset: blocks with identifier and quoted labels, one attribute or block per line; values that
are quoted strings without template sequences (``${``, ``%{``, even escaped as ``$${``), numbers
without exponents, ``true``/``false``/``null``, traversals such as ``a.b[0].c``, lists, objects
and ``jsonencode(...)`` of literal data; blank lines and full-line ``#`` and ``//`` comments.
"""

from __future__ import annotations

import re

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.iam.policy import JsonValue
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.fast_tokens import (
    COLON,
    COMMA,
    EQ,
    KEY,
    LBRACE,
    LPAR,
    LSQB,
    NAME,
    NEWLINE_AFTER,
    NL,
    NUM,
    PATH,
    RBRACE,
    RPAR,
    RSQB,
    STR,
    NotInSubset,
    OverLimit,
    tokenize,
)
from xflow_perimeter.terraform.positions import Positions
from xflow_perimeter.terraform.records import (
    Block,
    JsonEncoded,
    Literal,
    Opaque,
    Reference,
    Scalar,
    TfFile,
    Value,
)
from xflow_perimeter.terraform.records import file_header as _file_header

__all__ = ["NotInSubset", "OverLimit", "read_text_fast"]


_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ESCAPE = re.compile(r'\\(?:([nrt"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))')
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None}
# Words python-hcl2 lexes as keywords or literals where an identifier could stand.
_KEYWORDS = frozenset(("in", "for", "if", "else", "endif", "endfor", "for_each", *_LITERALS))


def read_text_fast(text: str, path: str) -> TfFile:
    """Read one file's text like :func:`xflow_perimeter.terraform.hcl2_reader.read_text_hcl2`; ``path`` is for spans.

    Raises:
        NotInSubset: the text is outside the subset, or has a syntax error.
        OverLimit: the text is beyond one of the readers' limits.
    """
    return TfFile(path, _Reader(text, path).blocks(), _file_header(text))


def _decode(raw: str) -> str:
    """The value of a quoted string's body, which _TOKEN has checked."""
    return _ESCAPE.sub(_unescape, raw) if "\\" in raw else raw


def _unescape(found: re.Match[str]) -> str:
    if found[1]:
        return _SIMPLE_ESCAPES[found[1]]
    code = int(found[2] or found[3], 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise NotInSubset("invalid unicode escape")
    return chr(code)


def _number(text: str) -> int | float:
    if "." not in text:
        return int(text)
    from decimal import Decimal  # only for fractions, which xflow's own files never hold

    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


class _Reader:
    """A recursive-descent parser over the tokens of one file (see fast_tokens.Tokens).

    Each method starts at ``self.at`` and leaves it after what it read.
    """

    def __init__(self, text: str, path: str) -> None:
        text += "\n"  # as python-hcl2 does: every line, the last one too, ends with a newline
        self.text = text
        self.path = path
        self.positions = Positions(text, path)
        self.at = 0
        self.keys: dict[str, str] = {}  # one string per distinct key inside jsonencode
        self.elements = limits.MAX_FILE_ELEMENTS  # what is left of the budgets in limits
        self.json_values = limits.MAX_JSON_VALUES
        tokens = tokenize(text, self.positions)
        self.kinds, self.starts, self.ends = tokens.kinds, tokens.starts, tokens.ends

    def word(self, at: int) -> str:
        """The text of token ``at`` (a quoted string with its quotes)."""
        return self.text[self.starts[at] : self.ends[at]]

    def string(self, at: int) -> str:
        """The value of the quoted string at ``at``."""
        return _decode(self.text[self.starts[at] + 1 : self.ends[at] - 1])

    def span(self, pos: int) -> Span:
        return self.positions.span(pos)

    def fail(self, what: str) -> NotInSubset:
        pos = self.starts[self.at] if self.at < len(self.starts) else len(self.text)
        return NotInSubset(f"{what} at {self.span(pos)}")

    def over(self, what: str) -> OverLimit:
        pos = self.starts[self.at] if self.at < len(self.starts) else len(self.text)
        return OverLimit(what, self.span(pos))

    def count(self) -> None:
        """Count one block, attribute or value against the file's budget."""
        self.elements -= 1
        if self.elements < 0:
            raise self.over(f"more than {limits.MAX_FILE_ELEMENTS} blocks, attributes and values")

    def count_json(self, values: int) -> None:
        """Count values inside jsonencode against the file's budget (a container's elements
        when it closes: its own size is bounded by the tokens)."""
        self.json_values -= values
        if self.json_values < 0:
            raise self.over(f"more than {limits.MAX_JSON_VALUES} values inside jsonencode")

    def expect(self, kind: int, what: str) -> None:
        if self.kinds[self.at] != kind:
            raise self.fail(f"expected {what}")
        self.at += 1

    def blocks(self) -> tuple[Block, ...]:
        blocks: list[Block] = []
        while self.kinds[self.at]:
            blocks.append(self.block())
            self.expect(NL, "a newline after '}'")
        return tuple(blocks)

    def block(self) -> Block:
        """A block with everything in it, up to its ``}``."""
        kinds = self.kinds
        if kinds[self.at] != NAME or self.word(self.at) in _KEYWORDS:
            raise self.fail("expected a block type")
        self.count()
        span = self.span(self.starts[self.at])
        labels = [self.word(self.at)]
        self.at += 1
        while (kind := kinds[self.at]) != LBRACE:
            if kind == STR:
                labels.append(self.string(self.at))
            elif kind == NAME and self.word(self.at) not in _KEYWORDS:
                labels.append(self.word(self.at))
            else:
                raise self.fail("expected a block label or '{'")
            self.at += 1
        brace_end = self.ends[self.at]
        self.at += 1
        if not NEWLINE_AFTER.match(self.text, brace_end):  # only "{}" is in the subset
            self.expect(RBRACE, "a newline after '{'")
            return Block(labels[0], tuple(labels[1:]), (), (), span)
        attributes: list[tuple[str, Value, Span]] = []
        names: set[str] = set()
        nested: list[Block] = []
        while (kind := kinds[self.at]) != RBRACE:
            if kind == KEY:
                name = self.word(self.at)
                if name in _KEYWORDS and name != "for_each":
                    raise self.fail(f"keyword {name!r} as an attribute name")
                if name in names:
                    raise self.fail(f"attribute {name!r} defined twice")
                names.add(name)
                self.count()
                where = self.span(self.starts[self.at])
                self.at += 1
                attributes.append((name, self.value(), where))
            elif kind == NAME:
                nested.append(self.block())
            else:
                raise self.fail("expected an attribute or a block")
            self.expect(NL, "a newline")
        self.at += 1
        return Block(labels[0], tuple(labels[1:]), tuple(attributes), tuple(nested), span)

    def value(self) -> Value:
        """An attribute's value, as hcl2_reader's _Reader.value converts it."""
        self.count()
        kinds, at = self.kinds, self.at
        kind = kinds[at]
        if kind == STR:
            self.at += 1
            return Literal(self.string(at))
        if kind == NUM:
            self.at += 1
            return Literal(_number(self.word(at)))
        if kind in (NAME, PATH):
            name = self.word(at)
            if kinds[at + 1] == LPAR:
                if name == "jsonencode" and self.starts[at + 1] == self.ends[at]:
                    return self.jsonencode()
                raise self.fail(f"call of {name!r}")
            self.at += 1
            if name in _LITERALS:
                return Literal(_LITERALS[name])
            if any(segment in _KEYWORDS for segment in _SEGMENT.findall(name)):
                raise self.fail(f"keyword in {name!r}")
            return Reference(name)
        if kind == LSQB:
            items = self.list_items()
            return Opaque("list", self.text[self.starts[at] : self.ends[self.at - 1]], items=items)
        if kind == LBRACE:
            entries = self.object_entries()
            text = self.text[self.starts[at] : self.ends[self.at - 1]].rstrip()
            return Opaque("object", text, entries=entries)
        raise self.fail("unsupported expression")

    def list_items(self) -> tuple[Value, ...]:
        """A list outside ``jsonencode``, from its ``[`` to its ``]``."""
        kinds = self.kinds
        self.at += 1
        items: list[Value] = []
        while kinds[self.at] != RSQB:
            items.append(self.value())
            if kinds[self.at] == NL:
                self.at += 1
            if kinds[self.at] == COMMA:
                self.at += 1
            elif kinds[self.at] != RSQB:
                raise self.fail("expected ',' or ']'")
        self.at += 1
        return tuple(items)

    def object_entries(self) -> tuple[tuple[str, Value], ...]:
        """An object outside ``jsonencode``, from its ``{`` to its ``}``."""
        self.at += 1
        entries: list[tuple[str, Value]] = []
        while self.kinds[self.at] != RBRACE:
            key = self.object_key()
            entries.append((key, self.value()))
            self.separator()
        self.at += 1
        return tuple(entries)

    def object_key(self) -> str:
        """An object key with its ``=`` or ``:``."""
        kinds, at = self.kinds, self.at
        kind = kinds[at]
        if kind == KEY and self.word(at) not in _KEYWORDS:
            self.at += 1
            return self.word(at)
        if kind == STR:
            key = self.string(at)
        elif kind == NAME and self.word(at) not in _KEYWORDS:
            key = self.word(at)
        else:
            raise self.fail("expected an object key")
        if kinds[at + 1] != EQ and kinds[at + 1] != COLON:
            raise self.fail("expected '=' or ':'")
        self.at += 2
        return key

    def separator(self) -> None:
        """What may follow an object element: a newline, a comma, both, or the closing brace."""
        kinds = self.kinds
        kind = kinds[self.at]
        if kind == NL:
            self.at += 1
            if kinds[self.at] == COMMA:
                self.at += 1
        elif kind == COMMA:
            self.at += 1
        elif kind != RBRACE:
            raise self.fail("expected a newline, ',' or '}'")

    def jsonencode(self) -> JsonEncoded:
        """``jsonencode(`` (``at`` on its name) with one literal argument, up to its ``)``."""
        self.at += 2
        spans: list[Span] = []
        value = self.json_object(spans) if self.kinds[self.at] == LBRACE else self.json()
        if self.kinds[self.at] == NL:
            self.at += 1
        self.expect(RPAR, "')'")
        return JsonEncoded(value, tuple(spans))

    def json(self) -> JsonValue:
        """A value inside ``jsonencode``, which must be literal."""
        at = self.at
        kind = self.kinds[at]
        if kind == STR:
            self.at += 1
            self.count_json(1)
            return self.string(at)
        if kind == LBRACE:
            return self.json_object(None)
        if kind == LSQB:
            return self.json_list(None)
        if kind == NUM:
            self.at += 1
            return _number(self.word(at))
        if kind == NAME and self.kinds[at + 1] != LPAR:
            word = self.word(at)
            if word in _LITERALS:
                self.at += 1
                return _LITERALS[word]
        raise self.fail("not a literal inside jsonencode")

    # json_object and json_list read most of the bytes of a generated tree, so they keep the
    # position in a local, read strings themselves, and inline object_key and separator.

    def json_object(self, statement_spans: list[Span] | None) -> dict[str, JsonValue]:
        """An object inside ``jsonencode``; fills ``statement_spans`` from its "Statement" list."""
        kinds, starts, ends, text, keys = self.kinds, self.starts, self.ends, self.text, self.keys
        at = self.at + 1
        result: dict[str, JsonValue] = {}
        while (kind := kinds[at]) != RBRACE:
            if kind == KEY:
                key = text[starts[at] : ends[at]]
                if key in _KEYWORDS:
                    self.at = at
                    raise self.fail("expected an object key")
                at += 1
            else:
                self.at = at
                key = self.object_key()
                at = self.at
            key = keys.setdefault(key, key)
            if key in result:
                self.at = at
                raise self.fail(f"duplicate key {key!r}")
            kind = kinds[at]
            if kind == STR:
                result[key] = _decode(text[starts[at] + 1 : ends[at] - 1])
                at += 1
            else:
                self.at = at
                if statement_spans is not None and key == "Statement" and kind == LSQB:
                    result[key] = self.json_list(statement_spans)
                else:
                    result[key] = self.json()
                at = self.at
            kind = kinds[at]
            if kind == NL:
                at += 1
                if kinds[at] == COMMA:
                    at += 1
            elif kind == COMMA:
                at += 1
            elif kind != RBRACE:
                self.at = at
                raise self.fail("expected a newline, ',' or '}'")
        self.at = at + 1
        self.count_json(len(result) + 1)
        return result

    def json_list(self, spans: list[Span] | None) -> list[JsonValue]:
        """A list inside ``jsonencode``; appends each element's span to ``spans`` when given."""
        kinds, starts, ends, text = self.kinds, self.starts, self.ends, self.text
        at = self.at + 1
        result: list[JsonValue] = []
        while (kind := kinds[at]) != RSQB:
            if spans is not None and len(spans) < limits.MAX_STATEMENT_SPANS:
                spans.append(self.span(starts[at]))
            if kind == STR:
                result.append(_decode(text[starts[at] + 1 : ends[at] - 1]))
                at += 1
            else:
                self.at = at
                result.append(self.json())
                at = self.at
            kind = kinds[at]
            if kind == NL:
                at += 1
                kind = kinds[at]
            if kind == COMMA:
                at += 1
            elif kind != RSQB:
                self.at = at
                raise self.fail("expected ',' or ']'")
        self.at = at + 1
        self.count_json(len(result) + 1)
        return result
