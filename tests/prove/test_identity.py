"""The identity check (XF509): a same-account flow must hold when the caller's identity policy
grants nothing, since the bucket policy alone is what xflow controls."""

from __future__ import annotations

from pathlib import Path

import pytest

from xflow_perimeter.api import compile_spec, verify

READER = "arn:aws:iam::111111111111:role/reader"
SPEC = f"""xflow: 1
accounts: {{data: "111111111111", apps: "222222222222"}}
networks:
  app:
    account: data
    region: eu-west-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
    egress: none
buckets:
  e: {{name: xflow-same-eu, account: data, region: eu-west-1}}
principals:
  reader: {{arn: "{READER}"}}
  root: {{arn: "arn:aws:iam::111111111111:root"}}
  partner: {{arn: "arn:aws:iam::222222222222:role/partner"}}
admins: ["arn:aws:iam::111111111111:role/Admin"]
flows:
  - {{principal: reader, network: app, bucket: e, access: read}}
  - {{principal: root, network: app, bucket: e, access: write}}
  - {{principal: partner, network: app, bucket: e, access: list}}
"""


def _compiled(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    compile_spec(spec, prove=True)
    return spec, tmp_path / "terraform" / "data-eu-west-1" / "bucket_policies.tf"


def test_compiled_same_account_flows_hold_without_identity(tmp_path: Path) -> None:
    spec, _ = _compiled(tmp_path)
    assert verify(spec).exit_code == 0


@pytest.mark.parametrize(
    ("old", "new", "actions"),
    [
        # The Allow names only the account: it delegates to the identity policy.
        (f'AWS = ["{READER}"]', 'AWS = ["arn:aws:iam::111111111111:root"]', 2),
        # The Allow narrowed below the flow: GetObjectVersion then needs the identity policy.
        ('          "s3:GetObjectVersion",\n', "", 1),
    ],
)
def test_a_bucket_policy_that_leaves_a_same_account_flow_to_identity_is_a_finding(
    tmp_path: Path, old: str, new: str, actions: int
) -> None:
    spec, policies = _compiled(tmp_path)
    text = policies.read_text()
    assert old in text
    policies.write_text(text.replace(old, new, 1))
    report = verify(spec).report
    found = [f for f in report.findings if f.code == "XF509"]
    assert len(found) == actions, report.findings
    assert all("reader" in f.message and "identity policy: none" in f.counterexample for f in found)
    assert found[0].span is not None and "bucket_policies.tf" in str(found[0].span)
