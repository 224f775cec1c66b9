"""Stage 2: JSON Schema validation, every violation as a Diagnostic at its node."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from xflow_perimeter.diagnostics import Diagnostic, XflowError
from xflow_perimeter.spec.quickcheck import ecma as _ecma
from xflow_perimeter.spec.schema import _quick_check, _validator, schema, validate
from xflow_perimeter.spec.source import loads

REPO = Path(__file__).resolve().parents[2]

VALID = """\
xflow: 1
accounts: {data: "000000000000", workload: "999999999999"}
networks:
  app:
    account: workload
    region: ap-northeast-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718, rtb-0b1b2c3d4e5f60718]
    endpoint: create
buckets:
  reports: {name: chibayuki-test, account: data, region: ap-northeast-1}
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
  uploader: {arn: "arn:aws:iam::000000000000:user/Chibayuki"}
admins: ["arn:aws:iam::000000000000:role/BreakGlass"]
flows:
  - {principal: uploader, network: app, bucket: reports, access: write}
  - {principal: app-role, network: app, bucket: reports, access: read, prefix: exports/}
assertions:
  - principal: "arn:aws:iam::123456789012:user/intruder"
    network: app
    bucket: {name: intruder-bucket, account: "123456789012"}
    action: s3:PutObject
    expect: deny
