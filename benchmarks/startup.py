"""Startup benchmark: what xflow costs on a small spec, above a bare Python start.

Times `xflow compile`, `xflow compile --check` and `xflow verify` of each bundled example, and
`python -c pass`, as subprocesses; the commands alternate run by run (so a busy moment of the
machine falls on all of them alike) and each gets the median of its runs. Prints a table and
exits 1 when any command's median is more than the bar above the bare start.

    python benchmarks/startup.py [--runs 10] [--bar 0.15]
    python benchmarks/startup.py --instructions

``--instructions`` counts instead of timing: the instructions each command executes above the
bare start, under valgrind's callgrind (which must be installed). Unlike seconds, the count
repeats run after run whatever else the machine does, so it compares two revisions of xflow on a
noisy machine; it judges no bar (it leaves out system calls and page faults, which seconds hold).

The examples are copied to a temporary directory first, so `compile` writes there and never
into the repository. Bytecode for xflow is compiled before timing (as an installed package
has it), and each command runs once untimed.
"""

from __future__ import annotations

import argparse
import compileall
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("data-platform", "cross-account")


@dataclass(frozen=True, slots=True)
class Command:
    label: str
    argv: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Timing:
    wall: float  # seconds, elapsed
    cpu: float  # seconds, user + system of the child


def xflow_argv() -> tuple[str, ...]:
    """The installed `xflow` script beside this interpreter, else `python -m xflow_perimeter`."""
    script = Path(sys.executable).parent / "xflow"
    if script.is_file():
        return (str(script),)
    return (sys.executable, "-m", "xflow_perimeter")


def commands(work: Path) -> list[Command]:
    xflow = xflow_argv()
    listed = [Command("python -c pass", (sys.executable, "-c", "pass"))]
    for example in EXAMPLES:
        spec = str(work / example / "spec.yaml")
        listed += [
            Command(f"compile {example}", (*xflow, "compile", spec)),
            Command(f"compile --check {example}", (*xflow, "compile", "--check", spec)),
            Command(f"verify {example}", (*xflow, "verify", spec)),
        ]
    return listed


def timed(command: Command, cwd: Path) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(command.argv, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        sys.exit(
            f"{command.label} exited {completed.returncode}:\n{completed.stderr.decode()[-2000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def measure(listed: Sequence[Command], runs: int, cwd: Path) -> dict[str, list[Timing]]:
    for command in listed:  # warm-up: file caches, bytecode
        timed(command, cwd)
    timings: dict[str, list[Timing]] = {command.label: [] for command in listed}
    for _ in range(runs):
        for command in listed:
            timings[command.label].append(timed(command, cwd))
    return timings


def instructions(command: Command, cwd: Path) -> int:
    """User-space instructions of one run of ``command``, counted by callgrind."""
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command.argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", completed.stderr)
    if found is None:
        sys.exit(f"{command.label}: callgrind reported no count:\n{completed.stderr[-2000:]}")
    return int(found.group(1))


def instruction_table(listed: Sequence[Command], cwd: Path) -> str:
    for command in listed:  # warm-up: compile writes its output, Jinja2 its template cache
        timed(command, cwd)
    counts = {command.label: instructions(command, cwd) for command in listed}
    bare = counts[listed[0].label]
    width = max(len(label) for label in counts)
    lines = [
        f"{'command':<{width}}  instructions  above bare",
        f"{'-' * width}  ------------  ----------",
    ]
    for label, count in counts.items():
        lines.append(f"{label:<{width}}  {count / 1e6:10.0f} M  {(count - bare) / 1e6:8.0f} M")
    return "\n".join(lines)


def table(timings: dict[str, list[Timing]], baseline: str, bar: float) -> tuple[str, bool]:
    base_wall = statistics.median(t.wall for t in timings[baseline])
    base_cpu = statistics.median(t.cpu for t in timings[baseline])
    width = max(len(label) for label in timings)
    lines = [
        f"{'command':<{width}}  median s  above bare s  cpu s  cpu above s",
        f"{'-' * width}  --------  ------------  -----  -----------",
    ]
    over = False
    for label, runs in timings.items():
        wall = statistics.median(t.wall for t in runs)
        cpu = statistics.median(t.cpu for t in runs)
        above = wall - base_wall
        verdict = ""
        if label != baseline and above > bar:
            over = True
            verdict = f"  over the {bar:.2f} s bar"
        lines.append(
            f"{label:<{width}}  {wall:8.3f}  {above:12.3f}  {cpu:5.3f}  {cpu - base_cpu:11.3f}"
            + verdict
        )
    return "\n".join(lines), over


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (default 10)")
    parser.add_argument(
        "--bar", type=float, default=0.15, help="seconds allowed above `python -c pass` (0.15)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count each command's instructions under valgrind instead of timing it",
    )
    args = parser.parse_args(argv)
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on the PATH")
    import xflow_perimeter

    compileall.compile_dir(Path(xflow_perimeter.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="xflow-startup-") as temporary:
        work = Path(temporary)
        for example in EXAMPLES:
            shutil.copytree(ROOT / "examples" / example, work / example)
        listed = commands(work)
        if args.instructions:
            print("instructions of one run of each command (callgrind):", flush=True)
            print(instruction_table(listed, work))
            return 0
        print(f"{args.runs} runs of each command, alternating; medians:", flush=True)
        timings = measure(listed, args.runs, work)
    text, over = table(timings, listed[0].label, args.bar)
    print(text)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
