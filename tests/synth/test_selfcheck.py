"""Compile's self-check: a rendering fault or a wrong plan stops compile before anything is written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from xflow_perimeter import api
from xflow_perimeter.diagnostics import EXIT_INTERNAL, XflowError
from xflow_perimeter.prove import pool
from xflow_perimeter.synth import render, selfcheck
from xflow_perimeter.synth.plan import Plan

SPEC = Path(__file__).resolve().parents[2] / "examples" / "data-platform" / "spec.yaml"


def _without_first_deny(planned: Plan) -> Plan:
    """The plan with the first bucket policy's first Deny statement left out."""
    module = next(m for m in planned.modules if m.bucket_policies)
    first = module.bucket_policies[0]
    statements = first.policy.statements
    index = next(i for i, s in enumerate(statements) if s.effect == "Deny")
    policy = dataclasses.replace(
        first.policy, statements=statements[:index] + statements[index + 1 :]
    )
    bucket_policies = (dataclasses.replace(first, policy=policy), *module.bucket_policies[1:])
    changed = dataclasses.replace(module, bucket_policies=bucket_policies)
    modules = tuple(changed if m is module else m for m in planned.modules)
    return dataclasses.replace(planned, modules=modules)


@pytest.mark.parametrize("forked", [False, True])
def test_a_policy_rendered_unlike_its_plan_stops_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    _fork_if(monkeypatch, forked)
    original = render.render_module
    broken = _without_first_deny(api.plan_spec(api.load_spec(SPEC), SPEC.name))
    swap = {m.directory: m for m in broken.modules}
    monkeypatch.setattr(
        render, "render_module", lambda module, name: original(swap[module.directory], name)
    )
    out = tmp_path / "out"
    with pytest.raises(XflowError) as raised:
        api.compile_spec(SPEC, out)
    assert raised.value.exit_code == EXIT_INTERNAL
    codes = [d.code for d in raised.value.diagnostics]
    assert codes[0] == "XF303"
    assert any("does not read back as planned" in d.message for d in raised.value.diagnostics)
    assert not out.exists()


@pytest.mark.parametrize("forked", [False, True])
def test_the_files_are_those_render_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    _fork_if(monkeypatch, forked)
    spec = api.load_spec(SPEC)
    planned = api.plan_spec(spec, SPEC.name)
    assert selfcheck.render_checked(spec, planned) == render.render(planned)
    assert selfcheck.render_checked(spec, planned, prove=True) == render.render(planned)


def _fork_if(monkeypatch: pytest.MonkeyPatch, forked: bool) -> None:
    """Check the modules in two forked workers (as on large specs) or in this process."""
    monkeypatch.setattr(selfcheck, "_PARALLEL_FROM", 0 if forked else 10**9)
    monkeypatch.setattr(pool, "available_workers", lambda: 2)


def test_a_wrong_plan_is_caught_by_the_proof_but_not_by_reading_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = api.plan_spec
    monkeypatch.setattr(
        api, "plan_spec", lambda spec, name: _without_first_deny(original(spec, name))
    )
    assert api.compile_spec(SPEC, tmp_path / "read-back").files  # reads back as (wrongly) planned
    with pytest.raises(XflowError) as raised:
        api.compile_spec(SPEC, tmp_path / "proved", prove=True)
    assert raised.value.exit_code == EXIT_INTERNAL
    assert [d.code for d in raised.value.diagnostics][:2] == ["XF303", "XF501"]
    assert not (tmp_path / "proved").exists()
