"""xflow audit against moto's server mode: the examples deployed clean, then drifted one way at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.audit.committed import load_committed
from xflow_perimeter.audit.run import AuditSettings, audit

AUDIT_ROLE = "xflow-audit"


def run(deployment: Any, hook: Any, role: str | None = AUDIT_ROLE, workers: int = 2) -> Any:
    """Audit a deployment. Two workers: the emulator shares this process and its GIL, so more
    threads only add client set-up here (against AWS the default of 8 overlaps network waits)."""
    committed = load_committed(load_spec(deployment.spec_path), deployment.tf_root)
    return audit(committed, AuditSettings(role_name=role, session_hook=hook, workers=workers))


def codes(report: Any) -> list[str]:
    return [f.code for f in report.findings]


@pytest.mark.parametrize("example", ["cross-account", "data-platform"])
def test_deployed_example_audits_clean(deployed: Any, hook: Any, example: str) -> None:
    deployment = deployed(example)
    report = run(deployment, hook, workers=8)
    assert [f.to_diagnostic().render() for f in report.findings] == []
    assert report.exit_code == 0
    assert report.accounts == len({a for _, a in deployment.spec.accounts})
    assert report.account_regions >= 2


def test_interface_endpoint_for_s3_in_a_spec_vpc(deployed: Any, hook: Any) -> None:
    deployment = deployed("data-platform")
    lake = deployment.network("lake-vpc")
    created = deployment.ec2(lake).create_vpc_endpoint(
        VpcId=lake.vpc_id, ServiceName="com.amazonaws.eu-west-1.s3", VpcEndpointType="Interface"
    )["VpcEndpoint"]["VpcEndpointId"]
    report = run(deployment, hook)
    assert codes(report) == ["XF616"]
    finding = report.findings[0]
    assert created in finding.message and "Interface" in finding.message
    assert finding.span is not None and finding.span.file.endswith("spec.yaml")
    assert finding.span.line == lake.span.line
    assert "policy: AWS's default (full access to any bucket)" in finding.notes
    assert report.exit_code == 1


def test_console_edit_widening_a_bucket_policy(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    s3 = deployment.s3(reports)
    policy = json.loads(s3.get_bucket_policy(Bucket=reports.name)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "ConsoleEdit",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{reports.name}/*",
        }
    )
    s3.put_bucket_policy(Bucket=reports.name, Policy=json.dumps(policy))
    report = run(deployment, hook)
    assert codes(report) == ["XF611"]
    finding = report.findings[0]
    assert finding.span is not None
    assert (
        finding.span.file
        == f"{deployment.tf_root.as_posix()}/data-ap-northeast-1/bucket_policies.tf"
    )
    assert any("adds statement 'ConsoleEdit'" in note for note in finding.notes)
    # DenyUnlistedPrincipals still denies the other account: drift, but no wider exposure.
    assert report.proof.startswith("deployed perimeter grants exactly the spec")


def test_console_edit_that_widens_gets_the_deployed_proof(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    s3 = deployment.s3(reports)
    policy = json.loads(s3.get_bucket_policy(Bucket=reports.name)["Policy"])
    policy["Statement"] = [
        s for s in policy["Statement"] if s.get("Sid") != "DenyUnlistedPrincipals"
    ] + [
        {
            "Sid": "ConsoleEdit",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{reports.name}/*",
        }
    ]
    s3.put_bucket_policy(Bucket=reports.name, Policy=json.dumps(policy))
    report = run(deployment, hook)
    assert "XF611" in codes(report)
    widened = [f for f in report.findings if f.code == "XF501"]
    assert widened and all(f.message.startswith("deployed: ") for f in widened)
    outsider = [
        f
        for f in widened
        if any(n.startswith("counterexample:") and "123456789012" in n for n in f.notes)
    ]
    assert outsider, [f.to_diagnostic().render() for f in widened]
    assert any("ConsoleEdit" in n for f in outsider for n in f.notes)
    assert outsider[0].span is not None
    assert outsider[0].span.file.endswith("data-ap-northeast-1/bucket_policies.tf")
    assert set(codes(report)) <= {"XF611", "XF501", "XF503"}
    assert report.proof.startswith("deployed perimeter grants other than the spec")


def test_widened_statement_is_described_field_by_field(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    s3 = deployment.s3(reports)
    policy = json.loads(s3.get_bucket_policy(Bucket=reports.name)["Policy"])
    unlisted = next(s for s in policy["Statement"] if s["Sid"] == "DenyUnlistedPrincipals")
    unlisted["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append(
        "arn:aws:iam::999999999999:role/extra"
    )
    s3.put_bucket_policy(Bucket=reports.name, Policy=json.dumps(policy))
    report = run(deployment, hook)
    assert codes(report) == ["XF611"]
    assert report.findings[0].notes == (
        "deployed statement 'DenyUnlistedPrincipals': Condition ArnNotEquals aws:PrincipalArn "
        "adds arn:aws:iam::999999999999:role/extra",
    )


def test_what_aws_rewrites_is_not_drift(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    s3 = deployment.s3(reports)
    policy = json.loads(s3.get_bucket_policy(Bucket=reports.name)["Policy"])
    rewritten = []
    for statement in reversed(policy["Statement"]):
        statement = {key: statement[key] for key in reversed(list(statement))}
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            if isinstance(statement.get(key), list) and len(statement[key]) == 1:
                statement[key] = statement[key][0]
        rewritten.append(statement)
    s3.put_bucket_policy(
        Bucket=reports.name,
        Policy=json.dumps({"Statement": rewritten, "Version": policy["Version"]}, indent=7),
    )
    assert codes(run(deployment, hook)) == []


def test_removed_route_table_association(deployed: Any, hook: Any) -> None:
    deployment = deployed("data-platform")
    ingest = deployment.network("ingest-vpc")
    removed = ingest.route_table_ids[1]
    endpoint = deployment.gateway_endpoint(ingest)
    deployment.ec2(ingest).modify_vpc_endpoint(
        VpcEndpointId=endpoint, RemoveRouteTableIds=[removed]
    )
    report = run(deployment, hook)
    # The drift, and what the deployment now does: the route table bypasses the endpoint
    # (XF504), so the flows from its subnets fail (XF502).
    assert sorted(set(codes(report))) == ["XF502", "XF504", "XF612"]
    assert codes(report).count("XF612") == 1
    assert all(f.message.startswith("deployed: ") for f in report.findings if f.code < "XF600")
    finding = next(f for f in report.findings if f.code == "XF612")
    assert removed in finding.message
    assert finding.span is not None
    assert finding.span.file.endswith("ingest-eu-west-1/endpoints.tf")
    tf_text = (deployment.tf_root / "ingest-eu-west-1" / "endpoints.tf").read_text()
    line = tf_text.splitlines()[finding.span.line - 1]
    assert line.startswith('resource "aws_vpc_endpoint_route_table_association"')
    assert removed.replace("-", "_") in line


def test_acls_enabled(deployed: Any, hook: Any) -> None:
    deployment = deployed("data-platform")
    raw = deployment.bucket("raw")
    deployment.s3(raw).put_bucket_ownership_controls(
        Bucket=raw.name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    report = run(deployment, hook)
    assert codes(report) == ["XF617"]
    assert report.findings[0].span == raw.span


def test_no_ownership_controls_counts_as_acls_enabled(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    deployment.s3(reports).delete_bucket_ownership_controls(Bucket=reports.name)
    report = run(deployment, hook)
    assert codes(report) == ["XF617"]
    assert "no ownership controls" in report.findings[0].message


def test_acl_grant_beyond_the_owner(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    s3 = deployment.s3(reports)
    s3.put_bucket_ownership_controls(
        Bucket=reports.name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.put_bucket_acl(Bucket=reports.name, ACL="public-read")
    report = run(deployment, hook)
    assert codes(report) == ["XF617", "XF618"]
    assert report.findings[1].notes == (
        "grant: READ to http://acs.amazonaws.com/groups/global/AllUsers",
    )


def test_public_access_not_blocked(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    deployment.s3(reports).put_public_access_block(
        Bucket=reports.name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    report = run(deployment, hook)
    assert codes(report) == ["XF619"]
    assert "BlockPublicPolicy" in report.findings[0].message


def test_account_public_access_block_covers_the_bucket(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    deployment.s3(reports).delete_public_access_block(Bucket=reports.name)
    assert codes(run(deployment, hook)) == ["XF619"]
    deployment.s3control(reports).put_public_access_block(
        AccountId=reports.account_id,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    assert codes(run(deployment, hook)) == []


def test_access_point_on_a_spec_bucket(deployed: Any, hook: Any) -> None:
    deployment = deployed("data-platform")
    curated = deployment.bucket("curated")
    deployment.s3control(curated).create_access_point(
        AccountId=curated.account_id, Name="side-door", Bucket=curated.name
    )
    report = run(deployment, hook)
    assert codes(report) == ["XF620"]
    assert "side-door" in report.findings[0].message


def test_unlisted_route_table_in_a_spec_vpc(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    app = deployment.network("app")
    extra = deployment.ec2(app).create_route_table(VpcId=app.vpc_id)["RouteTable"]["RouteTableId"]
    report = run(deployment, hook)
    assert codes(report) == ["XF614"]
    assert extra in report.findings[0].message


def _default_route_to_internet(deployment: Any, network: Any, route_table: str) -> str:
    ec2 = deployment.ec2(network)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=network.vpc_id)
    ec2.create_route(RouteTableId=route_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    return str(gateway)


def test_internet_route_contradicts_egress_none(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    app = deployment.network("app")
    gateway = _default_route_to_internet(deployment, app, app.route_table_ids[1])
    report = run(deployment, hook)
    assert codes(report) == ["XF615"]
    assert gateway in report.findings[0].message
    assert "egress: none" in report.findings[0].message


def test_nat_route_matches_egress_nat_but_internet_does_not(deployed: Any, hook: Any) -> None:
    deployment = deployed("data-platform")
    ingest = deployment.network("ingest-vpc")
    ec2 = deployment.ec2(ingest)
    cidr = ec2.describe_vpcs(VpcIds=[ingest.vpc_id])["Vpcs"][0]["CidrBlock"]
    subnet_cidr = cidr.replace("0.0/16", "1.0/24")
    subnet = ec2.create_subnet(VpcId=ingest.vpc_id, CidrBlock=subnet_cidr)["Subnet"]["SubnetId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet)["NatGateway"]["NatGatewayId"]
    ec2.create_route(
        RouteTableId=ingest.route_table_ids[0], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
    )
    assert codes(run(deployment, hook)) == []
    _default_route_to_internet(deployment, ingest, ingest.route_table_ids[1])
    assert codes(run(deployment, hook)) == ["XF615"]


def test_edited_endpoint_policy(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    app = deployment.network("app")
    endpoint = deployment.gateway_endpoint(app)
    full_access = {  # the console's "Full access" choice
        "Version": "2008-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
    deployment.ec2(app).modify_vpc_endpoint(
        VpcEndpointId=endpoint, PolicyDocument=json.dumps(full_access)
    )
    report = run(deployment, hook)
    # Full access at the endpoint lets the network reach buckets outside the spec: the
    # deployed proof says so (XF501, and the spec's assertions that it cannot fail: XF506).
    assert codes(report).count("XF610") == 1
    assert set(codes(report)) <= {"XF501", "XF503", "XF506", "XF610"}
    assert any(
        f.code == "XF501" and f.span is not None and f.span.file.endswith("endpoints.tf")
        for f in report.findings
    )
    finding = next(f for f in report.findings if f.code == "XF610")
    assert finding.span is not None
    assert finding.span.file.endswith("workload-ap-northeast-1/endpoints.tf")
    assert "deployed Version is '2008-10-17' instead of '2012-10-17'" in finding.notes
    assert "deployed adds statement (no Sid): Allow | Principal * | Action * | Resource *" in (
        finding.notes
    )
    committed = (deployment.tf_root / "workload-ap-northeast-1" / "endpoints.tf").read_text()
    lacks = sum(note.startswith("deployed lacks statement") for note in finding.notes)
    assert lacks == committed.count("Sid ") >= 2


def test_missing_bucket_and_endpoint(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    reports = deployment.bucket("reports")
    s3 = deployment.s3(reports)
    s3.delete_bucket_policy(Bucket=reports.name)
    s3.delete_bucket(Bucket=reports.name)
    app = deployment.network("app")
    deployment.ec2(app).delete_vpc_endpoints(VpcEndpointIds=[deployment.gateway_endpoint(app)])
    report = run(deployment, hook)
    assert codes(report) == ["XF621", "XF623"]
    assert "not proven" in report.proof and reports.name in report.proof


def test_without_a_role_only_the_callers_own_account_is_read(deployed: Any, hook: Any) -> None:
    deployment = deployed("cross-account")
    report = run(deployment, hook, role=None)
    assert codes(report) == ["XF602", "XF602"]
    assert all("give --role-name" in f.message for f in report.findings)
    assert report.exit_code == 1


def test_a_deployed_policy_the_proof_cannot_read(deployed: Any, hook: Any) -> None:
    """The older policy grammar takes ${...} literally, which the evaluator does not model: the
    drift is reported and the deployed exposure is said to be unknown, never taken as safe."""
    deployment = deployed("cross-account")
    app = deployment.network("app")
    endpoint = deployment.gateway_endpoint(app)
    literal_variable = {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::${aws:username}/*",
            }
        ],
    }
    deployment.ec2(app).modify_vpc_endpoint(
        VpcEndpointId=endpoint, PolicyDocument=json.dumps(literal_variable)
    )
    report = run(deployment, hook)
    assert sorted(codes(report)) == ["XF610", "XF624"]
    unproven = next(f for f in report.findings if f.code == "XF624")
    assert endpoint in unproven.message and unproven.message.startswith("deployed: ")
    assert unproven.span is not None and unproven.span.file.endswith("endpoints.tf")
    assert report.proof.startswith("deployed perimeter not proven")


def test_the_report_names_what_is_checked_and_what_is_still_assumed(
    deployed: Any, hook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from xflow_perimeter.audit.report import ASSUMED, CHECKED
    from xflow_perimeter.cli import audit as cli_audit

    deployment = deployed("cross-account")
    args = argparse.Namespace(
        spec=deployment.spec_path,
        tf=deployment.tf_root,
        role_name=AUDIT_ROLE,
        format="text",
        print_iam_policy=False,
        quiet=False,
    )
    assert cli_audit.run(args, session_hook=hook) == 0
    text = capsys.readouterr().out
    assert all(line in text for line in (*CHECKED, *ASSUMED))
    assert "identity policies are not read" in text and "SCPs, RCPs" in text
    assert "xflow: deployed perimeter grants exactly the spec (" in text

    assert cli_audit.run(argparse.Namespace(**{**vars(args), "format": "json"}), hook) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["result"] == "clean"
    assert data["deployed_proof"].startswith("deployed perimeter grants exactly the spec")
    assert data["checked"] == list(CHECKED) and data["assumed"] == list(ASSUMED)
