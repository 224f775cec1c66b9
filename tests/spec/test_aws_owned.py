"""The AWS-owned bucket catalogue and how compile and verify use it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.build import bucket_name_problem
from xflow_perimeter.spec.regions import REGIONS
from xflow_perimeter.spec.schema import schema
from xflow_perimeter.terraform.reader import TfTree, read_text


@pytest.mark.parametrize("workload", sorted(aws_owned.workloads()))
@pytest.mark.parametrize("region", ["eu-west-1", "ap-northeast-1", "us-east-1"])
def test_entries_are_exact_valid_bucket_names(workload: str, region: str) -> None:
    found = aws_owned.objects(workload, region)
    assert found
    for owned in found:
        assert "*" not in owned.arn[:-1] and "?" not in owned.arn
        assert "{" not in owned.bucket and "}" not in owned.bucket
        assert bucket_name_problem(owned.bucket) is None, owned.bucket
        assert owned.prefix == "" or owned.prefix.endswith("/")


def test_known_entries() -> None:
    ssm = {o.bucket for o in aws_owned.objects("ssm", "eu-west-1")}
    assert {"aws-ssm-eu-west-1", "amazon-ssm-eu-west-1", "eu-west-1-birdwatcher-prod"} <= ssm
    ecr = aws_owned.objects("ecr", "ap-northeast-1")
    assert [o.arn for o in ecr] == ["arn:aws:s3:::prod-ap-northeast-1-starport-layer-bucket/*"]
    cfn = {o.bucket for o in aws_owned.objects("cloudformation", "us-east-1")}
    assert "cloudformation-custom-resource-response-useast1" in cfn
    assert all(region in REGIONS for region in ("eu-west-1", "ap-northeast-1", "us-east-1"))


def test_schema_lists_exactly_the_catalogue_workloads() -> None:
    network = schema()["$defs"]["network"]["properties"]  # type: ignore[index]
    assert sorted(network["workloads"]["items"]["enum"]) == sorted(aws_owned.workloads())


def _spec(tmp_path: Path) -> Path:
    data = {
        "xflow": 1,
        "accounts": {"data": "111111111111", "apps": "222222222222"},
        "networks": {
            "apps": {
                "account": "apps",
                "region": "eu-west-1",
                "vpc_id": "vpc-0a0a0a0a0a0a0a0a0",
                "route_table_ids": ["rtb-0a0a0a0a0a0a0a0a0"],
                "egress": "none",
                "workloads": ["ssm", "ecr"],
            }
        },
        "buckets": {"lake": {"name": "owned-lake", "account": "data", "region": "eu-west-1"}},
        "principals": {"reader": {"arn": "arn:aws:iam::222222222222:role/reader"}},
        "admins": ["arn:aws:iam::111111111111:role/Admin"],
        "flows": [{"principal": "reader", "network": "apps", "bucket": "lake", "access": "read"}],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _verify_files(path: Path, edit: tuple[str, str] | None = None) -> int:
    spec = load_spec(path)
    _, files = generate(spec, "spec.yaml")
    if edit:
        files = {name: text.replace(*edit) for name, text in files.items()}
    report = verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(files.items())), ()))
    return report.exit_code


def test_compile_adds_exactly_the_catalogue_arns_and_verify_proves_them(tmp_path: Path) -> None:
    path = _spec(tmp_path)
    _, files = generate(load_spec(path), "spec.yaml")
    endpoints = files["apps-eu-west-1/endpoints.tf"]
    for owned in aws_owned.objects_for(("ecr", "ssm"), "eu-west-1"):
        assert f'"{owned.arn}"' in endpoints
    assert "amazonlinux" not in endpoints
    assert _verify_files(path) == 0


def test_widening_the_aws_owned_statement_is_caught(tmp_path: Path) -> None:
    path = _spec(tmp_path)
    widened = (
        'Action    = ["s3:GetObject"]\n        Resource = [\n          "arn:aws:s3:::amazon-ssm',
        'Action    = ["s3:*"]\n        Resource = [\n          "arn:aws:s3:::amazon-ssm',
    )
    _, files = generate(load_spec(path), "spec.yaml")
    assert widened[0] in files["apps-eu-west-1/endpoints.tf"]
    assert _verify_files(path, widened) == 1


def test_pointing_an_entry_at_another_bucket_is_caught(tmp_path: Path) -> None:
    path = _spec(tmp_path)
    assert (
        _verify_files(path, ("arn:aws:s3:::aws-ssm-eu-west-1/*", "arn:aws:s3:::intruder-drop/*"))
        == 1
    )
