"""The audit's test bed: moto's server mode over HTTP, and the examples deployed into it.

Each test gets a fresh emulator state. A deployment builds what an example's spec assumes
exists (VPCs, route tables, adopted endpoints, buckets with ownership controls and public access
blocks, which moto does not default as AWS does), writes a copy of the spec with moto's ids,
compiles it, and applies the compiled Terraform with boto3, reading it the way verify does.

Emulator limits met and how the tests work around them:
- S3 Control puts the account id in front of the host (ACCOUNT.127.0.0.1): a before-sign hook
  puts the emulator's host back (``inject_host_prefix=False`` does not help: the account comes
  from botocore's endpoint rules, not from a host prefix).
- moto generates its own VPC, route-table and endpoint ids: the spec copy substitutes them.
- moto creates a main route table with each VPC: the deployment maps the network's first route
  table onto it, so the spec lists it as AWS would require.
- Removing a route table from a gateway endpoint (ModifyVpcEndpoint) leaves its prefix-list
  route behind in moto; the audit takes associations from the endpoint, as AWS reports both.
- moto accepts bucket policies naming principals that do not exist (AWS rejects them).
- moto's ListAccessPoints returns every access point in one page (no NextToken).
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOYER_ROLE = "xflow-deployer"
AUDIT_ROLE = "xflow-audit"
ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh emulator, reached through the standard AWS environment variables only."""
    import requests

    requests.post(f"{moto_url}/moto-api/reset", timeout=30).raise_for_status()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield moto_url


def emulator_hook(url: str) -> Callable[[Any], None]:
    """Session hook: send S3 Control requests to the emulator's own host."""
    netloc = urlsplit(url).netloc

    def rehost(request: Any, **_: Any) -> None:
        request.url = urlunsplit(urlsplit(request.url)._replace(netloc=netloc))

    def hook(session: Any) -> None:
        session.events.register("before-sign.s3-control", rehost)

    return hook


@pytest.fixture
def hook(aws: str) -> Callable[[Any], None]:
    return emulator_hook(aws)


