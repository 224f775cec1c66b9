"""The exposure check: every request class decided per layer (prove.layers), and each layer's
mismatch decided again with every layer in force. XF501 unintended access and XF502 a denied flow
where the combined decision differs from the spec; XF503 where one layer alone is wider than its
share of the spec and only the other layer keeps the result right."""

from __future__ import annotations

from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.iam.evaluate import Decision, UnsupportedPolicyError
from xflow_perimeter.prove.checks import Check, CheckContext, CheckResult
from xflow_perimeter.prove.findings import (
    Finding,
    deciders,
    deciding,
    describe_request,
    request_fields,
)
from xflow_perimeter.prove.layers.mismatch import Mismatch
from xflow_perimeter.prove.layers.schedule import all_mismatches


def check(context: CheckContext) -> CheckResult:
    verifier = context.proof
    try:
        mismatches = all_mismatches(verifier, context.workers)
    except UnsupportedPolicyError as error:
        return CheckResult(refusals=(Diagnostic("XF404", str(error)),))
    groups: dict[tuple[object, ...], tuple[Mismatch, Decision, list[str], str]] = {}
    seen: set[tuple[object, ...]] = set()
    for m in mismatches:
        try:
            decision, expected = verifier.combined(m)
        except UnsupportedPolicyError as error:
            return CheckResult(refusals=(Diagnostic("XF404", str(error)),))
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
    regions = {b.name: b.region for b in verifier.spec.buckets}
    for m, decision, actions, code in groups.values():
        span = next((s.span for _, s in decision.deciding if s.span), None)
        if span is None:
            span = verifier.resource_span(m)
        out.append(
            Finding(
                code,
                _message(code, m, sorted(actions)),
                describe_request(m.request, m.path),
                deciding(decision),
                span,
                request_fields(m.request, m.path, region=regions.get(m.request.bucket)),
                deciders(decision),
            )
        )
    return CheckResult(tuple(sorted(out, key=lambda f: (f.code, f.message))))


CHECK = Check("exposure", check)


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
        return (
            f"flow denied: {m.caller.label} cannot {shown} on {m.bucket_label} from "
            f"{m.path.label}{plain}"
        )
    other = "endpoint" if m.layer == "bucket" else "bucket"
    verb = "allow" if m.decision.allowed else "deny"
    return (
        f"the {m.layer} policy alone would {verb} {m.caller.label} {shown} on {m.bucket_label} from "
        f"{m.path.label}{plain}, which its share of the spec does not; only the {other} policy "
        "keeps the combined result right today"
    )
