"""Hand-edit-like damage to real specs: loading never raises anything but XflowError, and every
diagnostic carries a catalogued code and a position inside the file.

The specs are the examples and golden specs. Edits are made on the data (a value replaced,
removed, duplicated or misspelt, a field added; then written out as YAML) and on the text (a
line dropped or repeated, characters inserted or removed), a few at a time.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import CATALOGUE, XflowError, sort_key
from xflow_perimeter.spec.source import loads

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted([*REPO.glob("examples/*/spec.yaml"), *REPO.glob("tests/golden/*/spec.yaml")])

# Values a hand edit might leave behind: wrong types, empty and odd strings, ARNs and actions
# where names belong, YAML-1.1 words, injection attempts.
ODD_VALUES: list[object] = [
    None,
    True,
    0,
    1,
    1.5,
    "",
    " ",
    "x",
    "x\n",
    "App",
    "a b",
    [],
    {},
    ["x"],
    [1, 1],
    {"a": 1},
    {"name": "x"},
    "arn:aws:iam::999999999999:role/app",
    "arn:aws:iam::999999999999:role/*",
    "arn:aws:s3:::bucket",
    "s3:GetObjectTags",
    "s3:ListAllMyBuckets",
    "read",
    "reed",
    "internet",
    "anonymous",
    "create",
    "vpc-0a1b2c3d",
    "vpce-0a1b2c3d",
    "rtb-0a1b2c3d",
    "000000000000",
    "us-east-9",
    "cloudtrail.amazonaws.com",
    "${var.x}",
    "%{ if true }",
]
FIELDS = [
    "xflow", "accounts", "networks", "buckets", "principals", "admins", "auditors", "flows", "assertions",
    "services", "account", "region", "vpc_id", "route_table_ids", "endpoint", "egress",
    "bypass_accepted", "workloads", "name", "arn", "principal", "network", "bucket", "access",
    "prefix", "service", "source_account", "source_arn", "key", "action", "expect", "identity",
    "prefx", "Bucket",
]  # fmt: skip
TEXT_INSERTS = [":", "-", " ", "  ", "\t", "\n", "[", "]", "{", "}", ",", "#", "&a", "*a", "!", "|",
                ">", "'", '"', "%", "@", "`", "?", "<<", "~", "\\", "\x00", "\x85", "\ufeff", "é",
                "0", "x", "s3:", "arn:"]  # fmt: skip


@cache
def loaded(path: Path) -> object:
    return loads(path.read_text(encoding="utf-8"), path.name).data


def nodes(data: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every node in ``data``, the root included."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += nodes(value, (*path, index))
    return found


def strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [*data, *(s for value in data.values() for s in strings(value))]
    if isinstance(data, list):
        return [s for value in data for s in strings(value)]
    return []


def get(data: object, path: tuple[str | int, ...]) -> object:
    for part in path:
        data = data[part]
    return data


@st.composite
def edited_data(draw: st.DrawFn) -> str:
    """A spec's data with one to three edits, as YAML text."""
    data = copy.deepcopy(loaded(draw(st.sampled_from(SPECS))))
    for _ in range(draw(st.integers(1, 3))):
        data = edit(draw, data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def edit(draw: st.DrawFn, data: object) -> object:
    path = draw(st.sampled_from(nodes(data)))
    node = get(data, path)
    replacements: list[object] = [*ODD_VALUES, *strings(data)]
    if isinstance(node, str) and node:
        at = draw(st.integers(0, len(node) - 1))
        replacements += [node[:at] + node[at + 1 :], node[:at] + "x" + node[at:], node.upper()]
    operation = draw(st.sampled_from(["replace", "remove", "add", "duplicate"]))
    if operation == "add" and isinstance(node, dict):
        node[draw(st.sampled_from(FIELDS))] = draw(st.sampled_from(replacements))
        return data
    if operation == "duplicate" and isinstance(node, list) and node:
        node.append(copy.deepcopy(node[draw(st.integers(0, len(node) - 1))]))
        return data
    if not path:
        return draw(st.sampled_from(replacements))
    parent, last = get(data, path[:-1]), path[-1]
    if operation == "remove":
        del parent[last]
    else:
        parent[last] = draw(st.sampled_from(replacements))
    return data


@st.composite
def edited_text(draw: st.DrawFn) -> str:
    """A spec's text with one to three line or character edits."""
    text = draw(st.sampled_from(SPECS)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["drop", "repeat", "insert", "cut"]))
        if operation == "drop":
            del lines[index]
        elif operation == "repeat":
            lines.insert(index, lines[index])
        else:
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            if operation == "insert":
                line = line[:at] + draw(st.sampled_from(TEXT_INSERTS)) + line[at:]
            else:
                line = line[:at] + line[at + draw(st.integers(1, 8)) :]
            lines[index] = line
        text = "".join(lines)
    return text


def check_diagnostics(path: Path, text: str) -> None:
    """Load the spec at ``path``; any failure must be diagnostics with a code and a span inside it."""
    try:
        load_spec(path)
    except XflowError as error:
        diagnostics = error.diagnostics
    else:
        return
    assert diagnostics, "an XflowError without diagnostics"
    lines = text.splitlines() or [""]
    for diagnostic in diagnostics:
        assert diagnostic.code in CATALOGUE, diagnostic
        span = diagnostic.span
        assert span is not None, diagnostic
        assert span.file == str(path), diagnostic
        at_end = text.endswith(("\n", "\r")) and (span.line, span.column) == (len(lines) + 1, 1)
        inside = 1 <= span.line <= len(lines) and 1 <= span.column <= len(lines[span.line - 1]) + 1
        assert inside or at_end, (diagnostic.render(), text)
    assert list(diagnostics) == sorted(diagnostics, key=sort_key)
    assert len(set(diagnostics)) == len(diagnostics), "a diagnostic is reported twice"


SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_there_are_specs_to_edit() -> None:
    assert len(SPECS) >= 4
    for path in SPECS:
        load_spec(path)


@SETTINGS
@given(text=edited_data())
def test_edited_data_gives_diagnostics_not_tracebacks(tmp_path: Path, text: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    check_diagnostics(path, text)


@SETTINGS
@given(text=edited_text())
def test_edited_text_gives_diagnostics_not_tracebacks(tmp_path: Path, text: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check_diagnostics(path, text)


@pytest.mark.parametrize("path", SPECS, ids=[p.parent.name for p in SPECS])
def test_every_single_node_removed_is_diagnosed(path: Path, tmp_path: Path) -> None:
    """Exhaustively, for each spec: every key or list item removed in turn."""
    data = loaded(path)
    target = tmp_path / "spec.yaml"
    for node in nodes(data)[1:]:
        mutated = copy.deepcopy(data)
        del get(mutated, node[:-1])[node[-1]]
        text = yaml.safe_dump(mutated, sort_keys=False)
        target.write_text(text, encoding="utf-8")
        check_diagnostics(target, text)
