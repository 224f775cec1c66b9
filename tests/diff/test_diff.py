"""xflow diff on copies of the data-platform example: a gained flow, a narrowed prefix, a hand
edit of an endpoint policy, a reordering, a refused side, and git revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from xflow_perimeter.api import compile_spec
from xflow_perimeter.cli.main import main
from xflow_perimeter.diff.engine import diff_sides
from xflow_perimeter.diff.markdown import render as markdown
from xflow_perimeter.diff.model import DiffReport, Direction, Layer
from xflow_perimeter.diff.sides import load_side

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "data-platform"
SCHEMA = json.loads((ROOT / "schemas" / "diff-report.schema.json").read_text())
ANALYST_RAW = (
    "  - {principal: analyst, network: analytics-vpc, bucket: raw, access: read, prefix: events/}\n"
)
ETL_CURATED = (
    "  - {principal: etl, network: lake-vpc, bucket: curated, access: [read, write, list]}\n"
)
ANALYST_DENY = """  - {principal: analyst, network: analytics-vpc, bucket: raw, key: events/2024/01/01.json,
     action: s3:GetObject, expect: deny}
"""


def _copy(tmp_path: Path, name: str, edit: tuple[str, str] | None = None) -> Path:
    target = tmp_path / name
    shutil.copytree(EXAMPLE, target)
    spec = target / "spec.yaml"
    if edit is not None:
        text = spec.read_text()
        assert edit[0] in text
        spec.write_text(text.replace(edit[0], edit[1], 1))
        compile_spec(spec)
    return spec


def _diff(old: Path, new: Path) -> DiffReport:
    return diff_sides(load_side("old", old, None), load_side("new", new, None))


def test_added_flow_is_one_gain(tmp_path: Path) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(
        tmp_path,
        "new",
        (ETL_CURATED + ANALYST_DENY.replace(ANALYST_DENY, ""), ETL_CURATED + ANALYST_RAW),
    )
    text = new.read_text().replace(ANALYST_DENY, "")
    new.write_text(text)
    compile_spec(new)
    report = _diff(old, new)
    combined = [e for e in report.entries if e.layer is Layer.COMBINED]
    assert len(combined) == 1
    (gain,) = combined
    assert gain.direction is Direction.GAINED
    assert "analyst" in gain.caller and gain.bucket.startswith("acme-lake-raw ")
    assert "s3:GetObject" in gain.actions
    assert gain.example.key is not None and gain.example.key.startswith("events/")
    assert not report.losses


def test_narrowed_prefix_is_a_loss(tmp_path: Path) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(
        tmp_path,
        "new",
        (
            "bucket: curated, access: [read, list], prefix: tables/}",
            "bucket: curated, access: [read, list], prefix: tables/finance/}",
        ),
    )
    report = _diff(old, new)
    assert report.losses and not report.gains
    loss = next(e for e in report.losses if e.layer is Layer.COMBINED)
    assert "analyst" in loss.caller
    assert loss.example.key is not None and loss.example.key.startswith("tables/")
    assert not loss.example.key.startswith("tables/finance/")


def test_hand_widened_endpoint_policy_is_an_endpoint_layer_gain(tmp_path: Path) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(tmp_path, "new")
    endpoints = new.parent / "terraform" / "analytics-eu-west-1" / "endpoints.tf"
    text = endpoints.read_text()
    widened = text.replace("acme-lake-curated/reports/published/*", "acme-lake-curated/*", 1)
    assert widened != text
    endpoints.write_text(widened)
    report = _diff(old, new)
    assert report.gains and not report.losses
    assert all(e.layer is Layer.ENDPOINT for e in report.gains)
    assert "widening of an endpoint policy" in markdown(report)


def test_reordering_changes_nothing(tmp_path: Path) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(tmp_path, "new")
    text = new.read_text()
    first = "  - {principal: collector, network: ingest-vpc, bucket: landing, access: [write, read, list]}\n"
    new.write_text(text.replace(first, "", 1).replace(ETL_CURATED, ETL_CURATED + first, 1))
    compile_spec(new)
    report = _diff(old, new)
    assert report.entries == () and report.declared == () and not report.changed
    assert main(["diff", str(old), str(new)]) == 0


def test_refused_side_is_not_diffed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(tmp_path, "new")
    policy = new.parent / "terraform" / "lake-eu-west-1" / "bucket_policies.tf"
    policy.write_text(policy.read_text().replace('"Deny"', '"Maybe"', 1))
    report = _diff(old, new)
    assert [r.side for r in report.refusals] == ["new"] and report.entries == ()
    assert main(["diff", str(old), str(new), "--format", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    assert document["refused"][0]["side"] == "new"


def test_json_is_valid_and_fail_on_gains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(
        tmp_path,
        "new",
        (
            "bucket: curated, access: [read, list], prefix: tables/}",
            "bucket: curated, access: [read, list], prefix: tables/finance/}",
        ),
    )
    assert main(["diff", str(old), str(new), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    assert document["changed"] and all(e["direction"] == "lost" for e in document["entries"])
    assert main(["diff", str(old), str(new), "--fail-on", "gains"]) == 0


def test_markdown_stays_under_the_limit(tmp_path: Path) -> None:
    old = _copy(tmp_path, "old")
    new = _copy(tmp_path, "new")
    endpoints = new.parent / "terraform" / "analytics-eu-west-1" / "endpoints.tf"
    endpoints.write_text(
        endpoints.read_text().replace(
            "acme-lake-curated/reports/published/*", "acme-lake-curated/*", 1
        )
    )
    report = _diff(old, new)
    full = markdown(report)
    assert "```mermaid" in full and "==>" in full
    assert "Changes between old and new" in full and "Flows declared by" not in full
    short = markdown(report, limit=2_500)
    assert (len(short) < 2_500 and "more changes are not shown" in short) or len(report.entries) < 3


def test_git_revisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _copy(tmp_path, "repo")
    repo = spec.parent

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x", *args],
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    spec.write_text(
        spec.read_text().replace(ANALYST_DENY, "").replace(ETL_CURATED, ETL_CURATED + ANALYST_RAW)
    )
    compile_spec(spec)
    assert main(["diff", str(spec), "--base", "HEAD"]) == 1
    assert "+1 flow" in capsys.readouterr().out
    git("commit", "-q", "-am", "head")
    assert main(["diff", str(spec), "--base", "HEAD~1", "--head", "HEAD"]) == 1
    assert main(["diff", str(spec), "--base", "HEAD"]) == 0
    assert main(["diff", str(spec), "--base", "no-such-rev"]) == 2


def test_gained_flow_is_not_repeated_for_plain_http(tmp_path: Path) -> None:
    """The endpoint lets the new flow through with or without TLS while the bucket policy still
    refuses plain HTTP: one combined gain, not also an endpoint-layer gain without TLS."""
    old = _copy(tmp_path, "old")
    new = _copy(tmp_path, "new")
    new.write_text(
        new.read_text().replace(ANALYST_DENY, "").replace(ETL_CURATED, ETL_CURATED + ANALYST_RAW)
    )
    compile_spec(new)
    report = _diff(old, new)
    assert [e.layer for e in report.entries] == [Layer.COMBINED]
    assert not report.entries[0].tls_only and report.entries[0].example.secure_transport


def test_plain_http_opened_in_the_bucket_policy_still_shows(tmp_path: Path) -> None:
    """Folding is exact: a bucket policy that stops refusing plain HTTP is still a difference of
    its own, while the endpoint keeps deciding alike."""
    old = _copy(tmp_path, "old")
    new = _copy(tmp_path, "new")
    policies = new.parent / "terraform" / "lake-eu-west-1" / "bucket_policies.tf"
    text = policies.read_text()
    insecure = 'Sid       = "DenyInsecureTransport"\n        Effect    = "Deny"\n        Principal = "*"\n        Action    = ["s3:*"]'
    assert insecure in text
    policies.write_text(text.replace(insecure, insecure.replace("s3:*", "s3:PutObject"), 1))
    report = _diff(old, new)
    assert report.gains and all(e.tls_only for e in report.gains)