"""


def diagnostics(text: str) -> tuple[Diagnostic, ...]:
    with pytest.raises(XflowError) as caught:
        validate(loads(text, "spec.yaml"))
    return caught.value.diagnostics


def found(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diagnostics(text) if d.span]


def edit(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def test_the_schema_is_packaged_valid_and_cached() -> None:
    loaded = schema()
    Draft202012Validator.check_schema(dict(loaded))
    assert schema() is loaded
    on_disk = json.loads((REPO / "schemas" / "xflow.schema.json").read_text(encoding="utf-8"))
    assert on_disk == loaded


def test_a_realistic_spec_is_valid() -> None:
    validate(loads(VALID, "spec.yaml"))


def test_optional_fields_may_be_left_out() -> None:
    text = edit("    endpoint: create\n", "").replace("admins:", "# admins:")
    validate(loads(text.split("assertions:")[0], "spec.yaml"))
    validate(loads(edit("access: write", "access: [read, list, s3:GetObjectTagging]"), "x.yaml"))
    validate(loads(edit("endpoint: create", "endpoint: vpce-0123456789abcdef0"), "x.yaml"))


def test_missing_field_is_xf101_at_the_object() -> None:
    text = edit("    vpc_id: vpc-0a1b2c3d4e5f60718\n", "")
    assert found(text) == [("XF101", 5, 5)]
    assert found(VALID.replace("xflow: 1\n", "")) == [("XF101", 1, 1)]


def test_unknown_field_is_xf102_at_its_key() -> None:
    text = edit("    region: ap-northeast-1\n", "    regoin: ap-northeast-1\n")
    assert found(text) == [("XF101", 5, 5), ("XF102", 6, 5)]
    text = edit("  - {principal: uploader,", "  - {principle: x, principal: uploader,")
    assert found(text) == [("XF102", 17, 6)]


def test_unknown_top_level_fields_are_each_reported() -> None:
    assert found(VALID + "extra: 1\nmore: {}\n") == [("XF102", 25, 1), ("XF102", 26, 1)]


def test_wrong_type_is_xf103() -> None:
    text = edit("[rtb-0a1b2c3d4e5f60718, rtb-0b1b2c3d4e5f60718]", "rtb-0a1b2c3d4e5f60718")
    assert found(text) == [("XF103", 8, 22)]
    assert found(edit("flows:\n", "flows: {}\nx_flows:\n")) == [("XF103", 16, 8), ("XF102", 17, 1)]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "~\n", "- a list\n", "a string\n"])
def test_a_document_that_is_not_a_mapping_is_xf103_at_1_1(text: str) -> None:
    assert found(text) == [("XF103", 1, 1)]


def test_unquoted_account_id_says_to_quote_it() -> None:
    text = edit('{data: "000000000000",', "{data: 000000000000,")
    (diagnostic,) = diagnostics(text)
    assert (diagnostic.code, diagnostic.span and diagnostic.span.line) == ("XF103", 2)
    assert diagnostic.span and diagnostic.span.column == 18
    assert "000000000000" in diagnostic.message and 'write "000000000000"' in diagnostic.message


def test_unquoted_yes_no_and_empty_values_are_xf103() -> None:
    text = edit("endpoint: create", "endpoint: no").replace("region: ap-northeast-1\n", "region:\n")
    assert found(text) == [("XF103", 6, 12), ("XF103", 9, 15)]


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        ("region: ap-northeast-1\n", "region: Tokyo\n", 6, 13),
        ("endpoint: create", "endpoint: make", 9, 15),
        ("xflow: 1", "xflow: 2", 1, 8),
        ("expect: deny", "expect: maybe", 24, 13),
        ("  app-role: {arn", "  App-Role: {arn", 13, 3),
        ("access: write", "access: reed", 17, 66),
        ("access: write", "access: [write, reed]", 17, 74),
        ("action: s3:PutObject", "action: PutObject", 23, 13),
    ],
)
def test_disallowed_values_are_xf104(old: str, new: str, line: int, column: int) -> None:
    assert found(edit(old, new)) == [("XF104", line, column)]


def test_any_of_reports_the_relevant_branch() -> None:
    (diagnostic,) = diagnostics(edit("access: write", "access: reed"))
    assert diagnostic.code == "XF104"
    assert "not valid under any" not in diagnostic.message
    text = edit('account: "123456789012"}', "account: 123456789012}")
    assert found(text) == [("XF103", 22, 46)]


def test_other_violations_are_xf105() -> None:
    text = edit("rtb-0b1b2c3d4e5f60718]", "rtb-0a1b2c3d4e5f60718]")
    assert found(text) == [("XF105", 8, 22)]
    assert found(edit("access: write", "access: []")) == [("XF105", 17, 66)]


def test_every_error_is_reported_in_one_raise_sorted_by_position() -> None:
    text = (
        VALID.replace('{data: "000000000000",', "{data: 000000000000,")
        .replace("    vpc_id: vpc-0a1b2c3d4e5f60718\n", "    vpc: vpc-0a1b2c3d4e5f60718\n")
        .replace("bucket: reports, access: write", "bucket: Reports, access: write")
        .replace("expect: deny", "expect: maybe")
    )
    assert found(text) == [
        ("XF103", 2, 18),
        ("XF101", 5, 5),
        ("XF102", 7, 5),
        ("XF104", 17, 49),
        ("XF104", 24, 13),
    ]
    assert diagnostics(text) == diagnostics(text)


INJECTIONS = ["${var.x}", 'a"b', "a\nb", "*", "ok\n", "%{ if true }"]
PLACES = {
    "bucket name": "name: chibayuki-test",
    "network name": "  app:\n",
    "account alias": "{data: ",
    "account id": '"999999999999"}',
    "vpc id": "vpc_id: vpc-0a1b2c3d4e5f60718",
    "route table id": "rtb-0b1b2c3d4e5f60718]",
    "flow principal": "principal: uploader",
    "flow prefix": "prefix: exports/",
    "principal arn": '"arn:aws:iam::999999999999:role/app"',
    "admin arn": '["arn:aws:iam::000000000000:role/BreakGlass"]',
}


def inject(place: str, value: str) -> str:
    quoted = json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar
    old = PLACES[place]
    if place == "network name":
        return edit(old, f"  {quoted}:\n")
    if place == "account alias":
        return edit(old, "{" + quoted + ": ")
    if place == "account id":
        return edit(old, quoted + "}")
    if place == "route table id":
        return edit(old, quoted + "]")
    if place in ("principal arn",):
        return edit(old, quoted)
    if place == "admin arn":
        return edit(old, f"[{quoted}]")
    field = old.split(":", 1)[0]
    return edit(old, f"{field}: {quoted}")


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("place", sorted(PLACES))
def test_injection_like_values_are_rejected_as_xf104(place: str, value: str) -> None:
    text = inject(place, value)
    line = VALID.splitlines().index(
        next(ln for ln in VALID.splitlines() if PLACES[place].strip() in ln)
    )
    reported = [(code, at) for code, at, _ in found(text)]
    schema_errors = [(code, at) for code, at in reported if code < "XF200"]
    assert schema_errors == [("XF104", line + 1)]
    # Semantic checks still run on the rest: a renamed alias leaves its references unknown.
    assert all(code == "XF201" for code, _ in reported if code >= "XF200"), reported


def test_patterns_match_as_ecma_262_does() -> None:
    assert _ecma("^a$").search("a")
    assert not _ecma("^a$").search("a\n")
    assert _ecma(r"^[$]\$$").search("$$")
    assert not _ecma(r"^\d$").search("\u0663")  # ECMA's \d is ASCII only


def _mutations(data: object) -> list[object]:
    """Copies of ``data`` with one value replaced, removed or duplicated, or one key added."""
    out: list[object] = []
    odd: list[object] = [None, True, 1, 1.0, 1.5, "", "x\n", "a b", [], {}, ["x"], [1], {"a": 1}]

    def walk(node: object, rebuild: Callable[[object], object]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                without = {k: v for k, v in node.items() if k != key}
                out.append(rebuild(without))
                out.append(rebuild({**node, f"{key}-x": value}))
                walk(value, lambda new, key=key: rebuild({**node, key: new}))
        elif isinstance(node, list):
            out.append(rebuild(node + node[:1]))
            for index, value in enumerate(node):
                walk(value, lambda new, i=index: rebuild([*node[:i], new, *node[i + 1 :]]))
        for value in odd:
            out.append(rebuild(value))
        if isinstance(node, str):
            out.append(rebuild(node + "\n"))
            out.append(rebuild(node + "$"))

    walk(data, lambda new: new)
    return out


def test_the_quick_check_accepts_only_what_jsonschema_accepts() -> None:
    validator = Draft202012Validator(schema())
    data = loads(VALID, "spec.yaml").data
    assert _quick_check()(data)
    checked = 0
    for mutated in _mutations(data):
        if _quick_check()(mutated):
            checked += 1
            assert not list(_validator().iter_errors(mutated)), mutated
    assert checked  # some mutations stay valid (e.g. a list item duplicated)
    assert validator.is_valid(data)


@pytest.mark.parametrize("path", sorted((REPO / "tests" / "invalid").glob("XF1*.yaml")))
def test_the_quick_check_refuses_every_schema_violation(path: Path) -> None:
    data = loads(path.read_text(encoding="utf-8"), path.name).data
    assert list(_validator().iter_errors(data))
    assert not _quick_check()(data)
