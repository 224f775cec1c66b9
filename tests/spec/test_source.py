"""Stage 1: YAML with positions, and the PyYAML quirks source.py owns."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xflow_perimeter.diagnostics import Span, XflowError
from xflow_perimeter.spec import source
from xflow_perimeter.spec.source import Document, escape, load, loads


def failure(text: str) -> XflowError:
    with pytest.raises(XflowError) as caught:
        loads(text, "spec.yaml")
    return caught.value


def found(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic that loading ``text`` reports."""
    return [
        (d.code, d.span.line if d.span else 0, d.span.column if d.span else 0)
        for d in failure(text).diagnostics
    ]


NESTED = """\
xflow: 1
networks:
  app:
    route_table_ids:
      - rtb-1
      - "rtb-2"
buckets: {reports: {name: chibayuki-test}}
"""


def test_spans_of_values_keys_and_list_items() -> None:
    doc = loads(NESTED, "spec.yaml")
    assert doc.data == {
        "xflow": 1,
        "networks": {"app": {"route_table_ids": ["rtb-1", "rtb-2"]}},
        "buckets": {"reports": {"name": "chibayuki-test"}},
    }
    values = {
        "": (1, 1),
        "/xflow": (1, 8),
        "/networks": (3, 3),
        "/networks/app": (4, 5),
        "/networks/app/route_table_ids": (5, 7),
        "/networks/app/route_table_ids/0": (5, 9),
        "/networks/app/route_table_ids/1": (6, 9),
        "/buckets": (7, 10),
        "/buckets/reports": (7, 20),
        "/buckets/reports/name": (7, 27),
    }
    for pointer, (line, column) in values.items():
        assert doc.spans[pointer] == Span("spec.yaml", line, column), pointer
    keys = {
        "/xflow": (1, 1),
        "/networks": (2, 1),
        "/networks/app": (3, 3),
        "/networks/app/route_table_ids": (4, 5),
        "/buckets/reports": (7, 11),
        "/buckets/reports/name": (7, 21),
    }
    for pointer, (line, column) in keys.items():
        assert doc.key_spans[pointer] == Span("spec.yaml", line, column), pointer
    assert "/networks/app/route_table_ids/0" not in doc.key_spans


def test_span_walks_up_to_the_nearest_known_node() -> None:
    doc = loads(NESTED, "spec.yaml")
    assert doc.span("/networks/app/missing/deeper") == doc.spans["/networks/app"]
    assert doc.span("/nothing") == doc.spans[""]
    empty = loads("", "empty.yaml")
    assert empty.data is None
    assert empty.span("/anything") == Span("empty.yaml", 1, 1)


def test_pointers_escape_tilde_and_slash() -> None:
    assert escape("a/b~c") == "a~1b~0c"
    doc = loads('"a/b~c": {"x/y": 1}\n', "spec.yaml")
    assert doc.spans["/a~1b~0c/x~1y"] == Span("spec.yaml", 1, 18)
    assert doc.key_spans["/a~1b~0c/x~1y"] == Span("spec.yaml", 1, 11)
    assert doc.implicit == {"/a~1b~0c/x~1y": "1"}


def test_document_is_frozen_plain_data() -> None:
    doc = loads("a: [1, {b: c}]\n", "spec.yaml")
    assert isinstance(doc, Document)
    assert type(doc.data) is dict
    with pytest.raises(TypeError):
        doc.spans["/a"] = Span("x", 1, 1)  # type: ignore[index]


def test_duplicate_keys_are_all_reported_at_the_second_key() -> None:
    text = "a: 1\nb:\n  x: 1\n  x: 2\na: 2\na: 3\n"
    assert found(text) == [("XF003", 4, 3), ("XF003", 5, 1), ("XF003", 6, 1)]
    messages = [d.message for d in failure(text).diagnostics]
    assert "line 3" in messages[0] and "line 1" in messages[2]


@pytest.mark.parametrize(
    "text",
    [
        "1: a\n",
        "true: a\n",
        "yes: a\n",
        "null: a\n",
        "~: a\n",
        "1.5: a\n",
        "? [a, b]\n: c\n",
        "? {a: b}\n: c\n",
        "? \n: c\n",
        "{[a]: b}\n",
    ],
)
def test_non_string_keys_are_rejected(text: str) -> None:
    assert [code for code, _, _ in found(text)] == ["XF004"]


def test_quoted_and_timestamp_like_keys_are_strings() -> None:
    doc = loads("'1': a\n\"true\": b\n2024-01-01: c\n!!str 5: d\n", "spec.yaml")
    assert doc.data == {"1": "a", "true": "b", "2024-01-01": "c", "5": "d"}
    assert doc.implicit == {}


