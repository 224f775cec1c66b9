"""Reader: pagination (botocore's paginators, or NextToken where there is none), failures as data,
and only catalogued operations."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.stub import Stubber

from xflow_perimeter.audit.live import Missing, Unreadable
from xflow_perimeter.audit.read_buckets import read_bucket
from xflow_perimeter.audit.read_network import read_networks
from xflow_perimeter.audit.sessions import Access, Credentials, Reader, Readers, Sessions
from xflow_perimeter.spec.model import Bucket

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret", None)


def _reader() -> Reader:
    return Reader(Sessions().new(CREDENTIALS, "eu-west-1"), "111111111111", "eu-west-1")


def test_manual_next_token_loop_reads_every_page() -> None:
    reader = _reader()
    client = reader.client("s3control")
    assert not client.can_paginate("list_access_points")
    with Stubber(client) as stub:
        expected = {"AccountId": "111111111111", "Bucket": "bucket-b"}
        stub.add_response(
            "list_access_points",
            {
                "AccessPointList": [
                    {"Name": "one", "NetworkOrigin": "Internet", "Bucket": "bucket-b"}
                ],
                "NextToken": "t1",
            },
            expected,
        )
        stub.add_response(
            "list_access_points",
            {
                "AccessPointList": [
                    {
                        "Name": "two",
                        "NetworkOrigin": "VPC",
                        "Bucket": "bucket-b",
                        "VpcConfiguration": {"VpcId": "vpc-1"},
                    }
                ]
            },
            {**expected, "NextToken": "t1"},
        )
        items = reader.pages("s3control", "ListAccessPoints", "aps", "AccessPointList", **expected)
        stub.assert_no_pending_responses()
    assert isinstance(items, list)
    assert [i["Name"] for i in items] == ["one", "two"]


def test_paginator_reads_every_route_table_page() -> None:
    reader = _reader()
    client = reader.client("ec2")
    filters = [{"Name": "vpc-id", "Values": ["vpc-1"]}]
    with Stubber(client) as stub:
        stub.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1"}]}, {"Filters": filters})
        stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": []}, {"Filters": filters})
        table = {"VpcId": "vpc-1", "Associations": [], "Routes": []}
        stub.add_response(
            "describe_route_tables",
            {"RouteTables": [{**table, "RouteTableId": "rtb-1"}], "NextToken": "p2"},
            {"Filters": filters},
        )
        stub.add_response(
            "describe_route_tables",
            {"RouteTables": [{**table, "RouteTableId": "rtb-2"}]},
            {"Filters": filters, "NextToken": "p2"},
        )
        stub.add_response(
            "describe_prefix_lists",
            {
                "PrefixLists": [
                    {"PrefixListId": "pl-1", "PrefixListName": "com.amazonaws.eu-west-1.s3"}
                ]
            },
            {"Filters": [{"Name": "prefix-list-name", "Values": ["com.amazonaws.eu-west-1.s3"]}]},
        )
        reads = read_networks(reader, ("vpc-1",))
    assert not isinstance(reads.route_tables, Unreadable)
    assert [t.route_table_id for t in reads.route_tables] == ["rtb-1", "rtb-2"]
    assert reads.s3_prefix_lists == frozenset({"pl-1"})


def test_failures_are_data_naming_the_action() -> None:
    reader = _reader()
    client = reader.client("s3")
    bucket = Bucket("b", "bucket-b", "111111111111", "eu-west-1")
    owner = {"Bucket": "bucket-b", "ExpectedBucketOwner": "111111111111"}
    with Stubber(client) as stub:
        stub.add_response("get_bucket_location", {"LocationConstraint": "eu-west-1"}, owner)
        stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", http_status_code=404)
        stub.add_client_error("get_bucket_ownership_controls", "AccessDenied", "no", 403)
        stub.add_client_error("get_bucket_acl", "SlowDown", "busy", 503)
        stub.add_client_error("get_public_access_block", "InternalError", "oops", 500)
        s3control = reader.client("s3control")
        with Stubber(s3control) as control:
            control.add_response("list_access_points", {"AccessPointList": []})
            live = read_bucket(reader, bucket)
    assert live.policy == Missing("NoSuchBucketPolicy")
    assert isinstance(live.object_ownership, Unreadable)
    assert live.object_ownership.kind == "denied"
    assert live.object_ownership.action == "s3:GetBucketOwnershipControls"
    assert isinstance(live.acl_grants, Unreadable) and live.acl_grants.kind == "throttled"
    assert isinstance(live.public_access_block, Unreadable)
    assert live.public_access_block.action == "s3:GetBucketPublicAccessBlock"
    assert live.public_access_block.kind == "error"
    assert live.access_points == ()


def test_only_catalogued_operations_can_be_called() -> None:
    reader = _reader()
    with pytest.raises(KeyError):
        reader.call("s3", "PutBucketPolicy", "a write", Bucket="b", Policy="{}")
    with pytest.raises(KeyError):
        reader.call("ec2", "DeleteVpcEndpoints", "a write", VpcEndpointIds=["vpce-1"])


def test_each_thread_has_its_own_session_and_clients() -> None:
    readers = Readers({"111111111111": Access("111111111111", CREDENTIALS, None)}, Sessions())
    seen: list[Any] = []

    def grab() -> None:
        first = readers.get("111111111111", "eu-west-1")
        assert readers.get("111111111111", "eu-west-1") is first
        seen.append(first)

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(r.session) for r in seen}) == 3


def test_credentials_never_show_their_secrets_in_a_repr() -> None:
    shown = repr(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI-secret", "session-token-value"))
    assert "AKIDEXAMPLE" in shown
    assert "wJalrXUtnFEMI-secret" not in shown and "session-token-value" not in shown
