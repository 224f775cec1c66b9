"""Perimeter completeness: egress bypass, break-glass exceptions and lockout, size limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xflow_perimeter.api import compile_spec, generate, load_spec
from xflow_perimeter.diagnostics import XflowError
from xflow_perimeter.iam.evaluate import evaluate
from xflow_perimeter.iam.policy import to_json
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.verify import Report, verify
from xflow_perimeter.spec.build import warnings
from xflow_perimeter.synth.limits import BUCKET_POLICY_LIMIT, ENDPOINT_POLICY_LIMIT, compact_size
from xflow_perimeter.terraform.reader import TfTree, read_text


def _spec(**network: object) -> dict[str, object]:
    return {
        "xflow": 1,
        "accounts": {"data": "111111111111", "apps": "222222222222"},
        "networks": {
            "apps": {
                "account": "apps",
                "region": "eu-west-1",
                "vpc_id": "vpc-0a0a0a0a0a0a0a0a0",
                "route_table_ids": ["rtb-0a0a0a0a0a0a0a0a0"],
                **network,
            }
        },
        "buckets": {"lake": {"name": "perimeter-lake", "account": "data", "region": "eu-west-1"}},
        "principals": {"reader": {"arn": "arn:aws:iam::222222222222:role/reader"}},
        "admins": ["arn:aws:iam::111111111111:role/Admin"],
        "flows": [{"principal": "reader", "network": "apps", "bucket": "lake", "access": "read"}],
    }


def _verify(tmp_path: Path, data: dict[str, object]) -> Report:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    spec = load_spec(path)
    _, files = generate(spec, "spec.yaml")
    return verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(files.items())), ()))


@pytest.mark.parametrize("egress", ["nat", "internet"])
def test_egress_beside_the_endpoint_is_a_bypass_finding(tmp_path: Path, egress: str) -> None:
    report = _verify(tmp_path, _spec(egress=egress))
    assert report.exit_code == 1
    bypass = [f for f in report.findings if f.code == "XF508"]
    assert len(bypass) == 1
    assert "apps" in bypass[0].message and "intruder" in bypass[0].counterexample
    assert bypass[0].span is not None and bypass[0].span.file.endswith("spec.yaml")


def test_an_isolated_network_has_no_bypass(tmp_path: Path) -> None:
    report = _verify(tmp_path, _spec(egress="none"))
    assert report.exit_code == 0, [f.message for f in report.findings]
    assert not any("declare no egress" in str(a) for a in report.assumptions)


def test_an_accepted_bypass_passes_and_is_listed_with_its_reason(tmp_path: Path) -> None:
    report = _verify(tmp_path, _spec(egress="nat", bypass_accepted="egress firewall blocks S3"))
    assert report.exit_code == 0
    assert any("egress firewall blocks S3" in str(e) for e in report.exceptions)


def test_undeclared_egress_is_printed_as_an_assumption(tmp_path: Path) -> None:
    report = _verify(tmp_path, _spec())
    assert report.exit_code == 0
    assert any("apps declare no egress" in str(a) for a in report.assumptions)


def test_admins_are_declared_exceptions(tmp_path: Path) -> None:
    report = _verify(tmp_path, _spec(egress="none"))
    assert any(
        "arn:aws:iam::111111111111:role/Admin may manage perimeter-lake" in str(e)
        for e in report.exceptions
    )


def test_a_bucket_without_an_admin_in_its_account_warns_of_lockout(tmp_path: Path) -> None:
    data = _spec(egress="none")
    data["admins"] = ["arn:aws:iam::222222222222:role/OtherAdmin"]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    found = warnings(load_spec(path))
    assert [w.code for w in found] == ["XF220"]
    assert "root user" in found[0].message
    result = compile_spec(path, tmp_path / "out")
    assert [w.code for w in result.warnings] == ["XF220"]


def test_no_warning_when_the_bucket_account_has_an_admin(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(egress="none")), encoding="utf-8")
    assert warnings(load_spec(path)) == []


def _many_principals(count: int, prefixes: int) -> dict[str, object]:
    data = _spec(egress="none")
    data["principals"] = {
        f"p{i}": {"arn": f"arn:aws:iam::222222222222:role/team-{i:04d}/worker"}
        for i in range(count)
    }
    data["flows"] = [
        {
            "principal": f"p{i}",
            "network": "apps",
            "bucket": "lake",
            "access": ["read", "list"] if i % 2 else "write",
            "prefix": f"datasets/team-{i % prefixes:04d}/",
        }
        for i in range(count)
    ]
    return data


def test_large_specs_stay_under_the_limits_and_verify_exactly(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_many_principals(40, 4)), encoding="utf-8")
    spec = load_spec(path)
    planned, files = generate(spec, "spec.yaml")
    for module in planned.modules:
        for endpoint in module.endpoints:
            assert compact_size(to_json(endpoint.policy), in_bytes=False) <= ENDPOINT_POLICY_LIMIT
        for item in module.bucket_policies:
            assert compact_size(to_json(item.policy), in_bytes=True) <= BUCKET_POLICY_LIMIT
    report = verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(files.items())), ()))
    assert report.exit_code == 0


def test_a_policy_over_its_limit_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_many_principals(400, 200)), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(XflowError) as raised:
        compile_spec(path, out)
    codes = {d.code for d in raised.value.diagnostics}
    assert codes == {"XF301"}
    messages = " ".join(d.message for d in raised.value.diagnostics)
    assert "perimeter-lake" in messages and "20480" in messages
    assert any(
        note.startswith("largest statement") for d in raised.value.diagnostics for note in d.notes
    )
    assert not out.exists()


TRAIL = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main"


def _service_spec() -> dict[str, object]:
    data = _spec(egress="none")
    data["services"] = {
        "trail": {
            "service": "cloudtrail.amazonaws.com",
            "source_account": "data",
            "source_arn": TRAIL,
        }
    }
    data["flows"] = [
        *data["flows"],  # type: ignore[list-item]
        {
            "service": "trail",
            "bucket": "lake",
            "access": ["write", "s3:GetBucketAcl"],
            "prefix": "AWSLogs/",
        },
    ]
    return data


def _service_request(
    account: str | None, source_arn: str | None, key: str = "AWSLogs/x.json"
) -> Request:
    return Request(
        caller=Caller(arn=None, account=None, service="cloudtrail.amazonaws.com"),
        action="s3:PutObject",
        bucket="perimeter-lake",
        bucket_account="111111111111",
        key=key,
        path=NetworkPath(source_ip="203.0.113.10"),
        source_account=account,
        source_arn=source_arn,
    )


def test_a_service_flow_is_allowed_only_for_its_source_account_and_resource(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_service_spec()), encoding="utf-8")
    spec = load_spec(path)
    planned, files = generate(spec, "spec.yaml")
    (policy,) = [
        item.policy
        for module in planned.modules
        for item in module.bucket_policies
        if item.bucket.name == "perimeter-lake"
    ]

    def allowed(request: Request) -> bool:
        return evaluate(request, bucket_policy=policy, endpoint_policy=None).allowed

    assert allowed(_service_request("111111111111", TRAIL))
    assert not allowed(_service_request("444455556666", TRAIL)), "another account's trail"
    assert not allowed(_service_request(None, None)), "no source account"
    assert not allowed(_service_request("111111111111", TRAIL.replace("main", "other")))
    assert not allowed(_service_request("111111111111", TRAIL, key="elsewhere/x.json"))
    report = verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(files.items())), ()))
    assert report.exit_code == 0, [f.message for f in report.findings]


def test_dropping_the_source_account_pin_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    data = _service_spec()
    data["services"]["trail"].pop("source_arn")  # type: ignore[index]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    spec = load_spec(path)
    _, files = generate(spec, "spec.yaml")
    edited = {
        name: text.replace(
            '"aws:SourceAccount" = ["111111111111"]', '"aws:SourceAccount" = ["444455556666"]'
        )
        for name, text in files.items()
    }
    assert edited != files
    report = verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(edited.items())), ()))
    assert report.exit_code == 1
    unintended = [f for f in report.findings if f.code == "XF501"]
    assert any(
        "service cloudtrail.amazonaws.com on behalf of account 444455556666" in f.message
        for f in unintended
    )
    assert any(f.code == "XF502" for f in report.findings)


def test_compaction_fits_an_over_limit_policy_and_verifies_exactly(tmp_path: Path) -> None:
    data = _spec(egress="none")
    data["flows"] = [
        {
            "principal": "reader",
            "network": "apps",
            "bucket": "lake",
            "access": "read",
            "prefix": f"datasets/region-{i:03d}/daily/",
        }
        for i in range(150)
    ]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    spec = load_spec(path)
    # Uncompacted, one statement per prefix would not fit either policy.
    from xflow_perimeter.synth import plan as planner

    raw = planner.build(spec, "spec.yaml")
    sizes = [
        compact_size(to_json(e.policy), in_bytes=False) for m in raw.modules for e in m.endpoints
    ]
    assert max(sizes) > ENDPOINT_POLICY_LIMIT
    planned, files = generate(spec, "spec.yaml")
    for module in planned.modules:
        for endpoint in module.endpoints:
            assert compact_size(to_json(endpoint.policy), in_bytes=False) <= ENDPOINT_POLICY_LIMIT
            assert len(endpoint.policy.statements) < 150
    report = verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(files.items())), ()))
    assert report.exit_code == 0, [f.message for f in report.findings][:3]
