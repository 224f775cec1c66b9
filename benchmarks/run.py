#!/usr/bin/env python3
"""xflow's scale benchmark: generate synthetic specs, time the CLI as whole processes, print a table.

    python benchmarks/run.py [--sizes 100,1000,10000] [--runs 3] [--seed 1] [--timeout SECONDS]
    python benchmarks/run.py --report          # print the table from benchmarks/out/results.json

For each size it writes benchmarks/out/flows-N/{spec.yaml,requests.jsonl,...} (gitignored) and runs,
from the repository root with this interpreter (``sys.executable -m xflow_perimeter``):

- ``xflow compile SPEC -o DIR --fast``, ``xflow compile SPEC -o DIR`` (with its read-back
  self-check) and ``xflow compile SPEC -o DIR --prove`` (plus verify's proof), each into an
  emptied directory, so every run writes every file;
- ``xflow verify SPEC --tf DIR``;
- ``xflow explain SPEC --tf DIR --requests FILE`` on 1 and on N generated requests;
- once, a small in-process script that splits verify into reading the Terraform
  (``hcl.read_tree`` + ``tfmodel.read_perimeter``) and evaluating (``verify.verify`` minus its own
  ``read_perimeter``).

Wall-clock times are medians over ``--runs``; peak memory (max RSS) is the largest over the runs,
measured per process by ``/usr/bin/time -f %M`` or, without it, by a tiny launcher that reports its
own ``ru_maxrss`` at exit. Results are saved after every measurement to benchmarks/out/results.json,
so an interrupted run still leaves what finished (``--report`` prints it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
RESULTS = OUT / "results.json"
TIME = "/usr/bin/time"

BARS = {  # at 10,000 flows on a 2-core machine
    "compile_s": ("compile ≤ 10 s", lambda v: v <= 10),
    "verify_s": ("verify ≤ 30 s", lambda v: v <= 30),
    "peak_mb": ("peak memory < 2 GB", lambda v: v < 2048),
    "explain_rps": ("explain ≥ 5,000 requests/s", lambda v: v >= 5000),
    "growth": ("1,000→10,000 flows ≤ 12x time", lambda v: v <= 12),
}

LAUNCHER = """\
import resource, runpy, sys
report = sys.argv[1]
sys.argv = ["xflow", *sys.argv[2:]]
try:
    runpy.run_module("xflow_perimeter", run_name="__main__", alter_sys=True)
finally:
    with open(report, "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""

SPLIT = """\
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from xflow_perimeter.api import load_spec
from xflow_perimeter.terraform.reader import read_tree
from xflow_perimeter.terraform.perimeter import read_perimeter
from xflow_perimeter.prove.verify import verify_perimeter
t1 = time.perf_counter()
spec = load_spec(Path(sys.argv[1]))
t2 = time.perf_counter()
tree = read_tree(Path(sys.argv[2]))
t3 = time.perf_counter()
perimeter = read_perimeter(tree)
t4 = time.perf_counter()
report = verify_perimeter(spec, perimeter)
t5 = time.perf_counter()
print(json.dumps({
    "import_s": t1 - t0, "load_spec_s": t2 - t1, "read_tree_s": t3 - t2,
    "read_perimeter_s": t4 - t3, "verify_total_s": t5 - t2,
    "evaluate_s": t5 - t4, "exit_code": report.exit_code,
    "requests_evaluated": report.requests_evaluated,
}))
"""


def xflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "xflow_perimeter", *args]


def _use_time() -> bool:
    if not os.access(TIME, os.X_OK):
        return False
    probe = subprocess.run([TIME, "-f", "%M", "true"], capture_output=True, text=True, check=False)
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


USE_TIME = _use_time()


