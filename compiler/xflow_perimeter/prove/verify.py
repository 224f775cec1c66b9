"""Verify: prove that the Terraform grants exactly the spec, as a sequence of checks.

The checks (CHECKS, one module each under prove/checks) run in order: the structure (what is
deployed against what the spec declares, and what the verifier refuses), egress beside the
endpoints, the exposure of every request class (see request_classes and network_paths) per layer
and combined, against the spec's intent (intent.py), same-account flows with no identity policy,
and the spec's assertions. A refusal stops
the checks after it. The Report gathers their findings with the assumptions the proof rests on.
"""

from __future__ import annotations

from dataclasses import dataclass

from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, Diagnostic
from xflow_perimeter.prove.checks import (
    Check,
    CheckContext,
    assertions,
    egress,
    exposure,
    identity,
    structure,
)
from xflow_perimeter.prove.findings import Finding
from xflow_perimeter.prove.listing import Listed, ReportLine
from xflow_perimeter.prove.verifier import Verifier
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.model import Spec, arn_account
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import TfTree

# In order; the structural checks first (compile's self-check runs structure.check_alone).
CHECKS: tuple[Check, ...] = (
    structure.CHECK,
    egress.CHECK,
    exposure.CHECK,
    identity.CHECK,
    assertions.CHECK,
)

ASSUMPTIONS = (
    "Nothing outside the flows is allowed when every caller's identity policy allows every "
    "action (an intruder writes their own); each same-account flow is allowed when the caller's "
    "identity policy grants nothing; each cross-account flow when it grants exactly that flow "
    "(for requests inside the flow, the same as allowing everything).",
    "A flow principal arn:aws:iam::<account>:root is that account's root user, which always "
    "holds identity permissions.",
    "A gateway endpoint serves its own Region only: requests from a network to other Regions "
    "are covered by the internet paths (or have no route, with egress: none).",
    "SCPs, RCPs, permission boundaries and session policies are not considered: they can only "
    "remove access, so 'nothing else' still holds, but a flow may be denied by them.",
    "No other S3 gateway endpoint serves a VPC that the spec names (bucket policies identify "
    "networks that xflow creates endpoints for by VPC id).",
    "Object ownership is BucketOwnerEnforced (ACLs disabled), so policies alone decide.",
)


@dataclass(frozen=True, slots=True)
class Report:
    """Verify's report: findings, refusals, assumptions, declared exceptions and warnings."""

    findings: tuple[Finding, ...]
    refusals: tuple[Diagnostic, ...]
    assumptions: tuple[ReportLine, ...]
    requests_evaluated: int
    exceptions: tuple[ReportLine, ...] = ()  # declared break-glass exemptions, as intended exposure
    warnings: tuple[Diagnostic, ...] = ()  # printed; unlike refusals they change no exit code

    @property
    def exit_code(self) -> int:
        if self.refusals:
            return EXIT_INVALID
        return EXIT_FINDINGS if self.findings else EXIT_OK


def verify(
    spec: Spec, tree: TfTree, *, exhaustive: bool = False, workers: int | None = None
) -> Report:
    """Prove the exposure of ``tree`` against ``spec``; the Report says what differs.

    ``exhaustive`` evaluates every request on its own instead of sweeping the caller classes
    together; the answers are the same (tests hold them to it), only slower. ``workers``: how
    many processes check buckets and networks (default: one per core for large specs, else 1);
    the report does not depend on it.
    """
    perimeter = read_perimeter(tree, spec.exceptions)
    return verify_perimeter(spec, perimeter, exhaustive=exhaustive, workers=workers)


def verify_perimeter(
    spec: Spec,
    perimeter: Perimeter,
    *,
    exhaustive: bool = False,
    workers: int | None = None,
) -> Report:
    """``verify`` on a tree already read. (Compile's self-check runs the structure check alone:
    ``checks.structure.check_alone``.)"""
    verifier = Verifier(spec, perimeter, exhaustive)
    context = CheckContext(spec, perimeter, verifier.topology, verifier, workers)
    findings: list[Finding] = []
    refusals: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    accepted: list[str] = []
    proving = False  # whether a check of the exposure proof ran
    for check in CHECKS:
        if refusals:
            break
        proving = proving or not check.structural
        result = check.run(context)
        findings += result.findings
        refusals += result.refusals
        warnings += result.warnings
        accepted += result.exceptions
    assumptions: tuple[ReportLine, ...] = ASSUMPTIONS + egress.assumptions(spec)
    if not proving:
        return Report(tuple(findings), tuple(refusals), assumptions, 0, warnings=tuple(warnings))
    return Report(
        tuple(findings),
        tuple(refusals),
        assumptions,
        verifier.evaluated,
        declared_exceptions(spec) + tuple(accepted) + perimeter.declared(),
        tuple(warnings),
    )


def declared_exceptions(spec: Spec) -> tuple[ReportLine, ...]:
    """Exposure the spec declares beyond its flows: AWS-owned buckets its networks' workloads
    read, its admins' access and its auditors' configuration reads."""
    out: list[ReportLine] = []
    for network in spec.networks:
        if network.workloads:
            count = len(aws_owned.objects_for(network.workloads, network.region))
            out.append(
                Listed(
                    f"network {network.name} may read ({aws_owned.ACTION}) {count} AWS-owned "
                    "buckets for",
                    tuple(network.workloads),
                    f"(catalogue {aws_owned.version()}), with any credentials",
                )
            )
    for arn in spec.admins:
        account = arn_account(arn)
        buckets = sorted(b.name for b in spec.buckets if b.account_id == account)
        if buckets:
            out.append(
                Listed(
                    f"admin {arn} may manage",
                    tuple(buckets),
                    "from any network except xflow endpoints (exempt from the bucket policies' "
                    "Denies)",
                )
            )
        else:
            out.append(f"admin {arn} is in no bucket's account, so it can manage no bucket")
    for arn in spec.auditors:
        out.append(
            f"auditor {arn} may read every spec bucket's configuration (policy, ACL, ownership, "
            "public access block, location) from any network except xflow endpoints, never objects"
        )
    return tuple(out)


__all__ = [
    "ASSUMPTIONS",
    "CHECKS",
    "Finding",
    "Listed",
    "Report",
    "ReportLine",
    "declared_exceptions",
    "verify",
    "verify_perimeter",
]
