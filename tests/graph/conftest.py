"""Real renderers for the graph tests: Graphviz's `dot` and Mermaid's own parser under Node.

Both are installed by scripts/dev-setup. In CI (CI set) a missing renderer fails the test that
needs it; elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
CHECKER = NODE_DIR / "check-mermaid.mjs"

MermaidCheck = Callable[..., list[dict[str, Any]]]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI: run scripts/dev-setup first")
    pytest.skip(f"{what} is not installed: run scripts/dev-setup")


@pytest.fixture(scope="session")
def dot_binary() -> str:
    """Graphviz's `dot`."""
    found = shutil.which("dot")
    if found is None:
        _missing("Graphviz (dot)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def mermaid_check() -> MermaidCheck:
    """Check diagrams with Mermaid: ``check(texts, labels=False)`` -> one result per diagram.

    Each result has ``ok`` and, on failure, Mermaid's ``error``; with ``labels=True`` the diagram
    is also rendered and ``labels`` lists every label's lines as the SVG shows them.
    """
    node = shutil.which("node")
    if node is None:
        _missing("Node.js")
    if not (NODE_DIR / "node_modules" / "mermaid" / "package.json").is_file():
        _missing("Mermaid (npm ci in tests/graph/node)")
    assert node is not None

    def check(texts: Sequence[str], labels: bool = False) -> list[dict[str, Any]]:
        with tempfile.TemporaryDirectory() as folder:
            paths = []
            for number, text in enumerate(texts):
                path = Path(folder) / f"diagram{number}.mmd"
                path.write_text(text, encoding="utf-8")
                paths.append(str(path))
            command = [node, str(CHECKER), *(["--labels"] if labels else []), *paths]
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        results = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(results) == len(texts), done.stderr
        assert done.returncode == (0 if all(r["ok"] for r in results) else 1), done.stderr
        return results

    return check


def _svg_text_lines(dot_binary: str, text: str) -> list[str]:
    """Render DOT with Graphviz and return every text line of the SVG, in document order."""
    import xml.etree.ElementTree as ElementTree

    done = subprocess.run(
        [dot_binary, "-Tsvg"], input=text, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "Error" not in done.stderr, done.stderr
    root = ElementTree.fromstring(done.stdout)
    # Graphviz writes runs of spaces as no-break spaces so that SVG viewers keep them.
    return [
        (element.text or "").replace("\xa0", " ")
        for element in root.iter("{http://www.w3.org/2000/svg}text")
    ]


@pytest.fixture(scope="session")
def dot_svg_lines(dot_binary: str) -> Callable[[str], list[str]]:
    """Render DOT with Graphviz: ``lines(text)`` -> every text line of the SVG."""
    return lambda text: _svg_text_lines(dot_binary, text)


@pytest.fixture(scope="session")
def benchmark_spec(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``spec(flows)``: the benchmark's seeded synthetic organisation (benchmarks/generate.py)."""
    made: dict[int, Path] = {}

    def spec(flows: int) -> Path:
        if flows not in made:
            path = tmp_path_factory.mktemp(f"flows{flows}") / "spec.yaml"
            generator = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"
            subprocess.run(
                [
                    sys.executable,
                    str(generator),
                    "--flows",
                    str(flows),
                    "--no-check",
                    "--quiet",
                    "-o",
                    str(path),
                ],
                check=True,
            )
            made[flows] = path
        return made[flows]

    return spec
