"""Read Terraform with python-hcl2: the slow, general reader behind the fast one in fast_reader.

This is the only module that imports python-hcl2, and it owns that library's quirks:

* ``$${`` and ``%%{`` in quoted strings: see :mod:`xflow_perimeter.terraform.escapes`.
* ``jsonencode({...})`` comes back as an opaque string; this module evaluates the object itself,
  refusing anything Terraform would have to compute (references, calls, interpolations).
* ``with_meta`` does nothing in v8; spans come from the rule nodes' lark ``_meta``.
* Parsing is super-linear with the cyclic GC on, so callers parse with the GC paused.
"""

from __future__ import annotations

import re
from decimal import Decimal

from hcl2.api import parses
from hcl2.rules.abstract import LarkElement, LarkRule
from hcl2.rules.base import AttributeRule, BlockRule, BodyRule
from hcl2.rules.containers import (
    ObjectElemKeyExpressionRule,
    ObjectElemKeyRule,
    ObjectRule,
    TupleRule,
)
from hcl2.rules.expressions import BinaryOpRule, ConditionalRule, ExprTermRule, UnaryOpRule
from hcl2.rules.for_expressions import ForObjectExprRule, ForTupleExprRule
from hcl2.rules.functions import FunctionCallRule
from hcl2.rules.indexing import (
    AttrSplatExprTermRule,
    FullSplatExprTermRule,
    GetAttrExprTermRule,
    IndexExprTermRule,
)
from hcl2.rules.literal_rules import FloatLitRule, IdentifierRule, IntLitRule, LiteralValueRule
from hcl2.rules.strings import (
    HeredocTemplateRule,
    InterpolationRule,
    StringPartRule,
    StringRule,
    TemplateStringRule,
)
from hcl2.rules.whitespace import NewLineOrCommentRule
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from xflow_perimeter.diagnostics import Diagnostic, Span, XflowError
from xflow_perimeter.iam.policy import JsonValue
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.escapes import mask_escapes
from xflow_perimeter.terraform.records import (
    Block,
    JsonEncoded,
    Literal,
    Opaque,
    Reference,
    Scalar,
    TfFile,
    Value,
    file_header,
)

_TRAVERSALS = (
    IdentifierRule,
    GetAttrExprTermRule,
    IndexExprTermRule,
    AttrSplatExprTermRule,
    FullSplatExprTermRule,
)
_OPAQUE_KINDS: tuple[tuple[type[LarkElement], str], ...] = (
    (HeredocTemplateRule, "heredoc"),
    (TemplateStringRule, "template"),
    (ConditionalRule, "conditional"),
    (BinaryOpRule, "operation"),
    (UnaryOpRule, "operation"),
    (ForTupleExprRule, "for"),
    (ForObjectExprRule, "for"),
    (FunctionCallRule, "function"),
)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def read_text_hcl2(text: str, path: str) -> TfFile:
    """Parse one file's text with python-hcl2; ``path`` is only used in spans.

    Raises:
        XflowError: XF401 for a syntax error, with its line and column when known.
    """
    masked, unmask = mask_escapes(text)
    try:
        tree = parses(masked, discard_comments=True)
    except UnexpectedInput as exc:
        raise XflowError([_syntax_diagnostic(exc, path)]) from None
    except (LarkError, RecursionError) as exc:
        message = f"cannot be parsed: {type(exc).__name__}: {exc}"
        raise XflowError([Diagnostic("XF401", message, Span(path, 1, 1))]) from None
    blocks = _Reader(text, path, unmask).body_blocks(tree.body)
    return TfFile(path, blocks, file_header(text))


