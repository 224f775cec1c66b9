"""Tests for xflow_perimeter.terraform.fast_reader: for any text, the fast reader returns exactly what python-hcl2's
reader returns (every field, spans included, even those dataclass equality skips) or gives up."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xflow_perimeter.diagnostics import Diagnostic, XflowError
from xflow_perimeter.terraform.fast_reader import NotInSubset, read_text_fast
from xflow_perimeter.terraform.reader import (
    JsonEncoded,
    TfFile,
    _read_text_hcl2,
    read_text,
    read_tree,
)

REPO = Path(__file__).resolve().parents[2]
TF_FILES = sorted(
    path.relative_to(REPO).as_posix()
    for folder in ("examples", "tests")
    for path in (REPO / folder).rglob("*.tf")
)
LAKE = REPO / "examples/data-platform/terraform/lake-eu-west-1"
BUCKET_POLICIES = (LAKE / "bucket_policies.tf").read_text(encoding="utf-8")
# The header and the first policy (a small base keeps python-hcl2's share of the test time down).
FIRST_POLICY = BUCKET_POLICIES[
    : BUCKET_POLICIES.index("\n# Bucket", BUCKET_POLICIES.index("resource")) + 1
]
ENDPOINTS = (LAKE / "endpoints.tf").read_text(encoding="utf-8")
VERSIONS = (LAKE / "versions.tf").read_text(encoding="utf-8")
OUTPUTS = (LAKE / "outputs.tf").read_text(encoding="utf-8")


def difference(a: object, b: object, where: str = "") -> str | None:
    """Where ``a`` and ``b`` differ, comparing types and every dataclass field; None if nowhere."""
    if type(a) is not type(b):
        return f"{where}: {a!r} is a {type(a).__name__}, {b!r} a {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for name in (f.name for f in dataclasses.fields(a)):
            found = difference(getattr(a, name), getattr(b, name), f"{where}.{name}")
            if found:
                return found
        return None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{where}: {len(a)} items against {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{where}[{index}]")
            if found:
                return found
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} against {list(b)}"
        for key in a:
            found = difference(a[key], b[key], f"{where}[{key!r}]")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


def slow(text: str) -> TfFile | tuple[Diagnostic, ...]:
    try:
        return _read_text_hcl2(text, "dir/t.tf")
    except XflowError as exc:
        return tuple(exc.diagnostics)


def check(text: str) -> bool:
    """Assert that the fast reader agrees with python-hcl2 or gives up; True if it read the text.

    Also asserts that read_text, which falls back, gives python-hcl2's result or diagnostics.
    """
    expected = slow(text)
    try:
        fast: TfFile | None = read_text_fast(text, "dir/t.tf")
    except NotInSubset:
        fast = None
    if fast is not None:
        assert isinstance(expected, TfFile), f"fast read what python-hcl2 rejects: {expected}"
        assert difference(fast, expected) is None, difference(fast, expected)
    try:
        combined: TfFile | tuple[Diagnostic, ...] = read_text(text, "dir/t.tf")
    except XflowError as exc:
        combined = tuple(exc.diagnostics)
    assert difference(combined, expected) is None, difference(combined, expected)
    return fast is not None


# -- 1. everything xflow generates is read fast, and exactly ------------------------------------


def test_there_are_files_to_compare() -> None:
    assert len(TF_FILES) > 40


@pytest.mark.parametrize("rel", TF_FILES)
def test_every_committed_file_reads_fast_and_the_same(rel: str) -> None:
    text = (REPO / rel).read_text(encoding="utf-8")
    assert check(text), f"{rel} fell back to python-hcl2"


def test_comparison_sees_fields_that_equality_skips() -> None:
    text = 'a "b" {\n  x = ["s", ["t"]]\n}\n'
    base = read_text_fast(text, "t.tf")
    [(_, value, span)] = base.blocks[0].attributes
    changed = dataclasses.replace(value, items=())  # type: ignore[type-var]
    block = dataclasses.replace(base.blocks[0], attributes=(("x", changed, span),))
    other = dataclasses.replace(base, blocks=(block,))
    assert other == base
    assert difference(other, base) is not None
    assert difference(TfFile("t.tf", (), None), TfFile("t.tf", (), "h")) is not None


def test_the_fast_reader_does_not_import_python_hcl2() -> None:
    code = (
        "import sys; from pathlib import Path; from xflow_perimeter.terraform.reader import read_tree; "
        "tree = read_tree(Path('examples/data-platform/terraform')); "
        "assert tree.files and not tree.problems; "
        "assert 'hcl2' not in sys.modules and 'lark' not in sys.modules, 'imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_read_tree_falls_back_per_file(tmp_path: Path) -> None:
    (tmp_path / "fast.tf").write_text(OUTPUTS, encoding="utf-8")
    (tmp_path / "slow.tf").write_text('a "b" {\n  x = "${var.y}"\n}\n', encoding="utf-8")
    (tmp_path / "bad.tf").write_text('a "b" {\n  x = \n}\n', encoding="utf-8")
    tree = read_tree(tmp_path)
    assert [f.path for f in tree.files] == ["fast.tf", "slow.tf"]
    assert [(d.code, str(d.span)) for d in tree.problems] == [("XF401", "bad.tf:2:7")]


# -- 2. hand edits: read fast and the same, or handed to python-hcl2 ----------------------------

Edit = Callable[[str], str]


def sub(old: str, new: str, count: int = -1) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)

    return edit


def add_to_first_block(lines: str) -> Edit:
    return sub('  bucket = "acme-lake-audit"\n', f'  bucket = "acme-lake-audit"\n{lines}', 1)


FAST_EDITS: dict[str, Edit] = {
    "unchanged": lambda text: text,
    "blank lines": sub("\n", "\n\n"),
    "blank lines with spaces": sub("\n", "\n   \t\n"),
    "comment lines": sub("\n", "\n  # note\n      // another\n"),
    "comments at the top": lambda text: "# first\n\n// second\n" + text,
    "no header": lambda text: text.split("\n", 2)[2],
    "tabs": sub("  ", "\t"),
    "crlf": sub("\n", "\r\n"),
    "crlf, no final newline": lambda text: text.replace("\n", "\r\n").rstrip(),
    "no final newline": str.rstrip,
    "unaligned": sub("Sid       = ", "Sid = "),
    "wide spaces": sub(" = ", " \t  =   "),
    "no spaces": sub(" = ", "="),
    "single action as a string": sub('Action    = ["s3:*"]', 'Action = "s3:*"'),
    "reordered keys": sub(
        '        Sid       = "DenyInsecureTransport"\n        Effect    = "Deny"\n',
        '        Effect = "Deny"\n        Sid = "DenyInsecureTransport"\n',
    ),
    "no trailing commas": lambda text: re.sub(r",(\n *[\]}])", r"\1", text),
    "trailing commas": lambda text: re.sub(r'^( {6,}\S.*")$', r"\1,", text, flags=re.M),
    "comma then newline": sub('"\n        Effect', '",\n        Effect'),
    "newline then comma": sub('",\n', '"\n,'),
    "quoted keys": sub("Sid ", '"Sid" '),
    "colons": sub(" = [", ": ["),
    "one-line condition": sub(
        '        Condition = {\n          Bool = {\n            "aws:SecureTransport" = ["false"]'
        "\n          }\n        }",
        '        Condition = { Bool = { "aws:SecureTransport" = ["false"] } }',
    ),
    "one-line statement": sub(
        '        Sid       = "DenyInsecureTransport"\n        Effect    = "Deny"\n',
        '        Sid = "DenyInsecureTransport", Effect = "Deny",\n',
    ),
    "numbers": sub(
        'Version = "2012-10-17"', "Version = 2012\n    N = [0, -1, 1.5, -0.25, 2.0, 007]"
    ),
    "bools and null": sub('Version = "2012-10-17"', "V = [true, false, null]"),
    "unicode before spans": sub('Sid       = "', 'Sid = "é😀\u2028 ', 1),
    "escapes": sub('"2012-10-17"', r'"\"2012\\10\t17\u00e9\U0001F600\n\r"'),
    "dollar and percent": sub('"2012-10-17"', '"$ $$ % %% $x %x {}$"'),
    "nested blocks": add_to_first_block(
        '  lifecycle {\n    prevent_destroy = true\n    x {\n      y = "z"\n    }\n  }\n'
    ),
    "empty nested block": add_to_first_block("  lifecycle {}\n  timeouts {\n  }\n"),
    "labels": sub(
        'resource "aws_s3_bucket_policy" "audit"', 'resource aws_s3_bucket_policy "\\u0061udit"'
    ),
    "indented block": sub('resource "aws_s3_bucket_policy"', '  resource "aws_s3_bucket_policy"'),
    "references": add_to_first_block(
        "  depends_on = [aws_s3_bucket.b, a.b[0].c, var.x]\n  count = local.n\n  for_each = x\n"
    ),
    "object attribute": add_to_first_block(
        '  tags = { Name = "x", "k" : 1 }\n  t = {\n    # c\n    a = [1]\n  }\n'
    ),
    "list attribute": add_to_first_block('  ids = [\n    "a",\n    # c\n  ]\n  none = []\n'),
    "jsonencode on its own lines": sub("jsonencode({", "jsonencode(\n{", 1),
    "jsonencode elsewhere": add_to_first_block(
        '  other = [jsonencode({ a = 1 }), jsonencode([]), jsonencode("s")]\n'
    ),
    "empty statement list": sub("Statement = [", "Statement = []\n    Old = ["),
    "statement as an object": lambda text: sub("    ]\n  })", "    ]\n  }\n  })", 1)(
        sub("Statement = [", "Statement = {\n x = [", 1)(text)
    ),
}

SLOW_EDITS: dict[str, Edit] = {
    "heredoc": add_to_first_block('  x = <<EOT\n  {"a": 1}\nEOT\n'),
    "indented heredoc": add_to_first_block('  x = <<-EOT\n    {"a": 1}\n  EOT\n'),
    "interpolation": sub('"acme-lake-audit"', '"${var.bucket}"'),
    "escaped interpolation": sub('"2012-10-17"', '"$${aws:username}"'),
    "directive": sub('"2012-10-17"', '"%{if true}x%{endif}"'),
    "escaped directive": sub('"2012-10-17"', '"%%{x}"'),
    "block comment": sub("\n# Bucket", "\n/* c */\n# Bucket"),
    "trailing comment": sub('"acme-lake-audit"\n', '"acme-lake-audit" # owner\n'),
    "trailing comment in jsonencode": sub('"2012-10-17"\n', '"2012-10-17" // v\n'),
    "function call": add_to_first_block('  x = file("p.json")\n'),
    "namespaced function": add_to_first_block('  x = provider::aws::arn_parse("a")\n'),
    "space before a call": sub("jsonencode({", "jsonencode ({", 1),
    "operator": add_to_first_block("  x = 1 + 2\n"),
    "negation": add_to_first_block("  x = - 1\n"),
    "not": add_to_first_block("  x = !true\n"),
    "conditional": add_to_first_block("  x = var.a ? 1 : 2\n"),
    "for expression": add_to_first_block("  x = [for v in var.l : v]\n"),
    "splat": add_to_first_block("  x = aws_s3_bucket.b[*].id\n"),
    "attribute splat": add_to_first_block("  x = aws_s3_bucket.b.*.id\n"),
    "string index": add_to_first_block('  x = var.m["k"]\n'),
    "parentheses": add_to_first_block("  x = (1)\n"),
    "exponent": sub('Version = "2012-10-17"', "Version = 1e3"),
    "reference in jsonencode": sub('"arn:aws:s3:::acme-lake-audit",', "aws_s3_bucket.b.arn,", 1),
    "duplicate key in jsonencode": sub(
        'Version = "2012-10-17"', 'Version = "1"\n    "Version" = "2"'
    ),
    "duplicate attribute": add_to_first_block('  bucket = "other"\n'),
    "one-line block": add_to_first_block("  lifecycle { prevent_destroy = true }\n"),
    "attribute at the top": lambda text: "x = 1\n" + text,
    "two arguments": sub("jsonencode({", "jsonencode({}, {", 1),
    "no argument": add_to_first_block("  x = jsonencode()\n"),
    "keyword key": sub("Version =", "for ="),
    "keyword label": sub('resource "aws_s3_bucket_policy" "audit"', "resource in"),
    "brace on the next line": sub(' "audit" {', ' "audit"\n{'),
    "two attributes on a line": sub('"acme-lake-audit"\n  policy', '"acme-lake-audit" policy'),
    "elements without a separator": sub('"DenyInsecureTransport"\n', '"DenyInsecureTransport" '),
    "invalid escape": sub('"2012-10-17"', r'"a\qb"'),
    "short unicode escape": sub('"2012-10-17"', r'"\u12"'),
    "surrogate escape": sub('"2012-10-17"', r'"\ud800"'),
    "newline in a string": sub('"2012-10-17"', '"2012\n10"'),
    "carriage return in a string": sub('"2012-10-17"', '"2012\r10"'),
    "lone carriage return": sub("\n\n", "\n \r \n", 1),
    "non-ascii name": sub("Version =", "Vérsion ="),
    "byte order mark": lambda text: "\ufeff" + text,
    "unterminated": lambda text: text[: text.index("Statement")],
    "extra brace": lambda text: text + "}\n",
}


@pytest.mark.parametrize("name", FAST_EDITS)
@pytest.mark.parametrize("with_endpoints", [False, True])
def test_hand_edits_that_are_read_fast(name: str, with_endpoints: bool) -> None:
    text = FIRST_POLICY + ENDPOINTS if with_endpoints else FIRST_POLICY
    edited = FAST_EDITS[name](text)
    assert check(edited), f"{name}: fell back to python-hcl2"


@pytest.mark.parametrize("name", SLOW_EDITS)
def test_hand_edits_that_go_to_python_hcl2(name: str) -> None:
    edited = SLOW_EDITS[name](FIRST_POLICY)
    assert edited != FIRST_POLICY
    assert not check(edited), f"{name}: read fast"


@pytest.mark.parametrize("text", [VERSIONS, OUTPUTS, "", "\n", "# only a comment", "a {}\n"])
def test_small_files(text: str) -> None:
    assert check(text)
    assert check(text.replace("\n", "\r\n"))


def test_columns_count_code_points_after_tabs_and_unicode() -> None:
    text = 'r "é😀" {\r\n\tp = jsonencode({ Statement = ["é😀\\t", {}, "\\u00e9", -1] })\r\n}\r\n'
    assert check(text)
    [block] = read_text_fast(text, "t.tf").blocks
    [(_, value, span)] = block.attributes
    assert (span.line, span.column) == (2, 2)
    assert isinstance(value, JsonEncoded)
    assert value.value == {"Statement": ["é😀\t", {}, "é", -1]}
    assert [(s.line, s.column) for s in value.statement_spans] == [
        (2, 32),
        (2, 40),
        (2, 44),
        (2, 54),
    ]


def test_deep_nesting_goes_to_python_hcl2() -> None:
    text = 'a "b" {\n  x = jsonencode(' + "[" * 2000 + "]" * 2000 + ")\n}\n"
    with pytest.raises(NotInSubset):
        read_text_fast(text, "t.tf")


# -- 3. random text in and just outside the subset: the same result, or a fallback --------------


def _mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """Mostly one of ``good``, sometimes one of ``bad`` (outside the subset, or invalid)."""
    return st.sampled_from(good * 8 + bad)


_NAMES = _mostly(
    ["a", "x_1", "a-b", "_", "Sid", "Statement", "jsonencode", "for_each", "True", "file"],
    ["in", "for", "if", "true", "null", "é", "a.b"],
)
_PLAIN_PIECES = [
    "a",
    " ",
    "é",
    "😀",
    "\u2028",
    "\t",
    "\x00",
    "\x7f",
    "$",
    "$$",
    "%",
    "%%",
    "{",
    "}",
]
_ESCAPE_PIECES = [
    '\\"',
    "\\\\",
    "\\n",
    "\\t",
    "\\r",
    "\\u00e9",
    "\\U0001F600",
    "\\u0000",
    "#",
    "//",
]
_STRING_PIECES = _mostly(
    _PLAIN_PIECES + _ESCAPE_PIECES,
    ["\r", "\n", "\\u12", "\\q", "\\ud800", "\\U00110000", "\\", '"', "${", "$${", "%{", "%%{"],
)
_CLEAN_CHARACTERS = st.characters(exclude_characters='"\\\r\n$%')
_STRINGS = st.one_of(
    st.lists(_STRING_PIECES | _CLEAN_CHARACTERS, max_size=6),
    st.lists(_STRING_PIECES | _CLEAN_CHARACTERS | st.characters(), max_size=6),
).map(lambda pieces: '"' + "".join(pieces) + '"')
_NUMBERS = st.one_of(
    *[st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True)] * 6,
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?[eE][+-]?[0-9]", fullmatch=True),
    st.sampled_from(["- 1", "1.", ".5", "1.5.2", "0x10", "1_000", "--1"]),
)
_TRAVERSALS = st.lists(
    _mostly([".b", ".id", "[0]", "[12]"], [".true", ".in", "[*]", ".*", " .c", '["k"]', ".0"]),
    min_size=1,
    max_size=3,
).map(lambda tail: "aws_thing.name" + "".join(tail))
_ODDITIES = st.sampled_from(
    ["1 + 2", "a ? 1 : 2", "!true", "(1)", 'file("x")', "[for v in l : v]", "x[*].y", "@"]
) | st.sampled_from(["<<EOT\nx\nEOT", "jsonencode ({})", "jsonencode({}, {})", "/* c */ 1"])
_GAPS = _mostly(
    ["", " ", "\t", "\n", "\n  ", "\r\n", "\n\n", "\n# c\n", "\n  // c\n"],
    [" # c\n", "\r", "/* c */", "\n/* c */\n"],
)
_SEPARATORS = _mostly([", ", ",", ",\n", "\n", "\n,", ",\r\n", "\n// c\n"], [" ", ",,", ""])
_EQUALS = _mostly([" = ", "=", ": ", " : "], [" == ", "\n= ", " :: "])
_KEYS = st.one_of(_NAMES, _STRINGS, st.sampled_from(['"Statement"', "Statement", "1", "(k)"]))


def _list(items: list[str], separators: list[str], gaps: list[str], trailing: str) -> str:
    body = "".join(
        item + (separators[index % len(separators)] if separators else ", ")
        for index, item in enumerate(items[:-1])
    )
    return "[" + gaps[0] + body + items[-1] + trailing + gaps[1] + "]"


def _object(
    keys: list[str], values: list[str], equals: list[str], separators: list[str], gap: str
) -> str:
    elements = [f"{k}{eq}{v}" for k, eq, v in zip(keys, equals, values, strict=False)]
    body = "".join(e + s for e, s in zip(elements, separators + [""] * len(elements), strict=False))
    return "{" + gap + body + "}"


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Lists and objects of ``children``."""
    return _expressions(children, calls=False)


