"""Verify: prove that the Terraform grants exactly the spec, layer by layer and combined.

For every request class (see request_classes and network_paths) the evaluator's decision on the committed
policies is compared with the spec's intent (intent.py). Each layer is checked alone (the endpoint
policy as if every bucket allowed everyone; the bucket policy as if every network and identity
allowed everything), and every layer mismatch is then decided with both layers together, so a
finding says whether the exposure is real today or masked by the other layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_INVALID, EXIT_OK, Diagnostic, Span
from xflow_perimeter.iam.evaluate import (
    ALLOW_EVERYONE_POLICY,
    Decision,
    UnsupportedPolicyError,
)
from xflow_perimeter.iam.policy import Statement
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.layers import Mismatch, Verifier, all_mismatches
from xflow_perimeter.prove.network_paths import NAT_IP, PathClass, topology
from xflow_perimeter.prove.request_classes import (
    pattern_problems,
)
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import TfTree

ASSUMPTIONS = (
    "Every caller's identity policy allows every action (an intruder writes their own); listed "
    "principals therefore hold the identity permissions their flows need.",
    "SCPs, RCPs, permission boundaries and session policies are not considered: they can only "
    "remove access, so 'nothing else' still holds, but a flow may be denied by them.",
    "No other S3 gateway endpoint serves a VPC that the spec names (bucket policies identify "
    "networks that xflow creates endpoints for by VPC id).",
    "Object ownership is BucketOwnerEnforced (ACLs disabled), so policies alone decide.",
)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    counterexample: str
    deciding: tuple[str, ...]  # "file:line:col Sid (layer policy)"
    span: Span | None = field(default=None, compare=False)

    def to_diagnostic(self) -> Diagnostic:
        notes: tuple[str, ...] = ()
        if self.counterexample:
            notes = (f"counterexample: {self.counterexample}",)
        notes += tuple(f"decided by: {d}" for d in self.deciding)
        return Diagnostic(self.code, self.message, self.span, notes=notes)


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]
    refusals: tuple[Diagnostic, ...]
    assumptions: tuple[str, ...]
    requests_evaluated: int
    exceptions: tuple[str, ...] = ()  # declared break-glass exemptions, as intended exposure

    @property
    def exit_code(self) -> int:
        if self.refusals:
            return EXIT_INVALID
        return EXIT_FINDINGS if self.findings else EXIT_OK


def describe_request(request: Request, path: PathClass) -> str:
    caller = request.caller.arn or "anonymous"
    where = (
        f"key={request.key}"
        if request.key is not None
        else (
            f"s3:prefix={request.list_prefix!r}"
            if request.list_prefix is not None
            else "bucket itself"
        )
    )
    return (
        f"{request.action} by {caller} on bucket {request.bucket} (account {request.bucket_account}), "
        f"{where}, from {path.label}, TLS {'on' if request.secure_transport else 'off'}"
    )


def _deciding(decision: Decision) -> tuple[str, ...]:
    """The Terraform statements behind a decision (synthetic stand-ins, which have no span, omitted)."""
    refs = tuple(_statement_ref(layer, s) for layer, s in decision.deciding if s.span is not None)
    if refs:
        return refs
    if decision.allowed:
        return (
            "no statement in the Terraform denies it, and the caller's identity policy allows it",
        )
    return (decision.reason,)


def _statement_ref(layer: str, statement: Statement) -> str:
    where = f"{statement.span}: " if statement.span else ""
    sid = statement.sid or "(no Sid)"
    return f"{where}{sid} ({layer} policy)"


def _group_key(m: Mismatch, code: str) -> tuple[object, ...]:
    return (
        code,
        m.layer if code == "XF503" else "",
        m.caller.label,
        m.path.label,
        m.bucket_label,
        m.secure_transport,
    )


def _message(code: str, m: Mismatch, actions: list[str]) -> str:
    shown = ", ".join(actions[:3]) + (f" (and {len(actions) - 3} more)" if len(actions) > 3 else "")
    plain = "" if m.secure_transport else " over plain HTTP"
    if code == "XF501":
        return f"{m.caller.label} can {shown} on {m.bucket_label} from {m.path.label}{plain}"
    if code == "XF502":
        return f"flow denied: {m.caller.label} cannot {shown} on {m.bucket_label} from {m.path.label}{plain}"
    other = "endpoint" if m.layer == "bucket" else "bucket"
    verb = "allow" if m.decision.allowed else "deny"
    return (
        f"the {m.layer} policy alone would {verb} {m.caller.label} {shown} on {m.bucket_label} from "
        f"{m.path.label}{plain}, which its share of the spec does not; only the {other} policy "
        "keeps the combined result right today"
    )


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
    structure_only: bool = False,
) -> Report:
    """``verify`` on a tree already read; ``structure_only`` stops before the exposure proof
    (refusals, missing and extra resources, route-table associations only)."""
    verifier = None if structure_only else Verifier(spec, perimeter, exhaustive)
    if verifier is None:  # the structure does not depend on the vpce ids chosen for witnesses
        structure = topology(spec, perimeter, frozenset())
        refusals = list(perimeter.refusals) + list(structure.refusals)
    else:
        structure = verifier.topology
        refusals = list(perimeter.refusals) + list(structure.refusals)
        refusals += [
            Diagnostic("XF404", problem) for problem in pattern_problems(verifier.all_constants)
        ]
    findings = [Finding(d.code, d.message, "", (), d.span) for d in structure.findings]
    with_policies = {p.bucket for p in perimeter.bucket_policies}
    for bucket in spec.buckets:
        if bucket.name not in with_policies:
            findings.append(
                Finding(
                    "XF505",
                    f"bucket {bucket.name}: no aws_s3_bucket_policy in the Terraform",
                    "",
                    (),
                    bucket.span,
                )
            )
    known = {b.name for b in spec.buckets}
    for policy in perimeter.bucket_policies:
        if policy.bucket not in known:
            findings.append(
                Finding(
                    "XF507",
                    f"{policy.address} sets the policy of {policy.bucket}, which the spec does not declare",
                    "",
                    (),
                    policy.span,
                )
            )
    assumptions = ASSUMPTIONS + _egress_assumptions(spec)
    if refusals or verifier is None:
        return Report(tuple(findings), tuple(refusals), assumptions, 0)
    bypasses, accepted = _bypass_findings(verifier)
    findings += bypasses
    try:
        findings += _exposure_findings(verifier, workers)
        findings += _assertion_findings(verifier)
    except UnsupportedPolicyError as error:
        refusals.append(Diagnostic("XF404", str(error)))
    return Report(
        tuple(findings),
        tuple(refusals),
        assumptions,
        verifier.evaluated,
        _exceptions(spec) + accepted + perimeter.declared(),
    )


def _egress_assumptions(spec: Spec) -> tuple[str, ...]:
    undeclared = sorted(n.name for n in spec.networks if n.egress is None)
    if not undeclared:
        return ()
    return (
        f"Networks {', '.join(undeclared)} declare no egress, so they are taken to reach S3 only "
        "through their endpoint; declare egress: none, nat or internet to make this explicit.",
    )


def _bypass_findings(verifier: Verifier) -> tuple[list[Finding], tuple[str, ...]]:
    """Egress beside the endpoint: S3 in other Regions (and any S3 host the route tables send
    elsewhere) is reached without the endpoint policy, so any credentials reach any bucket."""
    findings: list[Finding] = []
    accepted: list[str] = []
    for network in verifier.spec.networks:
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
    return findings, tuple(accepted)


def _exceptions(spec: Spec) -> tuple[str, ...]:
    out = []
    for network in spec.networks:
        if network.workloads:
            count = len(aws_owned.objects_for(network.workloads, network.region))
            out.append(
                f"network {network.name} may read ({aws_owned.ACTION}) {count} AWS-owned buckets "
                f"for {', '.join(network.workloads)} (catalogue {aws_owned.version()}), with any "
                "credentials"
            )
    for arn in spec.admins:
        account = arn.split(":")[4]
        buckets = sorted(b.name for b in spec.buckets if b.account_id == account)
        if buckets:
            out.append(
                f"admin {arn} may manage {', '.join(buckets)} from any network except xflow "
                "endpoints (exempt from the bucket policies' Denies)"
            )
        else:
            out.append(f"admin {arn} is in no bucket's account, so it can manage no bucket")
    return tuple(out)


def _exposure_findings(verifier: Verifier, workers: int | None) -> list[Finding]:
    mismatches = all_mismatches(verifier, workers)
    groups: dict[tuple[object, ...], tuple[Mismatch, Decision, list[str], str]] = {}
    seen: set[tuple[object, ...]] = set()
    for m in mismatches:
        decision, expected = verifier.combined(m)
        if decision.allowed != expected:
            code = "XF501" if decision.allowed else "XF502"
            identity = (m.request, m.path.label)
            if identity in seen:
                continue
            seen.add(identity)
        else:
            code = "XF503"
            decision = m.decision
        key = _group_key(m, code)
        actions = [m.target.action, *m.target.same_as]
        if key in groups:
            groups[key][2].extend(a for a in actions if a not in groups[key][2])
        else:
            groups[key] = (m, decision, list(actions), code)
    out = []
    for m, decision, actions, code in groups.values():
        span = next((s.span for _, s in decision.deciding if s.span), None)
        if span is None:
            span = verifier.resource_span(m)
        out.append(
            Finding(
                code,
                _message(code, m, sorted(actions)),
                describe_request(m.request, m.path),
                _deciding(decision),
                span,
            )
        )
    return sorted(out, key=lambda f: (f.code, f.message))


def _assertion_findings(verifier: Verifier) -> list[Finding]:
    from xflow_perimeter.prove.explain import ExplainRequest, explain_one

    out = []
    for assertion in verifier.spec.assertions:
        result = explain_one(
            verifier.spec,
            verifier.perimeter,
            verifier.topology,
            ExplainRequest(
                principal=assertion.principal_arn,
                network=assertion.network,
                bucket=assertion.bucket_name,
                bucket_account=assertion.bucket_account,
                key=assertion.key,
                action=assertion.action,
                identity=assertion.identity,
            ),
        )
        if result.decision.allowed != assertion.expect_allow:
            expected = "allow" if assertion.expect_allow else "deny"
            got = "allows" if result.decision.allowed else "denies"
            out.append(
                Finding(
                    "XF506",
                    f"assertion expects {expected}, but the Terraform {got}: {result.decision.reason}",
                    result.description,
                    _deciding(result.decision),
                    assertion.span,
                )
            )
    return out
