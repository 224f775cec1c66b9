#!/usr/bin/env python3
"""What a review costs: `xflow diff` of a one-flow change against one `xflow verify`.

    python benchmarks/diff_cost.py [--spec SPEC | --flows N] [--runs 3] [--out DIR]

Copies the spec (by default generated with ``benchmarks/generate.py --flows 10000``) into
OUT/old, compiles it, copies that into OUT/new, takes one access away from the first flow
granting several, recompiles the new side, then times as whole processes, from the repository root with
this interpreter: ``xflow verify NEW`` and ``xflow diff OLD NEW``. Prints the medians over
``--runs`` and whether diff stays within twice verify (the bar). Exit 1 when it does not.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BAR = 2.0  # diff may cost at most twice one verify


def xflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xflow_perimeter", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def timed(args: list[str], expect: set[int]) -> float:
    started = time.perf_counter()
    done = xflow(*args)
    elapsed = time.perf_counter() - started
    if done.returncode not in expect:
        sys.exit(f"xflow {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return elapsed


def change_one_flow(spec: Path) -> str:
    """Take one access away from the first flow granting several (a narrowing that never grows
    a policy, so the changed spec still compiles); describe the change."""
    text = spec.read_text()
    first = re.search(r"^  - \{principal: .*access: \[([a-z]+, )+[a-z]+\].*\}$", text, re.MULTILINE)
    if first is None:
        sys.exit(f"{spec}: no flow with several accesses")
    line = first.group(0)
    accesses = re.search(r"access: \[([^\]]*)\]", line)
    assert accesses is not None
    kept = accesses.group(1).rsplit(", ", 1)[0]
    changed = line.replace(accesses.group(0), f"access: [{kept}]", 1)
    spec.write_text(text.replace(line, changed, 1))
    return f"{line.strip()}  ->  {changed.strip()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, help="a spec to start from (default: generated)")
    parser.add_argument("--flows", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "diff-cost")
    args = parser.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    (out / "old").mkdir(parents=True)
    old, new = out / "old" / "spec.yaml", out / "new" / "spec.yaml"
    if args.spec is not None:
        shutil.copyfile(args.spec, old)
    else:
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), "--flows", str(args.flows), "-o", str(old)],
            check=True,
            capture_output=True,
        )
    timed(["compile", str(old)], {0})
    shutil.copytree(out / "old", out / "new")
    print("changed:", change_one_flow(new))
    timed(["compile", str(new)], {0})
    verify = [timed(["verify", str(new)], {0}) for _ in range(args.runs)]
    diff = [timed(["diff", str(old), str(new)], {1}) for _ in range(args.runs)]
    verify_s, diff_s = statistics.median(verify), statistics.median(diff)
    ratio = diff_s / verify_s
    print(f"verify: median {verify_s:.2f} s over {args.runs} runs {[round(v, 2) for v in verify]}")
    print(f"diff:   median {diff_s:.2f} s over {args.runs} runs {[round(d, 2) for d in diff]}")
    verdict = "within" if ratio <= BAR else "OVER"
    print(f"diff / verify = {ratio:.2f} ({verdict} the bar of {BAR:g}x)")
    return 0 if ratio <= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
