"""The library API behind the CLI: compile a spec into Terraform (written or checked), verify
the Terraform against the spec, and explain single requests or batches against it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xflow_perimeter.diagnostics import Diagnostic, Severity, XflowError
from xflow_perimeter.spec import build, schema, source

# Each command imports only what it runs (verify never loads the Terraform writer, compile never
# loads explain): the imports of the stages are inside the functions that run them, and the
# names re-exported from them resolve on first use (see __getattr__ below).
if TYPE_CHECKING:
    from xflow_perimeter.prove.explain import (
        BatchAnswer,
        ExplainError,
        ExplainRequest,
        ExplainResult,
    )
    from xflow_perimeter.prove.network_paths import Topology
    from xflow_perimeter.prove.progress import Progress
    from xflow_perimeter.prove.verify import Report
    from xflow_perimeter.spec import model
    from xflow_perimeter.synth import plan
    from xflow_perimeter.synth.output import Change, WriteBack
    from xflow_perimeter.terraform.perimeter import Perimeter

_REEXPORTED = {
    "BatchAnswer": "xflow_perimeter.prove.explain",
    "ExplainError": "xflow_perimeter.prove.explain",
    "ExplainRequest": "xflow_perimeter.prove.explain",
    "ExplainResult": "xflow_perimeter.prove.explain",
    "Report": "xflow_perimeter.prove.verify",
    "Change": "xflow_perimeter.synth.output",
    "WriteBack": "xflow_perimeter.synth.output",
}


def __getattr__(name: str) -> Any:
    if name in _REEXPORTED:
        import importlib

        return getattr(importlib.import_module(_REEXPORTED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class CompileResult:
    """A compile's result: the spec's files, what changed under the output root, diff, warnings."""

    output_root: Path
    files: dict[str, str]  # relative path -> text, everything the spec produces (manifests too)
    changes: tuple[Change, ...]  # what differs from (or was written to) the output root
    diff: str = ""  # unified diff, for WriteBack.DIFF
    warnings: tuple[Diagnostic, ...] = ()


def default_output(spec_path: Path) -> Path:
    """Where compile writes when -o is not given: a `terraform/` directory beside the spec."""
    return spec_path.parent / "terraform"


def load_spec(spec_path: Path, display: str | None = None) -> model.Spec:
    """Read, schema-check and semantically check a spec; raise XflowError with every problem."""
    document = source.load(spec_path, display)
    schema.validate(document)
    return build.build(document)


def plan_spec(spec: model.Spec, spec_name: str) -> plan.Plan:
    """Plan a spec's Terraform, compacting policies over AWS's size limits (XF301 if it cannot)."""
    from xflow_perimeter.synth import limits, plan

    return limits.enforce(plan.build(spec, spec_name))


def generate(spec: model.Spec, spec_name: str) -> tuple[plan.Plan, dict[str, str]]:
    """Plan and render a spec's Terraform in memory."""
    from xflow_perimeter.synth import render

    planned = plan_spec(spec, spec_name)
    return planned, render.render(planned)


