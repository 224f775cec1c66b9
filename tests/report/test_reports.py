"""Every report of every command validates against its schema in schemas/ (and SARIF against the
official SARIF 2.1.0 schema), and every location printed opens the right line from the cwd."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
SARIF_SCHEMA = Path(__file__).parent / "sarif" / "sarif-2.1.0-rtm.5.json"
EXAMPLE = REPO / "examples" / "data-platform"
LOCATION = re.compile(r"((?:[\w.-]+/)*[\w.-]+\.(?:tf|yaml)):(\d+):(\d+)")


def xflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xflow_perimeter", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def validate(document: Any, schema_file: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(document)
    ]
    assert not errors, errors


def validate_sarif(document: Any) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft7Validator(schema).iter_errors(document)
    ]
    assert not errors, errors


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A directory holding a pristine copy of the example (ok/) and a hand-edited one (edited/)."""
    shutil.copytree(EXAMPLE, tmp_path / "ok")
    shutil.copytree(EXAMPLE, tmp_path / "edited")
    endpoints = tmp_path / "edited" / "terraform" / "analytics-eu-west-1" / "endpoints.tf"
    text = endpoints.read_text("utf-8")
    widened = text.replace("acme-lake-curated/reports/published/*", "acme-lake-curated/reports/*")
    assert widened != text
    endpoints.write_text(widened, "utf-8")
    return tmp_path


def opens_right_line(cwd: Path, output: str) -> list[str]:
    """Every file:line:col in ``output``, checked to name a line of a file under ``cwd``."""
    seen = LOCATION.findall(output)
    assert seen, output
    for file, line, column in seen:
        lines = (cwd / file).read_text("utf-8").splitlines()
        assert 1 <= int(line) <= len(lines), (file, line)
        assert 1 <= int(column) <= len(lines[int(line) - 1]) + 1, (file, line, column)
    return [f for f, _, _ in seen]


def test_verify_locations_open_from_the_cwd(work: Path) -> None:
    run = xflow(work, "verify", "edited/spec.yaml")
    assert run.returncode == 1, run.stderr
    files = opens_right_line(work, run.stdout)
    assert all(f.startswith("edited/terraform/") for f in files), files
    endpoints = (work / files[0]).read_text("utf-8").splitlines()
    line = int(LOCATION.findall(run.stdout)[0][1])
    assert endpoints[line - 1].strip() == "{"  # the statement that decides opens there
    assert 'Sid       = "AllowCurated' in endpoints[line]


def test_spec_errors_and_terraform_errors_share_the_convention(work: Path) -> None:
    (work / "edited" / "terraform" / "analytics-eu-west-1" / "endpoints.tf").write_text(
        'resource "aws_vpc_endpoint" "x" {\n  policy = <<\n', "utf-8"
    )
    run = xflow(work / "edited", "verify", str(work / "edited" / "spec.yaml"))
    assert run.returncode == 2
    output = run.stdout + run.stderr
    assert "\nterraform/analytics-eu-west-1/endpoints.tf:" in "\n" + output, output
    opens_right_line(work / "edited", output)


def test_verify_json_follows_its_schema(work: Path) -> None:
    for example, code in (("ok", 0), ("edited", 1)):
        run = xflow(work, "verify", f"{example}/spec.yaml", "--format", "json")
        assert run.returncode == code, run.stderr
        report = json.loads(run.stdout)
        validate(report, "verify-report.schema.json")
    [finding] = report["findings"]
    assert finding["counterexample"]["principal"] == "arn:aws:iam::333333333333:role/dashboards"
    assert finding["counterexample"]["region"] == "eu-west-1"
    [decider] = finding["deciding"]
    assert decider["location"]["file"] == "edited/terraform/analytics-eu-west-1/endpoints.tf"
    assert finding["location"] == decider["location"]


def test_verify_sarif_is_valid_and_located_on_the_deciding_statement(work: Path) -> None:
    run = xflow(work, "verify", "edited/spec.yaml", "--format", "sarif")
    assert run.returncode == 1, run.stderr
    log = json.loads(run.stdout)
    validate_sarif(log)
    [result] = log["runs"][0]["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {
        "uri": "edited/terraform/analytics-eu-west-1/endpoints.tf",
        "uriBaseId": "SRCROOT",
    }
    base = log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base == work.resolve().as_uri() + "/"  # no repository: the cwd
    [rule] = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == result["ruleId"] == "XF503" and rule["fullDescription"]["text"]


def test_sarif_paths_are_relative_to_the_repository_root(work: Path) -> None:
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    run = xflow(work / "edited", "verify", "spec.yaml", "--format", "sarif")
    log = json.loads(run.stdout)
    validate_sarif(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "edited/terraform/analytics-eu-west-1/endpoints.tf"


def test_compile_check_reports(work: Path) -> None:
    for example, code in (("ok", 0), ("edited", 1)):
        run = xflow(work, "compile", "--check", f"{example}/spec.yaml", "--format", "json")
        assert run.returncode == code, run.stderr
        validate(json.loads(run.stdout), "compile-check.schema.json")
        run = xflow(work, "compile", "--check", f"{example}/spec.yaml", "--format", "sarif")
        assert run.returncode == code, run.stderr
        validate_sarif(json.loads(run.stdout))
    results = json.loads(run.stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["XF701"]
    diff = xflow(work, "compile", "--diff", "edited/spec.yaml")
    assert diff.stdout.startswith("--- a/edited/terraform/analytics-eu-west-1/endpoints.tf\n")
    patch = subprocess.run(
        ["git", "apply", "--check", "-"],
        input=diff.stdout,
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert patch.returncode == 0, patch.stderr


def test_explain_reports_and_expectations(work: Path) -> None:
    ask = [
        "explain",
        "edited/spec.yaml",
        "--principal",
        "dashboards",
        "--network",
        "analytics-vpc",
        "--bucket",
        "acme-lake-curated",
        "--key",
        "reports/x",
        "--action",
        "s3:GetObject",
    ]
    run = xflow(work, *ask, "--format", "json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    validate(answer, "explain-result.schema.json")
    assert answer["decision"] == "deny"
    assert answer["fields"]["principal"] == "arn:aws:iam::333333333333:role/dashboards"
    assert answer["deciding"][0]["location"]["file"].startswith("edited/terraform/")
    assert xflow(work, *ask, "--expect", "deny").returncode == 0
    unexpected = xflow(work, *ask, "--expect", "allow")
    assert unexpected.returncode == 1
    opens_right_line(work, unexpected.stdout)
    lines = (
        '{"principal": "analyst", "network": "analytics-vpc", "bucket": "acme-lake-curated",'
        ' "key": "tables/t", "action": "s3:GetObject"}\n'
        '{"bucket": "acme-lake-curated", "action": "s3:GetObjectTags"}\n'
    )
    (work / "batch.jsonl").write_text(lines, "utf-8")
    batch = xflow(work, "explain", "edited/spec.yaml", "--requests", "batch.jsonl")
    assert batch.returncode == 2  # a line could not be answered
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    for item in answers:
        validate(item, "explain-result.schema.json")
    assert [a["decision"] for a in answers] == ["allow", "error"]
