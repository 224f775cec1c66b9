"""Compile touches only its own files: module manifests, specs sharing a root, links, legacy trees.

Each test drives the command line over a real directory and compares the whole tree (links and
hidden files included) before and after.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from xflow_perimeter.cli.main import main
from xflow_perimeter.synth.manifest import (
    MANIFEST_NAME,
    Manifest,
    parse_manifest,
    render_manifest,
    with_manifests,
)

SPEC_A = """\
xflow: 1
accounts: {data: "000000000000", app: "999999999999"}
networks:
  app:
    account: app
    region: ap-northeast-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
buckets:
  reports: {name: writes-test-reports, account: data, region: ap-northeast-1}
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
admins: ["arn:aws:iam::000000000000:role/admin"]
flows:
  - {principal: app-role, network: app, bucket: reports, access: read}
"""
A_MODULES = ("app-ap-northeast-1", "data-ap-northeast-1")
A_FILES = {
    "app-ap-northeast-1/endpoints.tf",
    "app-ap-northeast-1/outputs.tf",
    "app-ap-northeast-1/versions.tf",
    "app-ap-northeast-1/xflow-module.json",
    "data-ap-northeast-1/bucket_policies.tf",
    "data-ap-northeast-1/versions.tf",
    "data-ap-northeast-1/xflow-module.json",
}
# Other accounts and another Region: modules of its own beside A's.
SPEC_B = """\
xflow: 1
accounts: {lake: "111111111111", etl: "222222222222"}
networks:
  etl:
    account: etl
    region: eu-west-1
    vpc_id: vpc-0c1b2c3d4e5f60718
    route_table_ids: [rtb-0c1b2c3d4e5f60718]
buckets:
  raw: {name: writes-test-raw, account: lake, region: eu-west-1}
principals:
  etl-role: {arn: "arn:aws:iam::222222222222:role/etl"}
admins: ["arn:aws:iam::111111111111:role/admin"]
flows:
  - {principal: etl-role, network: etl, bucket: raw, access: write}
