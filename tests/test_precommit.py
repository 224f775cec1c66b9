"""The pre-commit hooks (.pre-commit-hooks.yaml), run by the real pre-commit.

xflow's working tree (committed files and uncommitted changes) is copied into a temporary git
repository and committed there, because pre-commit installs hooks from a revision of a git
repository. A second repository holds a copy of an example (spec and Terraform) and the
README's ``.pre-commit-config.yaml`` pointed at that revision. pre-commit installs xflow into
a virtualenv of its own (``pip install .``, so the package index or pip's cache must be
reachable) under a temporary PRE_COMMIT_HOME; both hooks share it.

``pre-commit try-repo`` cannot be used for the run itself: it takes no ``args``, and the hooks
need the spec's path there; it also builds a new virtualenv on every call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "cross-account"
SPEC = "perimeter/spec.yaml"  # where the README's configuration expects the spec
HOOKS = ("xflow-compile-check", "xflow-verify")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "xflow tests",
    "GIT_AUTHOR_EMAIL": "tests@xflow.invalid",
    "GIT_COMMITTER_NAME": "xflow tests",
    "GIT_COMMITTER_EMAIL": "tests@xflow.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def test_the_manifest_is_valid_and_declares_both_hooks() -> None:
    manifest = REPO / ".pre-commit-hooks.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(manifest)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load(manifest.read_text(encoding="utf-8"))}
    assert hooks["xflow-compile-check"]["entry"] == "xflow compile --check"
    assert hooks["xflow-verify"]["entry"] == "xflow verify"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert "args" not in hook  # the spec's path is the user's to give


def readme_config(repo: str, rev: str) -> str:
    """The README's ``.pre-commit-config.yaml``, with xflow's repository at ``repo``@``rev``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## pre-commit\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"^```yaml\n(.*?)^```$", section, re.M | re.S)
    config = yaml.safe_load(block)
    [entry] = config["repos"]
    assert [hook["args"] for hook in entry["hooks"]] == [[SPEC], [SPEC]]
    entry["repo"], entry["rev"] = repo, rev
    return yaml.safe_dump(config, sort_keys=False)


def copy_of_xflow(into: Path) -> str:
    """Commit xflow's working tree (tracked and untracked, not ignored) into a new repository."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    git("init", "-q", cwd=into)
    git("add", "-A", cwd=into)
    git("commit", "-q", "-m", "xflow working tree", cwd=into)
    return git("rev-parse", "HEAD", cwd=into).strip()


@dataclass(frozen=True)
class Project:
    """A repository holding the example and the README's pre-commit configuration."""

    root: Path
    env: dict[str, str]

    def pre_commit(self, *hook: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "run", *hook, "--all-files", "--color=never"]
        return subprocess.run(
            command, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=600
        )

    def xflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        xflow = [sys.executable, "-m", "xflow_perimeter", *args]
        return subprocess.run(xflow, cwd=self.root, capture_output=True, text=True)

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace every ``old`` in the file by ``new``."""
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new), encoding="utf-8")

    def restore(self) -> None:
        git("checkout", "--", ".", cwd=self.root)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("pre-commit")
    xflow = base / "xflow"
    xflow.mkdir()
    rev = copy_of_xflow(xflow)
    root = base / "infra"
    shutil.copytree(EXAMPLE, root / "perimeter", ignore=shutil.ignore_patterns("__pycache__"))
    (root / ".pre-commit-config.yaml").write_text(readme_config(str(xflow), rev), "utf-8")
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "the example perimeter", cwd=root)
    env = {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(base / "pre-commit-home")}
    env.pop("PRE_COMMIT", None)
    yield Project(root, env)


def outcome(result: subprocess.CompletedProcess[str], hook_name: str) -> str:
    """``Passed``, ``Failed`` or ``Skipped`` for the hook named ``hook_name`` in pre-commit's output."""
    match = re.search(rf"^{re.escape(hook_name)}\.+(\w+)", result.stdout, re.M)
    assert match, result.stdout + result.stderr
    return match.group(1)


def test_both_hooks_pass_on_the_example_then_each_catches_its_hand_edit(project: Project) -> None:
    clean = project.pre_commit()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert outcome(clean, "xflow compile --check") == "Passed"
    assert outcome(clean, "xflow verify") == "Passed"

    # A hand edit of the Terraform: the app role may now list the whole bucket.
    project.edit(
        "perimeter/terraform/data-ap-northeast-1/bucket_policies.tf",
        '"s3:prefix" = ["exports/*"]',
        '"s3:prefix" = ["*"]',
    )
    edited = project.pre_commit("xflow-verify")
    assert edited.returncode == 1, edited.stdout + edited.stderr
    assert outcome(edited, "xflow verify") == "Failed"
    assert "error XF503: " in edited.stdout  # verify's finding, passed through by pre-commit
    project.restore()

    # A hand edit of the spec, without regenerating: the committed Terraform is stale.
    project.edit(SPEC, "prefix: exports/}", "prefix: export}")
    stale = project.pre_commit("xflow-compile-check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert outcome(stale, "xflow compile --check") == "Failed"
    assert "stale: " in stale.stdout and "bucket_policies.tf" in stale.stdout

    # Regenerated, both pass again.
    compiled = project.xflow("compile", SPEC)
    assert compiled.returncode == 0, compiled.stderr
    again = project.pre_commit()
    assert again.returncode == 0, again.stdout + again.stderr
    project.restore()
