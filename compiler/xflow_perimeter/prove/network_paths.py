"""Network path classes: how a request can reach S3, matched from the spec to the Terraform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.iam.evaluate import DEFAULT_ENDPOINT_POLICY
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import NetworkPath
from xflow_perimeter.prove.request_classes import Constants, fresh_id, ip_witnesses
from xflow_perimeter.spec.model import Network, Spec
from xflow_perimeter.terraform.perimeter import Perimeter, TfEndpoint

PathKind = Literal["endpoint", "unassociated", "foreign-endpoint", "internet"]
INTERNET_IP = "203.0.113.10"
NAT_IP = "198.51.100.10"
VPC_SOURCE_IP = "10.0.0.10"


@dataclass(frozen=True, slots=True)
class PathClass:
    kind: PathKind
    network: Network | None  # the spec network the request comes from, if any
    path: NetworkPath
    endpoint_policy: PolicyDocument | None  # the traversed endpoint's policy; None off-endpoint
    endpoint: TfEndpoint | None
    label: str


@dataclass(frozen=True, slots=True)
class Topology:
    endpoints: dict[str, TfEndpoint]  # network name -> its endpoint in the Terraform
    paths: dict[str, tuple[PathClass, ...]]  # network name -> its path classes
    findings: tuple[Diagnostic, ...]  # structural findings (missing or extra resources)
    refusals: tuple[Diagnostic, ...]


def endpoint_policy_of(endpoint: TfEndpoint) -> PolicyDocument:
    return endpoint.policy if endpoint.policy is not None else DEFAULT_ENDPOINT_POLICY


def topology(spec: Spec, perimeter: Perimeter, known_vpces: frozenset[str]) -> Topology:
    findings: list[Diagnostic] = []
    refusals: list[Diagnostic] = []
    matched: dict[str, TfEndpoint] = {}
    for network in spec.networks:
        if network.endpoint_id is None:
            candidates = [e for e in perimeter.endpoints if e.vpc_id == network.vpc_id]
        else:
            candidates = [e for e in perimeter.endpoints if e.endpoint_id == network.endpoint_id]
        if len(candidates) > 1:
            refusals.append(
                Diagnostic(
                    "XF405",
                    f"network {network.name!r}: {len(candidates)} S3 endpoints "
                    f"({', '.join(c.address for c in candidates)}); expected one",
                    candidates[1].span,
                )
            )
        if not candidates and network.endpoint_id is not None:
            findings.append(
                Diagnostic(
                    "XF505",
                    f"network {network.name!r}: no aws_vpc_endpoint_policy for its existing endpoint "
                    f"{network.endpoint_id}; that endpoint then has AWS's default policy, which "
                    "allows any request to any bucket",
                    network.span,
                )
            )
            matched[network.name] = TfEndpoint(
                address=f"{network.endpoint_id} (existing endpoint, default policy)",
                module="",
                vpc_id=network.vpc_id,
                endpoint_id=network.endpoint_id,
                region=network.region,
                policy=None,
                span=None,
            )
            continue
        if not candidates:
            findings.append(
                Diagnostic(
                    "XF505",
                    f"network {network.name!r}: no S3 gateway endpoint"
                    + (" policy" if network.endpoint_id else "")
                    + " in the Terraform; its S3 traffic is not governed by xflow",
                    network.span,
                )
            )
            continue
        endpoint = candidates[0]
        if endpoint.region is not None and endpoint.region != network.region:
            findings.append(
                Diagnostic(
                    "XF505",
                    f"{endpoint.address} serves S3 in {endpoint.region}, but network "
                    f"{network.name!r} is in {network.region}",
                    endpoint.span,
                )
            )
        matched[network.name] = endpoint
    claimed = {e.address for e in matched.values()}
    for endpoint in perimeter.endpoints:
        if endpoint.address not in claimed:
            findings.append(
                Diagnostic(
                    "XF507",
                    f"{endpoint.address} is an S3 endpoint that no network in the spec declares",
                    endpoint.span,
                )
            )
    paths: dict[str, tuple[PathClass, ...]] = {}
    taken = set(known_vpces)
    for network in spec.networks:
        found = matched.get(network.name)
        associated = _associated(perimeter, found)
        vpce = network.endpoint_id or fresh_id("vpce", network.name, taken)
        taken.add(vpce)
        classes: list[PathClass] = []
        if found is not None and associated & set(network.route_table_ids):
            classes.append(
                PathClass(
                    "endpoint",
                    network,
                    NetworkPath(vpce=vpce, vpc=network.vpc_id, vpc_source_ip=VPC_SOURCE_IP),
                    endpoint_policy_of(found),
                    found,
                    f"network {network.name}",
                )
            )
        for rtb in network.route_table_ids:
            if rtb in associated:
                continue
            findings.append(
                Diagnostic(
                    "XF504",
                    f"route table {rtb} of network {network.name!r} is not associated with its S3 "
                    "endpoint: S3 traffic from its subnets leaves without the endpoint policy, so "
                    "flows from there fail and any credentials can reach any bucket",
                    network.span,
                )
            )
            classes.append(
                PathClass(
                    "unassociated",
                    network,
                    NetworkPath(source_ip=NAT_IP),
                    None,
                    None,
                    f"network {network.name} through route table {rtb} (no endpoint association)",
                )
            )
        for rtb in sorted(associated - set(network.route_table_ids)):
            findings.append(
                Diagnostic(
                    "XF507",
                    f"route table {rtb} is associated with the endpoint of network "
                    f"{network.name!r} but the spec does not list it",
                    found.span if found else None,
                )
            )
        paths[network.name] = tuple(classes)
    return Topology(matched, paths, tuple(findings), tuple(refusals))


def _associated(perimeter: Perimeter, endpoint: TfEndpoint | None) -> set[str]:
    if endpoint is None:
        return set()
    return {
        a.route_table_id
        for a in perimeter.associations
        if (a.endpoint_address is not None and a.endpoint_address == endpoint.address)
        or (a.endpoint_id is not None and a.endpoint_id == endpoint.endpoint_id)
    }


def outside_paths(spec: Spec, found: Constants, taken_vpces: set[str]) -> list[PathClass]:
    """The internet and VPC endpoints outside the spec, one per VPC or endpoint id the policies name."""
    own_vpcs = {n.vpc_id for n in spec.networks}
    own_vpces = {n.endpoint_id for n in spec.networks if n.endpoint_id}
    fresh_vpce = fresh_id("vpce", "foreign", taken_vpces | found.vpces)
    fresh_vpc = fresh_id("vpc", "foreign", own_vpcs | found.vpcs)
    out = [
        PathClass("internet", None, NetworkPath(source_ip=ip), None, None, "the internet")
        for ip in ip_witnesses(found.cidrs, INTERNET_IP)
    ]
    vpc_ip_witnesses = ip_witnesses(found.cidrs, VPC_SOURCE_IP)
    pairs = {(fresh_vpce, fresh_vpc)}
    pairs |= {(vpce, fresh_vpc) for vpce in found.vpces - own_vpces}
    pairs |= {(fresh_vpce, vpc) for vpc in found.vpcs - own_vpcs}
    for vpce, vpc in sorted(pairs):
        for ip in vpc_ip_witnesses:
            out.append(
                PathClass(
                    "foreign-endpoint",
                    None,
                    NetworkPath(vpce=vpce, vpc=vpc, vpc_source_ip=ip),
                    DEFAULT_ENDPOINT_POLICY,
                    None,
                    f"a VPC endpoint outside the spec ({vpce} in {vpc})",
                )
            )
    return out
