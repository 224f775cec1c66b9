"""Startup cost: each command imports only what its run needs (see benchmarks/startup.py for the
timing itself), and the startup benchmark runs and judges its bar."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xflow_perimeter import graph
from xflow_perimeter.cli import graph as graph_command

REPO = Path(__file__).resolve().parent.parent.parent
SPEC = REPO / "examples" / "data-platform" / "spec.yaml"

# Run in a fresh interpreter: what `argv` loaded, among the modules a small run should not need.
PROBE = """
import json, sys
from xflow_perimeter.cli.main import main
code = main(sys.argv[1:]) if len(sys.argv) > 1 else 0
watched = json.loads(sys.stdin.read())
print(json.dumps([code, sorted(m for m in watched if m in sys.modules)]))
"""

NEVER_ON_A_VALID_SPEC = [
    "jsonschema",  # only when the quick schema check refuses the spec
    "hcl2",  # only on the reader's fallback
    "boto3",  # only for audit
    "multiprocessing",  # only when the work is forked
    "concurrent.futures",
    "importlib.resources",
    "xflow_perimeter.audit",
    "xflow_perimeter.graph",
    "xflow_perimeter.report.sarif",
    "xflow_perimeter.report.structured",
    "rich",  # progress: only on a terminal
]


# The exposure proof, which compile's structure-only self-check does not need.
PROOF = [
    "xflow_perimeter.prove.verifier",
    "xflow_perimeter.prove.verify",
    "xflow_perimeter.prove.sweep",
    "xflow_perimeter.prove.layers",
    "xflow_perimeter.prove.explain",
    "xflow_perimeter.prove.network_paths",
    "xflow_perimeter.prove.request_classes",
    "xflow_perimeter.iam.evaluate",
]
OTHER_COMMANDS = [f"xflow_perimeter.cli.{name}" for name in ("explain", "graph", "audit", "diff")]


def loaded(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    watched = [
        *NEVER_ON_A_VALID_SPEC,
        *PROOF,
        *OTHER_COMMANDS,
        "jinja2",
        "xflow_perimeter.prove",
        "xflow_perimeter.synth",
    ]
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        input=json.dumps(watched),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    code, names = json.loads(completed.stdout.splitlines()[-1])
    return code, set(names)


def test_registering_the_subcommands_loads_no_stage(tmp_path: Path) -> None:
    _, names = loaded(tmp_path)
    assert names == set()


def test_verify_loads_neither_the_writer_nor_the_fallbacks(tmp_path: Path) -> None:
    code, names = loaded(tmp_path, "verify", str(SPEC))
    assert code == 0
    # synth: manifest names; explain: the spec's assertions are decided by it.
    assert names == {"xflow_perimeter.prove", "xflow_perimeter.synth", *PROOF}


def test_compile_check_loads_no_fallback_and_not_the_proof(tmp_path: Path) -> None:
    code, names = loaded(tmp_path, "compile", "--check", str(SPEC))
    assert code == 0
    # prove: the structure check, compile's self-check; not the exposure proof.
    assert names == {"jinja2", "xflow_perimeter.prove", "xflow_perimeter.synth"}


def test_compile_fast_does_not_load_the_prover(tmp_path: Path) -> None:
    code, names = loaded(tmp_path, "compile", "--check", "--fast", str(SPEC))
    assert code == 0
    assert "xflow_perimeter.prove" not in names


def test_graph_formats_are_the_renderers() -> None:
    assert graph_command.FORMATS == graph.FORMATS


@pytest.mark.parametrize(("bar", "expected"), [("100", 0), ("-1", 1)])
def test_the_startup_benchmark_judges_its_bar(bar: str, expected: int) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "startup.py"), "--runs", "1", "--bar", bar],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == expected, completed.stderr
    rows = completed.stdout.splitlines()
    assert any(row.startswith("verify cross-account") for row in rows)
    assert any(row.startswith("compile --check data-platform") for row in rows)
    assert ("over the -1.00 s bar" in completed.stdout) is (expected == 1)


def test_the_startup_benchmark_counts_instructions_repeatably(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import startup
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    bare = startup.Command("python -c pass", (sys.executable, "-c", "pass"))
    more = startup.Command("python -c import json", (sys.executable, "-c", "import json"))
    first, again = (startup.instructions(bare, tmp_path) for _ in range(2))
    assert first > 1_000_000
    assert abs(first - again) < first // 100  # a count, not a time: the same run after run
    assert startup.instructions(more, tmp_path) > first
