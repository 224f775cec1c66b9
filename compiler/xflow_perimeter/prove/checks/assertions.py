"""The assertions check (XF506): each access test the spec states, decided by explain against the
committed Terraform."""

from __future__ import annotations

from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.iam.evaluate import UnsupportedPolicyError
from xflow_perimeter.prove.checks import Check, CheckContext, CheckResult
from xflow_perimeter.prove.explain import ExplainRequest, explain_one
from xflow_perimeter.prove.findings import Finding, deciders, deciding


def check(context: CheckContext) -> CheckResult:
    out = []
    for assertion in context.spec.assertions:
        try:
            result = explain_one(
                context.spec,
                context.perimeter,
                context.topology,
                ExplainRequest(
                    principal=assertion.principal_arn,
                    network=assertion.network,
                    bucket=assertion.bucket_name,
                    bucket_account=assertion.bucket_account,
                    bucket_region=assertion.bucket_region,
                    key=assertion.key,
                    action=assertion.action,
                    identity=assertion.identity,
                ),
            )
        except UnsupportedPolicyError as error:
            return CheckResult(refusals=(Diagnostic("XF404", str(error)),))
        if result.decision.allowed != assertion.expect_allow:
            expected = "allow" if assertion.expect_allow else "deny"
            got = "allows" if result.decision.allowed else "denies"
            out.append(
                Finding(
                    "XF506",
                    f"assertion expects {expected}, but the Terraform {got}: "
                    f"{result.decision.reason}",
                    result.description,
                    deciding(result.decision),
                    assertion.span,
                    result.fields,
                    deciders(result.decision),
                )
            )
    return CheckResult(tuple(out))


CHECK = Check("assertions", check)
