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
from decimal import Decimal

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.iam.policy import JsonValue
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


class NotInSubset(Exception):
    """The text is outside the subset this reader handles; read it with python-hcl2 instead."""


# Token kinds: the number of the _TOKEN group that matched (Match.lastindex).
NL, STR, _STR_BODY, KEY, NUM, NAME, PATH = range(1, 8)
LBRACE, RBRACE, LSQB, RSQB, LPAR, RPAR, COMMA, EQ, COLON, OTHER = range(8, 18)
_NEWLINES = r"\r?\n (?: [ \t]*+ (?: (?:\#|//) [^\n]*+ )? \r?\n )*+"  # and blank or comment lines
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_-]*+"
# Newlines after "{", "[", "(" and "," mean nothing, so those tokens take them in: a third fewer
# tokens to match. So does KEY, a name with the "=" after it.
_TOKEN = re.compile(
    rf"""
    [ \t]*+ (?:
      ( {_NEWLINES} )
    | ( " ( (?: [^"\\$%\r\n]++ | \\ (?: [nrt"\\] | u[0-9A-Fa-f]{{4}} | U[0-9A-Fa-f]{{8}} )
              | \$(?!\{{) | %(?!\{{) )*+ ) " )                        # STR and its body
    | ( {_IDENTIFIER} ) [ \t]*+ = (?![=>])                             # KEY
    | ( (?> -?[0-9]{{1,300}} (?: \.[0-9]{{1,300}} )? ) ) (?! [0-9A-Za-z_.] )  # NUM
    | ( {_IDENTIFIER} ) (?! [.\[] )                                    # NAME
    | ( {_IDENTIFIER} (?: \.{_IDENTIFIER} | \[[0-9]{{1,30}}\] )++ )    # PATH: a.b[0].c
    | (\{{) (?: [ \t]*+ {_NEWLINES} )?
    | (\}})
    | (\[) (?: [ \t]*+ {_NEWLINES} )?
    | (\])
    | (\() (?: [ \t]*+ {_NEWLINES} )?
    | (\))
    | (,) (?: [ \t]*+ {_NEWLINES} )?
    | (=)
    | (:)
    | ( (?s:.) )                                                       # OTHER
    )
    """,
    re.VERBOSE,
)
_LEADING = re.compile(r"(?:[ \t]*+(?:(?:#|//)[^\n]*+)?\r?\n)*+")  # blank and comment lines
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
    """
    try:
        blocks = _Reader(text, path).blocks()
    except RecursionError:
        raise NotInSubset("nested too deeply") from None
    return TfFile(path, blocks, _file_header(text))


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
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


class _Reader:
    """A recursive-descent parser over the tokens of one file.

    ``kinds[i]`` is the kind of ``tokens[i]``; zeros after the last token mark the end. Each
    method starts at ``self.at`` and leaves it after what it read.
    """

    def __init__(self, text: str, path: str) -> None:
        text += "\n"  # as python-hcl2 does: every line, the last one too, ends with a newline
        self.text = text
        self.path = path
        start = _LEADING.match(text)
        assert start is not None  # it matches the empty string
        self.tokens = list(_TOKEN.finditer(text, start.end()))
        self.kinds: list[int] = [m.lastindex or 0 for m in self.tokens]
        self.kinds += (0, 0)
        self.at = 0
        self.line = 1
        self.line_at = 0
        if OTHER in self.kinds:
            self.at = self.kinds.index(OTHER)
            raise self.fail("unexpected character")

    def span(self, pos: int) -> Span:
        """Line and column (1-based, counting code points, as lark does) of offset ``pos``."""
        if pos < self.line_at:
            self.line, self.line_at = 1, 0
        self.line += self.text.count("\n", self.line_at, pos)
        self.line_at = pos
        return Span(self.path, self.line, pos - self.text.rfind("\n", 0, pos))

    def fail(self, what: str) -> NotInSubset:
        if self.at < len(self.tokens):
            token = self.tokens[self.at]
            pos = token.start(token.lastindex or 0)
        else:
            pos = len(self.text)
        return NotInSubset(f"{what} at {self.span(pos)}")

    def expect(self, kind: int, what: str) -> None:
        if self.kinds[self.at] != kind:
            raise self.fail(f"expected {what}")
        self.at += 1

    def blocks(self) -> tuple[Block, ...]:
        blocks: list[Block] = []
        while self.kinds[self.at]:
            blocks.append(self.block(convert=True))
            self.expect(NL, "a newline after '}'")
        return tuple(blocks)

    def block(self, convert: bool) -> Block:
        """A block, up to its ``}``. Nested blocks are only checked: Block records their types."""
        tokens, kinds = self.tokens, self.kinds
        if kinds[self.at] != NAME or tokens[self.at][NAME] in _KEYWORDS:
            raise self.fail("expected a block type")
        span = self.span(tokens[self.at].start(NAME))
        labels = [tokens[self.at][NAME]]
        self.at += 1
        while (kind := kinds[self.at]) != LBRACE:
            token = tokens[self.at]
            if kind == STR:
                labels.append(_decode(token[_STR_BODY]))
            elif kind == NAME and token[NAME] not in _KEYWORDS:
                labels.append(token[NAME])
            else:
                raise self.fail("expected a block label or '{'")
            self.at += 1
        brace = tokens[self.at]
        self.at += 1
        attributes: list[tuple[str, Value, Span]] = []
        nested: list[str] = []
        if brace.end() == brace.end(LBRACE):  # no newline after "{": only "{}" is in the subset
            self.expect(RBRACE, "a newline after '{'")
            return Block(labels[0], tuple(labels[1:]), (), (), span)
        while (kind := kinds[self.at]) != RBRACE:
            if kind == KEY:
                name = self.tokens[self.at][KEY]
                if name in _KEYWORDS and name != "for_each":
                    raise self.fail(f"keyword {name!r} as an attribute name")
                if convert:  # hcl2_reader converts and checks top-level blocks only
                    if any(name == seen for seen, _, _ in attributes):
                        raise self.fail(f"attribute {name!r} defined twice")
                    where = self.span(self.tokens[self.at].start(KEY))
                    self.at += 1
                    attributes.append((name, self.value(), where))
                else:
                    self.at += 1
                    self.value()
            elif kind == NAME:
                nested.append(self.block(convert=False).block_type)
            else:
                raise self.fail("expected an attribute or a block")
            self.expect(NL, "a newline")
        self.at += 1
        return Block(labels[0], tuple(labels[1:]), tuple(attributes), tuple(nested), span)

    def value(self) -> Value:
        """An attribute's value, as hcl2_reader's _Reader.value converts it."""
        kinds, tokens, at = self.kinds, self.tokens, self.at
        kind = kinds[at]
        if kind == STR:
            self.at += 1
            return Literal(_decode(tokens[at][_STR_BODY]))
        if kind == NUM:
            self.at += 1
            return Literal(_number(tokens[at][NUM]))
        if kind in (NAME, PATH):
            name = tokens[at][kind]
            if kinds[at + 1] == LPAR:
                if name == "jsonencode" and tokens[at + 1].start(LPAR) == tokens[at].end():
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
            return Opaque("list", self.text[tokens[at].start(LSQB) : self.end()], items=items)
        if kind == LBRACE:
            self.object_elements()
            return Opaque("object", self.text[tokens[at].start(LBRACE) : self.end()].rstrip())
        raise self.fail("unsupported expression")

    def end(self) -> int:
        """Where the token before ``at`` ends."""
        return self.tokens[self.at - 1].end()

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

    def object_elements(self) -> None:
        """Check an object outside ``jsonencode``, which stays opaque."""
        self.at += 1
        while self.kinds[self.at] != RBRACE:
            self.object_key()
            self.value()
            self.separator()
        self.at += 1

    def object_key(self) -> str:
        """An object key with its ``=`` or ``:``."""
        tokens, kinds, at = self.tokens, self.kinds, self.at
        kind = kinds[at]
        if kind == KEY and tokens[at][KEY] not in _KEYWORDS:
            self.at += 1
            return tokens[at][KEY]
        if kind == STR:
            key = _decode(tokens[at][_STR_BODY])
        elif kind == NAME and tokens[at][NAME] not in _KEYWORDS:
            key = tokens[at][NAME]
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
        tokens, at = self.tokens, self.at
        kind = self.kinds[at]
        if kind == STR:
            self.at += 1
            return _decode(tokens[at][_STR_BODY])
        if kind == LBRACE:
            return self.json_object(None)
        if kind == LSQB:
            return self.json_list(None)
        if kind == NUM:
            self.at += 1
            return _number(tokens[at][NUM])
        if kind == NAME and tokens[at][NAME] in _LITERALS and self.kinds[at + 1] != LPAR:
            self.at += 1
            return _LITERALS[tokens[at][NAME]]
        raise self.fail("not a literal inside jsonencode")

    # json_object and json_list read most of the bytes of a generated tree, so they keep the
    # position in a local, read strings themselves, and inline object_key and separator.

    def json_object(self, statement_spans: list[Span] | None) -> dict[str, JsonValue]:
        """An object inside ``jsonencode``; fills ``statement_spans`` from its "Statement" list."""
        kinds, tokens = self.kinds, self.tokens
        at = self.at + 1
        result: dict[str, JsonValue] = {}
        while (kind := kinds[at]) != RBRACE:
            if kind == KEY and tokens[at][KEY] not in _KEYWORDS:
                key = tokens[at][KEY]
                at += 1
            else:
                self.at = at
                key = self.object_key()
                at = self.at
            if key in result:
                self.at = at
                raise self.fail(f"duplicate key {key!r}")
            kind = kinds[at]
            if kind == STR:
                result[key] = _decode(tokens[at][_STR_BODY])
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
        return result

    def json_list(self, spans: list[Span] | None) -> list[JsonValue]:
        """A list inside ``jsonencode``; appends each element's span to ``spans`` when given."""
        kinds, tokens = self.kinds, self.tokens
        at = self.at + 1
        result: list[JsonValue] = []
        while (kind := kinds[at]) != RSQB:
            if spans is not None:
                spans.append(self.span(tokens[at].start(kind)))
            if kind == STR:
                result.append(_decode(tokens[at][_STR_BODY]))
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
        return result
