"""Read the spec's VPCs in one account and Region: which exist, their S3 endpoints, route tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from xflow_perimeter.audit.live import (
    LiveEndpoint,
    LiveRoute,
    LiveRouteTable,
    RouteTarget,
    Unreadable,
)
from xflow_perimeter.audit.sessions import Reader

# Endpoints that reach general-purpose S3 buckets: the Regional S3 service (gateway or
# interface) and multi-Region access points. S3 Express (directory buckets) and Outposts are
# other bucket namespaces.
_S3_SERVICE = re.compile(
    r"^(?:[a-z]+\.)*com\.amazonaws\.(?:[a-z0-9-]+\.s3|s3-global\.accesspoint)$"
)
_GONE = frozenset({"deleted", "deleting", "failed", "rejected", "expired"})


@dataclass(frozen=True, slots=True)
class NetworkReads:
    """The spec's VPCs in one account and Region as read: each part, or why it could not be read."""

    vpc_ids: frozenset[str] | Unreadable
    endpoints: tuple[LiveEndpoint, ...] | Unreadable
    route_tables: tuple[LiveRouteTable, ...] | Unreadable
    s3_prefix_lists: frozenset[str] | Unreadable


def is_s3_service(service_name: str) -> bool:
    return _S3_SERVICE.match(service_name) is not None


def read_networks(reader: Reader, vpc_ids: tuple[str, ...]) -> NetworkReads:
    """Everything the audit needs about ``vpc_ids`` (all in the reader's account and Region)."""
    vpcs_filter = [{"Name": "vpc-id", "Values": list(vpc_ids)}]
    where = ", ".join(vpc_ids)
    found_vpcs = reader.pages("ec2", "DescribeVpcs", f"VPCs {where}", "Vpcs", Filters=vpcs_filter)
    endpoints = reader.pages(
        "ec2",
        "DescribeVpcEndpoints",
        f"the VPC endpoints of {where}",
        "VpcEndpoints",
        Filters=vpcs_filter,
    )
    tables = reader.pages(
        "ec2",
        "DescribeRouteTables",
        f"the route tables of {where}",
        "RouteTables",
        Filters=vpcs_filter,
    )
    prefix_lists = reader.pages(
        "ec2",
        "DescribePrefixLists",
        "the S3 prefix list",
        "PrefixLists",
        Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{reader.region}.s3"]}],
    )
    return NetworkReads(
        vpc_ids=(
            found_vpcs
            if isinstance(found_vpcs, Unreadable)
            else frozenset(str(v["VpcId"]) for v in found_vpcs)
        ),
        endpoints=(
            endpoints
            if isinstance(endpoints, Unreadable)
            else tuple(
                sorted(
                    (_endpoint(e) for e in endpoints if _is_live_s3(e)),
                    key=lambda e: e.endpoint_id,
                )
            )
        ),
        route_tables=(
            tables
            if isinstance(tables, Unreadable)
            else tuple(sorted((_route_table(t) for t in tables), key=lambda t: t.route_table_id))
        ),
        s3_prefix_lists=(
            prefix_lists
            if isinstance(prefix_lists, Unreadable)
            else frozenset(str(p["PrefixListId"]) for p in prefix_lists)
        ),
    )


def _is_live_s3(raw: dict[str, Any]) -> bool:
    state = str(raw.get("State", "")).lower()
    return is_s3_service(str(raw.get("ServiceName", ""))) and state not in _GONE


def _endpoint(raw: dict[str, Any]) -> LiveEndpoint:
    policy = raw.get("PolicyDocument")
    return LiveEndpoint(
        endpoint_id=str(raw["VpcEndpointId"]),
        vpc_id=str(raw.get("VpcId", "")),
        service_name=str(raw.get("ServiceName", "")),
        endpoint_type=str(raw.get("VpcEndpointType", "Gateway")),
        state=str(raw.get("State", "")),
        policy=str(policy) if policy is not None else None,
        route_table_ids=tuple(sorted(str(r) for r in raw.get("RouteTableIds", []))),
    )


def _route_table(raw: dict[str, Any]) -> LiveRouteTable:
    associations = raw.get("Associations", [])
    return LiveRouteTable(
        route_table_id=str(raw["RouteTableId"]),
        vpc_id=str(raw.get("VpcId", "")),
        main=any(bool(a.get("Main")) for a in associations),
        subnet_ids=tuple(sorted(str(a["SubnetId"]) for a in associations if a.get("SubnetId"))),
        routes=tuple(_route(r) for r in raw.get("Routes", [])),
    )


_TARGETS: tuple[tuple[str, RouteTarget], ...] = (
    ("NatGatewayId", "nat-gateway"),
    ("EgressOnlyInternetGatewayId", "egress-only-internet-gateway"),
    ("TransitGatewayId", "transit-gateway"),
    ("VpcPeeringConnectionId", "vpc-peering"),
    ("NetworkInterfaceId", "network-interface"),
    ("InstanceId", "network-interface"),
    ("LocalGatewayId", "other"),
    ("CarrierGatewayId", "other"),
    ("CoreNetworkArn", "other"),
)


def _route(raw: dict[str, Any]) -> LiveRoute:
    destination = str(
        raw.get("DestinationCidrBlock")
        or raw.get("DestinationIpv6CidrBlock")
        or raw.get("DestinationPrefixListId")
        or ""
    )
    target, kind = _target(raw)
    return LiveRoute(destination, target, kind, raw.get("State", "active") != "blackhole")


def _target(raw: dict[str, Any]) -> tuple[str, RouteTarget]:
    gateway = str(raw.get("GatewayId") or "")
    if gateway == "local":
        return gateway, "local"
    if gateway.startswith("igw-"):
        return gateway, "internet-gateway"
    if gateway.startswith("vpce-"):
        return gateway, "vpc-endpoint"
    if gateway.startswith("vgw-"):
        return gateway, "virtual-private-gateway"
    for key, kind in _TARGETS:
        if raw.get(key):
            return str(raw[key]), kind
    return gateway or "unknown", "other"
