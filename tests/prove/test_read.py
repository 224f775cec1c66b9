"""A resource defined twice in one module (an override file merging into it, or a plain
duplicate) is refused: the reader takes each block as written, Terraform merges them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import Severity
from xflow_perimeter.prove.read import defined_twice
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
    ("name", "text", "address"),
    [
        # Terraform deploys the override's allow-all policy on the app endpoint.
        ("a_override.tf", WIDE_ENDPOINT, "aws_vpc_endpoint.app"),
        # Terraform associates rtb-0a... twice and rtb-0b... not at all.
        ("z_override.tf", MOVED_ASSOCIATION, "app_rtb_0b1b2c3d4e5f60718"),
        # Not an override file: Terraform rejects the pair; the verifier refuses it too.
        ("more.tf", MOVED_ASSOCIATION, "app_rtb_0b1b2c3d4e5f60718"),
    ],
    ids=["override-widens-the-endpoint", "override-moves-an-association", "plain-duplicate"],
)
def test_a_resource_defined_twice_is_refused(
    tmp_path: Path, name: str, text: str, address: str
) -> None:
    root = _tree_with(tmp_path, name, text)
    report = verify(load_spec(EXAMPLE / "spec.yaml"), read_tree(root))
    assert report.exit_code == 2
    twice = [
        d
        for d in report.refusals
        if d.code == "XF404" and "defined twice" in d.message and address in d.message
    ]
    assert len(twice) == 1, report.refusals
    assert twice[0].severity is Severity.ERROR
    # It names both blocks: the later one by path as its location, the other in its message.
    places = f"{twice[0].span} {twice[0].message}"
    assert f"workload-ap-northeast-1/{name}:" in places
    assert "workload-ap-northeast-1/endpoints.tf:" in places


def test_resources_of_other_modules_or_names_are_not_defined_twice(tmp_path: Path) -> None:
    other_name = MOVED_ASSOCIATION.replace('"app_rtb_0b1b2c3d4e5f60718"', '"extra"')
    root = _tree_with(tmp_path, "extra.tf", other_name)
    assert defined_twice(read_tree(root)) == ()
    assert defined_twice(read_tree(EXAMPLE / "terraform")) == ()
