"""Read the spec's buckets in one account and Region: policy, ownership, ACL, public access, access points.

Every bucket call passes ``ExpectedBucketOwner``: a bucket of the same name in another account
answers AccessDenied instead of being read as if it were the spec's.
"""

from __future__ import annotations

from typing import Any

from xflow_perimeter.audit.live import (
    AclGrant,
    LiveAccessPoint,
    LiveBucket,
    Missing,
    PublicAccessBlock,
    Unreadable,
)
from xflow_perimeter.audit.sessions import Reader
from xflow_perimeter.spec.model import Bucket

_NO_BUCKET = "NoSuchBucket"
_NO_PUBLIC_ACCESS_BLOCK = "NoSuchPublicAccessBlockConfiguration"


def read_bucket(reader: Reader, bucket: Bucket) -> LiveBucket:
    owner = {"Bucket": bucket.name, "ExpectedBucketOwner": bucket.account_id}
    subject = f"bucket {bucket.name}"
    location = reader.call(
        "s3", "GetBucketLocation", f"the Region of {subject}", absent=(_NO_BUCKET,), **owner
    )
    if isinstance(location, Missing):
        return LiveBucket(bucket.name, bucket.account_id, False, None, None, None, None, None, None)
    policy = reader.call(
        "s3",
        "GetBucketPolicy",
        f"the policy of {subject}",
        absent=(_NO_BUCKET, "NoSuchBucketPolicy"),
        **owner,
    )
    ownership = reader.call(
        "s3",
        "GetBucketOwnershipControls",
        f"the object ownership of {subject}",
        absent=(_NO_BUCKET, "OwnershipControlsNotFoundError"),
        **owner,
    )
    acl = reader.call("s3", "GetBucketAcl", f"the ACL of {subject}", absent=(_NO_BUCKET,), **owner)
    public = reader.call(
        "s3",
        "GetPublicAccessBlock",
        f"the public access block of {subject}",
        absent=(_NO_BUCKET, _NO_PUBLIC_ACCESS_BLOCK),
        **owner,
    )
    access_points = reader.pages(
        "s3control",
        "ListAccessPoints",
        f"the access points of {subject}",
        "AccessPointList",
        AccountId=bucket.account_id,
        Bucket=bucket.name,
    )
    vanished = any(
        isinstance(r, Missing) and r.code == _NO_BUCKET for r in (policy, ownership, acl, public)
    )
    return LiveBucket(
        name=bucket.name,
        account_id=bucket.account_id,
        exists=location if isinstance(location, Unreadable) else not vanished,
        region=location if isinstance(location, Unreadable) else _region(location),
        policy=_policy(policy),
        object_ownership=_ownership(ownership),
        acl_grants=_acl(acl),
        public_access_block=_public_access_block(public),
        access_points=(
            access_points
            if isinstance(access_points, Unreadable)
            else tuple(sorted((_access_point(a) for a in access_points), key=lambda a: a.name))
        ),
    )


def read_account_public_access_block(
    reader: Reader, account_id: str
) -> PublicAccessBlock | Missing | Unreadable:
    """The account-wide S3 public access block, which applies on top of each bucket's."""
    answer = reader.call(
        "s3control",
        "GetPublicAccessBlock",
        "the account's S3 public access block",
        absent=(_NO_PUBLIC_ACCESS_BLOCK,),
        AccountId=account_id,
    )
    return _public_access_block(answer)


def _region(answer: dict[str, Any]) -> str:
    constraint = answer.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if constraint == "EU" else str(constraint)


def _policy(answer: dict[str, Any] | Missing | Unreadable) -> str | Missing | Unreadable:
    if isinstance(answer, Missing | Unreadable):
        return answer
    return str(answer.get("Policy", ""))


def _ownership(answer: dict[str, Any] | Missing | Unreadable) -> str | Missing | Unreadable:
    if isinstance(answer, Missing | Unreadable):
        return answer
    rules = answer.get("OwnershipControls", {}).get("Rules", [])
    settings = sorted(str(r.get("ObjectOwnership", "")) for r in rules)
    return ", ".join(settings) if settings else Missing("OwnershipControlsNotFoundError")


def _acl(answer: dict[str, Any] | Missing | Unreadable) -> tuple[AclGrant, ...] | Unreadable | None:
    if isinstance(answer, Unreadable):
        return answer
    if isinstance(answer, Missing):
        return None  # the bucket vanished between two reads
    owner = str(answer.get("Owner", {}).get("ID", ""))
    grants = []
    for grant in answer.get("Grants", []):
        grantee = grant.get("Grantee", {})
        who = str(
            grantee.get("ID") or grantee.get("URI") or grantee.get("EmailAddress") or "unknown"
        )
        is_owner = grantee.get("Type") == "CanonicalUser" and bool(owner) and who == owner
        grants.append(AclGrant(who, str(grant.get("Permission", "")), is_owner))
    return tuple(grants)


def _public_access_block(
    answer: dict[str, Any] | Missing | Unreadable,
) -> PublicAccessBlock | Missing | Unreadable:
    if isinstance(answer, Missing | Unreadable):
        return answer
    settings = answer.get("PublicAccessBlockConfiguration", {})
    return PublicAccessBlock(
        block_public_acls=bool(settings.get("BlockPublicAcls", False)),
        ignore_public_acls=bool(settings.get("IgnorePublicAcls", False)),
        block_public_policy=bool(settings.get("BlockPublicPolicy", False)),
        restrict_public_buckets=bool(settings.get("RestrictPublicBuckets", False)),
    )


def _access_point(raw: dict[str, Any]) -> LiveAccessPoint:
    vpc = raw.get("VpcConfiguration") or {}
    return LiveAccessPoint(
        name=str(raw.get("Name", "")),
        network_origin=str(raw.get("NetworkOrigin", "")),
        vpc_id=str(vpc["VpcId"]) if vpc.get("VpcId") else None,
    )
