"""What a spec declares, as entities and the reaches between them: the input of the picture.

An entity is one thing the spec names (a principal, network, bucket or service) or one workload's
AWS-owned buckets in a Region. A reach is one way in: who, through which network, into which
target, with which access. A diff of two specs produces reaches marked gained or lost and draws
them through the same grouping.
"""

from __future__ import annotations

from dataclasses import dataclass

from xflow_perimeter.graph.model import Change, Kind
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.model import Network, Spec

# Pseudo-accounts: AWS's service principals, and the AWS-owned buckets workloads read.
AWS_SERVICES = "aws-services"
AWS_OWNED = "aws-owned"
PSEUDO_ACCOUNTS = {AWS_SERVICES: "AWS services", AWS_OWNED: "AWS-owned buckets"}


@dataclass(frozen=True, slots=True)
class Entity:
    """One thing the spec names (a principal, network, bucket or service), or one workload's
    AWS-owned buckets in a Region."""

    key: str  # unique among entities: "<kind>:<name>"
    kind: Kind
    name: str
    details: tuple[str, ...]
    account: str  # a 12-digit account id, or a pseudo-account


@dataclass(frozen=True, slots=True)
class Reach:
    """One way into a target: ``who`` (None: any principal) through ``via`` (None: AWS's network)."""

    who: str | None  # entity key of a principal or service
    via: str | None  # entity key of a network
    target: str  # entity key of a bucket or of AWS-owned buckets
    access: tuple[str, ...]  # levels and actions as the spec writes them
    prefix: str | None
    change: Change = Change.SAME


@dataclass(frozen=True, slots=True)
class Declared:
    """What a spec declares that the picture shows: accounts, entities, and reaches between them."""

    source: str  # the spec as the user named it
    accounts: tuple[tuple[str, str], ...]  # (account id, title), sorted by id
    entities: tuple[Entity, ...]  # sorted by key
    reaches: tuple[Reach, ...]
    title: str = ""  # the picture's title; "" for "Flows declared by SOURCE"


def declared(spec: Spec, source: str) -> Declared:
    """Everything ``spec`` declares that the picture shows."""
    entities: dict[str, Entity] = {}

    def add(entity: Entity) -> None:
        entities.setdefault(entity.key, entity)

    reaches: list[Reach] = []
    for principal in spec.principals:
        resource = principal.arn.split(":", 5)[5]
        add(
            Entity(
                _key(Kind.PRINCIPAL, principal.key),
                Kind.PRINCIPAL,
                principal.key,
                (resource,),
                principal.account_id,
            )
        )
    for network in spec.networks:
        add(_network(network))
        for workload in network.workloads:
            owned = _aws_owned(workload, network.region)
            add(owned)  # one node per workload and Region, whichever networks use it
            reaches.append(
                Reach(None, _key(Kind.NETWORK, network.name), owned.key, (aws_owned.ACTION,), None)
            )
    for bucket in spec.buckets:
        add(
            Entity(
                _key(Kind.BUCKET, bucket.key),
                Kind.BUCKET,
                bucket.key,
                (bucket.name, bucket.region),
                bucket.account_id,
            )
        )
    for service in spec.services:
        details = [service.service, f"for {_account_title(spec, service.source_account)}"]
        if service.source_arn is not None:
            details.append(f"only {service.source_arn.split(':', 5)[5]}")
        add(
            Entity(
                _key(Kind.SERVICE, service.key),
                Kind.SERVICE,
                service.key,
                tuple(details),
                AWS_SERVICES,
            )
        )
    for flow in spec.flows:
        reaches.append(
            Reach(
                _key(Kind.PRINCIPAL, flow.principal.key),
                _key(Kind.NETWORK, flow.network.name),
                _key(Kind.BUCKET, flow.bucket.key),
                flow.access,
                flow.prefix,
            )
        )
    for service_flow in spec.service_flows:
        reaches.append(
            Reach(
                _key(Kind.SERVICE, service_flow.service.key),
                None,
                _key(Kind.BUCKET, service_flow.bucket.key),
                service_flow.access,
                service_flow.prefix,
            )
        )
    accounts = sorted({e.account for e in entities.values()})
    return Declared(
        source=source,
        accounts=tuple((account, _account_title(spec, account)) for account in accounts),
        entities=tuple(entities[key] for key in sorted(entities)),
        reaches=tuple(reaches),
    )


def _key(kind: Kind, name: str) -> str:
    return f"{kind.value}:{name}"


def _account_title(spec: Spec, account: str) -> str:
    if account in PSEUDO_ACCOUNTS:
        return PSEUDO_ACCOUNTS[account]
    alias = spec.account_alias(account)
    return f"{alias} ({account})" if alias else f"account {account}"


def _network(network: Network) -> Entity:
    endpoint = (
        "endpoint: created by xflow"
        if network.endpoint_id is None
        else f"endpoint: {network.endpoint_id}"
    )
    egress = f"egress: {network.egress or 'not declared'}"
    if network.bypass_accepted is not None:
        egress += " (bypass accepted)"
    tables = len(network.route_table_ids)
    return Entity(
        _key(Kind.NETWORK, network.name),
        Kind.NETWORK,
        network.name,
        (
            f"{network.vpc_id}, {network.region}",
            f"{tables} route table{'s' if tables != 1 else ''}",
            endpoint,
            egress,
        ),
        network.account_id,
    )


def _aws_owned(workload: str, region: str) -> Entity:
    buckets = len({o.bucket for o in aws_owned.objects(workload, region)})
    return Entity(
        _key(Kind.AWS_OWNED, f"{workload}@{region}"),
        Kind.AWS_OWNED,
        workload,
        (f"{buckets} bucket{'s' if buckets != 1 else ''} in {region}",),
        AWS_OWNED,
    )
