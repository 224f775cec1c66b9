"""Declared exceptions and assumptions that changed: what the proof of a side takes as given
(admins, accepted egress bypasses, AWS-owned workloads, service principals, reviewed exceptions).
"""

from __future__ import annotations

from xflow_perimeter.diff.model import DeclaredChange, Direction
from xflow_perimeter.diff.sides import Side
from xflow_perimeter.prove.verify import declared_exceptions


def declarations(side: Side) -> set[str]:
    spec = side.spec
    lines = {str(line) for line in declared_exceptions(spec)} | set(side.perimeter.declared())
    for network in spec.networks:
        if network.bypass_accepted is not None:
            lines.add(
                f"network {network.vpc_id} may reach S3 around its endpoint ({network.egress}): "
                f"accepted because {network.bypass_accepted}"
            )
    for flow in spec.service_flows:
        service = flow.service
        lines.add(
            f"service {service.service} acting for account {service.source_account}"
            + (f" ({service.source_arn})" if service.source_arn else "")
            + f" may {', '.join(flow.access)} bucket {flow.bucket.name}"
            + (f" under {flow.prefix}" if flow.prefix else "")
        )
    for exception in spec.exceptions:
        lines.add(f"Terraform block {exception.address} is accepted unmodelled: {exception.reason}")
    return lines


def declared_changes(old: Side, new: Side) -> list[DeclaredChange]:
    before, after = declarations(old), declarations(new)
    return [DeclaredChange(Direction.GAINED, t) for t in sorted(after - before)] + [
        DeclaredChange(Direction.LOST, t) for t in sorted(before - after)
    ]
