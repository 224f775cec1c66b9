"""Auditors read each bucket's configuration from anywhere over TLS, and nothing else.

An emulator that does not enforce bucket policies cannot show this, so these tests decide
requests on the compiled policies with the evaluator (api.explain and iam.evaluate) and run
verify's proof on the compiled and on a weakened Terraform.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xflow_perimeter import api
from xflow_perimeter.audit.permissions import READS
from xflow_perimeter.diagnostics import XflowError
from xflow_perimeter.iam.evaluate import evaluate
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.explain import ExplainRequest
from xflow_perimeter.spec.auditors import AUDITOR_ACTIONS, is_auditor_action

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "auditors" / "spec.yaml"
OWN_AUDITOR = "arn:aws:iam::200000000001:role/xflow-audit"
FOREIGN_AUDITOR = "arn:aws:iam::200000000003:role/xflow-audit"
LAKE = "golden-auditors-lake"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("auditors")
    spec = root / "spec.yaml"
    shutil.copy(GOLDEN, spec)
    api.compile_spec(spec)
    return spec


def _decide(spec: Path, principal: str, action: str, key: str | None = None) -> bool:
    explainer = api.open_explainer(spec)
    request = ExplainRequest(principal=principal, network=None, bucket=LAKE, key=key, action=action)
    return api.explain(explainer, request).decision.allowed


@pytest.mark.parametrize("auditor", [OWN_AUDITOR, FOREIGN_AUDITOR])
def test_an_auditor_reads_the_configuration_and_nothing_else(compiled: Path, auditor: str) -> None:
    for action in AUDITOR_ACTIONS:
        assert _decide(compiled, auditor, action), action
    assert not _decide(compiled, auditor, "s3:GetObject", "shared/report.csv")
    assert not _decide(compiled, auditor, "s3:GetObjectVersion", "shared/report.csv")
    assert not _decide(compiled, auditor, "s3:ListBucket", "")
    assert not _decide(compiled, auditor, "s3:ListBucketVersions", "")
    assert not _decide(compiled, auditor, "s3:PutBucketPolicy")
    assert not _decide(compiled, auditor, "s3:DeleteBucketPolicy")
    assert not _decide(compiled, auditor, "s3:PutObject", "x")


def test_an_auditor_is_denied_without_tls(compiled: Path) -> None:
    explainer = api.open_explainer(compiled)
    policy = next(p.policy for p in explainer.perimeter.bucket_policies if p.bucket == LAKE)
    for auditor, account in ((OWN_AUDITOR, "200000000001"), (FOREIGN_AUDITOR, "200000000003")):
        request = Request(
            caller=Caller(auditor, account),
            action="s3:GetBucketPolicy",
            bucket=LAKE,
            bucket_account="200000000001",
            key=None,
            path=NetworkPath(source_ip="203.0.113.7"),
            secure_transport=False,
        )
        assert not evaluate(request, bucket_policy=policy, endpoint_policy=None).allowed


def test_an_unlisted_role_of_the_auditor_account_gets_nothing(compiled: Path) -> None:
    assert not _decide(compiled, "arn:aws:iam::200000000003:role/other", "s3:GetBucketPolicy")


def test_verify_proves_the_auditors_share(compiled: Path) -> None:
    assert api.verify(compiled).exit_code == 0


def test_verify_finds_an_auditor_reading_objects_without_its_deny(compiled: Path) -> None:
    """Without the Deny that confines auditors, the own-account auditor reads objects (its
    identity policy allows it): verify must say so with a counterexample."""
    weak = compiled.parent / "weak"
    shutil.copytree(compiled.parent / "terraform", weak)
    path = weak / "data-eu-west-1" / "bucket_policies.tf"
    text = path.read_text(encoding="utf-8")
    start = text.index('        Sid       = "DenyAuditorsAllButConfigReads"')
    start = text.rindex("      {", 0, start)
    end = text.index("      },\n", start) + len("      },\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")

    report = api.verify(compiled, weak).report
    widened = [f for f in report.findings if f.code == "XF501"]
    assert widened, [f.message for f in report.findings]
    assert any(OWN_AUDITOR in f.counterexample for f in widened)


def test_verify_finds_an_auditor_denied_its_reads(compiled: Path) -> None:
    """Dropping an auditor from every statement of the bucket policy narrows its share: the
    spec's auditors are caller classes whatever the policy names, so verify reports the reads
    the auditor lost."""
    narrow = compiled.parent / "narrow"
    shutil.copytree(compiled.parent / "terraform", narrow)
    path = narrow / "data-eu-west-1" / "bucket_policies.tf"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != f'"{OWN_AUDITOR}",']
    assert len(kept) < len(lines)
    path.write_text("".join(kept), encoding="utf-8")

    report = api.verify(compiled, narrow).report
    assert report.exit_code == 1
    assert any(OWN_AUDITOR in f.counterexample for f in report.findings), [
        f.message for f in report.findings
    ]


def test_an_auditor_cannot_also_be_a_flow_principal(tmp_path: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8").replace(
        'auditors: [security-audit, "arn:aws:iam::200000000001:role/xflow-audit"]',
        "auditors: [security-audit, app]",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(XflowError) as raised:
        api.load_spec(spec)
    assert [d.code for d in raised.value.diagnostics] == ["XF250"]
    assert raised.value.diagnostics[0].span is not None
    assert (
        raised.value.diagnostics[0].span.line
        == text.splitlines().index("auditors: [security-audit, app]") + 1
    )


def test_the_audit_role_policy_asks_only_for_auditor_actions_on_buckets() -> None:
    """--print-iam-policy's bucket reads are what the bucket policies let auditors make."""
    bucket_reads = {r.action for r in READS if r.scope == "bucket"}
    assert bucket_reads and all(is_auditor_action(a) for a in bucket_reads)
    assert not any(
        is_auditor_action(a) for a in ("s3:GetObject", "s3:ListBucket", "s3:GetObjectAcl")
    )
