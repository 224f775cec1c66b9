"""The library API: compile_spec, verify, open_explainer with explain and explain_batch; what the
CLI prints is tested in tests/cli, here what a program gets back."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from xflow_perimeter.api import (
    BatchAnswer,
    ExplainError,
    ExplainRequest,
    VerifyResult,
    explain,
    explain_batch,
    open_explainer,
    verify,
)
from xflow_perimeter.diagnostics import XflowError

REPO = Path(__file__).resolve().parent.parent
CROSS_ACCOUNT = REPO / "examples" / "cross-account" / "spec.yaml"
APP_ROLE = "arn:aws:iam::999999999999:role/app"


def test_verify_defaults_to_the_terraform_beside_the_spec() -> None:
    result = verify(CROSS_ACCOUNT)
    assert isinstance(result, VerifyResult)
    assert result.tf_root == CROSS_ACCOUNT.parent / "terraform"
    assert result.exit_code == result.report.exit_code == 0
    assert result.report.requests_evaluated > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.tf_root = Path()  # type: ignore[misc]


def test_verify_of_edited_terraform_reports_findings(tmp_path: Path) -> None:
    root = tmp_path / "terraform"
    shutil.copytree(CROSS_ACCOUNT.parent / "terraform", root)
    policies = root / "data-ap-northeast-1" / "bucket_policies.tf"
    text = policies.read_text(encoding="utf-8")
    start = text.index('        Sid       = "DenyInsecureTransport"')
    start = text.rindex("      {\n", 0, start)
    end = text.index("      },\n", start) + len("      },\n")
    policies.write_text(text[:start] + text[end:], encoding="utf-8")
    result = verify(CROSS_ACCOUNT, root)
    assert result.tf_root == root
    assert result.exit_code == 1
    assert "XF501" in {f.code for f in result.report.findings}


def test_verify_without_the_terraform_directory_is_xf302(tmp_path: Path) -> None:
    with pytest.raises(XflowError) as raised:
        verify(CROSS_ACCOUNT, tmp_path / "absent")
    assert [d.code for d in raised.value.diagnostics] == ["XF302"]


def test_explain_one_request() -> None:
    explainer = open_explainer(CROSS_ACCOUNT)
    assert explainer.tf_root == CROSS_ACCOUNT.parent / "terraform"
    ask = ExplainRequest(APP_ROLE, "app", "reports", key="exports/a.csv", action="s3:GetObject")
    result = explain(explainer, ask)
    assert result.request == ask
    assert result.decision.allowed
    assert result.to_json()["decision"] == "allow"
    denied = explain(explainer, dataclasses.replace(ask, action="s3:PutObject"))
    assert not denied.decision.allowed


@pytest.mark.parametrize(
    "ask",
    [
        ExplainRequest(APP_ROLE, "nowhere", "reports"),
        ExplainRequest("not-an-arn", "app", "reports"),
        ExplainRequest("arn:aws:iam::123:user/x", "app", "reports"),  # not a 12-digit account
        ExplainRequest(APP_ROLE, "app", "reports", action="s3:NoSuchAction"),
        ExplainRequest(APP_ROLE, "app", "not-in-the-spec"),
    ],
    ids=["unknown-network", "malformed-principal", "short-account", "unknown-action", "no-account"],
)
def test_explain_of_a_bad_request_raises_explain_error(ask: ExplainRequest) -> None:
    with pytest.raises(ExplainError):
        explain(open_explainer(CROSS_ACCOUNT), ask)


def test_explain_batch_answers_each_line_in_order() -> None:
    lines = [
        f'{{"principal": "{APP_ROLE}", "network": "app", "bucket": "reports", '
        '"key": "exports/a.csv", "action": "s3:GetObject"}\n',
        "\n",
        '{"bucket": "reports", "action": "s3:PutObject", "identity": "none"}\n',
        "not json\n",
    ]
    answers = list(explain_batch(open_explainer(CROSS_ACCOUNT), lines))
    assert all(isinstance(a, BatchAnswer) for a in answers)
    assert [(a.line, a.outcome) for a in answers] == [(1, "allow"), (3, "deny"), (4, "error")]
    assert answers[2].result is None and answers[2].error
    assert answers[2].to_json() == {"line": 4, "error": answers[2].error}
    assert answers[0].to_json()["line"] == 1


def test_open_explainer_refuses_terraform_the_verifier_cannot_read(tmp_path: Path) -> None:
    root = tmp_path / "terraform"
    shutil.copytree(CROSS_ACCOUNT.parent / "terraform", root)
    (root / "broken.tf").write_text('resource "aws_s3_bucket_policy" "x" {\n', encoding="utf-8")
    with pytest.raises(XflowError) as raised:
        open_explainer(CROSS_ACCOUNT, root)
    assert "XF401" in {d.code for d in raised.value.diagnostics}
