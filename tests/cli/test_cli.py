"""The command line: compile's write-back modes, the output directory's rules, verify and explain."""

from __future__ import annotations

import dataclasses
import gc
import importlib
import json
import re
import sys
from pathlib import Path

import pytest

from xflow_perimeter import __version__
from xflow_perimeter.cli.main import COMMANDS, main, main_and_exit
from xflow_perimeter.diagnostics import Diagnostic, Severity, Span
from xflow_perimeter.prove import verify as verify_module
from xflow_perimeter.report.locations import display_path
from xflow_perimeter.terraform import perimeter as perimeter_module
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import TfTree

REPO = Path(__file__).resolve().parents[2]
CROSS_ACCOUNT = REPO / "examples" / "cross-account" / "spec.yaml"

# Two networks in two accounts, so that each has its own module directory.
SPEC = """\
xflow: 1
accounts:
  data: "000000000000"
  app: "999999999999"
  batch: "888888888888"
networks:
  app:
    account: app
    region: ap-northeast-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
  batch:
    account: batch
    region: ap-northeast-1
    vpc_id: vpc-0b1b2c3d4e5f60718
    route_table_ids: [rtb-0b1b2c3d4e5f60718]
buckets:
  reports: {name: cli-test-reports, account: data, region: ap-northeast-1}
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
  batch-role: {arn: "arn:aws:iam::888888888888:role/batch"}
flows:
  - {principal: app-role, network: app, bucket: reports, access: [read, list], prefix: exports/}
  - {principal: batch-role, network: batch, bucket: reports, access: write, prefix: incoming/}
"""

FILES = {
    "app-ap-northeast-1/endpoints.tf",
    "app-ap-northeast-1/outputs.tf",
    "app-ap-northeast-1/versions.tf",
    "batch-ap-northeast-1/endpoints.tf",
    "batch-ap-northeast-1/outputs.tf",
    "batch-ap-northeast-1/versions.tf",
    "data-ap-northeast-1/bucket_policies.tf",
    "data-ap-northeast-1/versions.tf",
    # Each module directory's ownership manifest.
    "app-ap-northeast-1/xflow-module.json",
    "batch-ap-northeast-1/xflow-module.json",
    "data-ap-northeast-1/xflow-module.json",
}

WITHOUT_BATCH = (
    SPEC.replace(
        "  batch:\n    account: batch\n    region: ap-northeast-1\n"
        "    vpc_id: vpc-0b1b2c3d4e5f60718\n    route_table_ids: [rtb-0b1b2c3d4e5f60718]\n",
        "",
    )
    .replace('  batch-role: {arn: "arn:aws:iam::888888888888:role/batch"}\n', "")
    .replace(
        "  - {principal: batch-role, network: batch, bucket: reports, access: write, "
        "prefix: incoming/}\n",
        "",
    )
)

DIAGNOSTIC = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error (?P<code>XF\d{3}): \S")