@pytest.mark.parametrize(
    "text",
    [
        "a: !foo x\n",
        "a: !!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system [ls]\n",
        "a: !!binary aGk=\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
        "a: !!int 1.5\n",
        "a: !!float '1'\n",
        "!foo k: v\n",
        "a: !<tag:example.com,2024:x> y\n",
    ],
)
def test_custom_and_unknown_tags_are_refused(text: str) -> None:
    assert [code for code, line, _ in found(text)] == ["XF005"]


def test_explicit_str_tag_quotes_a_value() -> None:
    doc = loads("a: !!str 000000000000\nb: !!str yes\n", "spec.yaml")
    assert doc.data == {"a": "000000000000", "b": "yes"}
    assert doc.implicit == {}


def test_merge_keys_are_refused() -> None:
    text = "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\nother:\n  <<: [*b]\n"
    assert found(text) == [("XF005", 3, 3), ("XF005", 6, 3)]


def test_aliases_resolve_to_the_anchored_value() -> None:
    doc = loads("a: &x {k: [1, two]}\nb: *x\n", "spec.yaml")
    assert doc.data == {"a": {"k": [1, "two"]}, "b": {"k": [1, "two"]}}
    assert doc.spans["/b/k/1"] == doc.spans["/a/k/1"] == Span("spec.yaml", 1, 15)
    assert doc.implicit == {"/a/k/0": "1", "/b/k/0": "1"}


def test_alias_cycles_are_refused() -> None:
    assert [code for code, _, _ in found("a: &a [1, *a]\n")] == ["XF005"]
    assert [code for code, _, _ in found("&m {k: *m}\n")] == ["XF005"]


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{refs}]")
    started = time.monotonic()
    codes = [code for code, _, _ in found("\n".join(lines) + "\n")]
    assert codes == ["XF005"]
    assert time.monotonic() - started < 2


def test_node_limit_counts_alias_expansions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_NODES", 30)
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: [*a, *a]\n"
    assert [code for code, _, _ in found(text)] == ["XF005"]
    assert loads("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: *a\n", "spec.yaml").data


def test_deep_nesting_is_refused_not_a_crash() -> None:
    depth = 1000
    assert [code for code, _, _ in found("[" * depth + "]" * depth)] == ["XF005"]
    assert [code for code, _, _ in found("a: " + "{b: " * depth + "c" + "}" * depth)] == ["XF005"]
    lines = ["a0: &a0 [[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]"]
    lines += [
        f"a{i}: &a{i} [[[[[[[[[[[[[[[[[[[[*a{i - 1}]]]]]]]]]]]]]]]]]]]]" for i in range(1, 20)
    ]
    assert [code for code, _, _ in found("\n".join(lines))] == ["XF005"]


@pytest.mark.parametrize(
    "text",
    [
        "when: 2024-01-01\n",
        "when: 2001-12-14t21:59:43.10-05:00\n",
        "when: 2001-12-14 21:59:43.10\n",
    ],
)
def test_timestamps_stay_strings(text: str) -> None:
    doc = loads(text, "spec.yaml")
    assert doc.data == {"when": text.split(": ", 1)[1].strip()}
    assert doc.implicit == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("000000000000", 0),
        ("0123", 0o123),
        ("123456789012", 123456789012),
        ("0x1F", 31),
        ("1_000", 1000),
        ("1:30", 90),
        ("1.5", 1.5),
        ("1.0e+3", 1000.0),
        ("yes", True),
        ("No", False),
        ("on", True),
        ("OFF", False),
        ("true", True),
        ("~", None),
        ("null", None),
        ("", None),
    ],
)
def test_plain_scalars_resolve_as_yaml_1_1_and_keep_their_text(text: str, value: object) -> None:
    doc = loads(f"v: {text}\n", "spec.yaml")
    assert isinstance(doc.data, dict)
    assert doc.data == {"v": value}
    assert type(doc.data["v"]) is type(value)
    assert doc.implicit == {"/v": text}


@pytest.mark.parametrize(
    "text",
    [
        "'000000000000'",
        '"yes"',
        "|\n  1\n",
        ">\n  true\n",
        "abc",
        "1.2.3",
        "1e+3",
        "0b_",
        "._",
        "=",
    ],
)
def test_strings_are_not_in_the_implicit_table(text: str) -> None:
    doc = loads(f"v: {text}\n", "spec.yaml")
    assert isinstance(doc.data, dict)
    assert isinstance(doc.data["v"], str)
    assert doc.implicit == {}


