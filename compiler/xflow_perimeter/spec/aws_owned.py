"""The versioned catalogue of AWS-owned buckets that instances need through the endpoint.

Each entry is an exact bucket name (with the Region filled in) and a key prefix; no entry is a
wildcard, so nothing here can match a bucket someone else creates. Access is s3:GetObject only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ACTION = "s3:GetObject"


@dataclass(frozen=True, slots=True, order=True)
class OwnedObjects:
    """AWS-owned objects a workload reads: an exact bucket name and a key prefix."""

    bucket: str
    prefix: str  # "" for every key

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.prefix}*"


@dataclass(frozen=True, slots=True)
class Workload:
    """A catalogued workload (e.g. ``ssm``) and templates of the AWS-owned objects it reads."""

    name: str
    description: str
    templates: tuple[str, ...]  # "bucket-{region}/prefix"


@cache
def _catalogue() -> dict[str, object]:
    text = (Path(__file__).parent / "data" / "aws_owned_buckets.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def version() -> str:
    return str(_catalogue()["version"])


@cache
def workloads() -> Mapping[str, Workload]:
    raw = _catalogue()["workloads"]
    assert isinstance(raw, dict)
    return {
        name: Workload(name, str(entry["description"]), tuple(entry["objects"]))
        for name, entry in sorted(raw.items())
    }


def objects(workload: str, region: str) -> tuple[OwnedObjects, ...]:
    """The AWS-owned objects ``workload`` needs in ``region``, as exact bucket names."""
    out = []
    for template in workloads()[workload].templates:
        text = template.replace("{region_without_dashes}", region.replace("-", ""))
        text = text.replace("{region}", region)
        bucket, _, prefix = text.partition("/")
        out.append(OwnedObjects(bucket, prefix))
    return tuple(sorted(out))


@cache  # asked for every request a network's workloads might read
def objects_for(names: tuple[str, ...], region: str) -> tuple[OwnedObjects, ...]:
    return tuple(sorted({o for name in names for o in objects(name, region)}))