"""
# A's network moves into the data account: the app module is no longer produced.
SPEC_A_WITHOUT_APP = SPEC_A.replace("    account: app\n", "    account: data\n")

DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>\w+) (?P<code>XF\d+): "
)


def tree(root: Path) -> dict[str, object]:
    """Everything under ``root``: file bytes, link targets, folders (hidden ones included)."""
    out: dict[str, object] = {}
    if not os.path.lexists(root):
        return out
    for folder, folders, names in os.walk(root):
        for name in [*folders, *names]:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[relative] = ("link", os.readlink(path))
            elif path.is_dir():
                out[relative] = "dir"
            elif path.is_file():
                out[relative] = path.read_bytes()
            else:
                out[relative] = "special"
    return out


def files_of(root: Path) -> set[str]:
    return {k for k, v in tree(root).items() if isinstance(v, bytes)}


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def compile_ok(capsys: pytest.CaptureFixture[str], spec: Path, out: Path, *extra: str) -> str:
    code, _, err = run(capsys, "compile", spec, "-o", out, "--fast", *extra)
    assert code == 0, err
    assert "Traceback" not in err
    return err


def errors(err: str, code: str) -> list[re.Match[str]]:
    found = [m for m in map(DIAGNOSTIC.match, err.splitlines()) if m and m["code"] == code]
    assert found, err
    return found


@pytest.fixture
def spec_a(tmp_path: Path) -> Path:
    path = tmp_path / "a.yaml"
    path.write_text(SPEC_A, encoding="utf-8")
    return path


@pytest.fixture
def spec_b(tmp_path: Path) -> Path:
    path = tmp_path / "b.yaml"
    path.write_text(SPEC_B, encoding="utf-8")
    return path


# Manifests -----------------------------------------------------------------------------------------


def test_every_module_directory_gets_a_manifest_in_the_agreed_format(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deploy" / "infra"
    compile_ok(capsys, spec_a, out)
    assert files_of(out) == A_FILES
    text = (out / "data-ap-northeast-1" / MANIFEST_NAME).read_text("utf-8")
    document = {
        "files": ["bucket_policies.tf", "versions.tf"],
        "spec": "../../../a.yaml",
        "xflow": 1,
    }
    assert text == json.dumps(document, sort_keys=True, indent=2) + "\n"
    assert parse_manifest(text.encode()) == Manifest(
        ("bucket_policies.tf", "versions.tf"), "../../../a.yaml"
    )


def test_the_manifest_names_the_spec_relative_to_its_folder_however_paths_are_typed(
    spec_a: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"m/versions.tf": "x\n"}
    absolute = with_manifests(files, tmp_path / "out", spec_a)
    monkeypatch.chdir(tmp_path / "..")
    relative = with_manifests(files, Path(tmp_path.name) / "out", Path(tmp_path.name) / "a.yaml")
    assert absolute == relative
    assert json.loads(absolute["m/xflow-module.json"])["spec"] == "../../a.yaml"
    # A spec inside the module directory, and one above the output root.
    inside = with_manifests(files, tmp_path, tmp_path / "m" / "s.yaml")
    assert json.loads(inside["m/xflow-module.json"])["spec"] == "s.yaml"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"files": [], "spec": "a.yaml"}',
        '{"files": [], "spec": "a.yaml", "xflow": 2}',
        '{"files": ["../x.tf"], "spec": "a.yaml", "xflow": 1}',
        '{"files": ["xflow-module.json"], "spec": "a.yaml", "xflow": 1}',
        '{"files": "x.tf", "spec": "a.yaml", "xflow": 1}',
        '{"files": [], "spec": "", "xflow": 1}',
        '{"files": [], "spec": "a.yaml", "xflow": 1, "more": 1}',
    ],
)
def test_only_manifests_xflow_writes_are_read_as_manifests(text: str) -> None:
    assert parse_manifest(text.encode()) is None
    assert parse_manifest(render_manifest(Manifest(("a.tf",), "s.yaml")).encode()) is not None


# Two specs, one output root ------------------------------------------------------------------------


def test_two_specs_into_one_root_each_keep_their_files(
    spec_a: Path, spec_b: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_b, out)
    b_tree = tree(out)
    compile_ok(capsys, spec_a, out)
    after = tree(out)
    assert {k: v for k, v in after.items() if k in b_tree} == b_tree
    assert files_of(out) == A_FILES | {k for k, v in b_tree.items() if isinstance(v, bytes)}
    # Each is up to date, compiling either again changes nothing, and the other's modules stay
    # when one spec drops a module of its own.
    for spec in (spec_a, spec_b):
        code, _, err = run(capsys, "compile", spec, "-o", out, "--check")
        assert code == 0, err
    spec_a.write_text(SPEC_A_WITHOUT_APP, encoding="utf-8")
    compile_ok(capsys, spec_a, out)
    assert not (out / "app-ap-northeast-1").exists()
    assert {k: v for k, v in tree(out).items() if k in b_tree} == b_tree
    code, stdout, err = run(capsys, "compile", spec_b, "-o", out, "--fast")
    assert code == 0 and stdout.rstrip().endswith(", 0 changed"), err


def test_a_module_directory_of_another_spec_is_refused_naming_both(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    before = tree(out)
    twin = tmp_path / "twin.yaml"  # the same modules, from another spec
    twin.write_text(SPEC_A, encoding="utf-8")
    for mode in ("--fast", "--check", "--diff"):
        code, stdout, err = run(capsys, "compile", twin, "-o", out, mode)
        assert code == 2, (mode, err)
        assert "Traceback" not in err and stdout == ""
        found = errors(err, "XF302")
        assert {m["file"] for m in found} == {str(out / m / MANIFEST_NAME) for m in A_MODULES}
        for match in found:  # located at the manifest's "spec" line
            line = Path(match["file"]).read_text("utf-8").splitlines()[int(match["line"]) - 1]
            assert line.startswith('  "spec": '), line
        assert all(str(spec_a) in line and str(twin) in line for line in err.splitlines()[:2])
        assert tree(out) == before


def test_a_renamed_spec_is_refused_and_told_how_to_take_over(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    renamed = spec_a.rename(tmp_path / "perimeter.yaml")
    code, _, err = run(capsys, "compile", renamed, "-o", out, "--fast")
    assert code == 2
    assert f"delete {out / A_MODULES[0] / MANIFEST_NAME}" in err
    # Once the manifests are gone, the files carry the old spec's name: still not adopted.
    for module in A_MODULES:
        (out / module / MANIFEST_NAME).unlink()
    code, _, err = run(capsys, "compile", renamed, "-o", out, "--fast")
    assert code == 2
    assert "generated by xflow for another spec" in err


def test_a_manifest_xflow_did_not_write_is_refused(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    (out / "app-ap-northeast-1").mkdir(parents=True)
    (out / "app-ap-northeast-1" / MANIFEST_NAME).write_text('{"owner": "me"}\n', "utf-8")
    before = tree(out)
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--fast")
    assert code == 2
    assert [m["file"] for m in errors(err, "XF302")] == [
        str(out / "app-ap-northeast-1" / MANIFEST_NAME)
    ]
    assert tree(out) == before


# Files xflow did not write --------------------------------------------------------------------------


def test_files_carrying_the_header_that_compile_did_not_list_are_never_deleted(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    header = b"// Code generated by xflow from a.yaml. DO NOT EDIT.\nhand written\n"
    compile_ok(capsys, spec_a, out)
    planted = {
        "notes/keep.tf": header,  # not a module directory at all
        "deep/er/keep.tf": header,
        "app-ap-northeast-1/extra.tf": header,  # in a module, but not in its manifest
    }
    for relative, data in planted.items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(data)
    spec_a.write_text(SPEC_A_WITHOUT_APP, encoding="utf-8")
    compile_ok(capsys, spec_a, out)
    after = tree(out)
    for relative, data in planted.items():
        assert after[relative] == data
    # The dropped module lost its generated files and manifest; its folder stays for extra.tf.
    assert sorted(k for k in after if k.startswith("app-")) == [
        "app-ap-northeast-1",
        "app-ap-northeast-1/extra.tf",
    ]


def test_a_listed_name_is_refused_when_it_is_not_a_regular_file(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    fifo = out / "data-ap-northeast-1" / "versions.tf"
    fifo.unlink()
    os.mkfifo(fifo)  # opening it for reading would block forever
    before = tree(out)
    spec_a.write_text(SPEC_A.replace("access: read", "access: write"), encoding="utf-8")
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--fast")
    assert code == 2
    assert [m["file"] for m in errors(err, "XF302")] == [str(fifo)]
    assert tree(out) == before


# Links ----------------------------------------------------------------------------------------------


def test_a_link_planted_at_a_temporary_files_name_is_not_followed(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    victim = tmp_path / "outside" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("precious\n", "utf-8")
    module = out / "data-ap-northeast-1"
    module.mkdir(parents=True)
    for name in ("versions.tf", "bucket_policies.tf", MANIFEST_NAME):
        (module / f".{name}.xflow-tmp").symlink_to(victim)  # the name older releases used
    compile_ok(capsys, spec_a, out)
    assert victim.read_text("utf-8") == "precious\n"
    assert files_of(out) == A_FILES
    assert not [k for k, v in tree(out).items() if isinstance(v, tuple)]


@pytest.mark.parametrize("mode", ["--fast", "--check", "--diff"])
def test_a_linked_module_directory_is_refused(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    out = tmp_path / "infra"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "app-ap-northeast-1").symlink_to(elsewhere)
    code, stdout, err = run(capsys, "compile", spec_a, "-o", out, mode)
    assert (code, stdout) == (2, ""), err
    assert "missing:" not in err and "Traceback" not in err
    assert [m["file"] for m in errors(err, "XF302")] == [str(out / "app-ap-northeast-1")]
    assert "symbolic link" in err
    assert list(elsewhere.iterdir()) == []
    assert tree(out) == {"app-ap-northeast-1": ("link", str(elsewhere))}


@pytest.mark.parametrize("name", ["versions.tf", MANIFEST_NAME])
def test_a_linked_generated_file_is_refused(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    outside = tmp_path / "outside.tf"
    target = out / "data-ap-northeast-1" / name
    outside.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(outside)
    before = tree(out)
    spec_a.write_text(SPEC_A.replace("access: read", "access: write"), encoding="utf-8")
    for mode in ("--fast", "--check"):
        code, _, err = run(capsys, "compile", spec_a, "-o", out, mode)
        assert code == 2, err
        assert [m["file"] for m in errors(err, "XF302")] == [str(target)]
    assert tree(out) == before
    assert outside.read_bytes().startswith(b"// Code generated" if name != MANIFEST_NAME else b"{")


def test_a_linked_file_in_a_dropped_module_is_refused(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    outside = tmp_path / "outside.tf"
    outside.write_text("keep\n", "utf-8")
    stale = out / "app-ap-northeast-1" / "outputs.tf"
    stale.unlink()
    stale.symlink_to(outside)
    before = tree(out)
    spec_a.write_text(SPEC_A_WITHOUT_APP, encoding="utf-8")
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--fast")
    assert code == 2
    assert [m["file"] for m in errors(err, "XF302")] == [str(stale)]
    assert tree(out) == before and outside.read_text("utf-8") == "keep\n"


def test_an_output_root_that_is_a_link_is_the_users_choice(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    compile_ok(capsys, spec_a, link)
    assert files_of(real) == A_FILES


# Output from an older xflow (no manifests) ----------------------------------------------------------


def test_legacy_output_where_the_specs_modules_go_is_adopted_with_a_note(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    for module in A_MODULES:
        (out / module / MANIFEST_NAME).unlink()
    legacy = tree(out)
    # A folder the spec does not produce, with files naming it: left alone, with a note.
    (out / "old-eu-west-1").mkdir()
    (out / "old-eu-west-1" / "versions.tf").write_bytes(legacy["app-ap-northeast-1/versions.tf"])  # type: ignore[arg-type]
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--check")
    assert code == 1
    assert {m["file"] for m in errors(err, "XF305")} == {
        str(out / m) for m in (*A_MODULES, "old-eu-west-1")
    }
    for module in A_MODULES:
        assert f"missing: {out / module / MANIFEST_NAME}" in err
    err = compile_ok(capsys, spec_a, out)
    assert "adopts them" in err
    assert files_of(out) == A_FILES | {"old-eu-west-1/versions.tf"}
    assert {k: v for k, v in tree(out).items() if k in legacy} == legacy
    # A file the spec no longer produces in an adopted module is deleted like any other.
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--check")
    assert code == 0, err


def test_legacy_files_of_a_dropped_output_are_deleted_after_adoption(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    (out / "data-ap-northeast-1" / MANIFEST_NAME).unlink()
    stale = out / "data-ap-northeast-1" / "endpoints.tf"  # an older release also wrote this one
    stale.write_bytes((out / "app-ap-northeast-1" / "endpoints.tf").read_bytes())
    code, stdout, err = run(capsys, "compile", spec_a, "-o", out, "--fast")
    assert code == 0, err
    assert f"delete {stale}" in stdout
    assert files_of(out) == A_FILES


def test_legacy_files_naming_another_spec_are_not_adopted(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    module = out / "data-ap-northeast-1"
    module.mkdir(parents=True)
    (module / "versions.tf").write_text(
        "// Code generated by xflow from other.yaml. DO NOT EDIT.\n", "utf-8"
    )
    before = tree(out)
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--fast")
    assert code == 2
    assert [m["file"] for m in errors(err, "XF302")] == [str(module / "versions.tf")]
    assert "other.yaml" in err
    assert tree(out) == before


# What `terraform init` and `terraform plan` leave in a module ----------------------------------------


def _terraform_leftovers(module: Path, cache: Path) -> None:
    """The shapes `terraform init -plugin-dir`/`plan -out` leave: a provider link into a plugin
    cache, a modules.json, the lock file and a plan file."""
    provider = (
        module / ".terraform/providers/registry.terraform.io/hashicorp/aws/5.82.2/linux_amd64"
    )
    provider.mkdir(parents=True)
    (cache / "terraform-provider-aws_v5.82.2_x5").parent.mkdir(parents=True, exist_ok=True)
    (cache / "terraform-provider-aws_v5.82.2_x5").write_bytes(b"\x7fELF")
    (provider / "terraform-provider-aws_v5.82.2_x5").symlink_to(
        cache / "terraform-provider-aws_v5.82.2_x5"
    )
    (module / ".terraform/modules").mkdir()
    (module / ".terraform/modules/modules.json").write_text('{"Modules":[]}\n', "utf-8")
    (module / ".terraform/terraform.tfstate").write_text('{"version": 3}\n', "utf-8")
    (module / ".terraform.lock.hcl").write_text(
        '# This file is maintained automatically by "terraform init".\n'
        '# Manual edits may be lost in future updates.\n\nprovider "registry.terraform.io/'
        'hashicorp/aws" {\n  version = "5.82.2"\n}\n',
        "utf-8",
    )
    (module / "tfplan").write_bytes(b"PK\x03\x04plan")
    (module / "terraform.tfstate").write_text('{"version": 4}\n', "utf-8")


def test_terraform_init_and_plan_leftovers_are_left_alone(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    for module in A_MODULES:
        _terraform_leftovers(out / module, tmp_path / "plugin-cache")
    before = tree(out)
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--check")
    assert code == 0, err
    compile_ok(capsys, spec_a, out)
    assert tree(out) == before
    # A change rewrites the generated files only.
    spec_a.write_text(SPEC_A.replace("access: read", "access: write"), encoding="utf-8")
    compile_ok(capsys, spec_a, out)
    after = tree(out)
    assert {k for k in before if before[k] != after.get(k)} <= A_FILES
    # A dropped module loses its generated files; Terraform's leftovers keep the folder.
    spec_a.write_text(SPEC_A_WITHOUT_APP, encoding="utf-8")
    compile_ok(capsys, spec_a, out)
    left = {k for k in tree(out) if k.startswith("app-ap-northeast-1/")}
    assert left and not left & A_FILES
    assert {k for k in before if k.startswith("app-ap-northeast-1/")} - A_FILES == left
    code, _, err = run(capsys, "compile", spec_a, "-o", out, "--check")
    assert code == 0, err


def test_diff_shows_the_manifest_like_any_other_file(
    spec_a: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "infra"
    compile_ok(capsys, spec_a, out)
    spec_a.write_text(SPEC_A_WITHOUT_APP, encoding="utf-8")
    code, stdout, _ = run(capsys, "compile", spec_a, "-o", out, "--diff")
    assert code == 1
    assert "--- a/data-ap-northeast-1/xflow-module.json\n" in stdout
    assert '+    "endpoints.tf",\n' in stdout
    assert "--- a/app-ap-northeast-1/xflow-module.json\n+++ /dev/null\n" in stdout
