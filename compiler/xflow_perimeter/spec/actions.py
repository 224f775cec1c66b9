"""The catalogue of Amazon S3 IAM actions and the access levels that specs name.

The data lives in ``compiler/data/s3_actions.json`` (transcribed from the AWS Service Authorization
Reference; its ``source`` field says which snapshot) and is read lazily on first use.

Access levels map to the fewest actions that the standard S3 API operations need:

============  ==================================  ==================================================
level         actions                             S3 API operations it covers
============  ==================================  ==================================================
``read``      ``s3:GetObject``                    GetObject, HeadObject, SelectObjectContent, and
                                                  the source side of CopyObject/UploadPartCopy
              ``s3:GetObjectVersion``             the same calls with a ``versionId``
``write``     ``s3:PutObject``                    PutObject, CreateMultipartUpload, UploadPart,
                                                  CompleteMultipartUpload, CopyObject/UploadPartCopy
                                                  (destination side; the source needs ``read``)
              ``s3:AbortMultipartUpload``         AbortMultipartUpload (SDK transfer managers call
                                                  it to clean up a failed multipart upload)
              ``s3:ListMultipartUploadParts``     ListParts (resuming a multipart upload)
``list``      ``s3:ListBucket``                   ListObjects, ListObjectsV2, HeadBucket
``delete``    ``s3:DeleteObject``                 DeleteObject, DeleteObjects (checked per key)
              ``s3:DeleteObjectVersion``          the same calls with a ``versionId``
============  ==================================  ==================================================

Deliberately left out (name them explicitly in a flow if it needs them): ``s3:PutObjectAcl`` and
``s3:PutObjectTagging`` (PutObject with ACL or tagging headers), ``s3:GetObjectAttributes``
(GetObjectAttributes needs it besides ``s3:GetObject``), ``s3:ListBucketVersions``
(ListObjectVersions), ``s3:ListBucketMultipartUploads`` (ListMultipartUploads) and
``s3:GetBucketLocation``. KMS permissions for SSE-KMS objects are outside S3 policies altogether.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

Resource = Literal["object", "bucket", "other"]

_RESOURCES: frozenset[str] = frozenset({"object", "bucket", "other"})


@dataclass(frozen=True, slots=True, order=True)
class S3Action:
    """One S3 IAM action.

    Attributes:
        name: the action with AWS's exact capitalisation, e.g. ``s3:GetObject``.
        resource: ``object`` if it applies to ``arn:aws:s3:::bucket/key``, ``bucket`` if to
            ``arn:aws:s3:::bucket``, ``other`` if it cannot be scoped to a bucket at all.
        prefix_key: whether the action supports the ``s3:prefix`` condition key.
    """

    name: str
    resource: Resource
    prefix_key: bool


ACCESS_LEVELS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "read": ("s3:GetObject", "s3:GetObjectVersion"),
        "write": ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
        "list": ("s3:ListBucket",),
        "delete": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    }
)


def _read_json() -> object:
    # A path beside this module rather than importlib.resources, whose import costs more than
    # reading the file (xflow is installed as files, never zipped).
    text = (Path(__file__).parent / "data" / "s3_actions.json").read_text(encoding="utf-8")
    return json.loads(text)


def _parse(raw: object) -> dict[str, S3Action]:
    if not isinstance(raw, dict) or not isinstance(raw.get("actions"), dict):
        raise ValueError("s3_actions.json: expected an object with an 'actions' object")
    actions: dict[str, S3Action] = {}
    for name, entry in cast(dict[str, object], raw["actions"]).items():
        if not isinstance(entry, dict):
            raise ValueError(f"s3_actions.json: {name}: expected an object")
        resource = entry.get("resource")
        prefix_key = entry.get("prefix_key")
        if resource not in _RESOURCES or not isinstance(prefix_key, bool):
            raise ValueError(f"s3_actions.json: {name}: bad 'resource' or 'prefix_key'")
        actions[name] = S3Action(name, cast(Resource, resource), prefix_key)
    return actions


@functools.cache
def catalogue() -> Mapping[str, S3Action]:
    """Every ``s3:`` action, keyed by its exact name.

    Returns:
        A read-only mapping, loaded from the packaged JSON on first call and cached.
    """
    return MappingProxyType(_parse(_read_json()))


@functools.cache
def _by_lower_name() -> Mapping[str, S3Action]:
    return MappingProxyType({name.lower(): action for name, action in catalogue().items()})


def lookup(name: str) -> S3Action | None:
    """Find an action by name, ignoring case as IAM does.

    Example: ``lookup("S3:getobject").name == "s3:GetObject"``.

    Returns:
        The action with its canonical capitalisation, or None if S3 has no such action.
    """
    return _by_lower_name().get(name.lower())


def all_actions() -> tuple[S3Action, ...]:
    """Every action in the catalogue, sorted by name."""
    return tuple(sorted(catalogue().values(), key=lambda action: action.name))


def resolve_access(items: Sequence[str]) -> tuple[tuple[S3Action, ...], tuple[str, ...]]:
    """Expand a flow's access list into actions.

    Each item is an access level (``read``, ``write``, ``list``, ``delete``; case-insensitive) or an
    explicit action such as ``s3:GetObjectTagging`` (case-insensitive, no wildcards). An explicit
    action must exist and be scoped to an object or a bucket: an ``other`` action (account-level,
    access points, Storage Lens, ...) cannot be granted through a bucket flow.

    Args:
        items: the strings the spec lists under a flow's access.

    Returns:
        The unique actions, sorted by name, and the items that are neither a level nor a usable
        action, in their original order and spelling (each once).
    """
    found: dict[str, S3Action] = {}
    invalid: list[str] = []
    for item in items:
        level = ACCESS_LEVELS.get(item.lower())
        if level is not None:
            for name in level:
                found[name] = catalogue()[name]
            continue
        action = lookup(item)
        if action is None or action.resource == "other":
            if item not in invalid:
                invalid.append(item)
            continue
        found[action.name] = action
    return tuple(found[name] for name in sorted(found)), tuple(invalid)
