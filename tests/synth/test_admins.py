"""Admins are exempt from a bucket policy's Denies only in the bucket's own account."""

from __future__ import annotations

from pathlib import Path

import yaml

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.iam.evaluate import evaluate
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.synth.plan import Plan
from xflow_perimeter.terraform.reader import TfTree, read_text

FOREIGN_ADMIN = "arn:aws:iam::222222222222:role/Admin"
OWN_ADMIN = "arn:aws:iam::111111111111:role/Admin"


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
            }
        },
        "buckets": {"lake": {"name": "admins-lake", "account": "data", "region": "eu-west-1"}},
        # A root principal grants the whole account, the foreign admin included.
        "principals": {"apps-root": {"arn": "arn:aws:iam::222222222222:root"}},
        "admins": [FOREIGN_ADMIN, OWN_ADMIN],
        "flows": [
            {"principal": "apps-root", "network": "apps", "bucket": "lake", "access": "delete"}
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _bucket_policy(planned: Plan) -> PolicyDocument:
    return next(p.policy for m in planned.modules for p in m.bucket_policies)


def test_a_foreign_admin_is_not_exempt_from_the_bucket_policy_denies(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path))
    planned, files = generate(spec, "spec.yaml")
    policy = _bucket_policy(planned)

    deny = next(s for s in policy.statements if s.sid == "DenyUnlistedPrincipals")
    exempt = {v for c in deny.conditions if c.key == "aws:PrincipalArn" for v in c.values}
    assert OWN_ADMIN in exempt and FOREIGN_ADMIN not in exempt

    request = Request(
        caller=Caller(FOREIGN_ADMIN, "222222222222"),
        action="s3:DeleteObject",
        bucket="admins-lake",
        bucket_account="111111111111",
        key="any/key",
        path=NetworkPath(source_ip="203.0.113.7"),
    )
    assert not evaluate(request, bucket_policy=policy, endpoint_policy=None).allowed

    report = verify(spec, TfTree(tuple(read_text(t, p) for p, t in sorted(files.items())), ()))
    assert report.exit_code == 0, [f.message for f in report.findings]