def _expressions(children: st.SearchStrategy[str], calls: bool = True) -> st.SearchStrategy[str]:
    lists = st.builds(
        _list,
        st.lists(children, min_size=1, max_size=4),
        st.lists(_SEPARATORS, max_size=4),
        st.lists(_GAPS, min_size=2, max_size=2),
        st.sampled_from(["", ",", "\n", ",\n"]),
    ) | st.just("[]")
    objects = st.builds(
        _object,
        st.lists(_KEYS, max_size=4),
        st.lists(children, min_size=4, max_size=4),
        st.lists(_EQUALS, min_size=4, max_size=4),
        st.lists(_SEPARATORS, max_size=4),
        _GAPS,
    )
    if not calls:
        return lists | objects
    jsonencode = st.builds(
        lambda gap1, argument, gap2: f"jsonencode({gap1}{argument}{gap2})",
        st.sampled_from(["", "\n", " "]),
        objects | lists | children,
        st.sampled_from(["", "\n", " ", ",", "\n,"]),
    )
    return lists | objects | jsonencode


_LITERALS = st.sampled_from(["true", "false", "null"])
_LEAVES = st.one_of(_STRINGS, _NUMBERS, _NAMES, _TRAVERSALS, _LITERALS, _STRINGS, _ODDITIES)
_EXPRESSIONS = st.recursive(_LEAVES, _expressions, max_leaves=12)