def run_once(cmd: list[str], stdout: Path, timeout: float) -> dict[str, object]:
    """Run ``cmd`` from the repo root; wall time, peak RSS (MB), CPU seconds, exit code."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as report:
        report_path = report.name
    if USE_TIME:
        full = [TIME, "-f", "%M %U %S", "-o", report_path, *cmd]
    else:
        assert cmd[:3] == [sys.executable, "-m", "xflow_perimeter"]
        full = [sys.executable, "-c", LAUNCHER, report_path, *cmd[3:]]
    load_before = os.getloadavg()[0]
    with stdout.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            full, cwd=ROOT, stdout=out, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole session: time and its child
            proc.communicate()
            os.unlink(report_path)
            return {"timeout": True, "wall_s": timeout}
        except BaseException:  # interrupted (SIGTERM, Ctrl-C): take the child down with us
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            os.unlink(report_path)
            raise
        wall = time.perf_counter() - started
    text = Path(report_path).read_text().strip().splitlines()
    os.unlink(report_path)
    peak = cpu = None
    if text:
        fields = text[-1].split()  # GNU time puts "Command exited with ..." on an earlier line
        if fields and fields[0].isdigit():
            peak = int(fields[0]) / 1024
            if len(fields) == 3:
                cpu = float(fields[1]) + float(fields[2])
    return {
        "wall_s": wall,
        "peak_mb": peak,
        "cpu_s": cpu,
        "rc": proc.returncode,
        "load": load_before,
        "stderr_tail": "\n".join((err or "").strip().splitlines()[-5:]),
    }


def measure(
    name: str,
    cmd: list[str],
    stdout: Path,
    runs: int,
    timeout: float,
    before=None,
) -> dict[str, object]:
    samples = []
    for i in range(runs):
        if before is not None:
            before()
        sample = run_once(cmd, stdout, timeout)
        samples.append(sample)
        shown = (
            "timeout" if sample.get("timeout") else f"{sample['wall_s']:.2f} s, rc {sample['rc']}"
        )
        print(f"  {name} run {i + 1}/{runs}: {shown}", flush=True)
        if sample.get("timeout") or sample["rc"] not in (0,):
            break  # a failure or timeout will not get better
    ok = [s for s in samples if not s.get("timeout")]
    result: dict[str, object] = {
        "runs": len(samples),
        "timeout": any(s.get("timeout") for s in samples),
        "rc": ok[-1]["rc"] if ok else None,
        "wall_s": statistics.median(s["wall_s"] for s in ok) if ok else None,
        "wall_all_s": [round(s["wall_s"], 3) for s in ok],
        "cpu_s": statistics.median(s["cpu_s"] for s in ok)
        if ok and ok[0]["cpu_s"] is not None
        else None,
        "peak_mb": max((s["peak_mb"] or 0) for s in ok) if ok else None,
        "load": max(s["load"] for s in ok) if ok else None,
    }
    if ok and ok[-1]["rc"] != 0:
        result["stderr_tail"] = ok[-1]["stderr_tail"]
    rates = [r for s in ok if (r := _reported_rate(str(s.get("stderr_tail", "")))) is not None]
    if rates:  # explain --requests times its own request loop, after loading
        result["reported_rps"] = statistics.median(rates)
    return result


def _reported_rate(stderr: str) -> float | None:
    """The requests/s that ``xflow explain --requests`` reports on its last stderr line."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("xflow explain:") and line.endswith("requests/s"):
            return float(line.rsplit(", ", 1)[1].split()[0].replace(",", ""))
    return None


def emptied(path: Path):
    def clear() -> None:
        shutil.rmtree(path, ignore_errors=True)

    return clear


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = str(len(os.sched_getaffinity(0)))
    except AttributeError:
        nproc = str(os.cpu_count())
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024 // 1024} GB"
    except OSError:
        pass
    return {
        "nproc": nproc,
        "cpu": cpu,
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "commit": revision(),
        "peak_memory_by": "/usr/bin/time -f %M" if USE_TIME else "ru_maxrss launcher",
    }


