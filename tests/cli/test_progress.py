"""Progress on stderr: drawn on a terminal for a verify longer than a second, driven by the
proof's tasks; nothing when stderr is not a terminal or with --quiet."""

from __future__ import annotations

import itertools
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
BAR = re.compile(rb"xflow verify: +(\d+)%")


@pytest.fixture(scope="module")
def large_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec whose verify takes over a second, with its Terraform compiled beside it."""
    spec = tmp_path_factory.mktemp("large") / "spec.yaml"
    generate = [sys.executable, str(REPO / "benchmarks" / "generate.py"), "--flows", "3000"]
    subprocess.run([*generate, "-o", str(spec)], check=True, capture_output=True)
    xflow = [sys.executable, "-m", "xflow_perimeter"]
    subprocess.run([*xflow, "compile", "--fast", str(spec)], check=True, capture_output=True)
    return spec


def on_a_terminal(*argv: str) -> tuple[int, list[tuple[float, bytes]], bytes]:
    """Run xflow with stderr on a pseudo-terminal: exit code, (seconds, bytes) read from the
    terminal as they came, and stdout."""
    controller, terminal = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "xflow_perimeter", *argv],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(terminal)
    chunks: list[tuple[float, bytes]] = []
    while True:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            chunks.append((time.monotonic() - started, data))
        elif process.poll() is not None:
            break
    os.close(controller)
    assert process.stdout is not None
    with process.stdout:
        stdout = process.stdout.read()
    return process.wait(), chunks, stdout


def test_a_long_verify_shows_progress_updated_every_second(large_spec: Path) -> None:
    code, chunks, stdout = on_a_terminal("verify", str(large_spec))
    assert code == 0, stdout
    assert b"grants exactly the spec" in stdout
    updates = [(at, int(m.group(1))) for at, data in chunks for m in BAR.finditer(data)]
    assert updates, b"".join(data for _, data in chunks)[-2000:]
    assert updates[0][0] >= 1.0  # nothing drawn in the first second
    percents = [percent for _, percent in updates]
    assert percents == sorted(percents) and percents[-1] >= 50  # driven by the tasks
    times = [at for at, _ in updates]
    assert all(later - earlier <= 1.0 for earlier, later in itertools.pairwise(times))


def test_quiet_draws_nothing_on_a_terminal(large_spec: Path) -> None:
    code, chunks, stdout = on_a_terminal("verify", "--quiet", str(large_spec))
    assert code == 0, stdout
    assert not BAR.search(b"".join(data for _, data in chunks))


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(large_spec: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "xflow_perimeter", "verify", str(large_spec)],
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 0
    assert not BAR.search(completed.stderr)
    assert b"\r" not in completed.stderr
