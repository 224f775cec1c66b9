"""The structure check: what the Terraform deploys against what the spec declares (XF504 route
tables without the endpoint, XF505 missing endpoints and bucket policies, XF507 resources the spec
does not declare), and what the verifier refuses to prove (the reader's refusals, XF405 a second
endpoint for a network, XF404 patterns the witnesses cannot cover). The reader's warnings are
passed on as warnings, which stop nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xflow_perimeter.diagnostics import Diagnostic, Severity, Span
from xflow_perimeter.prove.checks import Check, CheckContext, CheckResult
from xflow_perimeter.prove.endpoints import EndpointMatch, match_endpoints
from xflow_perimeter.prove.findings import Finding
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.terraform.perimeter import Perimeter

if TYPE_CHECKING:
    from xflow_perimeter.prove.verifier import Verifier


def check(context: CheckContext) -> CheckResult:
    return _check(context.spec, context.perimeter, context.topology.match, context.verifier)


CHECK = Check("structure", check, structural=True)


def check_alone(
    spec: Spec, perimeter: Perimeter, match: EndpointMatch | None = None
) -> CheckResult:
    """The structure check without the exposure proof (compile's self-check), importing none of
    the proof's modules: the endpoints matched to the networks (``match``, made here unless the
    caller has it) are all it needs."""
    if match is None:
        match = match_endpoints(spec, perimeter)
    return _check(spec, perimeter, match, None)


def _check(
    spec: Spec, perimeter: Perimeter, match: EndpointMatch, verifier: Verifier | None
) -> CheckResult:
    read = perimeter.refusals
    warnings = tuple(d for d in read if d.severity is Severity.WARNING)
    refusals = [d for d in read if d.severity is not Severity.WARNING]
    refusals += _second_endpoints(spec, match)
    if verifier is not None:
        from xflow_perimeter.prove.request_classes import pattern_problems  # loaded by the proof

        refusals += [
            Diagnostic("XF404", problem) for problem in pattern_problems(verifier.all_constants)
        ]
    findings = _endpoints(spec, perimeter, match) + _associations(spec, match)
    findings += _bucket_policies(spec, perimeter)
    return CheckResult(tuple(findings), tuple(refusals), warnings=warnings)


def _second_endpoints(spec: Spec, match: EndpointMatch) -> list[Diagnostic]:
    out = []
    for network in spec.networks:
        candidates = match.candidates[network.name]
        if len(candidates) > 1:
            out.append(
                Diagnostic(
                    "XF405",
                    f"network {network.name!r}: {len(candidates)} S3 endpoints "
                    f"({', '.join(c.address for c in candidates)}); expected one",
                    candidates[1].span,
                )
            )
    return out


def _endpoints(spec: Spec, perimeter: Perimeter, match: EndpointMatch) -> list[Finding]:
    """Each network's endpoint: missing, in the wrong Region; then endpoints of no network."""
    out = []
    for network in spec.networks:
        candidates = match.candidates[network.name]
        if not candidates and network.endpoint_id is not None:
            out.append(
                _finding(
                    "XF505",
                    f"network {network.name!r}: no aws_vpc_endpoint_policy for its existing "
                    f"endpoint {network.endpoint_id}; that endpoint then has AWS's default "
                    "policy, which allows any request to any bucket",
                    network.span,
                )
            )
        elif not candidates:
            out.append(
                _finding(
                    "XF505",
                    f"network {network.name!r}: no S3 gateway endpoint in the Terraform; its S3 "
                    "traffic is not governed by xflow",
                    network.span,
                )
            )
        elif candidates[0].region is not None and candidates[0].region != network.region:
            out.append(
                _finding(
                    "XF505",
                    f"{candidates[0].address} serves S3 in {candidates[0].region}, but network "
                    f"{network.name!r} is in {network.region}",
                    candidates[0].span,
                )
            )
    claimed = {e.address for e in match.endpoints.values()}
    for endpoint in perimeter.endpoints:
        if endpoint.address not in claimed:
            out.append(
                _finding(
                    "XF507",
                    f"{endpoint.address} is an S3 endpoint that no network in the spec declares",
                    endpoint.span,
                )
            )
    return out


def _associations(spec: Spec, match: EndpointMatch) -> list[Finding]:
    """Route tables of a network its endpoint does not serve, and ones the spec does not list."""
    out = []
    for network in spec.networks:
        associated = match.associated[network.name]
        for rtb in network.route_table_ids:
            if rtb not in associated:
                out.append(
                    _finding(
                        "XF504",
                        f"route table {rtb} of network {network.name!r} is not associated with "
                        f"its S3 endpoint: {_unassociated_effect(network.egress)}",
                        network.span,
                    )
                )
        endpoint = match.endpoints.get(network.name)
        for rtb in sorted(associated - set(network.route_table_ids)):
            out.append(
                _finding(
                    "XF507",
                    f"route table {rtb} is associated with the endpoint of network "
                    f"{network.name!r} but the spec does not list it",
                    endpoint.span if endpoint else None,
                )
            )
    return out


def _unassociated_effect(egress: str | None) -> str:
    """What becomes of S3 traffic from a route table without the endpoint, per egress."""
    if egress == "none":
        return "its subnets have no route to S3 (egress: none), so flows from there fail"
    gateway = {"nat": "NAT gateway", "internet": "internet gateway"}.get(egress or "", "")
    through = f"through the {gateway}" if gateway else "through whatever egress it has"
    return (
        f"S3 traffic from its subnets leaves {through} without the endpoint policy, so flows "
        "from there fail and any credentials can reach any bucket"
    )


def _bucket_policies(spec: Spec, perimeter: Perimeter) -> list[Finding]:
    """Spec buckets without a bucket policy, then bucket policies of no spec bucket."""
    out = []
    with_policies = {p.bucket for p in perimeter.bucket_policies}
    for bucket in spec.buckets:
        if bucket.name not in with_policies:
            out.append(
                _finding(
                    "XF505",
                    f"bucket {bucket.name}: no aws_s3_bucket_policy in the Terraform",
                    bucket.span,
                )
            )
    known = {b.name for b in spec.buckets}
    for policy in perimeter.bucket_policies:
        if policy.bucket not in known:
            out.append(
                _finding(
                    "XF507",
                    f"{policy.address} sets the policy of {policy.bucket}, which the spec does "
                    "not declare",
                    policy.span,
                )
            )
    return out


def _finding(code: str, message: str, span: Span | None) -> Finding:
    return Finding(code, message, "", (), span)
