"""Requests the diff must see beyond the spec buckets: buckets outside both specs reached through
a changed endpoint policy (an intruder's bucket, a spec bucket's name in another account)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xflow_perimeter.cli.main import main
from xflow_perimeter.diff.engine import diff_sides
from xflow_perimeter.diff.model import DiffReport, Direction, Layer
from xflow_perimeter.diff.sides import load_side
from xflow_perimeter.diff.summary import layer_words

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data-platform"
ENDPOINTS = Path("terraform") / "analytics-eu-west-1" / "endpoints.tf"
EXFILTRATION = """      {
        Sid       = "Exfiltration"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:PutObject"]
        Resource  = ["RESOURCE"]
      },
    ]
  })"""


def _sides(tmp_path: Path, edit: tuple[str, str]) -> tuple[Path, Path]:
    for name in ("old", "new"):
        shutil.copytree(EXAMPLE, tmp_path / name)
    endpoints = tmp_path / "new" / ENDPOINTS
    text = endpoints.read_text()
    assert edit[0] in text
    endpoints.write_text(text.replace(edit[0], edit[1], 1))
    return tmp_path / "old" / "spec.yaml", tmp_path / "new" / "spec.yaml"


def _diff(old: Path, new: Path) -> DiffReport:
    return diff_sides(load_side("old", old, None), load_side("new", new, None))


@pytest.mark.parametrize("resource", ["*", "arn:aws:s3:::*"])
def test_endpoint_open_to_every_bucket_lets_anyone_write_to_a_foreign_bucket(
    tmp_path: Path, resource: str
) -> None:
    old, new = _sides(tmp_path, ("    ]\n  })", EXFILTRATION.replace("RESOURCE", resource)))
    report = _diff(old, new)
    outside = [e for e in report.gains if "outside both specs" in e.bucket]
    assert outside and all(e.layer is Layer.ENDPOINT and e.outside for e in outside)
    # Not worded as masked by a bucket policy: nothing but the endpoint stands in the way.
    assert all(layer_words(e).startswith("through the endpoint") for e in outside)
    foreign = [
        e
        for e in outside
        if "an account outside the spec" in e.caller and "s3:PutObject" in e.actions
    ]
    assert foreign, [(e.caller, e.bucket) for e in outside]
    example = foreign[0].example
    assert example.action == "s3:PutObject" and example.source.startswith("endpoint vpce-")
    # An unlisted bucket in the network's own account is as reachable as a foreign one.
    assert any("(account 333333333333, a bucket outside" in e.bucket for e in outside)
    assert not any(e.direction is Direction.LOST for e in report.entries)


def test_dropped_resource_account_reaches_a_same_named_bucket_elsewhere(tmp_path: Path) -> None:
    dashboards = """        Resource = ["arn:aws:s3:::acme-lake-curated/reports/published/*"]
        Condition = {
          ArnEquals = {
            "aws:PrincipalArn" = ["arn:aws:iam::333333333333:role/dashboards"]
          }
          StringEquals = {
            "aws:ResourceAccount" = ["111111111111"]
          }
        }"""
    unpinned = """        Resource = ["arn:aws:s3:::acme-lake-curated/reports/published/*"]
        Condition = {
          ArnEquals = {
            "aws:PrincipalArn" = ["arn:aws:iam::333333333333:role/dashboards"]
          }
        }"""
    old, new = _sides(tmp_path, (dashboards, unpinned))
    report = _diff(old, new)
    assert report.changed and not report.losses
    for gain in report.gains:
        assert gain.layer is Layer.ENDPOINT and "dashboards" in gain.caller
        assert gain.bucket.startswith("acme-lake-curated (account ")
        assert "outside both" in gain.bucket and gain.example.bucket_account != "111111111111"
    assert any("an account outside" in e.bucket or "123456789012" in e.bucket for e in report.gains)
    assert main(["diff", str(old), str(new)]) == 1
