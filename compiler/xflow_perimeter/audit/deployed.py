"""The proof of what is deployed: verify's exposure proof run on the live perimeter.

The live endpoint policies, route-table associations and bucket policies are put in the
committed resources' places (same addresses, spans pointing at the committed resource, or at the
spec entry where nothing is committed), so the result is the same Perimeter the Terraform reader
produces and ``prove.verify.verify_perimeter`` proves it like any other. Its findings (XF501-XF508)
say what the deployed perimeter grants, not only that it drifted.

Other S3 endpoints in a spec VPC are not put in: they are the drift finding XF616, and the proof
assumes there are none (see ``checked_assumptions``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from xflow_perimeter.audit.committed import Committed
from xflow_perimeter.audit.drift_network import own_endpoint
from xflow_perimeter.audit.live import LiveRegion, LiveState, Missing, Unreadable
from xflow_perimeter.audit.report import AuditFinding
from xflow_perimeter.diagnostics import Severity, Span
from xflow_perimeter.iam.policy import PolicyDocument, PolicyParseError, parse_policy
from xflow_perimeter.prove.verify import Report, verify_perimeter
from xflow_perimeter.spec.model import Network
from xflow_perimeter.terraform.perimeter import (
    Perimeter,
    TfAssociation,
    TfBucketPolicy,
    TfEndpoint,
)

DEPLOYED = "deployed: "


@dataclass(frozen=True, slots=True)
class DeployedProof:
    """The proof's findings, as audit findings, and one line saying what it established."""

    findings: tuple[AuditFinding, ...]
    summary: str


class _NotBuilt(Exception):
    """The live state lacks something the perimeter needs (a read failed): no proof."""


def prove_deployed(committed: Committed, live: LiveState, workers: int = 1) -> DeployedProof:
    """Build the deployed perimeter and prove it; say why not when a read it needs failed."""
    try:
        perimeter, unreadable_policies = _perimeter(committed, live)
    except _NotBuilt as reason:
        return DeployedProof((), f"deployed perimeter not proven: {reason}")
    findings = list(unreadable_policies)
    if findings:
        return DeployedProof(
            tuple(findings), "deployed perimeter not proven: a policy is unreadable"
        )
    report = verify_perimeter(committed.spec, perimeter, workers=workers)
    findings += _findings(report)
    if report.refusals:
        return DeployedProof(tuple(findings), "deployed perimeter not proven (see XF624)")
    if report.findings:
        summary = f"deployed perimeter grants other than the spec ({len(report.findings)} findings)"
    else:
        summary = (
            "deployed perimeter grants exactly the spec "
            f"({report.requests_evaluated} requests evaluated)"
        )
    return DeployedProof(tuple(findings), summary)


def _findings(report: Report) -> list[AuditFinding]:
    out = [
        AuditFinding(
            f.code,
            DEPLOYED + f.message,
            f.span,
            notes=tuple(n for n in f.to_diagnostic().notes),
        )
        for f in report.findings
    ]
    out += [
        AuditFinding(
            "XF624",
            f"{DEPLOYED}the proof refuses the deployed perimeter ({d.code}): {d.message}",
            d.span,
            notes=d.notes,
        )
        for d in report.refusals
        if d.severity is Severity.ERROR
    ]
    return out


