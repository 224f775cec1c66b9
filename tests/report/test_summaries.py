"""Lists built into verify's report lines: the text names their count and first items, without
cutting any prose; the JSON report has every item and follows its schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from xflow_perimeter.cli.main import main
from xflow_perimeter.prove.listing import Listed
from xflow_perimeter.report.text import SHOWN

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "verify-report.schema.json"

NETWORKS = 30
BUCKETS = 12


def test_a_listed_line_names_its_first_items_and_how_many_more() -> None:
    line = Listed("Networks", tuple(f"n{i}" for i in range(9)), "declare no egress.")
    assert line.render() == "Networks n0, n1, n2, n3, n4, n5, n6, n7, n8 declare no egress."
    assert line.render(3) == "Networks n0, n1, n2 and 6 more declare no egress."
    assert str(line) == line.render()
    short = Listed("admin A may manage", ("b1", "b2"), "")
    assert short.render(3) == "admin A may manage b1, b2" and not short.shortened(3)


def xflow(capsys: pytest.CaptureFixture[str], *argv: Path | str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def _many_networks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A spec of NETWORKS networks without declared egress and an admin of BUCKETS buckets."""
    networks = {
        f"net{i:02d}": {
            "account": "apps",
            "region": "eu-west-1",
            "vpc_id": f"vpc-{i:017x}",
            "route_table_ids": [f"rtb-{i:017x}"],
        }
        for i in range(NETWORKS)
    }
    buckets = {
        f"b{i:02d}": {"name": f"summary-lake-{i:02d}", "account": "data", "region": "eu-west-1"}
        for i in range(BUCKETS)
    }
    spec = {
        "xflow": 1,
        "accounts": {"data": "111111111111", "apps": "222222222222"},
        "networks": networks,
        "buckets": buckets,
        "principals": {"reader": {"arn": "arn:aws:iam::222222222222:role/reader"}},
        "admins": ["arn:aws:iam::111111111111:role/Admin"],
        "flows": [
            {"principal": "reader", "network": n, "bucket": f"b{i % BUCKETS:02d}", "access": "read"}
            for i, n in enumerate(networks)
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert xflow(capsys, "compile", path)[0] == 0
    return path


def test_long_lists_are_summarised_in_text_and_whole_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _many_networks(tmp_path, capsys)
    code, out = xflow(capsys, "verify", path)
    assert code == 0, out
    lines = out.splitlines()
    egress = [line for line in lines if "declare no egress" in line]
    assert egress == [
        "  - Networks net00, net01, net02, net03, net04 and 25 more declare no egress: no "
        "bypass is reported for them (XF508), but assertions and explain route their requests "
        "to other Regions through a gateway; declare egress: none, nat or internet to make this "
        "explicit."
    ]
    admin = [line for line in lines if "role/Admin may manage" in line]
    assert (
        len(admin) == 1 and f"summary-lake-0{SHOWN - 1} and {BUCKETS - SHOWN} more from" in admin[0]
    )
    assert admin[0].endswith("(exempt from the bucket policies' Denies)")
    assert "assumptions (long lists shortened; --format json lists every item):" in lines
    assert len(egress[0]) < 300 and len(admin[0]) < 300

    code, out = xflow(capsys, "verify", "--format", "json", path)
    assert code == 0
    report = json.loads(out)
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert not list(Draft202012Validator(schema).iter_errors(report))
    (assumption,) = [a for a in report["assumptions"] if "declare no egress" in a]
    names = ", ".join(f"net{i:02d}" for i in range(NETWORKS))
    assert assumption.startswith(f"Networks {names} declare no egress: no bypass")
    (exception,) = [e for e in report["exceptions"] if "role/Admin may manage" in e]
    assert ", ".join(f"summary-lake-{i:02d}" for i in range(BUCKETS)) in exception
    # Every other line is printed whole: no prose is cut.
    bullets = {line.removeprefix("  - ") for line in lines if line.startswith("  - ")}
    whole = [*report["assumptions"], *report["exceptions"]]
    assert {line for line in whole if line not in (assumption, exception)} <= bullets


def test_short_lists_are_printed_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _many_networks(tmp_path, capsys)
    spec = yaml.safe_load(path.read_text("utf-8"))
    for name in list(spec["networks"])[SHOWN:]:
        spec["networks"][name]["egress"] = "none"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert xflow(capsys, "compile", path)[0] == 0
    lines = xflow(capsys, "verify", path)[1].splitlines()
    assert (
        "  - Networks net00, net01, net02, net03, net04 declare no egress: no bypass"
        in "\n".join(lines)
    )
    assert "assumptions:" in lines
