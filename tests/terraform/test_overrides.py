"""Override files merged as Terraform merges them (or refused), and duplicate blocks refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.terraform.overrides import merge_module
from xflow_perimeter.terraform.reader import Literal, Reference, TfFile, read_text, read_tree

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cross-account"
DATA = "data-ap-northeast-1"

BASE = """\
resource "aws_s3_bucket_policy" "p" {
  bucket   = "b"
  count    = 1
  policy   = "x"
  timeouts {
    create = "1m"
  }
  lifecycle {
    prevent_destroy = true
    ignore_changes  = [tags]
  }
}

locals {
  a = 1
  b = 2
}
"""


def merged(base: str, *overrides: str) -> tuple[list[TfFile], list[str]]:
    files, problems = merge_module(
        [read_text(base, "m/main.tf")],
        [read_text(text, f"m/o{i}_override.tf") for i, text in enumerate(overrides)],
    )
    return files, [f"{d.code} {d.span}" for d in problems]


def test_attributes_replace_by_name_and_nested_blocks_by_type() -> None:
    override = (
        'resource "aws_s3_bucket_policy" "p" {\n  bucket = "other"\n  extra = true\n'
        '  timeouts {\n    delete = "2m"\n  }\n}\n'
    )
    files, problems = merged(BASE, override)
    assert problems == []
    block = files[0].blocks[0]
    assert [(n, v) for n, v, _ in block.attributes] == [
        ("bucket", Literal("other")),
        ("count", Literal(1)),
        ("policy", Literal("x")),
        ("extra", Literal(True)),
    ]
    assert str(block.attributes[0][2]) == "m/o0_override.tf:2:3"  # where the value comes from
    assert [(n.block_type, [a for a, _, _ in n.attributes]) for n in block.nested] == [
        ("lifecycle", ["prevent_destroy", "ignore_changes"]),
        ("timeouts", ["delete"]),
    ]
    assert [f.path for f in files] == ["m/main.tf", "m/o0_override.tf"]
    assert files[1].blocks == ()


def test_lifecycle_merges_argument_by_argument_and_later_files_win() -> None:
    first = 'resource "aws_s3_bucket_policy" "p" {\n  lifecycle {\n    ignore_changes = [policy]\n  }\n}\n'
    second = 'resource "aws_s3_bucket_policy" "p" {\n  lifecycle {\n    prevent_destroy = false\n  }\n}\n'
    files, problems = merged(BASE, first, second)
    assert problems == []
    [lifecycle] = [n for n in files[0].blocks[0].nested if n.block_type == "lifecycle"]
    values = {n: v for n, v, _ in lifecycle.attributes}
    assert values["prevent_destroy"] == Literal(False)
    ignored = values["ignore_changes"]
    assert [i for i in getattr(ignored, "items", ())] == [Reference("policy")]


def test_count_and_for_each_replace_each_other() -> None:
    override = 'resource "aws_s3_bucket_policy" "p" {\n  for_each = {}\n}\n'
    files, _ = merged(BASE, override)
    names = [n for n, _, _ in files[0].blocks[0].attributes]
    assert "count" not in names and "for_each" in names


def test_local_values_merge_one_by_one() -> None:
    files, problems = merged(BASE, "locals {\n  b = 3\n  c = 4\n}\n")
    assert problems == ["XF414 m/o0_override.tf:3:3"]
    values = {n: v for n, v, _ in files[0].blocks[1].attributes}
    assert values == {"a": Literal(1), "b": Literal(3)}


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        (
            'resource "aws_s3_bucket_policy" "q" {\n  bucket = "b"\n}\n',
            "XF414 m/o0_override.tf:1:1",
        ),
        ('data "x" "y" {\n}\n', "XF414 m/o0_override.tf:1:1"),
        ("moved {\n  from = a.b\n  to = a.c\n}\n", "XF414 m/o0_override.tf:1:1"),
        ('import {\n  to = a.b\n  id = "x"\n}\n', "XF414 m/o0_override.tf:1:1"),
        ('check "c" {\n}\n', "XF414 m/o0_override.tf:1:1"),
        (
            'resource "aws_s3_bucket_policy" "p" {\n  depends_on = [a.b]\n}\n',
            "XF414 m/o0_override.tf:2:3",
        ),
    ],
)
def test_what_terraform_does_not_merge_is_refused(override: str, problem: str) -> None:
    _, problems = merged(BASE, override)
    assert problems == [problem]


def test_terraform_blocks_of_override_files_are_kept_and_checked() -> None:
    override = 'terraform {\n  required_version = ">= 1.6"\n}\n'
    files, problems = merged(BASE, override)
    assert problems == []
    assert [b.block_type for b in files[1].blocks] == ["terraform"]


def test_duplicate_blocks_and_local_values_are_refused() -> None:
    second = (
        'resource "aws_s3_bucket_policy" "p" {\n}\nlocals {\n  a = 5\n}\n'
        'provider "aws" {\n}\nprovider "aws" {\n  alias = "x"\n}\nprovider "aws" {\n}\n'
    )
    _, problems = merge_module([read_text(BASE, "m/a.tf"), read_text(second, "m/b.tf")], [])
    assert [f"{d.code} {d.span}" for d in problems] == [
        "XF415 m/b.tf:1:1",
        "XF415 m/b.tf:4:3",
        "XF415 m/b.tf:11:1",
    ]


OVERRIDE_POLICY = """\
resource "aws_s3_bucket_policy" "reports" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:GetObject"]
        Resource  = ["arn:aws:s3:::chibayuki-test/*"]
      },
    ]
  })
}
"""


@pytest.mark.parametrize("name", ["override.tf", "policy_override.tf"])
def test_an_override_file_that_opens_the_bucket_is_merged_and_caught(
    tmp_path: Path, name: str
) -> None:
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLE / "terraform", root)
    (root / DATA / name).write_text(OVERRIDE_POLICY, encoding="utf-8")
    report = verify(load_spec(EXAMPLE / "spec.yaml"), read_tree(root))
    assert report.exit_code == 1
    opened = [f for f in report.findings if f.code == "XF501" and "anonymous" in f.message]
    assert opened and opened[0].span is not None and opened[0].span.file == f"{DATA}/{name}"
