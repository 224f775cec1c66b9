"""What the audit calls: only catalogued read operations, all in the printed IAM policy; failures
(throttling, access denied, an unreachable endpoint) become findings, never tracebacks."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.audit.committed import load_committed
from xflow_perimeter.audit.permissions import CALLER_OPERATIONS, READS, audit_policy
from xflow_perimeter.audit.run import AuditSettings, audit
from xflow_perimeter.cli.audit import run
from xflow_perimeter.cli.main import main

REPO = Path(__file__).resolve().parents[2]
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head")


class Recorder:
    """Records (service, operation) of every call, from botocore's before-call events."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, session: Any) -> None:
        self.hook(session)
        session.events.register("before-call", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.service_model.service_name, model.name))


def _audit(deployment: Any, hook: Any, role: str | None = "xflow-audit") -> Any:
    committed = load_committed(load_spec(deployment.spec_path), deployment.tf_root)
    return audit(committed, AuditSettings(role_name=role, session_hook=hook, workers=2))


def _allowed_actions(policy: dict[str, Any]) -> set[str]:
    return {a for s in policy["Statement"] for a in s["Action"]}


@pytest.mark.parametrize("example", ["cross-account", "data-platform"])
def test_every_call_is_a_read_the_printed_policy_allows(
    deployed: Any, hook: Any, example: str
) -> None:
    deployment = deployed(example)
    recorder = Recorder(hook)
    report = _audit(deployment, recorder)
    assert report.findings == ()
    role_calls = {c for c in recorder.calls if c not in CALLER_OPERATIONS}
    assert {c for c in recorder.calls if c in CALLER_OPERATIONS} == {("sts", "AssumeRole")}
    # AssumeRole only issues credentials; every call made with them reads.
    assert all(op.startswith(READ_ONLY_PREFIXES) for _, op in role_calls), role_calls
    catalogue = {(r.service, r.operation): r.action for r in READS}
    assert role_calls <= set(catalogue), role_calls - set(catalogue)
    allowed = _allowed_actions(audit_policy(deployment.spec))
    assert {catalogue[c] for c in role_calls} == allowed  # exactly: nothing unused, nothing missing


def test_the_policy_scopes_bucket_reads_to_the_spec_buckets() -> None:
    spec = load_spec(REPO / "examples" / "data-platform" / "spec.yaml")
    policy = audit_policy(spec)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadBuckets"]["Resource"] == sorted(b.arn for b in spec.buckets)
    assert all(a.startswith("s3:Get") for a in by_sid["ReadBuckets"]["Action"])
    for sid in ("ReadNetworks", "ReadAccountS3Settings"):
        assert by_sid[sid]["Resource"] == "*"
        assert by_sid[sid]["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}


def test_print_iam_policy(capsys: pytest.CaptureFixture[str]) -> None:
    spec = REPO / "examples" / "cross-account" / "spec.yaml"
    assert main(["audit", "--print-iam-policy", str(spec)]) == 0
    assert json.loads(capsys.readouterr().out) == audit_policy(load_spec(spec))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _failing(event: str, status: int, body: str, times: int, hook: Any) -> tuple[Any, list[int]]:
    """A hook answering the first ``times`` requests of ``event`` with an error, as AWS would."""
    from botocore.awsrequest import AWSResponse

    sent = [0]

    def answer(request: Any, **_: Any) -> Any:
        sent[0] += 1
        if sent[0] > times:
            return None  # on to the emulator
        return AWSResponse(request.url, status, {}, _Raw(body.encode()))

    def session_hook(session: Any) -> None:
        hook(session)
        session.events.register(f"before-send.{event}", answer)

    return session_hook, sent


_THROTTLED = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded'
    "</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID>"
    "</Response>"
)
_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access '
    "Denied</Message><RequestId>r</RequestId></Error>"
)


