"""compile never emits a tree its own verify rejects: random valid specs (account-root
principals, admins in several accounts, services, NAT and internet egress with bypass_accepted,
buckets in another Region with assertions about them) compile, verify with exit 0, and explain
agrees with verify on every assertion."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.prove.explain import ExplainRequest, explain_one
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.terraform.perimeter import read_perimeter
from xflow_perimeter.terraform.reader import TfTree, read_text

ACCOUNTS = {"data": "111111111111", "apps": "222222222222", "jobs": "333333333333"}
PRINCIPALS = {
    "reader": "arn:aws:iam::222222222222:role/reader",
    "writer": "arn:aws:iam::111111111111:user/writer",
    "batch": "arn:aws:iam::333333333333:role/jobs/batch",
    "apps-account": "arn:aws:iam::222222222222:root",
    "data-account": "arn:aws:iam::111111111111:root",
}
ADMINS = [f"arn:aws:iam::{account}:role/Admin" for account in ACCOUNTS.values()]
NETWORKS = ("east", "west")
BUCKETS = ("alpha", "beta")  # eu-west-1, beside the networks; "far" is in us-east-1
ACCESS = ("read", "write", "list", "delete", "s3:GetObjectTagging")
PREFIXES = (None, "exports/", "incoming-")
ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:PutBucketPolicy")
CALLERS = (*PRINCIPALS.values(), *ADMINS, "anonymous", "arn:aws:iam::444444444444:user/intruder")
OUTSIDE = {"name": "prop-outside-bucket", "account": "jobs"}

flows = st.lists(
    st.fixed_dictionaries(
        {
            "principal": st.sampled_from(sorted(PRINCIPALS)),
            "network": st.sampled_from(NETWORKS),
            "bucket": st.sampled_from(BUCKETS),
            "access": st.lists(st.sampled_from(ACCESS), min_size=1, max_size=2, unique=True),
            "prefix": st.sampled_from(PREFIXES),
        }
    ),
    max_size=5,
)
assertions = st.lists(
    st.fixed_dictionaries(
        {
            "principal": st.sampled_from(CALLERS),
            "network": st.sampled_from((*NETWORKS, "internet")),
            "bucket": st.sampled_from(("alpha", "beta", "far", "outside-here", "outside-far")),
            "action": st.sampled_from(ACTIONS),
            "identity": st.sampled_from(("allow-all", "none")),
        }
    ),
    max_size=4,
)
egresses = st.sampled_from((None, "none", "nat", "internet"))


def _network(account: str, index: int, egress: str | None) -> dict[str, object]:
    network: dict[str, object] = {
        "account": account,
        "region": "eu-west-1",
        "vpc_id": f"vpc-{index:017x}",
        "route_table_ids": [f"rtb-{index:017x}"],
    }
    if egress is not None:
        network["egress"] = egress
    if egress in ("nat", "internet"):
        network["bypass_accepted"] = "egress firewall allows no S3 host"
    return network


def _bucket_ref(choice: str) -> object:
    if choice == "outside-here":
        return OUTSIDE
    if choice == "outside-far":
        return {**OUTSIDE, "region": "us-east-1"}
    return choice


def _spec(
    flow_list: list[dict[str, object]],
    assertion_list: list[dict[str, object]],
    admins: list[str],
    egress: tuple[str | None, str | None],
    service: bool,
) -> dict[str, object]:
    unique: dict[tuple[object, ...], dict[str, object]] = {}
    for flow in flow_list:
        key = tuple(str(v) for v in flow.values())
        unique.setdefault(key, {k: v for k, v in flow.items() if v is not None})
    spec: dict[str, object] = {
        "xflow": 1,
        "accounts": ACCOUNTS,
        "networks": {
            "east": _network("apps", 1, egress[0]),
            "west": _network("jobs", 2, egress[1]),
        },
        "buckets": {
            "alpha": {"name": "prop-alpha-bucket", "account": "data", "region": "eu-west-1"},
            "beta": {"name": "prop-beta-bucket", "account": "apps", "region": "eu-west-1"},
            "far": {"name": "prop-far-bucket", "account": "data", "region": "us-east-1"},
        },
        "principals": {name: {"arn": arn} for name, arn in PRINCIPALS.items()},
        "admins": admins,
        "flows": list(unique.values()),
        "assertions": [
            {**a, "bucket": _bucket_ref(str(a["bucket"])), "expect": "allow"}
            for a in assertion_list
        ],
    }
    if service:
        spec["services"] = {
            "trail": {"service": "cloudtrail.amazonaws.com", "source_account": "data"}
        }
        spec["flows"] = [
            *spec["flows"],  # type: ignore[list-item]
            {"service": "trail", "bucket": "far", "access": "write", "prefix": "AWSLogs/"},
        ]
    return spec


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    flow_list=flows,
    assertion_list=assertions,
    admins=st.lists(st.sampled_from(ADMINS), unique=True),
    egress=st.tuples(egresses, egresses),
    service=st.booleans(),
)
def test_every_spec_that_compiles_verifies_and_explain_agrees_on_assertions(
    tmp_path: Path,
    flow_list: list[dict[str, object]],
    assertion_list: list[dict[str, object]],
    admins: list[str],
    egress: tuple[str | None, str | None],
    service: bool,
) -> None:
    path = tmp_path / "spec.yaml"
    document = _spec(flow_list, assertion_list, admins, egress, service)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    spec = load_spec(path)  # the generator makes valid specs only: each must compile
    _, files = generate(spec, "spec.yaml")
    tree = TfTree(tuple(read_text(text, name) for name, text in sorted(files.items())), ())
    perimeter = read_perimeter(tree)
    report = verify(spec, tree)
    # Each assertion expects allow: verify fails exactly those that explain denies.
    from xflow_perimeter.prove.network_paths import topology

    matched = topology(spec, perimeter, frozenset())
    denied = set()
    for assertion in spec.assertions:
        answer = explain_one(
            spec,
            perimeter,
            matched,
            ExplainRequest(
                principal=assertion.principal_arn,
                network=assertion.network,
                bucket=assertion.bucket_name,
                bucket_account=assertion.bucket_account,
                bucket_region=assertion.bucket_region,
                key=assertion.key,
                action=assertion.action,
                identity=assertion.identity,
            ),
        )
        if not answer.decision.allowed:
            denied.add(assertion.span)
    failed = {f.span for f in report.findings if f.code == "XF506"}
    assert failed == denied
    others = [f"{f.code} {f.message}" for f in report.findings if f.code != "XF506"]
    assert not others and not report.refusals, others + [d.message for d in report.refusals]
    assert report.requests_evaluated > 0