@st.composite
def _blocks(draw: st.DrawFn, depth: int = 0) -> str:
    indent = draw(st.sampled_from(["", "  ", "\t"])) + "  " * depth
    labels = draw(st.lists(_NAMES | _STRINGS, max_size=2))
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            lines.append(draw(_blocks(depth + 1)))
        else:
            lines.append(f"{indent}  {draw(_NAMES)}{draw(_EQUALS)}{draw(_EXPRESSIONS)}")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    body = newline + "".join(line + draw(_GAPS) + newline for line in lines)
    body = draw(st.sampled_from([body, "", " "]))
    return f"{indent}{draw(_NAMES)} {' '.join(labels)} {{{body}{indent}}}"


@settings(max_examples=200, deadline=None)
@given(
    blocks=st.lists(_blocks(), max_size=3),
    gaps=st.lists(_GAPS, min_size=3, max_size=3),
    header=st.sampled_from(["", "// Code generated by xflow from s.yaml. DO NOT EDIT.\n", "# c\n"]),
)
def test_random_hcl_reads_the_same_or_falls_back(
    blocks: list[str], gaps: list[str], header: str
) -> None:
    text = header + gaps[0] + ("\n" + gaps[1]).join(blocks) + gaps[2]
    check(text)


_JSON_LEAVES = st.one_of(*[_STRINGS, _NUMBERS, _LITERALS] * 3, _ODDITIES, _TRAVERSALS)


