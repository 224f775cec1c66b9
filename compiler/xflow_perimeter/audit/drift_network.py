"""Drift in the spec's networks: endpoint policies, associations, route tables, egress, other endpoints."""

from __future__ import annotations

from xflow_perimeter.audit.committed import Committed
from xflow_perimeter.audit.live import (
    LiveEndpoint,
    LiveRegion,
    LiveRoute,
    LiveRouteTable,
    LiveState,
    Unreadable,
)
from xflow_perimeter.audit.normalise import (
    PolicyShapeError,
    canonical,
    canonical_text,
    differences,
)
from xflow_perimeter.audit.report import AuditFinding
from xflow_perimeter.diagnostics import Span
from xflow_perimeter.spec.model import Network

_INTERNET = frozenset({"internet-gateway", "egress-only-internet-gateway"})
_OTHER_EGRESS = frozenset(
    {"transit-gateway", "vpc-peering", "virtual-private-gateway", "network-interface", "other"}
)


def check_networks(committed: Committed, live: LiveState) -> list[AuditFinding]:
    out: list[AuditFinding] = []
    for network in committed.spec.networks:
        region = live.region(network.account_id, network.region)
        if region is None or live.account_failure(network.account_id) is not None:
            continue  # the account could not be reached: reported once, as XF602
        out.extend(_NetworkCheck(committed, region, network).run())
    return out


def own_endpoint(
    committed: Committed, network: Network, in_vpc: list[LiveEndpoint]
) -> LiveEndpoint | None:
    """The live endpoint that stands for ``network``'s committed one: its adopted endpoint, or
    among the VPC's S3 gateway endpoints the one with the committed policy and the most of the
    spec's route tables (ties: the lowest id)."""
    if network.endpoint_id is not None:
        return next((e for e in in_vpc if e.endpoint_id == network.endpoint_id), None)
    service = f"com.amazonaws.{network.region}.s3"
    candidates = [e for e in in_vpc if e.endpoint_type == "Gateway" and e.service_name == service]
    if not candidates:
        return None
    tf_endpoint = committed.endpoint(network)

    def likeness(endpoint: LiveEndpoint) -> tuple[bool, int]:
        same_policy = False
        if tf_endpoint is not None and endpoint.policy is not None:
            try:
                same_policy = canonical_text(endpoint.policy) == canonical(
                    committed.endpoint_policy(tf_endpoint)
                )
            except PolicyShapeError:
                same_policy = False
        shared = len(set(endpoint.route_table_ids) & set(network.route_table_ids))
        return (same_policy, shared)

    return max(sorted(candidates, key=lambda e: e.endpoint_id), key=likeness)


