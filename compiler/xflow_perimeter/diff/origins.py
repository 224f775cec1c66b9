"""The network paths both sides share, matched by VPC and route table (never by spec name), and
how each side serves them: through which endpoint and policy, or around the endpoints.

A request from route table ``rtb`` in VPC ``vpc`` crosses the S3 endpoint associated with that
route table, if the side has one; otherwise it leaves through the NAT or internet gateway.
Origins outside both specs (the internet, endpoints the policies name) are served the same on
both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xflow_perimeter.diff.sides import Side
from xflow_perimeter.iam.evaluate import DEFAULT_ENDPOINT_POLICY
from xflow_perimeter.iam.matching import may_target
from xflow_perimeter.iam.policy import PolicyDocument, Statement
from xflow_perimeter.iam.request import NetworkPath
from xflow_perimeter.prove.network_paths import INTERNET_IP, NAT_IP, VPC_SOURCE_IP
from xflow_perimeter.prove.request_classes import Constants, fresh_id, ip_witnesses
from xflow_perimeter.terraform.perimeter import Perimeter, TfEndpoint


@dataclass(frozen=True, slots=True)
class Served:
    """How one side carries an origin's requests."""

    path: NetworkPath
    endpoint_policy: PolicyDocument | None  # None: no endpoint on the way


@dataclass(frozen=True, slots=True)
class Origin:
    """A network path both sides share, and how each side serves it."""

    label: str
    old: Served
    new: Served
    same: bool = field(init=False, compare=False)  # served alike on both sides

    def __post_init__(self) -> None:
        object.__setattr__(self, "same", self.old == self.new)

    def same_for(self, bucket: str) -> bool:
        """Whether both sides decide every request on ``bucket`` from this origin alike: the same
        path, and endpoint policies whose statements that may target the bucket are the same
        (a statement that can match no request on the bucket decides none of them)."""
        if self.same:
            return True
        old, new = self.old.endpoint_policy, self.new.endpoint_policy
        if self.old.path != self.new.path or old is None or new is None:
            return False
        return old.version == new.version and _targeting(old, bucket) == _targeting(new, bucket)


def origins(old: Side, new: Side, found: Constants) -> list[Origin]:
    """Every route table of a network either spec declares, then the outside paths."""
    adopted = {
        n.vpc_id: n.endpoint_id
        for side in (old, new)
        for n in side.spec.networks
        if n.endpoint_id is not None
    }
    tables: dict[tuple[str, str], str] = {}  # (vpc, rtb) -> account
    for side in (old, new):
        for network in side.spec.networks:
            for rtb in network.route_table_ids:
                tables.setdefault((network.vpc_id, rtb), network.account_id)
    taken = set(found.vpces) | set(adopted.values())
    out: list[Origin] = []
    for (vpc, rtb), account in sorted(tables.items()):
        vpce = adopted.get(vpc)
        if vpce is None:
            vpce = fresh_id("vpce", vpc, taken)
            taken.add(vpce)
        label = f"{vpc} (account {account}) through {rtb}"
        out.append(
            Origin(
                label,
                _served(old.perimeter, vpc, rtb, adopted.get(vpc), vpce),
                _served(new.perimeter, vpc, rtb, adopted.get(vpc), vpce),
            )
        )
    own_vpcs = {vpc for vpc, _ in tables}
    own_vpces = set(adopted.values())
    for ip in ip_witnesses(found.cidrs, INTERNET_IP):
        served = Served(NetworkPath(source_ip=ip), None)
        out.append(Origin(f"the internet ({ip})", served, served))
    fresh_vpce = fresh_id("vpce", "foreign", taken)
    fresh_vpc = fresh_id("vpc", "foreign", own_vpcs | found.vpcs)
    pairs = {(fresh_vpce, fresh_vpc)}
    pairs |= {(vpce, fresh_vpc) for vpce in found.vpces - own_vpces}
    pairs |= {(fresh_vpce, vpc) for vpc in found.vpcs - own_vpcs}
    for vpce, vpc in sorted(pairs):
        for ip in ip_witnesses(found.cidrs, VPC_SOURCE_IP):
            served = Served(
                NetworkPath(vpce=vpce, vpc=vpc, vpc_source_ip=ip), DEFAULT_ENDPOINT_POLICY
            )
            out.append(
                Origin(f"a VPC endpoint outside the specs ({vpce} in {vpc})", served, served)
            )
    return out


def _served(perimeter: Perimeter, vpc: str, rtb: str, adopted: str | None, vpce: str) -> Served:
    for endpoint in perimeter.endpoints:
        fits = endpoint.vpc_id == vpc or (adopted is not None and endpoint.endpoint_id == adopted)
        if fits and rtb in _associated(perimeter, endpoint):
            policy = endpoint.policy if endpoint.policy is not None else DEFAULT_ENDPOINT_POLICY
            return Served(NetworkPath(vpce=vpce, vpc=vpc, vpc_source_ip=VPC_SOURCE_IP), policy)
    # An existing endpoint with no policy in the Terraform keeps AWS's default policy.
    unwritten = adopted is not None and not any(
        e.endpoint_id == adopted for e in perimeter.endpoints
    )
    if unwritten and any(
        a.endpoint_id == adopted and a.route_table_id == rtb for a in perimeter.associations
    ):
        path = NetworkPath(vpce=vpce, vpc=vpc, vpc_source_ip=VPC_SOURCE_IP)
        return Served(path, DEFAULT_ENDPOINT_POLICY)
    return Served(NetworkPath(source_ip=NAT_IP), None)


def _associated(perimeter: Perimeter, endpoint: TfEndpoint) -> set[str]:
    tables = set(endpoint.inline_route_tables)
    tables |= {
        a.route_table_id
        for a in perimeter.associations
        if (a.endpoint_address is not None and a.endpoint_address == endpoint.address)
        or (a.endpoint_id is not None and a.endpoint_id == endpoint.endpoint_id)
    }
    return tables


def _targeting(policy: PolicyDocument, bucket: str) -> tuple[Statement, ...]:
    return tuple(s for s in policy.statements if may_target(s, bucket))
