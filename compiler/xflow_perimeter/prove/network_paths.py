"""Network path classes: how a request can reach S3, matched from the spec to the Terraform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xflow_perimeter.iam.evaluate import DEFAULT_ENDPOINT_POLICY
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import NetworkPath
from xflow_perimeter.prove.endpoints import EndpointMatch, match_endpoints
from xflow_perimeter.prove.request_classes import Constants, fresh_id, ip_witnesses
from xflow_perimeter.spec.model import Network, Spec
from xflow_perimeter.terraform.perimeter import Perimeter, TfEndpoint

PathKind = Literal["endpoint", "unassociated", "foreign-endpoint", "internet"]
INTERNET_IP = "203.0.113.10"
NAT_IP = "198.51.100.10"
VPC_SOURCE_IP = "10.0.0.10"


@dataclass(frozen=True, slots=True)
class PathClass:
    """One way a request reaches S3 (through a spec network's endpoint, around it, a foreign
    endpoint or the internet) and the endpoint policy on it."""

    kind: PathKind
    network: Network | None  # the spec network the request comes from, if any
    path: NetworkPath
    endpoint_policy: PolicyDocument | None  # the traversed endpoint's policy; None off-endpoint
    endpoint: TfEndpoint | None
    label: str


@dataclass(frozen=True, slots=True)
class NoRoute:
    """A request the network cannot send at all: no path to S3 in the bucket's Region."""

    reason: str
    label: str


@dataclass(frozen=True, slots=True)
class Topology:
    """The spec's networks matched to the Terraform's endpoints, and the paths each offers.

    What is missing or extra (XF504, XF505, XF507) is said by prove.checks.structure."""

    match: EndpointMatch
    paths: dict[str, tuple[PathClass, ...]]  # network name -> its path classes


def endpoint_policy_of(endpoint: TfEndpoint) -> PolicyDocument:
    return endpoint.policy if endpoint.policy is not None else DEFAULT_ENDPOINT_POLICY


def topology(spec: Spec, perimeter: Perimeter, known_vpces: frozenset[str]) -> Topology:
    """Match each network to its endpoint (see endpoints.py) and list its paths;
    ``known_vpces``: ids the witnesses must not take."""
    match = match_endpoints(spec, perimeter)
    paths: dict[str, tuple[PathClass, ...]] = {}
    taken = set(known_vpces)
    for network in spec.networks:
        endpoint = match.endpoints.get(network.name)
        associated = match.associated[network.name]
        vpce = network.endpoint_id or fresh_id("vpce", network.name, taken)
        taken.add(vpce)
        classes: list[PathClass] = []
        if endpoint is not None and associated & set(network.route_table_ids):
            classes.append(
                PathClass(
                    "endpoint",
                    network,
                    NetworkPath(vpce=vpce, vpc=network.vpc_id, vpc_source_ip=VPC_SOURCE_IP),
                    endpoint_policy_of(endpoint),
                    endpoint,
                    f"network {network.name}",
                )
            )
        for rtb in network.route_table_ids:
            if rtb in associated:
                continue
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
        paths[network.name] = tuple(classes)
    return Topology(match, paths)


_GATEWAYS = {"nat": "NAT gateway", "internet": "internet gateway"}


def route(topology: Topology, network: Network, bucket_region: str) -> PathClass | NoRoute:
    """The path a request from ``network`` to a bucket in ``bucket_region`` really takes.

    A gateway endpoint serves its own Region only, and only the route tables associated with
    it: the endpoint for a bucket in the network's Region (when any of its route tables is
    associated), otherwise the NAT or internet gateway (no VPC keys, a public aws:SourceIp that
    is not known), or nowhere with ``egress: none``. A network that declares no egress is taken
    to have a gateway here, the path that reaches the most."""
    if bucket_region == network.region:
        for path in topology.paths.get(network.name, ()):
            if path.kind == "endpoint":
                return path
        why = "none of its route tables is associated with its S3 endpoint"
    else:
        why = f"its S3 endpoint serves {network.region} only, not {bucket_region}"
    if network.egress == "none":
        return NoRoute(
            f"no route to S3 in {bucket_region}: {why} and the network has egress: none",
            f"network {network.name} (egress: none; {why})",
        )
    gateway = _GATEWAYS.get(network.egress or "", "gateway (egress not declared)")
    return PathClass(
        "internet",
        network,
        NetworkPath(),
        None,
        None,
        f"network {network.name} through its {gateway}, without the endpoint ({why})",
    )


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
