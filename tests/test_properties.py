"""Random valid specs compile, and verify proves exactly them (spec -> Terraform -> verify == spec)."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.terraform.reader import TfTree, read_text

PRINCIPALS = {
    "reader": "arn:aws:iam::222222222222:role/reader",
    "writer": "arn:aws:iam::111111111111:user/writer",
    "batch": "arn:aws:iam::333333333333:role/jobs/batch",
}
NETWORKS = ("east", "west")
BUCKETS = ("alpha", "beta")
ACCESS = ("read", "write", "list", "delete", "s3:GetObjectTagging", "s3:GetBucketLocation")
PREFIXES = (None, "exports/", "exports/daily/", "incoming-", "Logs/2024/")

flows = st.lists(
    st.fixed_dictionaries(
        {
            "principal": st.sampled_from(sorted(PRINCIPALS)),
            "network": st.sampled_from(NETWORKS),
            "bucket": st.sampled_from(BUCKETS),
            "access": st.lists(st.sampled_from(ACCESS), min_size=1, max_size=3, unique=True),
            "prefix": st.sampled_from(PREFIXES),
        }
    ),
    min_size=0,
    max_size=6,
)


def _spec(flow_list: list[dict[str, object]], admins: list[str], adopt: bool) -> dict[str, object]:
    unique = []
    seen = set()
    for flow in flow_list:
        key = (
            flow["principal"],
            flow["network"],
            flow["bucket"],
            flow["prefix"],
            tuple(flow["access"]),
        )  # type: ignore[arg-type]
        if key not in seen:
            seen.add(key)
            unique.append({k: v for k, v in flow.items() if v is not None})
    return {
        "xflow": 1,
        "accounts": {"data": "111111111111", "apps": "222222222222", "jobs": "333333333333"},
        "networks": {
            "east": {
                "account": "apps",
                "region": "eu-west-1",
                "vpc_id": "vpc-0a0a0a0a0a0a0a0a0",
                "route_table_ids": ["rtb-0a0a0a0a0a0a0a0a0", "rtb-0b0b0b0b0b0b0b0b0"],
                **({"endpoint": "vpce-0c0c0c0c0c0c0c0c0"} if adopt else {}),
            },
            "west": {
                "account": "jobs",
                "region": "eu-west-1",
                "vpc_id": "vpc-0d0d0d0d0d0d0d0d0",
                "route_table_ids": ["rtb-0d0d0d0d0d0d0d0d0"],
            },
        },
        "buckets": {
            "alpha": {"name": "prop-alpha-bucket", "account": "data", "region": "eu-west-1"},
            "beta": {"name": "prop-beta-bucket", "account": "apps", "region": "eu-west-1"},
        },
        "principals": {name: {"arn": arn} for name, arn in PRINCIPALS.items()},
        "admins": admins,
        "flows": unique,
    }


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    flow_list=flows,
    admins=st.lists(
        st.sampled_from(["writer", "arn:aws:iam::111111111111:role/Admin"]), unique=True
    ),
    adopt=st.booleans(),
)
def test_random_specs_compile_and_verify_exactly(
    tmp_path: Path, flow_list: list[dict[str, object]], admins: list[str], adopt: bool
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(flow_list, admins, adopt)), encoding="utf-8")
    spec = load_spec(path)
    _, files = generate(spec, "spec.yaml")
    tree = TfTree(tuple(read_text(text, name) for name, text in sorted(files.items())), ())
    report = verify(spec, tree)
    assert report.exit_code == 0, [f.message for f in report.findings] + [
        d.message for d in report.refusals
    ]
    assert report.requests_evaluated > 0