def test_throttling_is_retried_with_backoff(
    deployed: Any, hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    deployment = deployed("cross-account")
    throttled, sent = _failing("ec2.DescribeRouteTables", 503, _THROTTLED, 2, hook)
    assert _audit(deployment, throttled).findings == ()
    assert sent[0] == 3  # two throttled attempts, then the answer


def test_throttling_after_every_retry_is_a_finding(
    deployed: Any, hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    deployment = deployed("cross-account")
    throttled, _ = _failing("ec2.DescribeRouteTables", 503, _THROTTLED, 1000, hook)
    report = _audit(deployment, throttled)
    assert [f.code for f in report.findings] == ["XF601"]
    finding = report.findings[0]
    assert "ec2:DescribeRouteTables" in finding.message
    assert "throttled after 2 attempt(s)" in finding.message
    assert report.exit_code == 1


def test_access_denied_names_the_action(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    denied, _ = _failing("s3.GetBucketPolicy", 403, _DENIED, 1000, hook)
    report = _audit(deployment, denied)
    assert [f.code for f in report.findings] == ["XF601"]
    assert "s3:GetBucketPolicy" in report.findings[0].message
    assert report.findings[0].notes == ("needs: s3:GetBucketPolicy",)


def test_unreachable_endpoint_is_a_finding_not_a_traceback(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    spec = REPO / "examples" / "cross-account" / "spec.yaml"
    assert main(["audit", str(spec), "--role-name", "xflow-audit"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out.count("error XF602") == 2
    assert "endpoint unreachable" in captured.out


def test_json_report_of_a_clean_deployment(
    deployed: Any, hook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deployed("cross-account")
    args = argparse.Namespace(
        spec=deployment.spec_path,
        tf=None,
        role_name="xflow-audit",
        format="json",
        print_iam_policy=False,
        quiet=False,
    )
    assert run(args, session_hook=hook) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress when stderr is not a terminal
    report = json.loads(captured.out)
    assert report["result"] == "clean"
    assert report["findings"] == []
    assert report["read"] == {"accounts": 2, "account_regions": 2, "networks": 1, "buckets": 1}


def test_text_report_of_a_drifted_deployment(
    deployed: Any, hook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    deployment.s3(reports).delete_bucket_policy(Bucket=reports.name)
    args = argparse.Namespace(
        spec=deployment.spec_path,
        tf=deployment.tf_root,
        role_name="xflow-audit",
        format="text",
        print_iam_policy=False,
        quiet=False,
    )
    assert run(args, session_hook=hook) == 1
    out = capsys.readouterr().out
    policy_file = deployment.tf_root / "data-ap-northeast-1" / "bucket_policies.tf"
    assert f"{policy_file.as_posix()}:" in out
    assert "error XF611: bucket chibayuki-test has no policy" in out
    # Without its policy the bucket is open to every principal of its account: the deployed
    # proof says so beside the drift.
    assert "error XF501: deployed: " in out and "counterexample: " in out
    assert "xflow: deployed perimeter grants other than the spec" in out
    assert out.rstrip().splitlines()[-1].startswith("xflow: ")
    assert "finding(s) in the deployed perimeter" in out.rstrip().splitlines()[-1]


def test_missing_boto3_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 then raises ImportError
    spec = REPO / "examples" / "cross-account" / "spec.yaml"
    assert main(["audit", str(spec)]) == 2
    assert "XF603" in capsys.readouterr().err


class InFlight:
    """Counts the calls in flight at once, from botocore's before-call and after-call events."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def __call__(self, session: Any) -> None:
        self.hook(session)
        session.events.register("before-call", self._start)
        session.events.register("after-call", self._end)

    def _start(self, **_: Any) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def _end(self, **_: Any) -> None:
        with self._lock:
            self.now -= 1


def test_concurrency_is_bounded_by_the_workers(deployed: Any, hook: Any) -> None:
    deployment = deployed("data-platform")
    counted = InFlight(hook)
    committed = load_committed(load_spec(deployment.spec_path), deployment.tf_root)
    report = audit(
        committed, AuditSettings(role_name="xflow-audit", session_hook=counted, workers=2)
    )
    assert report.findings == ()
    assert 1 <= counted.most <= 2 and counted.now == 0


def test_progress_on_a_terminal(
    deployed: Any, hook: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    deployment = deployed("cross-account")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    args = argparse.Namespace(
        spec=deployment.spec_path,
        tf=None,
        role_name="xflow-audit",
        format="text",
        print_iam_policy=False,
        quiet=False,
    )
    assert run(args, session_hook=hook) == 0
    shown = terminal.getvalue()
    # One line per read, rewritten in place, then cleared before the report.
    assert "xflow audit: 1/" in shown and "bucket " in shown
    total = shown.split("xflow audit: 1/")[1].split(" ")[0]
    assert f"xflow audit: {total}/{total} read (" in shown
    assert shown.endswith("\r\033[K")
    assert "xflow:" in capsys.readouterr().out


def test_quiet_draws_no_progress_on_a_terminal(
    deployed: Any, hook: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    deployment = deployed("cross-account")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    args = argparse.Namespace(
        spec=deployment.spec_path,
        tf=None,
        role_name="xflow-audit",
        format="text",
        print_iam_policy=False,
        quiet=True,
    )
    assert run(args, session_hook=hook) == 0
    assert terminal.getvalue() == ""
    assert "xflow: the deployed perimeter matches" in capsys.readouterr().out


def test_quiet_is_an_audit_option() -> None:
    from xflow_perimeter.cli.main import _parser

    parsed = _parser().parse_args(["audit", "spec.yaml", "--quiet"])
    assert parsed.quiet and not _parser().parse_args(["audit", "spec.yaml"]).quiet
