"""The README's GitHub Actions workflow ("In CI"): valid against the GitHub-workflow JSON Schema
that check-jsonschema bundles, and doing what the README says it does."""

from __future__ import annotations

import copy
import json
import re
import shlex
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


def section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, f"README.md has no section '## {title}'"
    return match.group(1)


def yaml_blocks(title: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", section(title), re.M | re.S)


def load_yaml(text: str) -> Any:
    """YAML as GitHub reads a workflow: 1.2 rules, so the key ``on`` stays a string."""
    return YAML(typ="safe", pure=True).load(text)


@cache
def workflow_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor")
    loaded: dict[str, Any] = json.loads(
        vendored.joinpath("github-workflows.json").read_text("utf-8")
    )
    return loaded


def schema_errors(workflow: object) -> list[str]:
    schema = workflow_schema()
    validator = validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(workflow)]


@cache
def workflow() -> dict[str, Any]:
    [block] = yaml_blocks("In CI")
    loaded: dict[str, Any] = load_yaml(block)
    return loaded


def steps() -> list[dict[str, Any]]:
    [job] = workflow()["jobs"].values()
    found: list[dict[str, Any]] = job["steps"]
    return found


def run_step(command: str) -> tuple[int, dict[str, Any], list[str]]:
    """The step whose ``run`` starts with ``command``: its index, the step and its words."""
    for index, step in enumerate(steps()):
        words = shlex.split(step.get("run", ""))
        if words[: len(command.split())] == command.split():
            return index, step, words
    raise AssertionError(f"no step runs {command!r}")


def test_the_workflow_is_valid_against_the_github_workflow_schema() -> None:
    assert workflow_schema()["$schema"].startswith("http://json-schema.org/")
    assert schema_errors(workflow()) == []


@pytest.mark.parametrize(
    "damage",
    ["no runs-on", "run and uses in one step", "unknown trigger", "steps not a list"],
)
def test_the_schema_check_catches_a_broken_workflow(damage: str) -> None:
    broken = copy.deepcopy(workflow())
    [job] = broken["jobs"].values()
    if damage == "no runs-on":
        del job["runs-on"]
    elif damage == "run and uses in one step":
        job["steps"][0]["run"] = "true"
    elif damage == "unknown trigger":
        broken["on"] = {"pull_requests": None}
    else:
        job["steps"] = {"run": "true"}
    assert schema_errors(broken)


def test_it_runs_on_every_pull_request() -> None:
    triggers = workflow()["on"]
    assert "pull_request" in triggers
    assert not (triggers["pull_request"] or {}), "filters would skip some pull requests"


def test_it_installs_xflow_from_the_repository_the_pre_commit_section_names() -> None:
    _, _, words = run_step("python -m pip install")
    [hooks_config] = yaml_blocks("pre-commit")
    [repo] = load_yaml(hooks_config)["repos"]
    assert words[4] == f"xflow-perimeter @ git+{repo['repo']}@{repo['rev']}"


def test_it_runs_both_checks_on_one_spec_and_uploads_verify_s_sarif() -> None:
    check_at, check, check_words = run_step("xflow compile")
    verify_at, verify, verify_words = run_step("xflow verify")
    upload_at, upload = next(
        (i, s)
        for i, s in enumerate(steps())
        if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    spec = check_words[2]
    assert check_words == ["xflow", "compile", spec, "--check"]
    assert verify_words == ["xflow", "verify", spec, "--format", "sarif", ">", "xflow.sarif"]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "xflow.sarif"
    assert upload["if"] == "always()"
    assert "if" not in check
    assert verify["if"] == "${{ !cancelled() }}"  # verify runs even when --check failed
    assert check_at < verify_at < upload_at
    assert workflow()["permissions"]["security-events"] == "write"


def test_the_pre_commit_hooks_and_the_workflow_check_the_same_spec() -> None:
    [hooks_config] = yaml_blocks("pre-commit")
    [repo] = load_yaml(hooks_config)["repos"]
    _, _, words = run_step("xflow compile")
    assert {hook["id"]: hook["args"] for hook in repo["hooks"]} == {
        "xflow-compile-check": [words[2]],
        "xflow-verify": [words[2]],
    }