def snapshot(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def compile_fast(capsys: pytest.CaptureFixture[str], spec: Path, out: Path) -> None:
    code, _, err = run(capsys, "compile", str(spec), "-o", str(out), "--fast")
    assert code == 0, err


# compile ------------------------------------------------------------------------------------------


def test_compile_writes_every_file_and_prints_it(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    code, stdout, _ = run(capsys, "compile", spec, "-o", out)
    assert code == 0
    assert set(snapshot(out)) == FILES
    for relative in FILES:
        assert f"create {out / relative}" in stdout
    assert stdout.splitlines()[-1] == f"xflow: {len(FILES)} files in {out}, {len(FILES)} changed"
    # Nothing to do the second time.
    code, stdout, _ = run(capsys, "compile", spec, "-o", out)
    assert code == 0
    assert stdout.splitlines() == [f"xflow: {len(FILES)} files in {out}, 0 changed"]


def test_compile_defaults_to_terraform_beside_the_spec(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)  # not the spec's folder
    code, _, err = run(capsys, "compile", spec, "--fast")
    assert code == 0, err
    assert set(snapshot(tmp_path / "terraform")) == FILES


def test_check_lists_missing_files_and_writes_nothing(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    code, stdout, err = run(capsys, "compile", spec, "-o", out, "--check")
    assert code == 1
    assert stdout == ""
    for relative in FILES:
        assert f"missing: {out / relative}" in err
    assert f"{len(FILES)} files out of date" in err
    assert not out.exists()


def test_check_lists_stale_and_extra_files_and_changes_nothing(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    compile_fast(capsys, spec, out)
    stale = out / "data-ap-northeast-1" / "bucket_policies.tf"
    stale.write_text(stale.read_text(encoding="utf-8").replace("exports/", "export/"), "utf-8")
    removed = out / "app-ap-northeast-1" / "outputs.tf"
    removed.unlink()
    extra = out / "old-ap-northeast-1" / "endpoints.tf"
    extra.parent.mkdir()
    extra.write_text("// Code generated by xflow from spec.yaml. DO NOT EDIT.\n", "utf-8")
    manifest = '{"files": ["endpoints.tf"], "spec": "../../spec.yaml", "xflow": 1}\n'
    (extra.parent / "xflow-module.json").write_text(manifest, "utf-8")
    before = snapshot(out)
    code, stdout, err = run(capsys, "compile", spec, "-o", out, "--check")
    assert code == 1
    assert stdout == ""
    assert f"stale: {stale}" in err
    assert f"missing: {removed}" in err
    assert f"no longer generated: {extra}" in err
    assert f"no longer generated: {extra.parent / 'xflow-module.json'}" in err
    assert "4 files out of date" in err
    assert snapshot(out) == before
    # Up to date again after compiling.
    compile_fast(capsys, spec, out)
    code, _, err = run(capsys, "compile", spec, "-o", out, "--check")
    assert code == 0
    assert "is up to date" in err
    assert not extra.parent.exists()


def test_diff_prints_a_unified_diff_and_writes_nothing(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    compile_fast(capsys, spec, out)
    target = out / "data-ap-northeast-1" / "bucket_policies.tf"
    edited = target.read_text(encoding="utf-8").replace("exports/", "export/")
    target.write_text(edited, "utf-8")
    before = snapshot(out)
    code, stdout, err = run(capsys, "compile", spec, "-o", out, "--diff")
    assert code == 1
    assert "--- a/data-ap-northeast-1/bucket_policies.tf\n" in stdout
    assert "+++ b/data-ap-northeast-1/bucket_policies.tf\n" in stdout
    assert re.search(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", stdout, re.M)
    assert re.search(r'^-.*"arn:aws:s3:::cli-test-reports/export/\*"', stdout, re.M)
    assert re.search(r'^\+.*"arn:aws:s3:::cli-test-reports/exports/\*"', stdout, re.M)
    assert f"stale: {target}" in err
    assert snapshot(out) == before
    # Up to date: no diff, exit 0.
    compile_fast(capsys, spec, out)
    code, stdout, _ = run(capsys, "compile", spec, "-o", out, "--diff")
    assert (code, stdout) == (0, "")


def test_diff_against_a_missing_output_shows_new_files(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    code, stdout, _ = run(capsys, "compile", spec, "-o", out, "--diff")
    assert code == 1
    for relative in FILES:
        assert f"--- /dev/null\n+++ b/{relative}\n" in stdout
    assert not out.exists()


def test_files_the_spec_no_longer_produces_are_deleted(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    compile_fast(capsys, spec, out)
    kept = {k: v for k, v in snapshot(out).items() if not k.startswith("batch-")}
    spec.write_text(WITHOUT_BATCH, encoding="utf-8")
    code, stdout, err = run(capsys, "compile", spec, "-o", out)
    assert code == 0, err
    for relative in FILES:
        if relative.startswith("batch-"):
            assert f"delete {out / relative}" in stdout
    after = snapshot(out)
    assert set(after) == {k for k in FILES if not k.startswith("batch-")}
    assert not (out / "batch-ap-northeast-1").exists()
    # The endpoint of the remaining network is unchanged; the bucket policy lost the batch flow.
    assert after["app-ap-northeast-1/endpoints.tf"] == kept["app-ap-northeast-1/endpoints.tf"]
    assert b"role/batch" not in after["data-ap-northeast-1/bucket_policies.tf"]


def test_files_xflow_did_not_generate_are_never_touched(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    foreign = {
        "main.tf": b'# hand-written\nprovider "aws" {}\n',
        "README.md": b"notes\n",
        "batch-ap-northeast-1/extra.tf": b'resource "null_resource" "x" {}\n',
        "app-ap-northeast-1/notes.tf": b"// Code generated by someone else. DO NOT EDIT.\n",
    }
    for relative, data in foreign.items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(data)
    compile_fast(capsys, spec, out)
    spec.write_text(WITHOUT_BATCH, encoding="utf-8")
    compile_fast(capsys, spec, out)
    after = snapshot(out)
    for relative, data in foreign.items():
        assert after.get(relative) == data, relative
    # The batch module's own files went; its folder stays for the foreign file.
    assert {k for k in after if k.startswith("batch-")} == {"batch-ap-northeast-1/extra.tf"}


def test_a_foreign_file_where_xflow_would_write_is_refused(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    blocker = out / "data-ap-northeast-1" / "versions.tf"
    blocker.parent.mkdir(parents=True)
    blocker.write_text('terraform {\n  required_version = ">= 1.0"\n}\n', "utf-8")
    before = snapshot(out)
    code, stdout, err = run(capsys, "compile", spec, "-o", out)
    assert code == 2
    assert "XF302" in err
    assert str(blocker) in err
    assert "Traceback" not in err
    assert "create " not in stdout
    assert snapshot(out) == before
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "data-ap-northeast-1",
        "data-ap-northeast-1/versions.tf",
    ]


def test_a_file_where_xflow_needs_a_folder_is_refused_before_writing(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    out.mkdir()
    blocker = out / "data-ap-northeast-1"  # the data module's folder, as a file
    blocker.write_text("not a folder\n", "utf-8")
    code, _, err = run(capsys, "compile", spec, "-o", out, "--fast")
    assert code == 2
    assert "XF302" in err and "Traceback" not in err
    # Nothing at all was written: not even the other modules' (empty) folders.
    assert sorted(p.name for p in out.iterdir()) == ["data-ap-northeast-1"]
    assert blocker.read_text("utf-8") == "not a folder\n"


def test_check_of_an_output_path_that_is_a_file_is_refused(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    out.write_text("a file\n", "utf-8")
    for mode in ("--check", "--diff", "--fast"):
        code, _, err = run(capsys, "compile", spec, "-o", out, mode)
        assert (code, "XF302" in err) == (2, True), (mode, err)
        assert out.read_text("utf-8") == "a file\n"


def test_an_invalid_spec_leaves_the_previous_output_alone(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    compile_fast(capsys, spec, out)
    before = snapshot(out)
    spec.write_text(SPEC.replace("bucket: reports, access: write", "bucket: report, access: write"))
    for extra in ((), ("--fast",), ("--check",), ("--diff",)):
        code, stdout, err = run(capsys, "compile", spec, "-o", out, *extra)
        assert code == 2, extra
        assert "XF201" in err
        assert stdout == ""
        assert snapshot(out) == before
    fresh = tmp_path / "fresh"
    code, _, _ = run(capsys, "compile", spec, "-o", fresh)
    assert code == 2
    assert not fresh.exists()
    assert not (tmp_path / "terraform").exists()


def test_each_subcommand_is_a_module_that_registers_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert COMMANDS == ("compile", "verify", "explain", "graph", "audit", "diff")
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    assert "{compile,verify,explain,graph,audit,diff}" in usage
    for name in COMMANDS:
        module = importlib.import_module(f"xflow_perimeter.cli.{name}")
        assert callable(module.add_parser) and callable(module.run)
        with pytest.raises(SystemExit):
            main([name, "--help"])  # only this command is registered: its help, its usage
        assert capsys.readouterr().out.startswith(f"usage: xflow {name} ")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"xflow {__version__} (xflow-perimeter)"


@pytest.mark.parametrize(
    ("old", "new", "code", "line"),
    [
        # An adopted endpoint in a Region that does not exist.
        (
            "    region: ap-northeast-1\n    vpc_id: vpc-0a1b2c3d4e5f60718\n"
            "    route_table_ids: [rtb-0a1b2c3d4e5f60718]\n",
            "    region: ap-nowhere-9\n    vpc_id: vpc-0a1b2c3d4e5f60718\n"
            "    route_table_ids: [rtb-0a1b2c3d4e5f60718]\n    endpoint: vpce-0a1b2c3d\n",
            "XF205",
            9,
        ),
        ('  batch: "888888888888"\n', "  batch: 888888888888\n", "XF103", 5),
        ("    vpc_id: vpc-0b1b2c3d4e5f60718\n", "    vpc: vpc-0b1b2c3d4e5f60718\n", "XF102", 15),
        ("flows:\n", "flows: [\n", "XF002", 23),
        ("  reports: {name: cli-test-reports,", "  reports: {name: cli..reports,", "XF203", 18),
    ],
    ids=["unknown-region", "unquoted-account", "unknown-field", "yaml-syntax", "bucket-name"],
)
def test_an_invalid_spec_is_reported_as_file_line_column(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    code: str,
    line: int,
) -> None:
    assert SPEC.count(old) == 1
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace(old, new), encoding="utf-8")
    out = tmp_path / "tf"
    exit_code, stdout, err = run(capsys, "compile", spec, "-o", out)
    assert exit_code == 2
    assert stdout == ""
    assert "Traceback" not in err and "internal error" not in err
    found = [m for m in map(DIAGNOSTIC.match, err.splitlines()) if m]
    assert found, err
    assert {m["file"] for m in found} == {str(spec)}
    assert (code, line) in {(m["code"], int(m["line"])) for m in found}, err
    assert err.splitlines()[-1].startswith("xflow: ")
    assert not out.exists()


# verify --------------------------------------------------------------------------------------------


def test_verify_json_of_exact_terraform(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    compile_fast(capsys, spec, out)
    code, stdout, _ = run(capsys, "verify", spec, "--tf", out, "--format", "json")
    assert code == 0
    report = json.loads(stdout)
    assert set(report) >= {"result", "findings", "refusals", "assumptions", "requests_evaluated"}
    assert report["result"] == "exact"
    assert report["findings"] == [] and report["refusals"] == []
    assert report["assumptions"] and all(isinstance(a, str) for a in report["assumptions"])
    assert isinstance(report["requests_evaluated"], int) and report["requests_evaluated"] > 0


def test_verify_json_of_findings(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    compile_fast(capsys, spec, out)
    # The spec now asks for more than the Terraform grants.
    spec.write_text(SPEC.replace("access: write, prefix: incoming/", "access: [write, read]"))
    code, stdout, _ = run(capsys, "verify", spec, "--tf", out, "--format", "json")
    assert code == 1
    report = json.loads(stdout)
    assert report["result"] == "findings"
    assert report["findings"]
    for finding in report["findings"]:
        assert set(finding) == {
            "code", "severity", "title", "message", "location", "counterexample", "deciding",
        }  # fmt: skip
        assert re.fullmatch(r"XF5\d\d", finding["code"])
        assert isinstance(finding["deciding"], list)
    assert "XF502" in {f["code"] for f in report["findings"]}


def test_verify_without_terraform_is_exit_2(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "verify", spec, "--tf", tmp_path / "nothing")
    assert code == 2
    assert "XF302" in err


WARNING = Diagnostic(
    "XF404",
    "a construct the reader only warns of",
    Span("data-ap-northeast-1/bucket_policies.tf", 1, 1),
    Severity.WARNING,
)


@pytest.fixture
def reader_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader reports a warning beside the perimeter it reads (today's reader has no
    warning of its own: it refuses what it cannot read, so the mechanism is tested this way)."""

    def read_with_warning(tree: TfTree, exceptions: object = ()) -> Perimeter:
        perimeter = read_perimeter(tree, exceptions)  # type: ignore[arg-type]
        return dataclasses.replace(perimeter, refusals=(*perimeter.refusals, WARNING))

    monkeypatch.setattr(verify_module, "read_perimeter", read_with_warning)
    monkeypatch.setattr(perimeter_module, "read_perimeter", read_with_warning)  # explain's


@pytest.mark.usefixtures("reader_warns")
def test_a_warning_does_not_change_verifys_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    root = CROSS_ACCOUNT.parent / "terraform"
    code, stdout, _ = run(capsys, "verify", CROSS_ACCOUNT, "--tf", root)
    assert code == 0, stdout
    lines = stdout.splitlines()
    shown = display_path(root)  # locations are relative to the working directory
    assert lines[0] == (
        f"{shown}/data-ap-northeast-1/bucket_policies.tf:1:1: warning XF404: a construct the "
        "reader only warns of"
    )
    assert lines[-1].startswith(f"xflow: {shown} grants exactly the spec (")
    code, stdout, _ = run(capsys, "verify", CROSS_ACCOUNT, "--tf", root, "--format", "json")
    assert code == 0
    report = json.loads(stdout)
    assert report["result"] == "exact" and report["refusals"] == []
    assert [w["code"] for w in report["warnings"]] == ["XF404"]
    assert report["warnings"][0]["location"] == {
        "file": f"{shown}/data-ap-northeast-1/bucket_policies.tf",
        "line": 1,
        "column": 1,
    }
    assert report["requests_evaluated"] > 0


def test_a_report_without_warnings_has_an_empty_warnings_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = run(capsys, "verify", CROSS_ACCOUNT, "--format", "json")
    assert code == 0
    assert json.loads(stdout)["warnings"] == []


@pytest.mark.usefixtures("reader_warns")
def test_a_warning_does_not_change_explains_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    root = CROSS_ACCOUNT.parent / "terraform"
    code, stdout, err = run(
        capsys, "explain", CROSS_ACCOUNT, "--tf", root, "--principal", APP_ROLE,
        "--network", "app", "--bucket", "reports", "--key", "exports/x",
        "--action", "s3:GetObject",
    )  # fmt: skip
    assert code == 0, err
    assert stdout.startswith("ALLOW: ")
    assert "warning XF404" in err and "xflow: " not in err


# explain -------------------------------------------------------------------------------------------

APP_ROLE = "arn:aws:iam::999999999999:role/app"
UPLOADER = "arn:aws:iam::000000000000:user/Chibayuki"
INTRUDER = "arn:aws:iam::123456789012:user/intruder"


def test_explain_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(
        capsys, "explain", CROSS_ACCOUNT, "--principal", APP_ROLE, "--network", "app",
        "--bucket", "chibayuki-test", "--key", "exports/x", "--action", "s3:GetObject",
    )  # fmt: skip
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].startswith("ALLOW: ")
    assert lines[1].startswith("  request: s3:GetObject by " + APP_ROLE)
    decided = [line for line in lines if line.startswith("  decided by: ")]
    assert any("(endpoint policy)" in line for line in decided)
    assert any("(bucket policy)" in line for line in decided)
    assert any(re.search(r"bucket_policies\.tf:\d+:\d+: ", line) for line in decided)


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(
        capsys, "explain", CROSS_ACCOUNT, "--principal", APP_ROLE, "--network", "app",
        "--bucket", "reports", "--key", "exports/x", "--action", "s3:PutObject",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(stdout)
    assert set(result) == {
        "schema_version", "command", "decision", "reason", "request", "fields", "deciding",
    }  # fmt: skip
    assert result["fields"]["principal"] == APP_ROLE
    assert result["decision"] == "deny"
    assert isinstance(result["reason"], str) and result["reason"]
    assert "chibayuki-test" in result["request"]
    for deciding in result["deciding"]:
        assert set(deciding) == {"layer", "sid", "location"}


def test_explain_requests_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        json.dumps({"principal": APP_ROLE, "network": "app", "bucket": "chibayuki-test",
                    "key": "exports/a.csv", "action": "s3:GetObject"}) + "\n"
        + json.dumps({"principal": APP_ROLE, "network": "internet", "bucket": "reports",
                      "key": "exports/a.csv", "action": "s3:GetObject"}) + "\n"
        + '{"principal": "anonymous", "bucket": \n',
        encoding="utf-8",
    )  # fmt: skip
    code, stdout, err = run(capsys, "explain", CROSS_ACCOUNT, "--requests", requests)
    assert code == 2  # one line could not be answered
    assert re.fullmatch(
        r"xflow explain: 3 requests \(1 allow, 1 deny, 1 errors\) in [0-9.]+ s after loading, "
        r"[0-9,]+ requests/s\n",
        err,
    ), err
    results = [json.loads(line) for line in stdout.splitlines()]
    assert len(results) == 3
    assert [r["line"] for r in results] == [1, 2, 3]
    assert [r.get("decision") for r in results[:2]] == ["allow", "deny"]
    assert "error" in results[2] and results[2]["decision"] == "error"


def test_explain_with_a_missing_requests_file_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.jsonl"
    code, stdout, err = run(capsys, "explain", CROSS_ACCOUNT, "--requests", missing)
    assert code == 2, err
    assert stdout == ""
    assert "absent.jsonl" in err
    assert "Traceback" not in err and "internal error" not in err


def test_explain_without_a_request_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", CROSS_ACCOUNT, "--principal", APP_ROLE)
    assert code == 2
    assert "--network" in err and "--bucket" in err and "--action" in err


@pytest.mark.parametrize(
    ("principal", "network", "bucket", "extra", "key", "action", "decision"),
    [
        (APP_ROLE, "app", "chibayuki-test", (), "exports/x", "s3:GetObject", "allow"),
        (UPLOADER, "app", "chibayuki-test", (), "in/x", "s3:PutObject", "allow"),
        (INTRUDER, "app", "intruder-bucket", ("--bucket-account", "123456789012"), "loot.csv",
         "s3:PutObject", "deny"),
        (INTRUDER, "internet", "intruder-bucket", ("--bucket-account", "123456789012"),
         "loot.csv", "s3:PutObject", "allow"),
    ],
    ids=["instance-role-reads", "uploader-writes", "intruder-via-endpoint", "intruder-outside"],
)  # fmt: skip
def test_the_articles_four_requests(
    capsys: pytest.CaptureFixture[str],
    principal: str,
    network: str,
    bucket: str,
    extra: tuple[str, ...],
    key: str,
    action: str,
    decision: str,
) -> None:
    code, stdout, err = run(
        capsys, "explain", CROSS_ACCOUNT, "--principal", principal, "--network", network,
        "--bucket", bucket, *extra, "--key", key, "--action", action, "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(stdout)
    assert result["decision"] == decision, result
    assert action in result["request"]


def test_the_command_exits_with_the_code_of_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = REPO / "examples" / "cross-account" / "spec.yaml"
    monkeypatch.setattr(sys, "argv", ["xflow", "compile", "--check", str(spec)])
    try:
        with pytest.raises(SystemExit) as exited:
            main_and_exit()
        assert exited.value.code == 0
        assert gc.get_freeze_count() > 0  # the final collection has nothing left to scan
    finally:
        gc.unfreeze()
    assert "is up to date" in capsys.readouterr().err
