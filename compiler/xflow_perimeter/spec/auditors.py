"""What the spec's ``auditors`` may do: read a bucket's configuration, never its objects or keys.

These are the bucket-level reads ``xflow audit`` makes (audit/permissions.py keeps its
policy inside this list) plus the policy status S3 computes from the policy. Every one is a
``bucket`` action of the S3 catalogue and returns settings only: no ``GetObject*`` (object data),
no ``ListBucket*`` (keys), nothing that writes. The bucket policies (synth/statements.py) and the
proof's intent (prove/intent.py) both read this one tuple.
"""

from __future__ import annotations

from xflow_perimeter.spec.actions import lookup

AUDITOR_ACTIONS: tuple[str, ...] = (
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
)


def _checked(names: tuple[str, ...]) -> frozenset[str]:
    for name in names:
        action = lookup(name)
        if action is None or action.name != name or action.resource != "bucket":
            raise ValueError(f"{name} is not a bucket-level action of the S3 catalogue")
    return frozenset(name.lower() for name in names)


AUDITOR_ACTIONS_LOWER: frozenset[str] = _checked(AUDITOR_ACTIONS)


def is_auditor_action(action: str) -> bool:
    """Whether an auditor may make ``action`` (IAM compares actions case-insensitively)."""
    return action.lower() in AUDITOR_ACTIONS_LOWER
