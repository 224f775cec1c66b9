"""What verify reads under a Terraform root: each module directory as Terraform reads a module,
not what ``terraform init`` and ``plan`` leave behind, and not the modules of other specs."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.cli.main import main
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.synth.manifest import MANIFEST_NAME as MANIFEST
from xflow_perimeter.terraform.layout import find_modules, is_configuration, is_override
from xflow_perimeter.terraform.reader import read_tree

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cross-account"
DATA = "data-ap-northeast-1"

LOCK_FILE = """\
# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.31.0"
  constraints = ">= 5.0.0"
  hashes = [
    "h1:ltxyuBWIy9cq0kIKDJH1jeWJy/y7XJLjS4QrsQK4plA=",
    "zh:0cdb9c2083bf0902442384f7309367791e4640581652dda456f2d6d7abf0de8d",
  ]
}
"""
MODULE_ACL = (
    'resource "aws_s3_bucket_acl" "open" {\n  bucket = "chibayuki-test"\n  acl = "public-read"\n}\n'
)


def leave_init_and_plan_behind(module: Path) -> None:
    """What `terraform init` and `terraform plan -out` write into a module directory."""
    (module / ".terraform.lock.hcl").write_text(LOCK_FILE, encoding="utf-8")
    provider = (
        module / ".terraform/providers/registry.terraform.io/hashicorp/aws/5.31.0/linux_amd64"
    )
    provider.mkdir(parents=True)
    (provider / "terraform-provider-aws_v5.31.0_x5").write_bytes(
        b"\x7fELF\x02\x01\x01" + b"\0" * 64
    )
    modules = module / ".terraform/modules"
    (modules / "acl").mkdir(parents=True)
    (modules / "acl" / "main.tf").write_text(MODULE_ACL, encoding="utf-8")
    (modules / "modules.json").write_text(
        json.dumps({"Modules": [{"Key": "", "Source": "", "Dir": "."}]}), encoding="utf-8"
    )
    (module / ".terraform" / "terraform.tfstate").write_text('{"version": 3}', encoding="utf-8")
    with zipfile.ZipFile(module / "tfplan", "w") as plan:
        plan.writestr("tfplan", b"\x00binary plan")
    (module / "terraform.tfstate").write_text('{"version": 4, "resources": []}', encoding="utf-8")
    (module / "terraform.tfstate.backup").write_text('{"version": 4}', encoding="utf-8")
    (module / ".terraform.tfstate.lock.info").write_text("{}", encoding="utf-8")
    (module / "terraform.tfvars").write_text('region = "ap-northeast-1"\n', encoding="utf-8")
    (module / "crash.log").write_text("panic\n", encoding="utf-8")


def copy_example(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "spec.yaml"
    shutil.copy(EXAMPLE / "spec.yaml", spec)
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLE / "terraform", root)
    return spec, root


def test_what_init_and_plan_leave_behind_is_not_configuration(tmp_path: Path) -> None:
    spec, root = copy_example(tmp_path)
    for module in root.iterdir():
        leave_init_and_plan_behind(module)
    tree = read_tree(root, spec_path=spec)
    assert tree.problems == ()
    assert [f.path for f in tree.files] == sorted(
        p.relative_to(EXAMPLE / "terraform").as_posix()
        for p in (EXAMPLE / "terraform").rglob("*.tf")
    )
    assert verify(load_spec(spec), tree).exit_code == 0


def test_module_directories_and_their_files(tmp_path: Path) -> None:
    files = {
        "main.tf": "",
        "a/x.tf": "",
        "a/x.tf.json": "{}",
        "a/override.tf": "",
        "a/z_override.tf.json": "{}",
        "a/b/deeper.tf": "",
        "a/.hidden.tf": "garbage {",
        "a/notes.tf.txt": "",
        "a/x.tf~": "",
        "a/.git/config.tf": "garbage {",
        ".hidden/h.tf": "",
        "empty/readme.md": "",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    layout = find_modules(tmp_path)
    assert [(m.directory, m.files, m.overrides) for m in layout.modules] == [
        ("", ("main.tf",), ()),
        (".hidden", (".hidden/h.tf",), ()),
        ("a", ("a/x.tf", "a/x.tf.json"), ("a/override.tf", "a/z_override.tf.json")),
        ("a/b", ("a/b/deeper.tf",), ()),
    ]
    assert layout.problems == () and layout.skipped == ()


@pytest.mark.parametrize(
    ("name", "configuration", "override"),
    [
        ("main.tf", True, False),
        ("main.tf.json", True, False),
        ("override.tf", True, True),
        ("override.tf.json", True, True),
        ("a_override.tf", True, True),
        ("a_override.tf.json", True, True),
        ("aoverride.tf", True, False),
        ("override_a.tf", True, False),
        (".main.tf", False, False),
        ("main.tfvars", False, False),
        ("main.tf.bak", False, False),
        ("main.tftest.hcl", False, False),
        (".terraform.lock.hcl", False, False),
    ],
)
def test_file_names(name: str, configuration: bool, override: bool) -> None:
    assert is_configuration(name) == configuration
    assert is_override(name) == override or not configuration


@pytest.mark.parametrize("name", ["main.tofu", "acl.tofu.json"])
def test_opentofu_files_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text("", encoding="utf-8")
    (tmp_path / "m" / name).write_text(MODULE_ACL, encoding="utf-8")
    tree = read_tree(tmp_path)
    assert [(d.code, str(d.span)) for d in tree.problems] == [("XF418", f"m/{name}:1:1")]


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "main.tf").write_text(MODULE_ACL, encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(tmp_path / "real", root / "linked")
    tree = read_tree(root)
    assert [(d.code, str(d.span)) for d in tree.problems] == [("XF418", "linked:1:1")]


# -- manifests: modules of other specs ---------------------------------------------------------


def manifest(folder: Path, spec: str, files: list[str] | None = None) -> None:
    data = {"files": files or sorted(p.name for p in folder.glob("*.tf")), "spec": spec, "xflow": 1}
    (folder / MANIFEST).write_text(json.dumps(data), encoding="utf-8")


def test_a_module_of_another_spec_is_skipped_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, root = copy_example(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text("xflow: 1\n", encoding="utf-8")
    (root / "other-eu-west-1").mkdir()
    (root / "other-eu-west-1" / "acl.tf").write_text(MODULE_ACL, encoding="utf-8")
    manifest(root / "other-eu-west-1", "../../other.yaml")
    for module in (DATA, "workload-ap-northeast-1"):
        manifest(root / module, "../../spec.yaml")
    tree = read_tree(root, spec_path=spec)
    assert [(s.directory, s.spec, str(s.span)) for s in tree.skipped] == [
        ("other-eu-west-1", "../../other.yaml", f"other-eu-west-1/{MANIFEST}:1:1")
    ]
    report = verify(load_spec(spec), tree)
    assert report.exit_code == 0, report.refusals
    assert any(
        str(e).startswith("module directory other-eu-west-1 belongs to spec ../../other.yaml")
        for e in report.exceptions
    )
    assert main(["verify", str(spec), "--tf", str(root)]) == 0
    assert "other-eu-west-1 belongs to spec ../../other.yaml" in capsys.readouterr().out
    # Without a spec to compare with, everything is read.
    assert [d.code for d in verify(load_spec(spec), read_tree(root)).refusals] == ["XF411"]


def test_a_module_naming_a_spec_that_does_not_exist_is_read(tmp_path: Path) -> None:
    spec, root = copy_example(tmp_path)
    (root / DATA / "acl.tf").write_text(MODULE_ACL, encoding="utf-8")
    manifest(root / DATA, "../../moved-away.yaml")
    tree = read_tree(root, spec_path=spec)
    assert tree.skipped == () and tree.problems == ()
    assert [d.code for d in verify(load_spec(spec), tree).refusals] == ["XF411"]


def test_the_same_spec_by_another_path_is_read(tmp_path: Path) -> None:
    spec, root = copy_example(tmp_path)
    (root / DATA / "acl.tf").write_text(MODULE_ACL, encoding="utf-8")
    manifest(root / DATA, "../../terraform/../spec.yaml")
    tree = read_tree(root, spec_path=tmp_path / "." / "spec.yaml")
    assert tree.skipped == ()
    assert [d.code for d in verify(load_spec(spec), tree).refusals] == ["XF411"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"spec": "../x.yaml", "xflow": 1}),
        json.dumps({"files": [], "spec": "", "xflow": 1}),
        json.dumps({"files": [1], "spec": "../x.yaml", "xflow": 1}),
        json.dumps({"files": [], "spec": "../x.yaml", "xflow": 2}),
        json.dumps(["files"]),
    ],
)
def test_a_manifest_that_cannot_be_read_is_refused(tmp_path: Path, text: str) -> None:
    spec, root = copy_example(tmp_path)
    (tmp_path / "x.yaml").write_text("xflow: 1\n", encoding="utf-8")
    (root / DATA / MANIFEST).write_text(text, encoding="utf-8")
    tree = read_tree(root, spec_path=spec)
    assert [(d.code, str(d.span)) for d in tree.problems] == [("XF418", f"{DATA}/{MANIFEST}:1:1")]
    assert tree.skipped == ()
    assert any(f.path.startswith(DATA) for f in tree.files)  # read all the same