def compile_spec(
    spec_path: Path,
    output_root: Path | None = None,
    writeback: WriteBack | None = None,
    *,
    self_check: bool = True,
    prove: bool = False,
    progress: Progress | None = None,
) -> CompileResult:
    """Compile ``spec_path`` into Terraform under ``output_root`` (default: beside the spec).

    ``writeback`` defaults to WriteBack.WRITE; with WriteBack.CHECK or DIFF nothing is written;
    ``changes`` says what is stale (XF304 if an interrupted compile left the output journalled). Output problems are XF302 (exit 2).
    ``self_check``: read the output back before writing it (see selfcheck.py); ``prove``: also
    run verify's exposure proof on it, telling ``progress`` ``(done, total)`` as its buckets and
    networks are proved.
    Raises XflowError for an invalid spec (exit 2), a failed self-check (exit 3), or under
    ``prove`` a finding the spec itself causes, such as a failed assertion (exit 1).
    """
    from xflow_perimeter.synth import output, render
    from xflow_perimeter.synth.output import WriteBack

    if writeback is None:
        writeback = WriteBack.WRITE
    root = output_root if output_root is not None else default_output(spec_path)
    spec = load_spec(spec_path)
    planned = plan_spec(spec, spec_path.name)
    if self_check:
        from xflow_perimeter.prove.progress import reporting
        from xflow_perimeter.synth.selfcheck import render_checked

        with reporting(progress):
            files = render_checked(spec, planned, prove=prove)
    else:
        files = render.render(planned)
    warnings = tuple(build.warnings(spec))
    # Writing (safe writes: ownership manifests, lock, journal) is output.py's; see its docstring.
    if writeback is WriteBack.WRITE:
        outcome = output.write(root, files, spec_path)
    else:
        outcome = output.check(root, files, spec_path, diff=writeback is WriteBack.DIFF)
    return CompileResult(
        root, outcome.files, outcome.changes, outcome.diff, (*warnings, *outcome.notes)
    )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Verify's report on one Terraform root; its exit code is the run's."""

    tf_root: Path  # the Terraform root that was verified
    report: Report

    @property
    def exit_code(self) -> int:
        return self.report.exit_code


def verify(
    spec_path: Path,
    tf_root: Path | None = None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Prove that the Terraform under ``tf_root`` (default: beside the spec) grants exactly the
    spec; the report lists findings (exit 1), constructs the verifier refuses (exit 2) and
    warnings, which change no exit code.

    ``workers``: processes for the exposure proof (default: one per core on large specs).
    ``progress``: told ``(done, total)`` as each bucket's and network's checks finish.
    Raises XflowError for an invalid spec, or XF302 when ``tf_root`` is not a directory.
    """
    from xflow_perimeter.prove import verify as prove
    from xflow_perimeter.prove.progress import reporting
    from xflow_perimeter.terraform.reader import read_tree

    spec = load_spec(spec_path)
    root = tf_root if tf_root is not None else default_output(spec_path)
    if not root.is_dir():
        raise XflowError([Diagnostic("XF302", f"Terraform directory {root} does not exist")])
    tree = read_tree(root, spec_path=spec_path)
    with reporting(progress):
        report = prove.verify(spec, tree, workers=workers)
    return VerifyResult(root, report)


@dataclass(frozen=True, slots=True)
class Explainer:
    """A spec and its Terraform, read and matched once, to explain requests against."""

    spec: model.Spec
    tf_root: Path
    perimeter: Perimeter
    topology: Topology
    warnings: tuple[Diagnostic, ...] = ()  # what the reader warns of; the answers still hold


def open_explainer(spec_path: Path, tf_root: Path | None = None) -> Explainer:
    """Read the spec and the Terraform under ``tf_root`` (default: beside the spec).

    Raises XflowError for an invalid spec or Terraform the verifier refuses to read; what the
    reader only warns of is kept in ``warnings``.
    """
    from xflow_perimeter.prove.network_paths import topology
    from xflow_perimeter.prove.request_classes import constants
    from xflow_perimeter.terraform import perimeter as perimeters
    from xflow_perimeter.terraform.reader import read_tree

    spec = load_spec(spec_path)
    root = tf_root if tf_root is not None else default_output(spec_path)
    perimeter = perimeters.read_perimeter(read_tree(root, spec_path=spec_path), spec.exceptions)
    warnings = tuple(d for d in perimeter.refusals if d.severity is Severity.WARNING)
    if len(warnings) < len(perimeter.refusals):
        raise XflowError(list(perimeter.refusals))
    matched = topology(spec, perimeter, constants(perimeter.policies()).vpces)
    return Explainer(spec, root, perimeter, matched, warnings)


def explain(explainer: Explainer, request: ExplainRequest) -> ExplainResult:
    """Decide one request against the Terraform, with the statements that decided it.

    Raises ExplainError for a request that names what the spec does not have, is malformed, or
    meets a policy construct the evaluator does not model.
    """
    from xflow_perimeter.prove.explain import ExplainError, explain_one

    try:
        return explain_one(explainer.spec, explainer.perimeter, explainer.topology, request)
    except ExplainError:
        raise
    except ValueError as error:
        raise ExplainError(str(error)) from error


def explain_batch(explainer: Explainer, lines: Iterable[str]) -> Iterator[BatchAnswer]:
    """One answer per non-blank JSON Lines request in ``lines``, in order; a line that cannot be
    answered gets its error instead. The shared work (every policy compiled) is done before
    this returns, so iterating costs only the requests themselves."""
    from xflow_perimeter.prove.explain import explain_lines, prepare_batch

    table = prepare_batch(explainer.spec, explainer.perimeter)
    return explain_lines(explainer.spec, explainer.perimeter, explainer.topology, lines, table)


__all__ = [
    "BatchAnswer",
    "CompileResult",
    "ExplainError",
    "ExplainRequest",
    "ExplainResult",
    "Explainer",
    "VerifyResult",
    "WriteBack",
    "XflowError",
    "compile_spec",
    "default_output",
    "explain",
    "explain_batch",
    "load_spec",
    "open_explainer",
    "verify",
]
