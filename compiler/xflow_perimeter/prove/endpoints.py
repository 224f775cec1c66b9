"""Which S3 endpoint in the Terraform serves each spec network, and which route tables it is
associated with: the matching that verify's structure check judges (missing and extra endpoints
and associations) and that the network paths (network_paths.py) start from."""

from __future__ import annotations

from dataclasses import dataclass

from xflow_perimeter.spec.model import Spec
from xflow_perimeter.terraform.perimeter import Perimeter, TfEndpoint


@dataclass(frozen=True, slots=True)
class EndpointMatch:
    """The spec's networks matched to the Terraform's endpoints, each by network name."""

    endpoints: dict[str, TfEndpoint]  # the endpoint that serves it
    candidates: dict[str, tuple[TfEndpoint, ...]]  # every endpoint that fits it
    associated: dict[str, frozenset[str]]  # the route tables of its endpoint


def match_endpoints(spec: Spec, perimeter: Perimeter) -> EndpointMatch:
    """Match each network to its endpoint: by VPC, or by the id of the existing endpoint it adopts."""
    matched: dict[str, TfEndpoint] = {}
    candidates: dict[str, tuple[TfEndpoint, ...]] = {}
    for network in spec.networks:
        if network.endpoint_id is None:
            found = [e for e in perimeter.endpoints if e.vpc_id == network.vpc_id]
        else:
            found = [e for e in perimeter.endpoints if e.endpoint_id == network.endpoint_id]
        candidates[network.name] = tuple(found)
        if found:
            matched[network.name] = found[0]
        elif network.endpoint_id is not None:
            # No policy in the Terraform for the endpoint the network adopts: it still exists,
            # with AWS's default policy.
            matched[network.name] = TfEndpoint(
                address=f"{network.endpoint_id} (existing endpoint, default policy)",
                module="",
                vpc_id=network.vpc_id,
                endpoint_id=network.endpoint_id,
                region=network.region,
                policy=None,
                span=None,
            )
    associated = {
        network.name: frozenset(_associated(perimeter, matched.get(network.name)))
        for network in spec.networks
    }
    return EndpointMatch(matched, candidates, associated)


def _associated(perimeter: Perimeter, endpoint: TfEndpoint | None) -> set[str]:
    if endpoint is None:
        return set()
    return {
        a.route_table_id
        for a in perimeter.associations
        if (a.endpoint_address is not None and a.endpoint_address == endpoint.address)
        or (a.endpoint_id is not None and a.endpoint_id == endpoint.endpoint_id)
    }