def revision() -> str:
    """The checkout's commit, plus a hash of uncommitted changes under compiler/ if any."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    diff = git("diff", "HEAD", "--", "compiler")
    if diff:
        import hashlib

        commit += f"+dirty-{hashlib.sha256(diff.encode()).hexdigest()[:8]}"
    return commit


def load_results() -> dict[str, object]:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text())
    return {"sizes": {}}


def save(results: dict[str, object]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def bench_size(n: int, args: argparse.Namespace, results: dict[str, object]) -> None:
    base = OUT / f"flows-{n}"
    base.mkdir(parents=True, exist_ok=True)
    spec = base / "spec.yaml"
    requests = base / "requests.jsonl"
    one = base / "requests-1.jsonl"
    tf = base / "terraform"
    tf_fast = base / "terraform-fast"
    entry: dict[str, object] = {
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "seed": args.seed,
        "runs": args.runs,
        "revision_start": revision(),
    }
    results["sizes"][str(n)] = entry  # type: ignore[index]

    print(f"== {n} flows", flush=True)
    gen = [
        sys.executable,
        str(HERE / "generate.py"),
        "--flows",
        str(n),
        "--seed",
        str(args.seed),
        "-o",
        str(spec),
        "--requests",
        str(args.requests),
        "--requests-out",
        str(requests),
        "--stats-json",
        str(base / "generate.json"),
        "--quiet",
    ]
    if args.no_check:
        gen.append("--no-check")
    started = time.perf_counter()
    subprocess.run(gen, cwd=ROOT, check=True)
    entry["generate_s"] = time.perf_counter() - started
    entry["spec"] = json.loads((base / "generate.json").read_text())
    one.write_text(requests.read_text().splitlines()[0] + "\n")
    print(f"  generated {os.path.relpath(spec, ROOT)} in {entry['generate_s']:.1f} s", flush=True)
    save(results)

    def step(key: str, name: str, cmd: list[str], stdout: str, before=None) -> dict[str, object]:
        # Left in place if the run is interrupted, so the table says how far the command got.
        entry[key] = {"interrupted": True, "started": time.time()}
        save(results)
        entry[key] = measure(name, cmd, base / stdout, args.runs, args.timeout, before)
        save(results)
        return entry[key]  # type: ignore[return-value]

    rel = lambda p: os.path.relpath(p, ROOT)  # noqa: E731
    fast = step(
        "compile_fast",
        "compile --fast",
        xflow("compile", rel(spec), "-o", rel(tf_fast), "--fast"),
        "compile-fast.out",
        emptied(tf_fast),
    )
    tf_for_reading = tf_fast
    if fast.get("rc") == 0:
        step(
            "explain_1",
            "explain (1 request)",
            xflow("explain", rel(spec), "--tf", rel(tf_fast), "--requests", rel(one)),
            "explain-1.out",
        )
        explain = step(
            "explain_n",
            f"explain ({args.requests} requests)",
            xflow("explain", rel(spec), "--tf", rel(tf_fast), "--requests", rel(requests)),
            "explain-n.out",
        )
        if explain.get("rc") == 0:
            decisions: dict[str, int] = {}
            for line in (base / "explain-n.out").read_text().splitlines():
                item = json.loads(line)
                label = item.get("decision") or ("error" if "error" in item else "other")
                decisions[label] = decisions.get(label, 0) + 1
            explain["decisions"] = decisions
            save(results)
        verify = step(
            "verify",
            "verify",
            xflow("verify", rel(spec), "--tf", rel(tf_for_reading)),
            "verify.out",
        )
        out = (base / "verify.out").read_text()
        if "requests evaluated" in out:
            verify["requests_evaluated"] = int(out.rsplit("(", 1)[1].split()[0])
            save(results)
        print("  verify split (in-process, 1 run)", flush=True)
        started = time.perf_counter()
        try:
            split = subprocess.run(
                [sys.executable, "-c", SPLIT, rel(spec), rel(tf_for_reading)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=args.timeout,
                check=False,
            )
            if split.returncode == 0:
                entry["verify_split"] = json.loads(split.stdout.strip().splitlines()[-1])
            else:
                entry["verify_split"] = {"error": split.stderr.strip().splitlines()[-1:]}
        except subprocess.TimeoutExpired:
            entry["verify_split"] = {"timeout": True}
        print(f"  verify split: {time.perf_counter() - started:.1f} s", flush=True)
        save(results)
    step(
        "compile",
        "compile (self-check)",
        xflow("compile", rel(spec), "-o", rel(tf)),
        "compile.out",
        emptied(tf),
    )
    step(
        "compile_prove",
        "compile --prove",
        xflow("compile", rel(spec), "-o", rel(tf), "--prove"),
        "compile-prove.out",
        emptied(tf),
    )
    entry["revision_end"] = revision()
    save(results)


# --- the table ---------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _timed(entry: dict[str, object], key: str, field: str = "wall_s") -> str:
    item = entry.get(key)
    if not isinstance(item, dict):
        return "-"
    if item.get("interrupted"):
        after = item.get("after_s")
        return f"> {_num(after)} s (interrupted)" if after and field == "wall_s" else "interrupted"
    if item.get("timeout"):
        return "timeout"
    if item.get("rc") not in (0, None):
        return f"exit {item['rc']}"
    value = item.get(field)
    return _num(value) + (" s" if field.endswith("_s") else "")


def _value(entry: dict[str, object], key: str, field: str) -> float | None:
    item = entry.get(key)
    if (
        not isinstance(item, dict)
        or item.get("timeout")
        or item.get("interrupted")
        or item.get("rc") not in (0, None)
    ):
        return None
    value = item.get(field)
    return value if isinstance(value, (int, float)) else None


def _throughput(entry: dict[str, object]) -> float | None:
    """Requests/s after loading, as explain measures its own request loop (median of runs)."""
    return _value(entry, "explain_n", "reported_rps")


def _throughput_by_difference(entry: dict[str, object]) -> float | None:
    """The same from whole processes: N / (time for N requests - time for 1). Noisier: loading
    varies from run to run by about as much as the requests cost at 10,000 flows."""
    n = _value(entry, "explain_n", "wall_s")
    one = _value(entry, "explain_1", "wall_s")
    count = entry.get("requests_count")
    if n is None or one is None or not count or n <= one:
        return None
    return count / (n - one)  # type: ignore[operator]


def table(results: dict[str, object]) -> str:
    sizes = sorted(results["sizes"].items(), key=lambda item: int(item[0]))  # type: ignore[union-attr]
    for _, entry in sizes:
        entry["requests_count"] = None
        if isinstance(entry.get("explain_n"), dict):
            decisions = entry["explain_n"].get("decisions") or {}
            entry["requests_count"] = sum(decisions.values()) or None
    head = "| | " + " | ".join(f"{int(n):,} flows" for n, _ in sizes) + " | bar (10,000 flows) |"
    rows = [head, "|---" * (len(sizes) + 2) + "|"]

    def row(label: str, cells: list[str], bar: str = "") -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {bar} |")

    def spec_field(entry: dict[str, object], key: str) -> object:
        return (entry.get("spec") or {}).get(key, "-")  # type: ignore[union-attr]

    row(
        "spec: buckets / accounts / networks / principals",
        [
            f"{spec_field(e, 'buckets')} / {spec_field(e, 'accounts')} / {spec_field(e, 'networks')} / "
            f"{spec_field(e, 'principals')}"
            for _, e in sizes
        ],
    )
    row("spec size", [f"{_kib(e)}" for _, e in sizes])

    def largest(e: dict[str, object], key: str) -> str:
        items = spec_field(e, key)
        if isinstance(items, list) and items:
            return f"{items[0][0]:,}"
        return "-"

    row(
        "largest endpoint policy (chars, limit 20,480)",
        [largest(e, "largest_endpoint") for _, e in sizes],
    )
    row(
        "largest bucket policy (bytes, limit 20,480)",
        [largest(e, "largest_bucket") for _, e in sizes],
    )
    row(
        "compile (with self-check), median wall",
        [_timed(e, "compile") for _, e in sizes],
        BARS["compile_s"][0],
    )
    row("compile --fast, median wall", [_timed(e, "compile_fast") for _, e in sizes])
    row("compile --prove (full proof), median wall", [_timed(e, "compile_prove") for _, e in sizes])
    row("verify, median wall", [_timed(e, "verify") for _, e in sizes], BARS["verify_s"][0])

    def split(e: dict[str, object]) -> str:
        s = e.get("verify_split")
        if not isinstance(s, dict) or "read_tree_s" not in s:
            return "timeout" if isinstance(s, dict) and s.get("timeout") else "-"
        read = s["read_tree_s"] + s["read_perimeter_s"]
        return f"{_num(s['load_spec_s'])} / {_num(read)} / {_num(s['evaluate_s'])} s"

    row("verify split: load spec / read Terraform / evaluate", [split(e) for _, e in sizes])
    row(
        "verify: requests evaluated",
        [
            f"{v:,}"
            if isinstance(v := (e.get("verify") or {}).get("requests_evaluated"), int)
            else "-"
            for _, e in sizes
        ],
    )
    row("verify CPU (user+sys), median", [_timed(e, "verify", "cpu_s") for _, e in sizes])

    def peak(e: dict[str, object]) -> str:
        parts = []
        for key in ("compile", "compile_fast", "verify", "explain_n"):
            value = (e.get(key) or {}).get("peak_mb") if isinstance(e.get(key), dict) else None
            parts.append(_num(value, 0) if value else "-")
        return " / ".join(parts) + " MB"

    row(
        "peak RSS: compile / compile --fast / verify / explain",
        [peak(e) for _, e in sizes],
        BARS["peak_mb"][0],
    )
    row("explain: 1 request, median wall", [_timed(e, "explain_1") for _, e in sizes])
    row("explain: N requests, median wall", [_timed(e, "explain_n") for _, e in sizes])
    row(
        "explain throughput after loading (requests/s, as explain reports it)",
        [_num(_throughput(e), 0) for _, e in sizes],
        BARS["explain_rps"][0],
    )
    row(
        "explain throughput, N / (wall for N - wall for 1)",
        [_num(_throughput_by_difference(e), 0) for _, e in sizes],
    )

    def decisions(e: dict[str, object]) -> str:
        d = (
            (e.get("explain_n") or {}).get("decisions")
            if isinstance(e.get("explain_n"), dict)
            else None
        )
        if not d:
            return "-"
        return " / ".join(f"{d.get(k, 0):,}" for k in ("allow", "deny", "error"))

    row("explain results: allow / deny / error", [decisions(e) for _, e in sizes])

    def growth(key: str) -> list[str]:
        cells = []
        previous = None
        for n, e in sizes:
            value = _value(e, key, "wall_s")
            if previous is not None and value is not None and previous[1]:
                cells.append(f"{value / previous[1]:.1f}x vs {int(previous[0]):,}")
            else:
                cells.append("-")
            previous = (n, value) if value is not None else None
        return cells

    row("compile time growth", growth("compile"), BARS["growth"][0])
    row("verify time growth", growth("verify"), BARS["growth"][0])
    row("max load average before a run", [_load(e) for _, e in sizes])
    row("xflow revision", [_revision(e) for _, e in sizes])
    m = results.get("machine", {})
    footer = (
        f"\nMachine: {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory')} RAM, {m.get('python')}, "
        f"{m.get('os')}; peak memory by {m.get('peak_memory_by')}."
    )
    return "\n".join(rows) + "\n" + footer + "\n" + _verdicts(sizes)


def _kib(e: dict[str, object]) -> str:
    path = OUT / f"flows-{(e.get('spec') or {}).get('flows', '')}" / "spec.yaml"
    try:
        return f"{path.stat().st_size / 1024:,.0f} KiB"
    except OSError:
        return "-"


def _revision(e: dict[str, object]) -> str:
    start, end = e.get("revision_start"), e.get("revision_end")
    if not start:
        return "-"
    if end and end != start:
        return f"{start} → {end} (changed during the run)"
    return str(start)


def _load(e: dict[str, object]) -> str:
    loads = [
        v["load"] for v in e.values() if isinstance(v, dict) and isinstance(v.get("load"), float)
    ]
    return f"{max(loads):.1f}" if loads else "-"


def _verdicts(sizes: list[tuple[str, dict[str, object]]]) -> str:
    by = dict(sizes)
    big = by.get("10000")
    if big is None:
        return "Bars: not judged (no 10,000-flow results)."
    lines = ["Bars at 10,000 flows:"]

    def judge(label: str, value: float | None, check) -> None:
        if value is None:
            lines.append(f"- {label}: not measured (timeout or failure)")
        else:
            lines.append(f"- {label}: {'PASS' if check(value) else 'FAIL'} ({_num(value)})")

    def at_least(key: str) -> float | None:
        """A lower bound for an unfinished command: how long it ran before it was stopped."""
        item = big.get(key)
        if isinstance(item, dict) and item.get("interrupted") and item.get("after_s"):
            return float(item["after_s"])
        return None

    def judge_time(label: str, key: str, check, floor: float | None, why: str) -> None:
        value = _value(big, key, "wall_s")
        if value is None and floor is not None and not check(floor):
            lines.append(f"- {label}: FAIL (not finished, but {why} {_num(floor)} s)")
        else:
            judge(label, value, check)

    fast = _value(big, "compile_fast", "wall_s")
    judge_time(
        BARS["compile_s"][0],
        "compile",
        BARS["compile_s"][1],
        at_least("compile") or fast,
        "it ran for" if at_least("compile") else "compile --fast alone took",
    )
    judge_time(BARS["verify_s"][0], "verify", BARS["verify_s"][1], at_least("verify"), "it ran for")
    peaks = [
        _value(big, key, "peak_mb") for key in ("compile", "compile_fast", "verify", "explain_n")
    ]
    missing = [
        k for k, p in zip(("compile", "verify"), (peaks[0], peaks[2]), strict=True) if p is None
    ]
    judge(
        BARS["peak_mb"][0] + (f" (without {' and '.join(missing)})" if missing else ""),
        max((p for p in peaks if p is not None), default=None),
        BARS["peak_mb"][1],
    )
    judge(BARS["explain_rps"][0], _throughput(big), BARS["explain_rps"][1])
    small = by.get("1000")
    for key in ("compile", "verify"):
        a = _value(small, key, "wall_s") if small else None
        b = _value(big, key, "wall_s")
        ratio = b / a if a and b else None
        judge(f"{key}: {BARS['growth'][0]}", ratio, BARS["growth"][1])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global OUT, RESULTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated flow counts")
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=10_000, help="explain requests per size")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per command run")
    parser.add_argument(
        "--no-check", action="store_true", help="skip generate.py's policy size check"
    )
    parser.add_argument(
        "--report", action="store_true", help="only print the table of saved results"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="output directory (benchmarks/out)")
    args = parser.parse_args(argv)
    OUT = args.out.resolve()
    RESULTS = OUT / "results.json"

    results = load_results()
    status = 0
    if not args.report:
        # An outer `timeout` sends SIGTERM: stop the running command and print what finished.
        signal.signal(signal.SIGTERM, _interrupted)
        results["machine"] = machine()
        try:
            for n in (int(s.replace(",", "").replace("_", "")) for s in args.sizes.split(",") if s):
                bench_size(n, args, results)
        except (KeyboardInterrupt, SystemExit):
            print("interrupted: the table shows what finished", file=sys.stderr)
            status = 130
            for entry in results["sizes"].values():  # type: ignore[union-attr]
                for item in entry.values():
                    if isinstance(item, dict) and item.get("interrupted") and "after_s" not in item:
                        item["after_s"] = time.time() - item["started"]
            save(results)
    if not results.get("sizes"):
        print("no results yet; run without --report", file=sys.stderr)
        return 1
    text = table(results)
    (OUT / "results.md").write_text(text + "\n")
    print()
    print(text)
    return status


def _interrupted(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
