"""Stage 4: Spec -> Plan, the Terraform resources to emit, as data (pure and sorted)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.spec.model import Bucket, Network, Spec, slug
from xflow_perimeter.synth.grants import Grant, ServiceGrant, grants, service_grants
from xflow_perimeter.synth.statements import bucket_policy, endpoint_policy


@dataclass(frozen=True, slots=True)
class EndpointPlan:
    """The gateway endpoint (or an existing endpoint's policy) to emit for one network."""

    network: Network
    resource_name: str
    policy: PolicyDocument


@dataclass(frozen=True, slots=True)
class AssociationPlan:
    """The association of one network's endpoint with one of its route tables, to emit."""

    network: Network
    route_table_id: str
    resource_name: str
    endpoint_resource: str  # the endpoint's Terraform resource name in the same module


@dataclass(frozen=True, slots=True)
class BucketPolicyPlan:
    """The policy of one bucket, to emit under a resource name."""

    bucket: Bucket
    resource_name: str
    policy: PolicyDocument


@dataclass(frozen=True, slots=True)
class ModulePlan:
    """The resources of one (account, Region) module directory."""

    directory: str  # relative to the output root, e.g. "data-ap-northeast-1"
    account_id: str
    region: str
    endpoints: tuple[EndpointPlan, ...]
    associations: tuple[AssociationPlan, ...]
    bucket_policies: tuple[BucketPolicyPlan, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """Every module the spec needs, and the grants their policies were built from."""

    spec_name: str  # the spec's file name, as the generated headers cite it
    modules: tuple[ModulePlan, ...]
    grants: tuple[Grant, ...]


def module_directory(spec: Spec, account_id: str, region: str) -> str:
    return f"{spec.account_alias(account_id) or account_id}-{region}"


def build(spec: Spec, spec_name: str) -> Plan:
    """Plan every resource of every (account, Region) module the spec needs."""
    all_grants = grants(spec)
    all_services = service_grants(spec)
    # Each policy reads only its own network's or bucket's grants: index them once, in order.
    by_network: dict[str, list[Grant]] = defaultdict(list)
    by_bucket: dict[str, list[Grant]] = defaultdict(list)
    for grant in all_grants:
        by_network[grant.network].append(grant)
        by_bucket[grant.bucket].append(grant)
    services_by_bucket: dict[str, list[ServiceGrant]] = defaultdict(list)
    for service in all_services:
        services_by_bucket[service.bucket].append(service)
    endpoints: dict[tuple[str, str], list[EndpointPlan]] = defaultdict(list)
    associations: dict[tuple[str, str], list[AssociationPlan]] = defaultdict(list)
    policies: dict[tuple[str, str], list[BucketPolicyPlan]] = defaultdict(list)
    for network in spec.networks:
        where = (network.account_id, network.region)
        name = slug(network.name)
        endpoints[where].append(
            EndpointPlan(
                network, name, endpoint_policy(network, spec.buckets, by_network[network.name])
            )
        )
        for rtb in network.route_table_ids:
            associations[where].append(AssociationPlan(network, rtb, f"{name}_{slug(rtb)}", name))
    for bucket in spec.buckets:
        where = (bucket.account_id, bucket.region)
        policies[where].append(
            BucketPolicyPlan(
                bucket,
                slug(bucket.key),
                bucket_policy(spec, bucket, by_bucket[bucket.key], services_by_bucket[bucket.key]),
            )
        )
    modules = [
        ModulePlan(
            directory=module_directory(spec, account_id, region),
            account_id=account_id,
            region=region,
            endpoints=tuple(endpoints[(account_id, region)]),
            associations=tuple(associations[(account_id, region)]),
            bucket_policies=tuple(policies[(account_id, region)]),
        )
        for account_id, region in sorted(set(endpoints) | set(policies))
    ]
    return Plan(
        spec_name=spec_name,
        modules=tuple(sorted(modules, key=lambda m: m.directory)),
        grants=all_grants,
    )
