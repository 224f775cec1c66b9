"""Whose fault it is: compile --prove reports a finding the spec itself causes as a finding
(exit 1, nothing written), never as a bug in xflow (XF303); plain compile warns (XF214) about an
egress bypass the spec does not accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from xflow_perimeter.api import compile_spec
from xflow_perimeter.cli.main import main
from xflow_perimeter.diagnostics import EXIT_FINDINGS, Severity, XflowError

SPEC = """xflow: 1
accounts: {data: "111111111111", apps: "222222222222"}
networks:
  app:
    account: apps
    region: eu-west-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
    egress: nat
buckets:
  e: {name: xflow-prove-eu, account: data, region: eu-west-1}
principals:
  reader: {arn: "arn:aws:iam::222222222222:role/reader"}
admins: ["arn:aws:iam::111111111111:role/Admin"]
flows:
  - {principal: reader, network: app, bucket: e, access: read}
"""


def _write(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    return spec


def test_an_unaccepted_bypass_under_prove_is_a_finding_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path, SPEC)
    with pytest.raises(XflowError) as raised:
        compile_spec(spec, prove=True)
    assert raised.value.exit_code == EXIT_FINDINGS
    assert [d.code for d in raised.value.diagnostics] == ["XF508"]
    assert not (tmp_path / "terraform").exists()
    assert main(["compile", str(spec), "--prove"]) == EXIT_FINDINGS
    assert "XF303" not in capsys.readouterr().err


def test_a_failed_assertion_under_prove_is_a_finding(tmp_path: Path) -> None:
    text = SPEC.replace("    egress: nat\n", "    egress: none\n") + (
        "assertions:\n"
        "  - {principal: reader, network: app, bucket: e, action: s3:GetObject, expect: deny}\n"
    )
    with pytest.raises(XflowError) as raised:
        compile_spec(_write(tmp_path, text), prove=True)
    assert raised.value.exit_code == EXIT_FINDINGS
    assert [d.code for d in raised.value.diagnostics] == ["XF506"]


def test_plain_compile_warns_of_an_unaccepted_bypass_and_still_writes(tmp_path: Path) -> None:
    result = compile_spec(_write(tmp_path, SPEC))
    warnings = [w for w in result.warnings if w.code == "XF214"]
    assert len(warnings) == 1 and warnings[0].severity is Severity.WARNING
    assert warnings[0].span is not None and warnings[0].span.line == 4
    assert (tmp_path / "terraform").is_dir()
    accepted = SPEC.replace("    egress: nat\n", "    egress: nat\n    bypass_accepted: firewall\n")
    result = compile_spec(_write(tmp_path, accepted), prove=True)
    assert not [w for w in result.warnings if w.code == "XF214"]
