"""Compile's self-check of the Terraform about to be written, before writing it.

Always: the files read back (with the reader verify uses) into exactly the planned policies,
endpoints and route-table associations, with nothing verify would refuse. That catches any
rendering or escaping fault on the spec at hand. With ``prove``, compile also runs the whole
exposure proof of ``xflow verify`` on them, which costs as much as a verify; a finding that the
spec itself causes (SPEC_LEVEL_FINDINGS) is reported as such (exit 1), anything else is XF303.

Modules are rendered and read back one by one (each is self-contained), in forked workers when
there are many policies; only their text, their structure and any problem come back.
"""

from __future__ import annotations

import dataclasses

from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_INTERNAL, Diagnostic, XflowError
from xflow_perimeter.iam.policy import PolicyDocument, to_json
from xflow_perimeter.prove import pool
from xflow_perimeter.prove.checks import structure
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.synth import render
from xflow_perimeter.synth.plan import ModulePlan, Plan
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import TfTree, read_text

# Findings that a correct compile cannot avoid, because the spec itself causes them: a network
# egress the spec does not accept (XF508) and an assertion the spec's own flows contradict (XF506).
SPEC_LEVEL_FINDINGS = frozenset({"XF506", "XF508"})

# Below this many policies, forking workers costs more than it saves.
_PARALLEL_FROM = 256

_ModuleResult = tuple[dict[str, str], Perimeter | None, list[Diagnostic]]


def render_checked(spec: Spec, planned: Plan, *, prove: bool = False) -> dict[str, str]:
    """Every generated file (as ``render.render``), after the self-check; raise XflowError
    (exit 3) unless the files read back as planned (and, with ``prove``, verify exactly)."""
    if prove:
        return _render_proved(spec, planned)
    policies = sum(len(m.bucket_policies) + len(m.endpoints) for m in planned.modules)
    workers = pool.available_workers() if policies >= _PARALLEL_FROM else 1

    def task(index: int) -> _ModuleResult:
        return _module(planned.modules[index], planned.spec_name)

    results = pool.run_in_order(task, len(planned.modules), workers)
    files: dict[str, str] = {}
    problems = []
    parts: list[Perimeter] = []
    for texts, part, found in results:
        files.update(texts)
        problems += found
        if part is not None:
            parts.append(part)
    if not problems:
        merged = Perimeter(
            endpoints=tuple(e for p in parts for e in p.endpoints),
            associations=tuple(a for p in parts for a in p.associations),
            bucket_policies=tuple(b for p in parts for b in p.bucket_policies),
            refusals=tuple(r for p in parts for r in p.refusals),
        )
        checked = structure.check_alone(spec, merged)
        problems = [*checked.refusals, *(f.to_diagnostic() for f in checked.findings)]
    _raise_if(problems)
    return dict(sorted(files.items()))


def _render_proved(spec: Spec, planned: Plan) -> dict[str, str]:
    from xflow_perimeter.prove.verify import verify_perimeter  # the whole proof: compile --prove

    files = render.render(planned)
    perimeter = read_perimeter(TfTree(tuple(read_text(files[p], p) for p in sorted(files)), ()))
    report = verify_perimeter(spec, perimeter)
    spec_level = [f.to_diagnostic() for f in report.findings if f.code in SPEC_LEVEL_FINDINGS]
    if spec_level and len(spec_level) == len(report.findings) and not report.refusals:
        # What the spec itself states or accepts fails (an assertion, an unaccepted bypass): a
        # finding about the spec, not a fault of the generated Terraform.
        raise XflowError(spec_level, exit_code=EXIT_FINDINGS)
    problems = [*report.refusals, *(f.to_diagnostic() for f in report.findings)]
    if not problems:
        problems = _count(planned, perimeter)
        for module in planned.modules:
            problems += _differences(module, perimeter)
    _raise_if(problems)
    return files


def _module(module: ModulePlan, spec_name: str) -> _ModuleResult:
    """Render one module and read it back: its files, its structure (policies left out, they are
    compared here) and what differs from the plan."""
    texts = {
        f"{module.directory}/{name}": text
        for name, text in render.render_module(module, spec_name).items()
    }
    try:
        tree = TfTree(tuple(read_text(texts[p], p) for p in sorted(texts)), ())
    except XflowError as error:
        return texts, None, list(error.diagnostics)
    perimeter = read_perimeter(tree)
    problems = _differences(module, perimeter)
    if len(perimeter.bucket_policies) != len(module.bucket_policies) or len(
        perimeter.endpoints
    ) != len(module.endpoints):
        problems.append(Diagnostic("XF303", f"{module.directory}: policies that were not planned"))
    structure = dataclasses.replace(
        perimeter,
        endpoints=tuple(dataclasses.replace(e, policy=None) for e in perimeter.endpoints),
        bucket_policies=tuple(
            dataclasses.replace(b, policy=None) for b in perimeter.bucket_policies
        ),
    )
    return texts, structure, problems


def _raise_if(problems: list[Diagnostic]) -> None:
    if problems:
        summary = Diagnostic(
            "XF303",
            "the generated Terraform does not verify against the spec, so nothing was written; "
            "this is a bug in xflow, please report it with the spec (compile --fast skips this check)",
        )
        raise XflowError([summary, *problems], exit_code=EXIT_INTERNAL)


def _count(planned: Plan, perimeter: Perimeter) -> list[Diagnostic]:
    expected = sum(len(m.bucket_policies) + len(m.endpoints) for m in planned.modules)
    if expected != len(perimeter.bucket_policies) + len(perimeter.endpoints):
        return [Diagnostic("XF303", "the files hold policies that were not planned")]
    return []


def _differences(module: ModulePlan, perimeter: Perimeter) -> list[Diagnostic]:
    """The module's planned policies that do not read back identically from its files."""
    bucket_policies = {p.address: p.policy for p in perimeter.bucket_policies}
    endpoints = {e.address: e.policy for e in perimeter.endpoints}
    out = []
    for bucket_policy in module.bucket_policies:
        address = f"{module.directory}/aws_s3_bucket_policy.{bucket_policy.resource_name}"
        if not _same(bucket_policies.get(address), bucket_policy.policy):
            out.append(Diagnostic("XF303", f"{address}: the policy does not read back as planned"))
    for endpoint in module.endpoints:
        kind = "aws_vpc_endpoint_policy" if endpoint.network.endpoint_id else "aws_vpc_endpoint"
        address = f"{module.directory}/{kind}.{endpoint.resource_name}"
        if not _same(endpoints.get(address), endpoint.policy):
            out.append(Diagnostic("XF303", f"{address}: the policy does not read back as planned"))
    return out


def _same(parsed: PolicyDocument | None, planned: PolicyDocument) -> bool:
    # As JSON data: the renderer orders condition operators and keys, the plan need not.
    return parsed is not None and to_json(parsed) == to_json(planned)
