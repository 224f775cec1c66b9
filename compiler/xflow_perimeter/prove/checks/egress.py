"""The egress check (XF508): a network whose S3 traffic to other Regions leaves through a NAT or
internet gateway bypasses its endpoint policy, so any credentials reach any bucket there; unless
the spec accepts it (``bypass_accepted``), which the report then lists."""

from __future__ import annotations

from xflow_perimeter.iam.evaluate import ALLOW_EVERYONE_POLICY
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.checks import Check, CheckContext, CheckResult
from xflow_perimeter.prove.findings import Finding
from xflow_perimeter.prove.listing import Listed
from xflow_perimeter.prove.network_paths import NAT_IP
from xflow_perimeter.spec.model import Spec


def check(context: CheckContext) -> CheckResult:
    """Egress beside the endpoint: S3 in other Regions (and any S3 host the route tables send
    elsewhere) is reached without the endpoint policy, so any credentials reach any bucket."""
    verifier = context.proof
    findings: list[Finding] = []
    accepted: list[str] = []
    for network in context.spec.networks:
        if network.egress not in ("nat", "internet"):
            continue
        gateway = "NAT gateway" if network.egress == "nat" else "internet gateway"
        intruder = Caller(
            arn=f"arn:aws:iam::{verifier.foreign}:user/intruder", account=verifier.foreign
        )
        request = Request(
            caller=intruder,
            action="s3:PutObject",
            bucket="xflow-intruder-bucket",
            bucket_account=verifier.foreign,
            key="loot",
            path=NetworkPath(source_ip=NAT_IP),
        )
        decision = verifier.decide(request, ALLOW_EVERYONE_POLICY, None)
        if not decision.allowed:
            continue
        message = (
            f"network {network.name!r} has egress through a {gateway}: S3 requests to buckets "
            f"outside {network.region} leave through it without the endpoint policy, so any "
            "credentials can reach any bucket there (for example an intruder's own bucket)"
        )
        if network.bypass_accepted:
            accepted.append(f"{message}; accepted: {network.bypass_accepted}")
            continue
        counterexample = (
            f"s3:PutObject by {intruder.arn} on bucket xflow-intruder-bucket (account "
            f"{verifier.foreign}) in another Region, key=loot, from network {network.name} "
            f"through its {gateway}"
        )
        findings.append(
            Finding(
                "XF508",
                message + "; restrict that egress, or say why it is acceptable in bypass_accepted",
                counterexample,
                (decision.reason,),
                network.span,
            )
        )
    return CheckResult(tuple(findings), exceptions=tuple(accepted))


CHECK = Check("egress", check)


def assumptions(spec: Spec) -> tuple[Listed, ...]:
    """What verify assumes of networks that declare no egress (printed in every report)."""
    undeclared = tuple(sorted(n.name for n in spec.networks if n.egress is None))
    if not undeclared:
        return ()
    return (
        Listed(
            "Networks",
            undeclared,
            "declare no egress: no bypass is reported for them (XF508), but assertions and "
            "explain route their requests to other Regions through a gateway; declare egress: "
            "none, nat or internet to make this explicit.",
        ),
    )
