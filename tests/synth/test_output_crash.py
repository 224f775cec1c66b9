"""A compile killed at any instant leaves the old tree, the new tree, or a journalled tree.

The journalled tree is refused by --check (XF304) until the next compile finishes or rolls it
back; that compile (itself killed at any step of it, too) ends at the new tree, with no journal
and no temporary file left. Kills are delivered two ways: SIGKILL at every step of the write
(through the journal module's step hook, in a forked child), and SIGKILL of a real `xflow
compile` process after random delays.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from xflow_perimeter.api import compile_spec
from xflow_perimeter.cli.main import main
from xflow_perimeter.synth import journal
from xflow_perimeter.synth.journal import JOURNAL_NAME, pending_journals

OLD = """\
xflow: 1
accounts: {data: "000000000000", app: "999999999999"}
networks:
  app:
    account: app
    region: ap-northeast-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
buckets:
  reports: {name: crash-test-reports, account: data, region: ap-northeast-1}
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
admins: ["arn:aws:iam::000000000000:role/admin"]
flows:
  - {principal: app-role, network: app, bucket: reports, access: read}
"""
# Every kind of change at once: the app module goes (files and folder), a logs module comes
# (a new folder), the data module gains files and changes others.
NEW = (
    OLD.replace("    account: app\n", "    account: data\n")
    .replace('app: "999999999999"', 'app: "999999999999", logs: "333333333333"')
    .replace(
        "principals:",
        "  logs: {name: crash-test-logs, account: logs, region: ap-northeast-1}\nprincipals:",
    )
    .replace(
        'admins: ["arn:aws:iam::000000000000:role/admin"]',
        'admins: ["arn:aws:iam::000000000000:role/admin", "arn:aws:iam::000000000000:role/ops",'
        ' "arn:aws:iam::333333333333:role/admin"]',
    )
    + "  - {principal: app-role, network: app, bucket: logs, access: write}\n"
)


def tree(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for folder, folders, names in os.walk(root):
        for name in folders:
            out[Path(folder, name).relative_to(root).as_posix()] = "dir"
        for name in names:
            out[Path(folder, name).relative_to(root).as_posix()] = Path(folder, name).read_bytes()
    return out


def restore(root: Path, state: dict[str, bytes | str]) -> None:
    root.mkdir()
    for relative, content in sorted(state.items()):
        if isinstance(content, bytes):
            (root / relative).write_bytes(content)
        else:
            (root / relative).mkdir()


def without_temporaries(state: dict[str, bytes | str]) -> dict[str, bytes | str]:
    return {k: v for k, v in state.items() if not journal.is_temporary(k.rsplit("/", 1)[-1])}


@pytest.fixture
def hook() -> Iterator[Callable[[Callable[[str], None] | None], None]]:
    def install(function: Callable[[str], None] | None) -> None:
        journal.STEP_HOOK = function

    yield install
    journal.STEP_HOOK = None


class Transition:
    """OLD compiled into ``out``; ``new`` is the tree compiling NEW over it gives."""

    def __init__(self, tmp_path: Path, hook: Callable[[Callable[[str], None] | None], None]):
        self.spec = tmp_path / "spec.yaml"
        self.out = tmp_path / "infra"
        self.spec.write_text(OLD, encoding="utf-8")
        compile_spec(self.spec, self.out, self_check=False)
        self.spec.write_text(NEW, encoding="utf-8")
        self.old = tree(self.out)
        steps: list[str] = []
        hook(steps.append)
        self.compile()
        hook(None)
        self.steps = steps
        self.new = tree(self.out)
        assert self.old != self.new

    def reset(self) -> None:
        """Back to the old tree."""
        shutil.rmtree(self.out)
        restore(self.out, self.old)

    def compile(self) -> None:
        compile_spec(self.spec, self.out, self_check=False)

    def killed_at(self, step: int) -> bool:
        """Compile NEW in a child SIGKILLed before its ``step``-th change; False if it finished."""
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                seen = iter(range(1 << 30))

                def stop(_: str) -> None:
                    if next(seen) == step:
                        os.kill(os.getpid(), signal.SIGKILL)

                journal.STEP_HOOK = stop
                self.compile()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            assert os.WTERMSIG(status) == signal.SIGKILL
            return True
        assert os.WEXITSTATUS(status) == 0
        return False

    def check_code(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["compile", str(self.spec), "-o", str(self.out), "--check"])
        return code, capsys.readouterr().err

    def assert_consistent(self, capsys: pytest.CaptureFixture[str], where: str) -> bool:
        """The tree is old, new, or journalled (and then --check refuses it); True if journalled."""
        state = tree(self.out)
        if JOURNAL_NAME in state:
            assert pending_journals(self.out), where
            code, err = self.check_code(capsys)
            assert code == 2 and "XF304" in err and "Traceback" not in err, (where, err)
            return True
        assert without_temporaries(state) in (self.old, self.new), where
        assert not pending_journals(self.out)
        return False


def test_the_write_has_a_step_between_every_two_changes(
    tmp_path: Path, hook: Callable[[Callable[[str], None] | None], None]
) -> None:
    transition = Transition(tmp_path, hook)
    steps = transition.steps
    assert steps[0] == "write journal" and steps[-1] == "settled"
    assert steps.index("journal staged") < steps.index("make directory logs-ap-northeast-1")
    assert steps.index("commit") < steps.index("journal committed")
    renames = [s for s in steps if s.startswith("rename ")]
    assert "rename data-ap-northeast-1/endpoints.tf" in renames
    assert "remove app-ap-northeast-1/endpoints.tf" in steps
    assert "remove directory app-ap-northeast-1" in steps
    assert steps.index("journal committed") < steps.index(renames[0])


def test_a_compile_killed_at_any_step_leaves_old_new_or_a_refused_journal(
    tmp_path: Path,
    hook: Callable[[Callable[[str], None] | None], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    transition = Transition(tmp_path, hook)
    outcomes = {"old": 0, "new": 0, "journal": 0}
    randomness = random.Random(7)
    for step, name in enumerate(transition.steps):
        transition.reset()
        assert transition.killed_at(step), name
        where = f"killed before step {step} ({name})"
        if transition.assert_consistent(capsys, where):
            outcomes["journal"] += 1
            # Kill the compile that settles it too, at some step of its own.
            again = randomness.randrange(len(transition.steps))
            if transition.killed_at(again):
                transition.assert_consistent(capsys, f"{where}, then before step {again}")
        else:
            state = without_temporaries(tree(transition.out))
            outcomes["old" if state == transition.old else "new"] += 1
        transition.compile()
        assert tree(transition.out) == transition.new, where
    code, err = transition.check_code(capsys)
    assert code == 0, err
    assert outcomes["old"] and outcomes["journal"] and outcomes["new"], outcomes


def test_kill_leftovers_are_reported_as_notes_by_the_next_compile(
    tmp_path: Path,
    hook: Callable[[Callable[[str], None] | None], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    transition = Transition(tmp_path, hook)
    cases = {
        "journal staged": "removed 1 temporary file",  # the journal's own temporary file
        "stage data-ap-northeast-1/endpoints.tf": "rolled back the interrupted compile",
        "rename data-ap-northeast-1/endpoints.tf": "finished the interrupted compile",
    }
    for name, note in cases.items():
        transition.reset()
        assert transition.killed_at(transition.steps.index(name))
        capsys.readouterr()
        code = main(["compile", str(transition.spec), "-o", str(transition.out), "--fast"])
        err = capsys.readouterr().err
        assert code == 0, err
        assert "note XF306" in err and note in err, (name, err)
        assert tree(transition.out) == transition.new


def test_another_spec_finishes_an_interrupted_compile_into_the_same_root(
    tmp_path: Path,
    hook: Callable[[Callable[[str], None] | None], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    transition = Transition(tmp_path, hook)
    transition.reset()
    assert transition.killed_at(
        transition.steps.index("rename data-ap-northeast-1/bucket_policies.tf")
    )
    other = tmp_path / "other.yaml"
    other.write_text(
        OLD.replace("000000000000", "444444444444")
        .replace("999999999999", "555555555555")
        .replace("data:", "lake:")
        .replace("app:", "etl:")
        .replace("account: data", "account: lake")
        .replace("account: app", "account: etl")
        .replace("network: app", "network: etl")
        .replace("crash-test-reports", "crash-test-other"),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["compile", str(other), "-o", str(transition.out), "--fast"]) == 0
    assert "finished the interrupted compile" in capsys.readouterr().err
    state = tree(transition.out)
    assert {k: v for k, v in state.items() if not k.startswith(("lake-", "etl-"))} == transition.new


def test_an_os_error_while_replacing_leaves_a_journal_the_next_compile_finishes(
    tmp_path: Path,
    hook: Callable[[Callable[[str], None] | None], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    transition = Transition(tmp_path, hook)
    transition.reset()

    def fail(name: str) -> None:
        if name == "rename data-ap-northeast-1/bucket_policies.tf":
            raise OSError(5, "Input/output error")

    hook(fail)
    capsys.readouterr()
    code = main(["compile", str(transition.spec), "-o", str(transition.out), "--fast"])
    err = capsys.readouterr().err
    hook(None)
    assert code == 2 and "XF302" in err and "Traceback" not in err
    assert f"{transition.out / JOURNAL_NAME} records what is left" in err
    assert transition.assert_consistent(capsys, "after the failure")
    # verify of a module, or of a folder above the root, finds the journal too.
    assert pending_journals(transition.out / "data-ap-northeast-1")
    assert pending_journals(tmp_path)
    assert not pending_journals(tmp_path, below=False)
    assert not pending_journals(tmp_path / "elsewhere")
    transition.compile()
    assert tree(transition.out) == transition.new


def test_an_os_error_while_staging_rolls_back_and_says_where(
    tmp_path: Path,
    hook: Callable[[Callable[[str], None] | None], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    transition = Transition(tmp_path, hook)
    transition.reset()

    def fail(name: str) -> None:
        if name == "stage data-ap-northeast-1/bucket_policies.tf":
            raise OSError(28, "No space left on device")

    hook(fail)
    capsys.readouterr()
    code = main(["compile", str(transition.spec), "-o", str(transition.out), "--fast"])
    err = capsys.readouterr().err
    hook(None)
    assert code == 2 and "Traceback" not in err
    where = transition.out / "data-ap-northeast-1" / "bucket_policies.tf"
    assert f"{where}:1:1: error XF302: cannot write {where}: no space left" in err
    assert tree(transition.out) == transition.old


def test_a_journal_xflow_did_not_write_is_refused(
    tmp_path: Path,
    hook: Callable[[Callable[[str], None] | None], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    transition = Transition(tmp_path, hook)
    transition.reset()
    planted = (
        '{"created_directories": [], "deletes": ["../../etc/passwd"], "probes": [], '
        '"removed_directories": [], "renames": [], "spec": "x", "state": "committed", "xflow": 1}\n'
    )
    for text in ("garbage", planted):
        (transition.out / JOURNAL_NAME).write_text(text, "utf-8")
        before = tree(transition.out)
        for mode in ("--fast", "--check"):
            capsys.readouterr()
            code = main(["compile", str(transition.spec), "-o", str(transition.out), mode])
            err = capsys.readouterr().err
            assert code == 2 and "XF304" in err and "Traceback" not in err, (mode, err)
            assert tree(transition.out) == before


def test_temporary_files_of_older_releases_are_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(OLD, encoding="utf-8")
    out = tmp_path / "infra"
    compile_spec(spec, out, self_check=False)
    clean = tree(out)
    leftovers = [
        out / "data-ap-northeast-1" / ".versions.tf.xflow-tmp",
        out / "app-ap-northeast-1" / ".endpoints.tf.xflow-tmp-0123456789abcdef",
        out / "gone-eu-west-1" / ".versions.tf.xflow-tmp",  # a module folder no spec produces
    ]
    for path in leftovers:
        path.parent.mkdir(exist_ok=True)
        path.write_text("half", "utf-8")
    capsys.readouterr()
    assert main(["compile", str(spec), "-o", str(out), "--check"]) == 0  # Terraform ignores them
    assert main(["compile", str(spec), "-o", str(out), "--fast"]) == 0
    assert "removed 3 temporary files" in capsys.readouterr().err
    assert tree(out) == clean | {"gone-eu-west-1": "dir"}


def _many_modules(count: int) -> str:
    """A spec whose compile writes ``count`` module folders (a longer window to kill in)."""
    accounts = "\n".join(f'  a{i}: "{100000000000 + i}"' for i in range(count))
    buckets = "\n".join(
        f"  b{i}: {{name: crash-many-{i}, account: a{i}, region: eu-west-1}}" for i in range(count)
    )
    flows = "\n".join(
        f"  - {{principal: app-role, network: app, bucket: b{i}, access: read}}"
        for i in range(count)
    )
    admins = ", ".join(f'"arn:aws:iam::{100000000000 + i}:role/admin"' for i in range(count))
    return (
        f'xflow: 1\naccounts:\n  app: "999999999999"\n{accounts}\nnetworks:\n  app:\n'
        "    account: app\n    region: eu-west-1\n    vpc_id: vpc-0a1b2c3d4e5f60718\n"
        f"    route_table_ids: [rtb-0a1b2c3d4e5f60718]\nbuckets:\n{buckets}\nprincipals:\n"
        f'  app-role: {{arn: "arn:aws:iam::999999999999:role/app"}}\nadmins: [{admins}]\n'
        f"flows:\n{flows}\n"
    )


def test_a_compile_process_killed_after_random_delays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.yaml"
    out = tmp_path / "infra"
    old_text, new_text = (
        _many_modules(20),
        _many_modules(20).replace("access: read", "access: write"),
    )
    command = [
        sys.executable,
        "-m",
        "xflow_perimeter",
        "compile",
        str(spec),
        "-o",
        str(out),
        "--fast",
    ]

    spec.write_text(old_text, encoding="utf-8")
    compile_spec(spec, out, self_check=False)
    old = tree(out)
    spec.write_text(new_text, encoding="utf-8")
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    duration = time.monotonic() - started
    new = tree(out)

    def reset() -> None:
        shutil.rmtree(out)
        restore(out, old)

    # Most of a compile is starting, loading and planning: aim at its end, where it writes, and
    # move the aim after each kill that landed before the write (old tree) or after it (new).
    randomness = random.Random(20240611)
    aim, stride = 0.85 * duration, 0.04 * duration
    for attempt in range(6):
        reset()
        delay = max(0.0, aim + randomness.uniform(-stride, stride))
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = tree(out)
        where = f"attempt {attempt}, killed after {delay:.3f}s, exit {process.returncode}"
        if JOURNAL_NAME in state:
            capsys.readouterr()
            assert main(["compile", str(spec), "-o", str(out), "--check"]) == 2, where
            assert "XF304" in capsys.readouterr().err
        else:
            assert without_temporaries(state) in (old, new), where
            aim += stride if without_temporaries(state) == old else -stride
        compile_spec(spec, out, self_check=False)
        assert tree(out) == new, where
