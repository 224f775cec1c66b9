"""A resource defined twice in one module: an override file merges into it as Terraform
merges it (and verify proves the merged resource), a plain duplicate is refused (XF415)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import Severity
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.terraform.reader import read_tree

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cross-account"

WIDE_ENDPOINT = """\
resource "aws_vpc_endpoint" "app" {
  vpc_id            = "vpc-0a1b2c3d4e5f60718"
  service_name      = "com.amazonaws.ap-northeast-1.s3"
  vpc_endpoint_type = "Gateway"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowAll"
        Effect    = "Allow"
        Principal = "*"
        Action    = "s3:*"
        Resource  = "*"
      },
    ]
  })
}
"""

MOVED_ASSOCIATION = """\
resource "aws_vpc_endpoint_route_table_association" "app_rtb_0b1b2c3d4e5f60718" {
  vpc_endpoint_id = aws_vpc_endpoint.app.id
  route_table_id  = "rtb-0a1b2c3d4e5f60718"
}
"""


def _tree_with(tmp_path: Path, name: str, text: str) -> Path:
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLE / "terraform", root)
    (root / "workload-ap-northeast-1" / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        # Terraform deploys the override's allow-all policy on the app endpoint.
        ("a_override.tf", WIDE_ENDPOINT, "XF501"),
        # Terraform associates rtb-0a... twice and rtb-0b... not at all.
        ("z_override.tf", MOVED_ASSOCIATION, "XF504"),
    ],
    ids=["override-widens-the-endpoint", "override-moves-an-association"],
)
def test_an_override_is_proved_as_terraform_merges_it(
    tmp_path: Path, name: str, text: str, code: str
) -> None:
    root = _tree_with(tmp_path, name, text)
    report = verify(load_spec(EXAMPLE / "spec.yaml"), read_tree(root))
    assert report.exit_code == 1, report.refusals
    assert code in {f.code for f in report.findings}


def test_a_plain_duplicate_is_refused_naming_both_blocks(tmp_path: Path) -> None:
    root = _tree_with(tmp_path, "more.tf", MOVED_ASSOCIATION)
    report = verify(load_spec(EXAMPLE / "spec.yaml"), read_tree(root))
    assert report.exit_code == 2
    twice = [d for d in report.refusals if d.code == "XF415"]
    assert len(twice) == 1, report.refusals
    assert twice[0].severity is Severity.ERROR
    places = f"{twice[0].span} {twice[0].message}"
    assert "workload-ap-northeast-1/more.tf:" in places
    assert "workload-ap-northeast-1/endpoints.tf:" in places