def _perimeter(committed: Committed, live: LiveState) -> tuple[Perimeter, list[AuditFinding]]:
    spec = committed.spec
    endpoints: list[TfEndpoint] = []
    associations: list[TfAssociation] = []
    policies: list[TfBucketPolicy] = []
    unreadable: list[AuditFinding] = []
    for network in spec.networks:
        found = _endpoint(committed, live, network)
        if found is None:
            continue
        endpoint, route_tables = found
        if isinstance(endpoint, AuditFinding):
            unreadable.append(endpoint)
            continue
        endpoints.append(endpoint)
        associations += (_association(committed, endpoint, rtb) for rtb in route_tables)
    for bucket in spec.buckets:
        region = _region(live, bucket.account_id, bucket.region)
        deployed = next((b for b in region.buckets if b.name == bucket.name), None)
        if deployed is None or isinstance(deployed.policy, Unreadable):
            raise _NotBuilt(f"the policy of bucket {bucket.name} was not read")
        if deployed.exists is not True or deployed.region != bucket.region:
            raise _NotBuilt(
                f"bucket {bucket.name} is not deployed where the spec says (XF621, XF622)"
            )
        if deployed.policy is None or isinstance(deployed.policy, Missing):
            continue  # no bucket policy is deployed: the proof sees the bucket without one
        tf = committed.bucket_policy(bucket.name)
        span = committed.span(tf.span) if tf is not None else bucket.span
        address = (
            tf.address if tf is not None else f"aws_s3_bucket_policy (deployed, {bucket.name})"
        )
        policy = _parsed(deployed.policy, span, f"bucket {bucket.name}")
        if isinstance(policy, AuditFinding):
            unreadable.append(policy)
            continue
        policies.append(TfBucketPolicy(address, bucket.name, policy, span))
    perimeter = Perimeter(
        tuple(endpoints),
        tuple(associations),
        tuple(policies),
        (),
        skipped=committed.perimeter.skipped,
    )
    return perimeter, unreadable


def _region(live: LiveState, account: str, region_name: str) -> LiveRegion:
    failure = live.account_failure(account)
    if failure is not None:
        raise _NotBuilt(f"account {account} was not reached")
    region = live.region(account, region_name)
    if region is None:
        raise _NotBuilt(f"account {account}, {region_name} was not read")
    return region


def _endpoint(
    committed: Committed, live: LiveState, network: Network
) -> tuple[TfEndpoint | AuditFinding, tuple[str, ...]] | None:
    """The committed endpoint of ``network`` with its live policy, and its live route tables;
    None when the network has no endpoint deployed (the proof then sees none)."""
    region = _region(live, network.account_id, network.region)
    if isinstance(region.endpoints, Unreadable):
        raise _NotBuilt(f"the endpoints of VPC {network.vpc_id} were not read")
    tf = committed.endpoint(network)
    if tf is None:
        return None
    in_vpc = [e for e in region.endpoints if e.vpc_id == network.vpc_id]
    own = own_endpoint(committed, network, in_vpc)
    if own is None:
        return None
    span = committed.span(tf.span)
    policy: PolicyDocument | AuditFinding | None = None  # None: AWS's default full access
    if own.policy is not None:
        policy = _parsed(own.policy, span, f"endpoint {own.endpoint_id}")
    if isinstance(policy, AuditFinding):
        return policy, ()
    deployed = TfEndpoint(tf.address, tf.module, tf.vpc_id, tf.endpoint_id, tf.region, policy, span)
    return deployed, own.route_table_ids


def _association(committed: Committed, endpoint: TfEndpoint, route_table: str) -> TfAssociation:
    """The live association in the committed one's place (or the endpoint's, if uncommitted)."""
    tf = next(
        (
            a
            for a in committed.perimeter.associations
            if a.route_table_id == route_table
            and (a.endpoint_address == endpoint.address or a.endpoint_id == endpoint.endpoint_id)
        ),
        None,
    )
    if tf is not None:
        return replace(tf, span=committed.span(tf.span))
    address = f"{endpoint.address} (deployed association with {route_table})"
    if endpoint.vpc_id is None:  # an adopted endpoint is named by its id
        return TfAssociation(address, None, endpoint.endpoint_id, route_table, endpoint.span)
    return TfAssociation(address, endpoint.address, None, route_table, endpoint.span)


def _parsed(text: str, span: Span | None, what: str) -> PolicyDocument | AuditFinding:
    try:
        document = json.loads(text)
        # The older grammar differs only in taking policy variables literally: without any,
        # the document means the same under the current Version, which the evaluator models.
        older = isinstance(document, dict) and document.get("Version") in (None, "2008-10-17")
        if older and "${" not in text:
            document = {**document, "Version": "2012-10-17"}
        return parse_policy(document, span)
    except (ValueError, PolicyParseError) as error:
        return AuditFinding(
            "XF624",
            f"{DEPLOYED}the policy of {what} cannot be proven: {error}",
            span,
        )
