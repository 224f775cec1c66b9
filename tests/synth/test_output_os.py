"""Operating-system trouble: concurrent compiles, permissions, a full disk, a read-only mount.

Every failure is a located XF302 with nothing half written; concurrent compiles of one root run one
after the other. Permission tests drop to user nobody in a forked child (the suite runs as root in
CI, where chmod stops nothing); the disk tests mount a small tmpfs (root only).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from xflow_perimeter.api import compile_spec, generate, load_spec
from xflow_perimeter.diagnostics import XflowError
from xflow_perimeter.synth import output
from xflow_perimeter.synth.journal import JOURNAL_NAME, is_temporary

SPEC = """\
xflow: 1
accounts: {data: "000000000000", app: "999999999999"}
networks:
  app:
    account: app
    region: ap-northeast-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
buckets:
  reports: {name: os-test-reports, account: data, region: ap-northeast-1}
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
admins: ["arn:aws:iam::000000000000:role/admin"]
flows:
  - {principal: app-role, network: app, bucket: reports, access: read}
"""
# The data module changes; the app module is no longer produced (its files are only deleted).
SPEC_WRITE = SPEC.replace("access: read", "access: write")
SPEC_MOVED = SPEC.replace("    account: app\n", "    account: data\n")
DIAGNOSTIC = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): error (?P<code>XF\d+): ")


def tree(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for folder, folders, names in os.walk(root):
        for name in folders:
            out[Path(folder, name).relative_to(root).as_posix()] = "dir"
        for name in names:
            out[Path(folder, name).relative_to(root).as_posix()] = Path(folder, name).read_bytes()
    return out


def leftovers(root: Path) -> list[str]:
    return [k for k in tree(root) if is_temporary(k.rsplit("/", 1)[-1]) or k == JOURNAL_NAME]


def rendered(spec: Path) -> dict[str, str]:
    return generate(load_spec(spec), spec.name)[1]


# Two compiles of one spec at once ------------------------------------------------------------------


def _compile_command(spec: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xflow_perimeter", "compile", str(spec), "-o", str(out), *extra]


def test_a_second_compile_says_it_waits_then_runs_after_the_first(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = tmp_path / "infra"
    out.mkdir()
    holder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as a running compile would
    try:
        waiting = [
            subprocess.Popen(
                _compile_command(spec, out, *extra),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for extra in (("--fast",), ("--fast",), ("--check",))
        ]
        for process in waiting:
            assert process.stderr is not None
            assert (
                process.stderr.readline()
                == f"xflow: waiting for another compile into {out} to finish\n"
            )
        time.sleep(0.2)
        assert all(p.poll() is None for p in waiting)  # still waiting
        assert tree(out) == {}
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
    results = [(p.wait(timeout=60), p.communicate()) for p in waiting]
    writers = results[:2]
    assert [code for code, _ in writers] == [0, 0], results
    # One wrote everything, then the other found it up to date.
    assert sorted(
        stdout.splitlines()[-1].endswith(", 0 changed") for _, (stdout, _) in writers
    ) == [
        False,
        True,
    ]
    assert "Traceback" not in "".join(err for _, (_, err) in results)
    assert not leftovers(out)
    assert "data-ap-northeast-1/xflow-module.json" in tree(out)
    # The check waited for a writer, then ran (before or after the other one).
    assert results[2][0] in (0, 1), results[2]


def test_compiles_of_one_spec_racing_all_succeed(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    out = tmp_path / "infra"
    for round_number, text in enumerate((SPEC, SPEC_WRITE, SPEC_MOVED)):
        spec.write_text(text, encoding="utf-8")
        racing = [
            subprocess.Popen(
                _compile_command(spec, out, "--fast"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=60), *p.communicate()) for p in racing]
        assert [code for code, _, _ in results] == [0, 0], (round_number, results)
        assert "Traceback" not in "".join(err for _, _, err in results)
        assert not leftovers(out), round_number
    expected = tmp_path / "expected"
    compile_spec(spec, expected, self_check=False)
    assert tree(out).keys() == tree(expected).keys()


# Permissions, as user nobody ------------------------------------------------------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder user nobody can reach (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="xflow-permissions-"))
    path.chmod(0o755)
    yield path
    for folder, _, _ in os.walk(path):
        with contextlib.suppress(PermissionError):  # not ours to chmod when not root
            Path(folder).chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def _as_nobody(root: Path, files: Mapping[str, str], spec: Path) -> dict[str, object]:
    """Run output.write as user nobody in a forked child (as the current user when not root)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        result: dict[str, object]
        try:
            os.close(reader)
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            outcome = output.write(root, files, spec, notify=lambda _: None)
            result = {"changes": [c.path for c in outcome.changes]}
        except XflowError as error:
            result = {"errors": [d.render() for d in error.diagnostics]}
        except BaseException as error:  # reported to the parent as a failure
            import traceback

            result = {"crash": "".join(traceback.format_exception(error))}
        finally:
            os.write(writer, json.dumps(result).encode())
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    answer = json.loads(data)
    assert isinstance(answer, dict)
    return answer


def _hand_over(path: Path) -> None:
    """Give ``path`` (recursively) to nobody: as root with chown, otherwise it is already ours."""
    if os.geteuid() != 0:
        return
    nobody = pwd.getpwnam("nobody")
    for folder, folders, names in os.walk(path):
        for name in [*folders, *names]:
            os.chown(Path(folder, name), nobody.pw_uid, nobody.pw_gid)
    os.chown(path, nobody.pw_uid, nobody.pw_gid)


