"""The audit's read operations and the least-privilege IAM policy they need.

Every AWS call the audit makes goes through :data:`READS` (sessions.py refuses any other), so the
printed policy lists exactly what the audit calls. STS calls are made with the caller's own
credentials to reach the audit role, not by the role, and are not part of its policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xflow_perimeter.iam.policy import POLICY_VERSION, JsonValue
from xflow_perimeter.spec.model import Spec

Scope = Literal["any", "bucket"]


@dataclass(frozen=True, slots=True)
class ReadOperation:
    """One AWS call the audit may make, the IAM action it needs and what that action scopes to."""

    service: str  # botocore's service name
    operation: str  # the API operation, as botocore's before-call events name it
    action: str  # the IAM action it needs
    scope: Scope  # "bucket": S3 lets the action be scoped to the bucket's ARN; "any": Resource "*"


READS: tuple[ReadOperation, ...] = (
    ReadOperation("ec2", "DescribeVpcs", "ec2:DescribeVpcs", "any"),
    ReadOperation("ec2", "DescribeVpcEndpoints", "ec2:DescribeVpcEndpoints", "any"),
    ReadOperation("ec2", "DescribeRouteTables", "ec2:DescribeRouteTables", "any"),
    ReadOperation("ec2", "DescribePrefixLists", "ec2:DescribePrefixLists", "any"),
    ReadOperation("s3", "GetBucketLocation", "s3:GetBucketLocation", "bucket"),
    ReadOperation("s3", "GetBucketPolicy", "s3:GetBucketPolicy", "bucket"),
    ReadOperation("s3", "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", "bucket"),
    ReadOperation("s3", "GetBucketAcl", "s3:GetBucketAcl", "bucket"),
    ReadOperation("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "bucket"),
    ReadOperation("s3control", "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock", "any"),
    ReadOperation("s3control", "ListAccessPoints", "s3:ListAccessPoints", "any"),
)

# Calls made with the caller's own credentials before the audit role is in use.
CALLER_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("sts", "AssumeRole"),  # needs sts:AssumeRole on arn:aws:iam::ACCOUNT:role/NAME
    ("sts", "GetCallerIdentity"),  # needs no permission
)


def read_operation(service: str, operation: str) -> ReadOperation:
    """The catalogue entry for one call; KeyError for a call the audit must not make."""
    for read in READS:
        if read.service == service and read.operation == operation:
            return read
    raise KeyError(f"{service}:{operation} is not one of the audit's read operations")


def audit_policy(spec: Spec) -> dict[str, JsonValue]:
    """The IAM policy the audit role needs in every account of ``spec``.

    EC2's Describe calls and the account-level S3 reads do not support resource-level
    permissions, so they take Resource "*" limited to the spec's Regions; bucket reads are
    scoped to the spec's buckets.
    """
    regions: list[JsonValue] = [
        r for r in sorted({n.region for n in spec.networks} | {b.region for b in spec.buckets})
    ]
    in_regions: dict[str, JsonValue] = {"StringEquals": {"aws:RequestedRegion": regions}}
    statements: list[JsonValue] = []
    network_actions = _actions("ec2", "any")
    if spec.networks:
        statements.append(_statement("ReadNetworks", network_actions, "*", in_regions))
    if spec.buckets:
        buckets: list[JsonValue] = [arn for arn in sorted({b.arn for b in spec.buckets})]
        statements.append(_statement("ReadBuckets", _actions("s3", "bucket"), buckets, None))
        statements.append(
            _statement("ReadAccountS3Settings", _actions("s3control", "any"), "*", in_regions)
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def _actions(service: str, scope: Scope) -> list[JsonValue]:
    found = {r.action for r in READS if r.service == service and r.scope == scope}
    return [action for action in sorted(found)]


def _statement(
    sid: str,
    actions: list[JsonValue],
    resources: JsonValue,
    condition: dict[str, JsonValue] | None,
) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": resources,
    }
    if condition is not None:
        out["Condition"] = condition
    return out