@settings(max_examples=200, deadline=None)
@given(
    policy=st.recursive(_JSON_LEAVES, _containers, max_leaves=20),
    statements=st.lists(st.recursive(_JSON_LEAVES, _containers, max_leaves=6), max_size=3),
    gap=_GAPS,
)
def test_random_policies_read_the_same_or_fall_back(
    policy: str, statements: list[str], gap: str
) -> None:
    statement_list = "[" + gap + ", ".join(statements) + "]"
    text = (
        'resource "aws_s3_bucket_policy" "p" {\n'
        '  bucket = "b"\n'
        f"  policy = jsonencode({{\n    Version = {policy}\n    Statement = {statement_list}\n  }})\n"
        "}\n"
    )
    check(text)


@settings(max_examples=300, deadline=None)
@given(value=_STRINGS, key=_STRINGS, before=_STRINGS)
def test_random_strings_read_the_same_or_fall_back(value: str, key: str, before: str) -> None:
    text = (
        f"r {before} {{\n  x = {value}\n  p = jsonencode({{ {key} = [{value}, {before}] }})\n}}\n"
    )
    check(text)


SAMPLE = """\
// Code generated by xflow from spec.yaml. DO NOT EDIT.

# Bucket b
resource "aws_s3_bucket_policy" "b" {
  bucket = "acme-b"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowRead"
        Principal = { AWS = ["arn:aws:iam::111111111111:role/r"] }
        Action    = ["s3:GetObject", "s3:ListBucket"]
        Resource = [
          "arn:aws:s3:::acme-b/*",
        ]
        Condition = {
          StringEquals = {
            "aws:SourceVpce" = ["vpce-1"]
          }
        }
      },
    ]
  })
}

resource "aws_vpc_endpoint_route_table_association" "a" {
  vpc_endpoint_id = aws_vpc_endpoint.app.id
  tags            = { n = 1 }
  ids             = [1, -2.5, true, null]

  lifecycle {
    prevent_destroy = true
  }
}
"""
_INSERTS = st.one_of(
    st.sampled_from(["", " ", "\n", "\r\n", "\r", "\t", "#", "//", "/*", "*/", '"', "\\", "$"]),
    st.sampled_from(["${", "$${", "%{", "{", "}", "[", "]", "(", ")", ",", "=", ":", "-", "1"]),
    st.sampled_from(["1e3", ".", "a", "é", "true", "x = 1\n", "<<EOT\n", "jsonencode(", "# c\n"]),
    st.sampled_from(["\n# c\n", "?", "*", "!", "::", "\\u00", "jsonencode()"]),
)


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(SAMPLE)), st.integers(0, 3), _INSERTS), min_size=1, max_size=3
    )
)
def test_mutated_files_read_the_same_or_fall_back(edits: list[tuple[int, int, str]]) -> None:
    text = SAMPLE
    for at, deleted, inserted in sorted(edits, reverse=True):
        text = text[:at] + inserted + text[at + deleted :]
    check(text)


# -- 4. syntax errors keep python-hcl2's diagnostics --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'resource "a" "b" {\n  x = {\n',
        'resource "a" "b" {\n  x = 1 +\n}\n',
        'resource "a" "b" {\n  x = "unterminated\n}\n',
        'resource "a" "b" {\n  x = 1\n  y = @\n}\n',
        'resource "a" "b" {\n  x = "bad \\q escape"\n}\n',
        'resource "a" "b" {\n  x = jsonencode({ k = "\\u12" })\n}\n',
        'resource "a" "b" {\n  x = jsonencode({ k = "\\ud800" })\n}\n',
        'resource "a" "b" {\n  x = 1\n  x = 2\n}\n',
        'x = 1\nresource "a" "b" {\n}\n',
        'resource "a" "${b}" {\n}\n',
        'resource "a" "b" {\n  x = [1 2]\n}\n',
        'resource "a" "b" {\n  x = \n}\n',
        'resource "a" "b" {\n',
        "}\n",
        FIRST_POLICY[:-3],
    ],
)
def test_syntax_errors_keep_python_hcl2_diagnostics(text: str) -> None:
    expected = slow(text)
    assert isinstance(expected, tuple) and [d.code for d in expected] == ["XF401"]
    assert not check(text)