class Cloud:
    """boto3 clients in any account of the emulator, through STS AssumeRole (moto takes the
    account from the role ARN)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._hook = emulator_hook(url)
        self._sessions: dict[str, Any] = {}

    def session(self, account: str) -> Any:
        import boto3

        if account not in self._sessions:
            issued = boto3.client("sts", region_name="us-east-1").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{DEPLOYER_ROLE}",
                RoleSessionName="deploy",
            )["Credentials"]
            session = boto3.Session(
                aws_access_key_id=issued["AccessKeyId"],
                aws_secret_access_key=issued["SecretAccessKey"],
                aws_session_token=issued["SessionToken"],
            )
            self._hook(session)
            self._sessions[account] = session
        return self._sessions[account]

    def client(self, account: str, service: str, region: str) -> Any:
        return self.session(account).client(service, region_name=region)


@dataclass
class Deployment:
    """An example deployed into the emulator from its compiled Terraform."""

    cloud: Cloud
    spec_path: Path
    tf_root: Path
    ids: dict[str, str]  # the example's ids -> moto's
    spec: Any = field(default=None)

    def network(self, name: str) -> Any:
        return next(n for n in self.spec.networks if n.name == name)

    def bucket(self, key: str) -> Any:
        return next(b for b in self.spec.buckets if b.key == key)

    def ec2(self, network: Any) -> Any:
        return self.cloud.client(network.account_id, "ec2", network.region)

    def s3(self, bucket: Any) -> Any:
        return self.cloud.client(bucket.account_id, "s3", bucket.region)

    def s3control(self, bucket: Any) -> Any:
        return self.cloud.client(bucket.account_id, "s3control", bucket.region)

    def gateway_endpoint(self, network: Any) -> str:
        endpoints = self.ec2(network).describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}]
        )["VpcEndpoints"]
        return next(str(e["VpcEndpointId"]) for e in endpoints if e["VpcEndpointType"] == "Gateway")


def deploy(cloud: Cloud, example: str, workdir: Path) -> Deployment:
    from xflow_perimeter.api import compile_spec, load_spec

    source = REPO / "examples" / example / "spec.yaml"
    original = load_spec(source)
    ids: dict[str, str] = {}
    for index, network in enumerate(original.networks):
        ec2 = cloud.client(network.account_id, "ec2", network.region)
        vpc = ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")["Vpc"]["VpcId"]
        ids[network.vpc_id] = vpc
        main = ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"][0]["RouteTableId"]
        ids[network.route_table_ids[0]] = main
        for rtb in network.route_table_ids[1:]:
            ids[rtb] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        if network.endpoint_id is not None:  # an endpoint that exists before xflow adopts it
            ids[network.endpoint_id] = ec2.create_vpc_endpoint(
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{network.region}.s3",
                VpcEndpointType="Gateway",
            )["VpcEndpoint"]["VpcEndpointId"]
    for bucket in original.buckets:
        s3 = cloud.client(bucket.account_id, "s3", bucket.region)
        location = (
            {}
            if bucket.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": bucket.region}}
        )
        s3.create_bucket(Bucket=bucket.name, **location)
        s3.put_bucket_ownership_controls(
            Bucket=bucket.name,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration=ALL_BLOCKED)
    text = source.read_text(encoding="utf-8")
    pattern = re.compile("|".join(re.escape(old) for old in sorted(ids, key=len, reverse=True)))
    spec_path = workdir / example / "spec.yaml"
    spec_path.parent.mkdir(parents=True)
    spec_path.write_text(pattern.sub(lambda m: ids[m.group(0)], text), encoding="utf-8")
    result = compile_spec(spec_path)
    spec = load_spec(spec_path)
    _apply(cloud, spec, result.output_root)
    return Deployment(cloud, spec_path, result.output_root, ids, spec)


def _apply(cloud: Cloud, spec: Any, root: Path) -> None:
    """terraform apply, for the resources xflow generates, with boto3."""
    from xflow_perimeter.iam.policy import to_json
    from xflow_perimeter.terraform.perimeter import read_perimeter
    from xflow_perimeter.terraform.reader import read_tree

    perimeter = read_perimeter(read_tree(root))
    assert not perimeter.refusals
    for endpoint in perimeter.endpoints:
        network = next(
            n
            for n in spec.networks
            if (endpoint.endpoint_id is None and n.vpc_id == endpoint.vpc_id)
            or (endpoint.endpoint_id is not None and n.endpoint_id == endpoint.endpoint_id)
        )
        ec2 = cloud.client(network.account_id, "ec2", network.region)
        route_tables = sorted(
            a.route_table_id
            for a in perimeter.associations
            if a.endpoint_address == endpoint.address
            or (a.endpoint_id is not None and a.endpoint_id == endpoint.endpoint_id)
        )
        policy = json.dumps(to_json(endpoint.policy)) if endpoint.policy is not None else None
        if endpoint.endpoint_id is None:
            ec2.create_vpc_endpoint(
                VpcId=endpoint.vpc_id,
                ServiceName=f"com.amazonaws.{network.region}.s3",
                VpcEndpointType="Gateway",
                RouteTableIds=route_tables,
                **({"PolicyDocument": policy} if policy else {}),
            )
        else:
            ec2.modify_vpc_endpoint(
                VpcEndpointId=endpoint.endpoint_id,
                AddRouteTableIds=route_tables,
                **({"PolicyDocument": policy} if policy else {}),
            )
    for bucket_policy in perimeter.bucket_policies:
        bucket = next(b for b in spec.buckets if b.name == bucket_policy.bucket)
        assert bucket_policy.policy is not None
        cloud.client(bucket.account_id, "s3", bucket.region).put_bucket_policy(
            Bucket=bucket.name, Policy=json.dumps(to_json(bucket_policy.policy), indent=2)
        )


@pytest.fixture
def cloud(aws: str) -> Cloud:
    return Cloud(aws)


@pytest.fixture
def deployed(cloud: Cloud, tmp_path: Path) -> Callable[[str], Deployment]:
    return lambda example: deploy(cloud, example, tmp_path)
