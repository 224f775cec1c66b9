"""Each request follows its real path: a gateway endpoint serves its own Region and its associated
route tables only; anything else leaves through the NAT or internet gateway, or nowhere with
``egress: none`` (assertions and explain alike)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xflow_perimeter.api import ExplainRequest, compile_spec, explain, open_explainer, verify

ADMIN = "arn:aws:iam::111111111111:role/Admin"
READER = "arn:aws:iam::222222222222:role/reader"


def _spec(egress: str, assertions: str = "", extra_network: str = "") -> str:
    bypass = "    bypass_accepted: egress firewall\n" if egress in ("nat", "internet") else ""
    return f"""xflow: 1
accounts: {{data: "111111111111", apps: "222222222222"}}
networks:
  app:
    account: apps
    region: eu-west-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
    egress: {egress}
{bypass}{extra_network}buckets:
  u: {{name: xflow-route-us, account: data, region: us-east-1}}
  e: {{name: xflow-route-eu, account: data, region: eu-west-1}}
principals:
  reader: {{arn: "{READER}"}}
admins: ["{ADMIN}"]
flows:
  - {{principal: reader, network: app, bucket: e, access: read}}
assertions:
{assertions or "  []"}
"""


def _compiled(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.replace("assertions:\n  []", "assertions: []"))
    compile_spec(spec)
    return spec


def _ask(spec: Path, **fields: str) -> tuple[bool, str]:
    answer = explain(open_explainer(spec), ExplainRequest(**fields))  # type: ignore[arg-type]
    return answer.decision.allowed, f"{answer.decision.reason} / {answer.description}"


def test_a_request_to_another_region_leaves_through_the_nat_without_the_endpoint(
    tmp_path: Path,
) -> None:
    spec = _compiled(tmp_path, _spec("nat"))
    allowed, why = _ask(
        spec, principal=ADMIN, network="app", bucket="u", action="s3:DeleteObject", key="k"
    )
    assert allowed, why
    assert "through its NAT gateway" in why
    # In its own Region the endpoint policy decides: the admin is no flow there.
    allowed, why = _ask(
        spec, principal=ADMIN, network="app", bucket="e", action="s3:DeleteObject", key="k"
    )
    assert not allowed and "endpoint policy" in why


def test_an_assertion_across_regions_is_judged_on_the_nat_path(tmp_path: Path) -> None:
    wrong = f'  - {{principal: "{ADMIN}", network: app, bucket: u, action: s3:DeleteObject, expect: deny}}'
    spec = _compiled(tmp_path, _spec("nat", wrong))
    report = verify(spec).report
    assert [f.code for f in report.findings] == ["XF506"]
    assert "NAT gateway" in report.findings[0].counterexample
    right = wrong.replace("expect: deny", "expect: allow")
    spec.write_text(_spec("nat", right))
    assert verify(spec).exit_code == 0


def test_egress_none_has_no_route_to_another_region(tmp_path: Path) -> None:
    assertion = f'  - {{principal: "{ADMIN}", network: app, bucket: u, action: s3:DeleteObject, expect: deny}}'
    spec = _compiled(tmp_path, _spec("none", assertion))
    assert verify(spec).exit_code == 0
    allowed, why = _ask(
        spec, principal=ADMIN, network="app", bucket="u", action="s3:DeleteObject", key="k"
    )
    assert not allowed and "no route to S3 in us-east-1" in why


@pytest.mark.parametrize(
    ("region", "allowed"), [(None, False), ("eu-west-1", False), ("us-east-1", True)]
)
def test_the_region_of_a_bucket_outside_the_spec_decides_its_path(
    tmp_path: Path, region: str | None, allowed: bool
) -> None:
    """Outside the spec a bucket is taken to allow everyone; the endpoint still stops a caller
    in the network's Region (the default), the NAT does not in another."""
    where = f", region: {region}" if region else ""
    assertion = (
        f'  - {{principal: "{READER}", network: app, bucket: {{name: xflow-elsewhere, '
        f"account: apps{where}}}, action: s3:PutObject, expect: {'allow' if allowed else 'deny'}}}"
    )
    spec = _compiled(tmp_path, _spec("nat", assertion))
    assert verify(spec).exit_code == 0
    fields = {"bucket_region": region} if region else {}
    got, why = _ask(
        spec,
        principal=READER,
        network="app",
        bucket="xflow-elsewhere",
        bucket_account="222222222222",
        action="s3:PutObject",
        key="k",
        **fields,
    )
    assert got is allowed, why


def test_explain_refuses_a_region_the_spec_contradicts(tmp_path: Path) -> None:
    from xflow_perimeter.api import ExplainError

    spec = _compiled(tmp_path, _spec("nat"))
    with pytest.raises(ExplainError, match="in us-east-1 in the spec"):
        _ask(
            spec,
            principal=ADMIN,
            network="app",
            bucket="u",
            action="s3:GetObject",
            bucket_region="eu-west-1",
        )


@pytest.mark.parametrize(
    ("egress", "says"),
    [
        ("none", "no route to S3 (egress: none)"),
        ("nat", "leaves through the NAT gateway without the endpoint policy"),
    ],
)
def test_an_unassociated_route_table_is_described_per_egress(
    tmp_path: Path, egress: str, says: str
) -> None:
    spec = _compiled(tmp_path, _spec(egress))
    endpoints = tmp_path / "terraform" / "apps-eu-west-1" / "endpoints.tf"
    text = endpoints.read_text()
    start = text.index('resource "aws_vpc_endpoint_route_table_association"')
    endpoints.write_text(text[:start] + text[text.index("}\n", start) + 2 :])
    found = [f for f in verify(spec).report.findings if f.code == "XF504"]
    assert len(found) == 1 and says in found[0].message, found
    assert ("any credentials" in found[0].message) is (egress != "none")


def test_a_batch_line_takes_the_bucket_region(tmp_path: Path) -> None:
    from xflow_perimeter.api import explain_batch

    spec = _compiled(tmp_path, _spec("none"))
    line = (
        f'{{"principal": "{READER}", "network": "app", "bucket": "xflow-elsewhere", '
        '"bucket_account": "222222222222", "action": "s3:PutObject", "key": "k"'
    )
    answers = list(
        explain_batch(
            open_explainer(spec),
            [
                line + "}",
                line + ', "bucket_region": "us-east-1"}',
                line + ', "bucket_region": "mars-1"}',
            ],
        )
    )
    assert [a.outcome for a in answers] == ["deny", "deny", "error"]
    assert answers[0].result is not None and "endpoint policy" in answers[0].result.decision.reason
    assert answers[1].result is not None
    assert "no route to S3 in us-east-1" in answers[1].result.decision.reason
    assert "unknown AWS Region" in (answers[2].error or "")