def _take_back(path: Path, mode: int) -> None:
    """Take ``path`` away from nobody (owned by root) and give it ``mode``; not as root, the
    mode alone (which then binds the owner) does it."""
    if os.geteuid() == 0:
        os.chown(path, 0, 0)
    path.chmod(mode)


def _setup(shared_dir: Path) -> tuple[Path, Path]:
    spec = shared_dir / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    spec.chmod(0o644)
    out = shared_dir / "infra"
    compile_spec(spec, out, self_check=False)
    _hand_over(out)
    return spec, out


def _located(answer: Mapping[str, object], path: Path) -> str:
    assert "crash" not in answer, answer["crash"]
    errors = answer.get("errors")
    assert isinstance(errors, list) and errors, answer
    matches = [DIAGNOSTIC.match(str(line)) for line in errors]
    assert [(m["file"], m["code"]) for m in matches if m] == [(str(path), "XF302")], errors
    return str(errors[0])


def test_a_folder_it_cannot_remove_files_from_is_refused_before_anything_changes(
    shared_dir: Path,
) -> None:
    spec, out = _setup(shared_dir)
    stale = out / "app-ap-northeast-1"
    _take_back(stale, 0o555)
    spec.write_text(SPEC_MOVED, encoding="utf-8")
    before = tree(out)
    message = _located(_as_nobody(out, rendered(spec), spec), stale)
    assert "permission denied" in message
    assert tree(out) == before and not leftovers(out)


def test_a_folder_it_cannot_write_in_is_refused_before_anything_changes(shared_dir: Path) -> None:
    spec, out = _setup(shared_dir)
    module = out / "data-ap-northeast-1"
    _take_back(module, 0o555)
    spec.write_text(SPEC_WRITE, encoding="utf-8")
    before = tree(out)
    message = _located(_as_nobody(out, rendered(spec), spec), module / "bucket_policies.tf")
    assert "cannot write" in message and "permission denied" in message
    assert tree(out) == before and not leftovers(out)


def test_an_output_root_it_cannot_write_in_is_refused(shared_dir: Path) -> None:
    spec, out = _setup(shared_dir)
    _take_back(out, 0o555)
    spec.write_text(SPEC_WRITE, encoding="utf-8")
    before = tree(out)
    message = _located(_as_nobody(out, rendered(spec), spec), out)
    assert "journal" in message and "permission denied" in message
    assert tree(out) == before


def test_an_unreadable_module_folder_is_refused(shared_dir: Path) -> None:
    spec, out = _setup(shared_dir)
    module = out / "data-ap-northeast-1"
    _take_back(module, 0o000)
    before = tree(out)
    message = _located(_as_nobody(out, rendered(spec), spec), module)
    assert "cannot read" in message
    assert tree(out) == before


def test_a_missing_output_root_it_cannot_create_is_refused(shared_dir: Path) -> None:
    spec, _ = _setup(shared_dir)
    parent = shared_dir / "locked"
    parent.mkdir()
    _take_back(parent, 0o555)
    message = _located(_as_nobody(parent / "new", rendered(spec), spec), parent / "new")
    assert "permission denied" in message
    assert list(parent.iterdir()) == []


def test_permissions_that_allow_it_let_nobody_compile(shared_dir: Path) -> None:
    spec, out = _setup(shared_dir)
    spec.write_text(SPEC_MOVED, encoding="utf-8")
    answer = _as_nobody(out, rendered(spec), spec)
    assert "changes" in answer, answer
    expected = shared_dir / "expected"
    compile_spec(spec, expected, self_check=False)
    assert tree(out).keys() == tree(expected).keys()


# A full disk and a read-only file system -------------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: as root it must mount (CI runs as root); otherwise the test is skipped."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run the suite as root: the full-disk tests mount a tmpfs")
        pytest.skip("mounting a tmpfs needs root")
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], check=True
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path) -> Path:
    """Fill the file system of ``directory``; return the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _compile_error(spec: Path, out: Path) -> str:
    with pytest.raises(XflowError) as raised:
        compile_spec(spec, out, self_check=False)
    return "\n".join(d.render() for d in raised.value.diagnostics)


def test_a_full_disk_is_a_located_error_and_changes_nothing(
    small_tmpfs: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = small_tmpfs / "infra"
    compile_spec(spec, out, self_check=False)
    spec.write_text(SPEC_WRITE, encoding="utf-8")
    filler = _fill(small_tmpfs)
    before = tree(out)
    message = _compile_error(spec, out)
    assert message.startswith(f"{out}:1:1: error XF302: ") and "no space left" in message
    assert tree(out) == before
    # Room for the journal but not for the new files: the staging fails and is rolled back.
    with filler.open("r+b") as handle:
        handle.truncate(max(0, filler.stat().st_size - 8192))
    message = _compile_error(spec, out)
    assert re.match(rf"{re.escape(str(out))}/\S+:1:1: error XF302: cannot write ", message), message
    assert "no space left" in message
    assert tree(out) == before and not leftovers(out)
    filler.unlink()
    compile_spec(spec, out, self_check=False)
    assert not leftovers(out) and tree(out) != before


def test_a_read_only_file_system_is_a_located_error(small_tmpfs: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = small_tmpfs / "infra"
    compile_spec(spec, out, self_check=False)
    spec.write_text(SPEC_WRITE, encoding="utf-8")
    before = tree(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    message = _compile_error(spec, out)
    assert message.startswith(f"{out}:1:1: error XF302: ") and "read-only" in message
    assert tree(out) == before
    # --check still reads it, and says what is stale.
    result = compile_spec(spec, out, output.WriteBack.CHECK, self_check=False)
    assert {c.path for c in result.changes} >= {"data-ap-northeast-1/bucket_policies.tf"}