def _syntax_diagnostic(exc: UnexpectedInput, path: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        what = f"unexpected character {exc.char!r}"
    elif isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        what = f"unexpected {str(exc.token.value)[:30]!r}"
    else:
        what = "unexpected end of file"
    line, column = max(exc.line, 1), max(exc.column, 1)
    return Diagnostic("XF401", f"syntax error: {what}", Span(path, line, column))


class _SyntaxProblem(Exception):
    """Something python-hcl2 accepts but Terraform rejects when it reads the file."""

    def __init__(self, message: str, node: LarkElement) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


class _NotLiteral(Exception):
    """A value inside ``jsonencode`` that Terraform would have to compute, or a repeated key."""

    def __init__(self, kind: str, detail: str, node: LarkElement) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.node = node


class _Reader:
    """Converts one parsed file; knows its source text for spans and source slices."""

    def __init__(self, text: str, path: str, unmask: dict[str, str]) -> None:
        self.text = text
        self.path = path
        self.unmask = unmask
        self.elements = limits.MAX_FILE_ELEMENTS  # the budgets the fast reader keeps too
        self.json_values = limits.MAX_JSON_VALUES

    def count(self, node: LarkElement) -> None:
        self.elements -= 1
        if self.elements < 0:
            what = f"more than {limits.MAX_FILE_ELEMENTS} blocks, attributes and values"
            raise limits.over_limit(self.path, what, self.span(node))

    def count_json(self, node: LarkElement) -> None:
        self.json_values -= 1
        if self.json_values < 0:
            what = f"more than {limits.MAX_JSON_VALUES} values inside jsonencode"
            raise limits.over_limit(self.path, what, self.span(node))

    def span(self, node: LarkElement) -> Span:
        current: LarkElement | None = node
        while current is not None:
            meta = getattr(current, "_meta", None)
            if meta is not None and not meta.empty:
                return Span(self.path, meta.line, meta.column)
            current = getattr(current, "_parent", None)
        return Span(self.path, 1, 1)

    def source(self, node: LarkElement) -> str:
        """The node's text as written (the masking in mask_escapes keeps offsets intact)."""
        assert isinstance(node, LarkRule), node
        return self.text[node._meta.start_pos : _end_pos(node)]

    def body_blocks(self, body: BodyRule) -> tuple[Block, ...]:
        blocks: list[Block] = []
        try:
            for child in body.children:
                if isinstance(child, AttributeRule):
                    raise _SyntaxProblem("attribute outside any block", child)
                if isinstance(child, BlockRule):
                    blocks.append(self.block(child))
        except _SyntaxProblem as problem:
            raise XflowError(
                [Diagnostic("XF401", problem.message, self.span(problem.node))]
            ) from None
        return tuple(blocks)

    def block(self, node: BlockRule) -> Block:
        self.count(node)
        names = [self.label(label) for label in node.labels]
        attributes: list[tuple[str, Value, Span]] = []
        seen: set[str] = set()
        nested: list[Block] = []
        for child in node.body.children:
            if isinstance(child, AttributeRule):
                name = str(child.identifier.token.value)
                if name in seen:
                    raise _SyntaxProblem(f"attribute {name!r} is defined twice", child)
                seen.add(name)
                self.count(child)
                attributes.append((name, self.value(child.expression), self.span(child)))
            elif isinstance(child, BlockRule):
                nested.append(self.block(child))
        return Block(names[0], tuple(names[1:]), tuple(attributes), tuple(nested), self.span(node))

    def label(self, node: LarkElement) -> str:
        if isinstance(node, StringRule):
            value = self.string(node)
            if value is None:
                raise _SyntaxProblem("template sequences are not allowed in a block label", node)
            return value
        assert isinstance(node, IdentifierRule)
        return str(node.token.value)

    def value(self, node: LarkElement) -> Value:
        self.count(node)
        node = _unwrap(node)
        if isinstance(node, StringRule):
            text = self.string(node)
            if text is not None:
                return Literal(text)
            inner = _sole_interpolation(node)
            if inner is not None and isinstance(_unwrap(inner), _TRAVERSALS):
                return Reference(self.source(inner))  # "${a.b}" is exactly a.b in Terraform
            return Opaque("template", self.source(node))
        if isinstance(node, _TRAVERSALS):
            return Reference(self.source(node))
        if isinstance(node, TupleRule):
            items = tuple(self.value(element) for element in node.elements)
            return Opaque("list", self.source(node), items=items)
        if isinstance(node, FunctionCallRule) and _function_name(node) == "jsonencode":
            return self.jsonencode(node)
        if isinstance(node, ObjectRule):
            return Opaque("object", self.source(node).rstrip(), entries=self.entries(node))
        try:
            return Literal(_scalar(node))
        except _NotLiteral:
            pass
        for rule_type, kind in _OPAQUE_KINDS:
            if isinstance(node, rule_type):
                return Opaque(kind, self.source(node).rstrip())
        return Opaque("expression", self.source(node))

    def entries(self, node: ObjectRule) -> tuple[tuple[str, Value], ...]:
        """An object's elements, or none when a key is an expression Terraform would compute."""
        out: list[tuple[str, Value]] = []
        for element in node.elements:
            try:
                name = self.object_key(element.key)
            except _NotLiteral:
                return ()
            out.append((name, self.value(element.expression)))
        return tuple(out)

    def jsonencode(self, call: FunctionCallRule) -> Value:
        text = self.source(call)
        args = call.arguments
        if args is None or len(args.arguments) != 1 or args.has_ellipsis:
            return Opaque("function", text, detail="jsonencode takes exactly one argument")
        try:
            value = self.evaluate(args.arguments[0])
        except _NotLiteral as refused:
            return Opaque(refused.kind, text, refused.detail, self.span(refused.node))
        return JsonEncoded(value, self.statement_spans(args.arguments[0]))

    def evaluate(self, node: LarkElement) -> JsonValue:
        """The JSON data ``jsonencode`` would produce from ``node``, which must be literal."""
        node = _unwrap(node)
        if isinstance(node, ObjectRule | TupleRule | StringRule):
            self.count_json(node)
        if isinstance(node, ObjectRule):
            result: dict[str, JsonValue] = {}
            for element in node.elements:
                key = self.object_key(element.key)
                if key in result:
                    raise _NotLiteral("duplicate-key", f"duplicate key {key!r}", element)
                result[key] = self.evaluate(element.expression)
            return result
        if isinstance(node, TupleRule):
            return [self.evaluate(element) for element in node.elements]
        if isinstance(node, StringRule):
            text = self.string(node)
            if text is None:
                raise _NotLiteral("jsonencode-with-expressions", "interpolation", node)
            return text
        try:
            return _scalar(node)
        except _NotLiteral as refused:
            what = f"{type(node).__name__.removesuffix('Rule')} {self.source(node)!r}"
            raise _NotLiteral(refused.kind, what, node) from None

    def object_key(self, key: ObjectElemKeyRule | ObjectElemKeyExpressionRule) -> str:
        if isinstance(key, ObjectElemKeyExpressionRule):
            raise _NotLiteral("jsonencode-with-expressions", f"key {self.source(key)!r}", key)
        inner = key.value
        if isinstance(inner, IdentifierRule):
            return str(inner.token.value)
        if isinstance(inner, StringRule):
            text = self.string(inner)
            if text is None:
                raise _NotLiteral("jsonencode-with-expressions", "interpolation in a key", inner)
            return text
        return self.source(inner)

    def statement_spans(self, argument: LarkElement) -> tuple[Span, ...]:
        top = _unwrap(argument)
        if not isinstance(top, ObjectRule):
            return ()
        for element in top.elements:
            if self.object_key(element.key) == "Statement":
                statements = _unwrap(element.expression)
                if isinstance(statements, TupleRule):
                    kept = statements.elements[: limits.MAX_STATEMENT_SPANS]
                    return tuple(self.span(item) for item in kept)
        return ()

    def string(self, node: StringRule) -> str | None:
        """The decoded value of a quoted string, or None when it interpolates or has directives."""
        pieces: list[str] = []
        for part in node.string_parts:
            assert isinstance(part, StringPartRule)
            content = part.content
            name = content.lark_name()
            if name == "STRING_CHARS":
                pieces.append(self.decode(str(content.value), node))
            elif name in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):  # only if masking missed
                raw = str(content.value)
                pieces.append(raw[1:3] + self.decode(raw[3:], node))
            else:
                return None
        text = "".join(pieces)
        for sentinel, char in self.unmask.items():
            text = text.replace(sentinel, char)
        return text

    @staticmethod
    def decode(raw: str, node: LarkElement) -> str:
        """Decode HCL quoted-string escapes; anything Terraform rejects is a syntax problem."""
        if "\\" not in raw and "\n" not in raw:
            return raw
        out: list[str] = []
        i = 0
        while i < len(raw):
            char = raw[i]
            if char == "\n":
                raise _SyntaxProblem("quoted string contains a newline", node)
            if char != "\\":
                out.append(char)
                i += 1
                continue
            marker = raw[i + 1 : i + 2]
            if marker in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[marker])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(marker, 0)
            digits = raw[i + 2 : i + 2 + width]
            if not width or len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise _SyntaxProblem(f"invalid escape sequence {raw[i : i + 2]!r}", node)
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _SyntaxProblem(f"invalid unicode escape {raw[i : i + 2 + width]!r}", node)
            out.append(chr(code))
            i += 2 + width
        return "".join(out)