def test_every_loading_problem_is_reported_in_one_raise() -> None:
    text = "a: 1\na: 2\n1: x\nb: !foo y\nc:\n  <<: {z: 1}\n"
    assert found(text) == [("XF003", 2, 1), ("XF004", 3, 1), ("XF005", 4, 4), ("XF005", 6, 3)]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: b\n  c: d\n", 2, 4),
        ("a: 'open\n", 2, 1),
        ("a: [1, 2\nb: 3\n", 2, 2),
        ("a: 1\n---\nb: 2\n", 2, 1),
        ("a: *nope\n", 1, 4),
        ("a: ok\nb: \x01\n", 2, 4),
        ("\ta: 1\n", 1, 1),
    ],
)
def test_syntax_errors_report_the_problem_position(text: str, line: int, column: int) -> None:
    assert found(text) == [("XF002", line, column)]


def test_syntax_error_stops_before_other_checks() -> None:
    assert [code for code, _, _ in found("a: 1\na: 2\nb: [\n")] == ["XF002"]


def test_load_reads_a_file_and_uses_the_display_name(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"\xef\xbb\xbfa: 1\n")  # a UTF-8 BOM is fine
    doc = load(spec, display="examples/spec.yaml")
    assert doc.path == "examples/spec.yaml"
    assert doc.data == {"a": 1}
    assert doc.spans["/a"] == Span("examples/spec.yaml", 1, 4)
    assert load(spec).path == str(spec)


def test_unreadable_files_are_xf001(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    for path in (tmp_path / "missing.yaml", tmp_path):
        with pytest.raises(XflowError) as caught:
            load(path)
        assert [d.code for d in caught.value.diagnostics] == ["XF001"]
    with pytest.raises(XflowError) as caught:
        load(bad, "latin1.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.span) == ("XF001", Span("latin1.yaml", 2, 7))


YAML_PIECES = [
    *"ab{}[],:-'\"|>#\\\t=~\n",
    *[": ", "- ", "  ", "? ", "\r\n", "\ufeff", "\x85", "\u2028", "---", "...", "9" * 40],
    *["&x ", "*x", "&y ", "*y", "!foo ", "!!str ", "!!int ", "!!python/object ", "<<"],
    *["%YAML 1.1", "%TAG ! tag:x,2024:", "0x_", "0b_", "._", "0123", "yes", "2024-01-01", "1:30"],
]
YAMLISH = st.lists(st.sampled_from(YAML_PIECES), max_size=40).map("".join)


def attempt_load(text: str) -> None:
    try:
        loads(text, "fuzz.yaml")
    except XflowError as exc:
        assert exc.diagnostics
        assert all(d.code.startswith("XF00") and d.span is not None for d in exc.diagnostics)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_random_text_never_crashes(text: str) -> None:
    attempt_load(text)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_fuzz_yaml_like_text_never_crashes(text: str) -> None:
    attempt_load(text)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_random_bytes_never_crash(data: bytes) -> None:
    attempt_load(data.decode("utf-8", errors="replace"))
    attempt_load(data.decode("latin-1"))


@settings(max_examples=100, deadline=None)
@given(st.binary() | YAMLISH.map(str.encode))
def test_fuzz_load_from_file_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_bytes(data)
    try:
        load(path)
    except XflowError as exc:
        assert {d.code for d in exc.diagnostics} <= {"XF001", "XF002", "XF003", "XF004", "XF005"}


LIBYAML_CASES = [
    NESTED,
    "a: &x [1, {b: c}]\nb: *x\n",
    "a: '1'\nb: 1\nc: 0x1F\nd: yes\ne: ~\nf: 2001-12-14\ng: \"x\"\n",
    "a: 1\r\nb: é😀\r\n",
    "a:\n  - {b: 1, b: 2}\n  - [1]: x\n",
    "a:\nb: 1\n",  # an empty value: PyYAML composes it
    "a: !!str 1\n",  # a tag: PyYAML composes it
    "a:\tb\n",  # a tab: PyYAML composes it
    "a: b",  # no final newline: PyYAML composes it
    "{a: b, c",  # a syntax error: PyYAML words it
    "a: " + "[" * 99 + "]" * 99 + "\n",  # as deep as allowed
    "a: " + "[" * 100 + "]" * 100 + "\n",  # too deep: PyYAML finds where
]


@pytest.mark.parametrize("text", LIBYAML_CASES)
def test_libyaml_and_pyyaml_load_alike(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def outcome() -> object:
        try:
            return loads(text, "spec.yaml")
        except XflowError as error:
            return error.diagnostics

    fast = outcome()
    monkeypatch.setattr(source, "_CSafeLoader", None)
    assert outcome() == fast


def test_libyaml_composes_an_ordinary_spec() -> None:
    composed, root = source._fast_compose(NESTED)
    assert composed and root is not None
    assert source._fast_compose("a: !!str 1\n") == (False, None)
    assert source._fast_compose("a: " + "[" * 99 + "]" * 99 + "\n")[0]
    assert source._fast_compose("a: " + "[" * 100 + "]" * 100 + "\n") == (False, None)