class _NetworkCheck:
    def __init__(self, committed: Committed, region: LiveRegion, network: Network) -> None:
        self.committed = committed
        self.region = region
        self.network = network
        self.tf_endpoint = committed.endpoint(network)
        self.findings: list[AuditFinding] = []

    def finding(
        self, code: str, message: str, span: Span | None = None, notes: tuple[str, ...] = ()
    ) -> None:
        where = span if span is not None else self.network.span
        self.findings.append(
            AuditFinding(
                code,
                message,
                where,
                self.network.account_id,
                self.network.region,
                notes,
            )
        )

    def run(self) -> list[AuditFinding]:
        network = self.network
        if (
            not isinstance(self.region.vpc_ids, Unreadable)
            and network.vpc_id not in self.region.vpc_ids
        ):
            self.finding(
                "XF623",
                f"network {network.name!r}: VPC {network.vpc_id} does not exist in account "
                f"{network.account_id}, {network.region}",
            )
            return self.findings
        if not isinstance(self.region.endpoints, Unreadable):
            in_vpc = [e for e in self.region.endpoints if e.vpc_id == network.vpc_id]
            own = self._own_endpoint(in_vpc)
            for other in in_vpc:
                if other is not own:
                    self._other_endpoint(other)
            if own is not None:
                self._policy(own)
                self._associations(own)
        if not isinstance(self.region.route_tables, Unreadable):
            tables = [t for t in self.region.route_tables if t.vpc_id == network.vpc_id]
            self._route_tables(tables)
        return self.findings

    def _tf_span(self) -> Span | None:
        if self.tf_endpoint is None:
            return None
        return self.committed.span(self.tf_endpoint.span)

    def _own_endpoint(self, in_vpc: list[LiveEndpoint]) -> LiveEndpoint | None:
        network = self.network
        service = f"com.amazonaws.{network.region}.s3"
        if network.endpoint_id is not None:
            own = next((e for e in in_vpc if e.endpoint_id == network.endpoint_id), None)
            if own is None:
                self.finding(
                    "XF623",
                    f"network {network.name!r}: endpoint {network.endpoint_id} does not exist in "
                    f"VPC {network.vpc_id}",
                )
            return own
        chosen = own_endpoint(self.committed, network, in_vpc)
        if chosen is None:
            self.finding(
                "XF623",
                f"network {network.name!r}: VPC {network.vpc_id} has no S3 gateway endpoint "
                f"({service}); the committed Terraform creates one",
                self._tf_span(),
            )
        return chosen

    def _other_endpoint(self, endpoint: LiveEndpoint) -> None:
        network = self.network
        how = (
            "requests through it satisfy the bucket policies' aws:SourceVpc conditions, and "
            if network.endpoint_id is None
            else ""
        )
        notes = [f"state: {endpoint.state}"]
        if endpoint.route_table_ids:
            notes.append(f"route tables: {', '.join(endpoint.route_table_ids)}")
        notes.append(_policy_note(endpoint.policy))
        self.finding(
            "XF616",
            f"network {network.name!r}: another VPC endpoint for S3 in VPC {network.vpc_id}: "
            f"{endpoint.endpoint_id} ({endpoint.endpoint_type}, {endpoint.service_name}); "
            f"{how}its own policy, not the one xflow manages, decides what S3 traffic through it "
            "may reach",
            notes=tuple(notes),
        )

    def _policy(self, own: LiveEndpoint) -> None:
        network = self.network
        if self.tf_endpoint is None:
            self.finding(
                "XF610",
                f"network {network.name!r}: the committed Terraform has no endpoint for it, so the "
                f"policy of {own.endpoint_id} cannot be held to it (run xflow verify)",
            )
            return
        committed = canonical(self.committed.endpoint_policy(self.tf_endpoint))
        policy_span = (
            self.tf_endpoint.policy.span if self.tf_endpoint.policy is not None else None
        ) or self.tf_endpoint.span
        span = self.committed.span(policy_span)
        if own.policy is None:
            self.finding(
                "XF610",
                f"network {network.name!r}: endpoint {own.endpoint_id} returned no policy",
                span,
            )
            return
        try:
            deployed = canonical_text(own.policy)
        except PolicyShapeError as error:
            self.finding(
                "XF610",
                f"network {network.name!r}: the policy of endpoint {own.endpoint_id} cannot be "
                f"read: {error}",
                span,
            )
            return
        changed = differences(committed, deployed)
        if changed:
            self.finding(
                "XF610",
                f"network {network.name!r}: the deployed policy of endpoint {own.endpoint_id} "
                f"differs from the committed one ({self.tf_endpoint.address})",
                span,
                tuple(f"deployed {line}" for line in changed),
            )

    def _associations(self, own: LiveEndpoint) -> None:
        network = self.network
        if self.tf_endpoint is not None:
            expected = self.committed.associations(self.tf_endpoint)
            spans = {rtb: self.committed.span(a.span) for rtb, a in expected.items()}
            wanted = set(expected)
        else:
            spans = {}
            wanted = set(network.route_table_ids)
        live = set(own.route_table_ids)
        for rtb in sorted(wanted - live):
            self.finding(
                "XF612",
                f"network {network.name!r}: route table {rtb} is not associated with endpoint "
                f"{own.endpoint_id}: S3 traffic from its subnets bypasses the endpoint policy",
                spans.get(rtb),
            )
        for rtb in sorted(live - wanted):
            self.finding(
                "XF613",
                f"network {network.name!r}: endpoint {own.endpoint_id} is associated with route "
                f"table {rtb}, which the committed Terraform does not associate",
                self._tf_span(),
            )

    def _route_tables(self, tables: list[LiveRouteTable]) -> None:
        network = self.network
        listed = {
            rtb
            for n in self.committed.spec.networks
            if n.vpc_id == network.vpc_id
            for rtb in n.route_table_ids
        }
        present = {t.route_table_id for t in tables}
        for rtb in network.route_table_ids:
            if rtb not in present:
                self.finding(
                    "XF623",
                    f"network {network.name!r}: route table {rtb} does not exist in VPC "
                    f"{network.vpc_id}",
                )
        for table in tables:
            if table.route_table_id not in listed:
                self._unlisted(table)
            elif table.route_table_id in network.route_table_ids:
                for route in table.routes:
                    self._egress(table, route)

    def _unlisted(self, table: LiveRouteTable) -> None:
        network = self.network
        if table.main:
            role = "the VPC's main route table (used by every subnet without one of its own)"
        elif table.subnet_ids:
            role = f"used by {', '.join(table.subnet_ids)}"
        else:
            role = "associated with no subnet yet"
        self.finding(
            "XF614",
            f"network {network.name!r}: route table {table.route_table_id} in VPC "
            f"{network.vpc_id} is not listed in the spec ({role}); S3 traffic from subnets that "
            "use it is not governed by the endpoint policy",
        )

    def _egress(self, table: LiveRouteTable, route: LiveRoute) -> None:
        prefix_lists = self.region.s3_prefix_lists
        to_s3 = not isinstance(prefix_lists, Unreadable) and route.destination in prefix_lists
        if not route.active or not (route.is_default or to_s3):
            return
        if route.target_kind in ("local", "vpc-endpoint"):
            return
        declared = self.network.egress or "none"
        if route.target_kind == "nat-gateway":
            allowed = declared in ("nat", "internet")
            kind = "a NAT gateway"
        elif route.target_kind in _INTERNET:
            allowed = declared == "internet"
            kind = "an internet gateway"
        else:
            allowed = declared in ("nat", "internet")
            kind = f"a {route.target_kind.replace('-', ' ')}"
        if allowed:
            return
        said = (
            f"declares egress: {self.network.egress}"
            if self.network.egress
            else "declares no egress (taken as none)"
        )
        self.finding(
            "XF615",
            f"network {self.network.name!r}: route table {table.route_table_id} sends "
            f"{route.destination} to {kind} ({route.target}), but the spec {said}; S3 requests "
            "leaving that way bypass the endpoint policy",
        )


def _policy_note(policy: str | None) -> str:
    if policy is None:
        return "policy: none returned"
    try:
        document = canonical_text(policy)
    except PolicyShapeError:
        return f"policy: {policy}"
    statements = document.statements
    full = (
        len(statements) == 1
        and statements[0].effect == "Allow"
        and dict(statements[0].blocks).get("Action") == (("", ("*",)),)
        and dict(statements[0].blocks).get("Resource") == (("", ("*",)),)
        and not statements[0].conditions
    )
    if full:
        return "policy: AWS's default (full access to any bucket)"
    return "policy: " + "; ".join(s.summary() for s in statements)
