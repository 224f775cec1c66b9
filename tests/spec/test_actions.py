"""Tests for the S3 action catalogue and access-level resolution."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from xflow_perimeter.spec import actions
from xflow_perimeter.spec.actions import (
    ACCESS_LEVELS,
    S3Action,
    all_actions,
    catalogue,
    lookup,
    resolve_access,
)


def test_catalogue_is_large_and_well_formed() -> None:
    cat = catalogue()
    assert len(cat) >= 100
    for name, action in cat.items():
        assert action.name == name
        assert name.startswith("s3:")
        assert "*" not in name and "?" not in name
        assert name[3:].isalnum() and name[3].isupper()
        assert action.resource in ("object", "bucket", "other")
        assert isinstance(action.prefix_key, bool)


def test_catalogue_names_are_unique_ignoring_case() -> None:
    names = [name.lower() for name in catalogue()]
    assert len(names) == len(set(names))


def test_json_records_its_source() -> None:
    raw = json.loads(
        resources.files("xflow_perimeter.spec")
        .joinpath("data")
        .joinpath("s3_actions.json")
        .read_text("utf-8")
    )
    assert "list_amazons3" in raw["source"]
    assert set(raw) == {"source", "actions"}


@pytest.mark.parametrize(
    ("name", "resource", "prefix_key"),
    [
        ("s3:GetObject", "object", False),
        ("s3:GetObjectVersion", "object", False),
        ("s3:PutObject", "object", False),
        ("s3:AbortMultipartUpload", "object", False),
        ("s3:ListMultipartUploadParts", "object", False),
        ("s3:DeleteObject", "object", False),
        ("s3:DeleteObjectVersion", "object", False),
        ("s3:ListBucket", "bucket", True),
        ("s3:ListBucketVersions", "bucket", True),
        ("s3:ListBucketMultipartUploads", "bucket", False),
        ("s3:GetBucketPolicy", "bucket", False),
        ("s3:PutBucketPolicy", "bucket", False),
        ("s3:DeleteBucketPolicy", "bucket", False),
        ("s3:GetBucketLocation", "bucket", False),
        ("s3:ListAllMyBuckets", "other", False),
        ("s3:CreateJob", "other", False),
        ("s3:CreateAccessPoint", "other", False),
        ("s3:GetStorageLensConfiguration", "other", False),
        ("s3:PutAccountPublicAccessBlock", "other", False),
    ],
)
def test_anchor_actions(name: str, resource: str, prefix_key: bool) -> None:
    assert catalogue()[name] == S3Action(name, resource, prefix_key)  # type: ignore[arg-type]


def test_only_the_two_list_actions_support_s3_prefix() -> None:
    with_prefix = {action.name for action in all_actions() if action.prefix_key}
    assert with_prefix == {"s3:ListBucket", "s3:ListBucketVersions"}


def test_no_other_services_leak_in() -> None:
    for name in catalogue():
        assert not name.startswith(("s3express:", "s3-outposts:", "s3-object-lambda:"))


def test_all_actions_is_sorted_and_complete() -> None:
    listed = all_actions()
    assert [action.name for action in listed] == sorted(catalogue())


def test_catalogue_is_cached_and_read_only() -> None:
    assert catalogue() is catalogue()
    with pytest.raises(TypeError):
        catalogue()["s3:Made"] = S3Action("s3:Made", "object", False)  # type: ignore[index]


@pytest.mark.parametrize(
    "spelling", ["s3:GetObject", "S3:GETOBJECT", "s3:getobject", "S3:getObject"]
)
def test_lookup_ignores_case_and_returns_canonical_name(spelling: str) -> None:
    found = lookup(spelling)
    assert found is not None
    assert found.name == "s3:GetObject"


@pytest.mark.parametrize(
    "name", ["s3:GetObjects", "s3:*", "s3:Get*", "GetObject", "s3express:CreateSession", ""]
)
def test_lookup_unknown(name: str) -> None:
    assert lookup(name) is None


@pytest.mark.parametrize("level", sorted(ACCESS_LEVELS))
def test_access_levels_name_catalogued_object_or_bucket_actions(level: str) -> None:
    for name in ACCESS_LEVELS[level]:
        assert name in catalogue(), name
        assert catalogue()[name].resource in ("object", "bucket")


def test_access_level_contents() -> None:
    assert dict(ACCESS_LEVELS) == {
        "read": ("s3:GetObject", "s3:GetObjectVersion"),
        "write": ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
        "list": ("s3:ListBucket",),
        "delete": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    }
    assert catalogue()["s3:ListBucket"].resource == "bucket"
    for level in ("read", "write", "delete"):
        assert {catalogue()[name].resource for name in ACCESS_LEVELS[level]} == {"object"}


def names(resolved: tuple[S3Action, ...]) -> list[str]:
    return [action.name for action in resolved]


def test_resolve_levels() -> None:
    resolved, invalid = resolve_access(["read", "list"])
    assert invalid == ()
    assert names(resolved) == ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]


def test_resolve_every_level_sorted_and_unique() -> None:
    resolved, invalid = resolve_access(["write", "delete", "read", "list", "read"])
    assert invalid == ()
    assert names(resolved) == sorted({n for level in ACCESS_LEVELS.values() for n in level})


def test_resolve_levels_ignore_case() -> None:
    assert resolve_access(["READ"]) == resolve_access(["read"])


def test_resolve_explicit_actions_are_canonicalised_and_merged() -> None:
    resolved, invalid = resolve_access(["s3:getobjecttagging", "read", "s3:GetObject"])
    assert invalid == ()
    assert names(resolved) == ["s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion"]


def test_resolve_bucket_action() -> None:
    resolved, invalid = resolve_access(["s3:ListBucketVersions"])
    assert invalid == ()
    assert resolved == (S3Action("s3:ListBucketVersions", "bucket", True),)


def test_resolve_rejects_unknown_wildcard_and_unscoped() -> None:
    items = ["read", "s3:GetObjects", "s3:*", "s3:Get*", "admin", "s3:ListAllMyBuckets", "s3:*"]
    resolved, invalid = resolve_access(items)
    assert names(resolved) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert invalid == ("s3:GetObjects", "s3:*", "s3:Get*", "admin", "s3:ListAllMyBuckets")


def test_resolve_empty() -> None:
    assert resolve_access([]) == ((), ())


def test_malformed_data_is_refused() -> None:
    with pytest.raises(ValueError):
        actions._parse({"actions": {"s3:X": {"resource": "table", "prefix_key": False}}})
    with pytest.raises(ValueError):
        actions._parse({"actions": {"s3:X": {"resource": "object", "prefix_key": "no"}}})
    with pytest.raises(ValueError):
        actions._parse([])