def _unwrap(node: LarkElement) -> LarkElement:
    while isinstance(node, ExprTermRule):
        node = node.expression
    return node


def _end_pos(node: LarkRule) -> int:
    """Where the node's text ends.

    A rule's own end can run past its last child: a binary operation's span takes in the newline
    or comment after it, even when discard_comments dropped that child. Tokens carry no position,
    so a rule that ends with a token (a bracket, a quote) ends where its own span does.
    """
    for child in reversed(node.children):
        if child is None or isinstance(child, NewLineOrCommentRule):
            continue
        if isinstance(child, LarkRule) and not child._meta.empty:
            return _end_pos(child)
        break
    end: int = node._meta.end_pos
    return end


def _function_name(node: FunctionCallRule) -> str:
    return "::".join(str(ident.token.value) for ident in node.identifiers)


def _sole_interpolation(node: StringRule) -> LarkElement | None:
    parts = node.string_parts
    if len(parts) == 1 and isinstance(parts[0].content, InterpolationRule):
        expression: LarkElement = parts[0].content.expression
        return expression
    return None


def _scalar(node: LarkElement) -> Scalar:
    """A literal number, bool or null; raises _NotLiteral for anything else."""
    if isinstance(node, LiteralValueRule):
        return {"true": True, "false": False}.get(str(node.token.value))
    if isinstance(node, IntLitRule):
        return int(str(node.token.value))
    if isinstance(node, FloatLitRule):
        number = Decimal(str(node.token.value))
        return int(number) if number == number.to_integral_value() else float(number)
    if isinstance(node, UnaryOpRule) and node.operator.strip() == "-":
        operand = _unwrap(node.expr_term)
        if isinstance(operand, IntLitRule | FloatLitRule):
            value = _scalar(operand)
            assert isinstance(value, int | float)
            return -value
    raise _NotLiteral("jsonencode-with-expressions", "expression", node)
