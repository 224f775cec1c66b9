"""Messages that say the fix, and every error of a spec in one run.

Tests match codes and positions; where a message carries a fix (a name to write, a field to add
or remove, an entry to declare), the fix itself is checked, most often by applying it and
loading the spec again.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import Diagnostic, XflowError
from xflow_perimeter.spec import build, hints
from xflow_perimeter.spec.references import Section
from xflow_perimeter.spec.schema import _quick_check, schema
from xflow_perimeter.spec.source import loads

SPEC = """\
xflow: 1
accounts: {data: "000000000000", workload: "999999999999"}
networks:
  app:
    account: workload
    region: ap-northeast-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
    egress: none
buckets:
  reports: {name: chibayuki-test, account: data, region: ap-northeast-1}
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
services:
  trail: {service: cloudtrail.amazonaws.com, source_account: data}
admins: ["arn:aws:iam::000000000000:role/BreakGlass"]
flows:
  - {principal: app-role, network: app, bucket: reports, access: read}
  - {service: trail, bucket: reports, access: write, prefix: AWSLogs/}
assertions:
  - {principal: app-role, network: app, bucket: reports, action: s3:GetObject, expect: allow}
"""
FLOW = "  - {principal: app-role, network: app, bucket: reports, access: read}\n"
SERVICE_FLOW = "  - {service: trail, bucket: reports, access: write, prefix: AWSLogs/}\n"
ASSERTION = "action: s3:GetObject, expect: allow}"


def edit(old: str, new: str, text: str = SPEC) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def errors(text: str, tmp_path: Path) -> list[Diagnostic]:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(XflowError) as caught:
        load_spec(path)
    return list(caught.value.diagnostics)


def loads_cleanly(text: str, tmp_path: Path) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text(text, encoding="utf-8")
    load_spec(path)


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def suggested(message: str) -> str:
    match = re.search(r"did you mean '([^']+)'\?", message)
    assert match, message
    return match.group(1)


def test_the_spec_used_here_is_valid(tmp_path: Path) -> None:
    loads_cleanly(SPEC, tmp_path)


# Did you mean --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "wrong", "code"),
    [
        ("access: read}", "s3:GetObjectTags", "XF208"),
        ("access: read}", "s3:getobjecttagz", "XF208"),
        ("action: s3:GetObject,", "s3:GetObjectTags", "XF212"),
    ],
)
def test_an_unknown_s3_action_suggests_the_closest_one(
    old: str, wrong: str, code: str, tmp_path: Path
) -> None:
    text = edit(old, old.replace("read" if code == "XF208" else "s3:GetObject", wrong))
    [diagnostic] = errors(text, tmp_path)
    assert diagnostic.code == code
    assert suggested(diagnostic.message) == "s3:GetObjectTagging"
    loads_cleanly(text.replace(wrong, suggested(diagnostic.message)), tmp_path)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    account: workload\n", "    account: worklod\n"),
        ("network: app, bucket: reports, access: read}", "network: ap, bucket: reports, access: read}"),
        ("network: app, bucket: reports, access: read}", "network: app, bucket: report, access: read}"),
        ("{principal: app-role, network: app, bucket: reports, access: read}",
         "{principal: app-rol, network: app, bucket: reports, access: read}"),
        ("{service: trail,", "{service: trial,"),
        ("{principal: app-role, network: app, bucket: reports, action",
         "{principal: app-roles, network: app, bucket: reports, action"),
        ('admins: ["arn:aws:iam::000000000000:role/BreakGlass"]', "admins: [app_role]"),
    ],
)  # fmt: skip
def test_an_unknown_name_suggests_the_closest_declared_one(
    old: str, new: str, tmp_path: Path
) -> None:
    text = edit(old, new)
    [diagnostic] = errors(text, tmp_path)
    assert (diagnostic.code, diagnostic.span and diagnostic.span.line) == (
        "XF201",
        line_of(text, new.strip().split("\n")[0]),
    )
    wrong = re.search(r"unknown \w+ '([^']+)'", diagnostic.message)
    assert wrong, diagnostic.message
    fixed = new.replace(wrong.group(1), suggested(diagnostic.message), 1)
    loads_cleanly(edit(old, fixed), tmp_path)


def test_a_long_list_of_known_names_is_cut_short() -> None:
    section = Section("bucket", frozenset(f"bucket-{n:03}" for n in range(25)))
    message = section.problem("zzz")
    assert message == (
        "unknown bucket 'zzz' (known: "
        + ", ".join(f"bucket-{n:03}" for n in range(10))
        + " and 15 more)"
    )


def test_an_unknown_name_with_nothing_close_lists_the_known_ones(tmp_path: Path) -> None:
    [diagnostic] = errors(
        edit("bucket: reports, access: read}", "bucket: zzz, access: read}"), tmp_path
    )
    assert diagnostic.code == "XF201" and "did you mean" not in diagnostic.message
    assert "reports" in diagnostic.message


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("bucket: reports, access: read}", "bucket: chibayuki-test, access: read}", "reports"),
        ("network: app, bucket: reports, access: read}",
         "network: vpc-0a1b2c3d4e5f60718, bucket: reports, access: read}", "app"),
    ],
)  # fmt: skip
def test_a_bucket_or_network_named_by_its_aws_identifier_gets_its_spec_name(
    old: str, new: str, name: str, tmp_path: Path
) -> None:
    [diagnostic] = errors(edit(old, new), tmp_path)
    assert diagnostic.code == "XF201"
    assert f"write {name!r}" in diagnostic.message


def test_a_misspelt_region_suggests_a_region(tmp_path: Path) -> None:
    found = errors(edit("region: ap-northeast-1\n", "region: ap-northeast-9\n"), tmp_path)
    [diagnostic] = [d for d in found if d.code == "XF205"]
    assert suggested(diagnostic.message).startswith("ap-northeast-")


@pytest.mark.parametrize(
    ("old", "new", "fix"),
    [
        ("egress: none", "egress: nats", "nat"),
        ("expect: allow}", "expect: alow}", "allow"),
        ("access: read}", "access: GetObject}", "s3:GetObject"),
        ("access: read}", "access: [reed, list]}", "read"),
        (ASSERTION, "action: GetObject, expect: allow}", "s3:GetObject"),
    ],
)
def test_a_refused_keyword_suggests_the_allowed_one(
    old: str, new: str, fix: str, tmp_path: Path
) -> None:
    [diagnostic] = errors(edit(old, new), tmp_path)
    assert diagnostic.code == "XF104"
    assert suggested(diagnostic.message) == fix


def test_an_access_level_in_capitals_says_levels_are_lower_case(tmp_path: Path) -> None:
    [diagnostic] = errors(edit("access: read}", "access: READ}"), tmp_path)
    assert diagnostic.code == "XF104" and "'read'" in diagnostic.message


def test_every_refused_item_of_an_access_list_is_reported(tmp_path: Path) -> None:
    text = edit("access: read}", "access: [Read, GetObject, list]}")
    found = [(d.code, d.span and d.span.column) for d in errors(text, tmp_path)]
    line = text.splitlines()[line_of(text, "GetObject") - 1]
    assert found == [("XF104", line.index("Read") + 1), ("XF104", line.index("GetObject") + 1)]


# XF213: the flow's shape ---------------------------------------------------------------------------

SHAPES = {
    frozenset(): ("add", {"principal", "network", "service"}),
    frozenset({"principal"}): ("add", {"network"}),
    frozenset({"network"}): ("add", {"principal"}),
    frozenset({"service", "network"}): ("remove", {"network"}),
    frozenset({"service", "principal"}): ("remove", {"principal", "service", "network"}),
    frozenset({"service", "principal", "network"}): ("remove", {"service", "principal", "network"}),
}
VALUES = {"principal": "app-role", "network": "app", "service": "trail"}


def flow_with(fields: frozenset[str]) -> str:
    named = ", ".join(f"{field}: {VALUES[field]}" for field in sorted(fields))
    return "  - {" + (named + ", " if named else "") + "bucket: reports, access: read}\n"


@pytest.mark.parametrize(
    "fields", [frozenset(c) for n in range(4) for c in itertools.combinations(sorted(VALUES), n)]
)
def test_xf213_names_the_fields_to_add_or_remove_once_per_flow(
    fields: frozenset[str], tmp_path: Path
) -> None:
    text = edit(FLOW, flow_with(fields))
    if fields in ({"principal", "network"}, {"service"}):
        loads_cleanly(text, tmp_path)
        return
    [diagnostic] = errors(text, tmp_path)
    assert diagnostic.code == "XF213"
    assert diagnostic.span and diagnostic.span.line == line_of(text, flow_with(fields).strip())
    verb, named = SHAPES[fields]
    assert verb in diagnostic.message
    for field in named:
        assert f"'{field}'" in diagnostic.message
    for field in set(VALUES) - named:
        assert f"'{field}'" not in diagnostic.message


def test_xf213_comes_from_the_schema_beside_other_schema_errors(tmp_path: Path) -> None:
    text = edit(FLOW, "  - {principal: app-role, bucket: reports, access: reed}\n")
    assert sorted(d.code for d in errors(text, tmp_path)) == ["XF104", "XF213"]


def test_the_builder_alone_still_refuses_a_flow_of_the_wrong_shape() -> None:
    """build.build without the schema stage (as a library caller may use it) reports XF213."""
    text = edit(FLOW, "  - {principal: app-role, service: trail, bucket: reports, access: read}\n")
    with pytest.raises(XflowError) as caught:
        build.build(loads(text, "spec.yaml"))
    assert [d.code for d in caught.value.diagnostics] == ["XF213"]


@pytest.mark.parametrize(
    "fields", [frozenset(c) for n in range(4) for c in itertools.combinations(sorted(VALUES), n)]
)
def test_the_schema_alone_flags_the_flow_shape_for_editors(fields: frozenset[str]) -> None:
    """What an editor sees: plain JSON Schema validation, with no xflow code involved."""
    data = loads(edit(FLOW, flow_with(fields)), "spec.yaml").data
    valid = fields in ({"principal", "network"}, {"service"})
    assert Draft202012Validator(dict(schema())).is_valid(data) is valid
    assert _quick_check()(data) is valid


# An IAM ARN where a flow names a principal -------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:iam::999999999999:role/loader", "loader"),
        ("arn:aws:iam::999999999999:role/jobs/Batch.Loader", "batch-loader"),
        ("arn:aws:iam::000000000000:user/Chibayuki", "chibayuki"),
        ("arn:aws:iam::999999999999:role/app-role", "app-role-2"),  # the name is taken
        ("arn:aws:iam::999999999999:role/2024_job", "role-2024_job"),
        ("arn:aws:iam::999999999999:root", "root-999999999999"),
    ],
)
def test_an_arn_in_a_flow_suggests_the_principals_entry_to_add(
    arn: str, name: str, tmp_path: Path
) -> None:
    text = edit(FLOW, FLOW.replace("principal: app-role", f'principal: "{arn}"'))
    [diagnostic] = errors(text, tmp_path)
    assert diagnostic.code == "XF104"
    entry = re.search(r"principals: \((.+)\) and write principal: (\S+)$", diagnostic.message)
    assert entry, diagnostic.message
    assert entry.group(2) == name and entry.group(1).startswith(f"{name}: ")
    fixed = edit("principals:\n", f"principals:\n  {entry.group(1)}\n", text)
    loads_cleanly(fixed.replace(f'principal: "{arn}"', f"principal: {name}"), tmp_path)


def test_an_arn_already_declared_suggests_its_name(tmp_path: Path) -> None:
    arn = "arn:aws:iam::999999999999:role/app"
    text = edit(FLOW, FLOW.replace("principal: app-role", f'principal: "{arn}"'))
    [diagnostic] = errors(text, tmp_path)
    assert diagnostic.code == "XF104"
    assert diagnostic.message.endswith(
        "write principal: app-role (principals.app-role has this ARN)"
    )


def test_names_derived_from_arns_are_valid_spec_names() -> None:
    pattern = re.compile(r"[a-z][a-z0-9_-]{0,62}")
    for last in ["A", "a.b", "-x", "_", "9", "x" * 100, "Ab+C=D,E@F", "a--b"]:
        arn = f"arn:aws:iam::999999999999:user/{last}"
        assert pattern.fullmatch(hints.name_for_arn(arn)), last
    assert hints.name_for_arn("arn:aws:iam::999999999999:role/x", {"x", "x-2"}) == "x-3"
    with pytest.raises(ValueError):
        hints.name_for_arn("arn:aws:s3:::bucket")


# Every error in one run ----------------------------------------------------------------------------


def test_schema_and_semantic_errors_are_reported_together_sorted(tmp_path: Path) -> None:
    text = edit("    egress: none\n", "    egress: nats\n")  # schema: refuses network app
    text = edit("region: ap-northeast-1}", "region: ap-northeast-9}", text)  # semantic
    text = edit(SERVICE_FLOW, "  - {service: trial, bucket: reports, access: write}\n", text)
    found = [(d.code, d.span and d.span.line) for d in errors(text, tmp_path)]
    assert found == [
        ("XF104", line_of(text, "egress: nats")),
        ("XF205", line_of(text, "ap-northeast-9")),
        ("XF201", line_of(text, "service: trial")),
    ]


def test_references_to_refused_entries_are_not_reported_again(tmp_path: Path) -> None:
    """The flow and the assertion name network app, which the schema refused: one error, not three."""
    text = edit("    egress: none\n", "    egress: nats\n")
    assert [d.code for d in errors(text, tmp_path)] == ["XF104"]
    text = edit("  app:\n", "  App:\n")  # a name the schema refuses; `app` is plainly meant
    assert [d.code for d in errors(text, tmp_path)] == ["XF104"]
    text = edit('data: "000000000000"', 'data: "0000"')  # an alias whose id is refused
    assert [d.code for d in errors(text, tmp_path)] == ["XF104"]


def test_a_missing_required_section_is_reported_once(tmp_path: Path) -> None:
    text = edit(
        "buckets:\n  reports: {name: chibayuki-test, account: data, region: ap-northeast-1}\n", ""
    )
    assert [d.code for d in errors(text, tmp_path)] == ["XF101"]


def test_a_refused_entry_is_skipped_but_its_neighbours_are_checked(tmp_path: Path) -> None:
    """A flow with an unknown field is refused whole; the next flow's unknown bucket is found."""
    text = edit(
        FLOW,
        FLOW.replace("access: read}", "access: read, prefx: a/}")
        + FLOW.replace("bucket: reports", "bucket: nope"),
    )
    found = [(d.code, d.span and d.span.line) for d in errors(text, tmp_path)]
    assert found == [("XF102", line_of(text, "prefx")), ("XF201", line_of(text, "nope"))]


def test_a_duplicate_of_a_refused_flow_is_not_a_duplicate(tmp_path: Path) -> None:
    text = edit(FLOW, FLOW + FLOW.replace("access: read}", "access: read, extra: 1}"))
    assert [d.code for d in errors(text, tmp_path)] == ["XF102"]
