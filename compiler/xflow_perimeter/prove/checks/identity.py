"""The identity check (XF509): each same-account flow holds when the caller's identity policy
grants nothing.

In AWS a same-account request is allowed by the identity policy or by a bucket Allow naming the
caller itself; the exposure proof assumes every identity policy allows everything, so a bucket
policy narrowed below a same-account flow would pass it although that flow then works only where
the caller's identity policy happens to grant it. Here each such flow's requests (the witnesses
the exposure proof uses for the bucket, within the flow's scope) are decided again with an empty
identity policy. The root user always holds identity permissions (evaluate knows it); an account
principal (``arn:aws:iam::<account>:root``) stands for the root user here, as in the intent.

Cross-account flows need both policies: with an identity policy granting exactly the flow, a
request inside the flow is decided as with allow-all, which the exposure proof already covers.
"""

from __future__ import annotations

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.iam.evaluate import Decision, evaluate
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, Request
from xflow_perimeter.prove.checks import Check, CheckContext, CheckResult
from xflow_perimeter.prove.findings import Finding, deciding
from xflow_perimeter.prove.network_paths import PathClass
from xflow_perimeter.spec.model import arn_account
from xflow_perimeter.synth.grants import Grant


def check(context: CheckContext) -> CheckResult:
    verifier = context.proof
    buckets = {b.key: b for b in context.spec.buckets}
    networks = {n.name: n for n in context.spec.networks}
    out: list[Finding] = []
    for bucket_key, mine in sorted(verifier.grants_by_bucket.items()):
        bucket = buckets[bucket_key]
        same_account = [g for g in mine if arn_account(g.principal_arn) == bucket.account_id]
        if not same_account:
            continue
        tf = verifier.policies.get(bucket.name)
        policy = tf.policy if tf else None
        found = verifier.with_endpoints(policy, {g.network for g in mine}, bucket.name)
        targets = verifier.targets(found, mine, bucket.name)
        for grant in same_account:
            path = next(
                (p for p in verifier.topology.paths.get(grant.network, ()) if p.kind == "endpoint"),
                None,
            )
            if path is None or networks[grant.network].region != bucket.region:
                continue  # no endpoint path: the structure check already says the flow fails
            for target in targets:
                if grant.action.lower() not in {
                    a.lower() for a in (target.action, *target.same_as)
                }:
                    continue
                if not grant.scope.covers(target.key, target.list_prefix):
                    continue
                request = Request(
                    caller=Caller(arn=grant.principal_arn, account=bucket.account_id),
                    action=grant.action,
                    bucket=bucket.name,
                    bucket_account=bucket.account_id,
                    key=target.key,
                    list_prefix=target.list_prefix,
                    path=path.path,
                )
                verifier.evaluated += 1
                decision = evaluate(
                    request,
                    bucket_policy=policy,
                    endpoint_policy=path.endpoint_policy,
                    identity="none",
                )
                if decision.allowed or not _with_any_identity(request, policy, path):
                    continue  # denied whatever the identity policy: the exposure check's XF502
                span = tf.span if tf else bucket.span
                name = verifier.name(grant.principal_arn)
                out.append(_finding(name, grant, request, decision, span))
                break
    return CheckResult(tuple(out))


def _with_any_identity(request: Request, policy: PolicyDocument | None, path: PathClass) -> bool:
    decision = evaluate(request, bucket_policy=policy, endpoint_policy=path.endpoint_policy)
    return decision.allowed


def _finding(
    name: str, grant: Grant, request: Request, decision: Decision, span: Span | None
) -> Finding:
    where = f"key {request.key}" if request.key is not None else "the bucket"
    return Finding(
        "XF509",
        f"same-account flow of {name} ({grant.action} on {request.bucket} from network "
        f"{grant.network}) is allowed only if the caller's identity policy grants it: the "
        f"bucket policy does not grant it itself ({decision.reason})",
        f"{grant.action} by {grant.principal_arn} (identity policy: none) on {request.bucket}, "
        f"{where}, from network {grant.network}",
        deciding(decision),
        span,
    )


CHECK = Check("identity", check)
