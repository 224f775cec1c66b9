"""The library API behind the CLI: load a spec, compile it, write or check its Terraform."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, XflowError
from xflow_perimeter.spec import build, model, schema, source
from xflow_perimeter.synth import limits, output, plan, render
from xflow_perimeter.synth.output import Change, WriteBack


@dataclass(frozen=True, slots=True)
class CompileResult:
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
    return limits.enforce(plan.build(spec, spec_name))


def generate(spec: model.Spec, spec_name: str) -> tuple[plan.Plan, dict[str, str]]:
    """Plan and render a spec's Terraform in memory."""
    planned = plan_spec(spec, spec_name)
    return planned, render.render(planned)


def compile_spec(
    spec_path: Path,
    output_root: Path | None = None,
    writeback: WriteBack = WriteBack.WRITE,
    *,
    self_check: bool = True,
    prove: bool = False,
) -> CompileResult:
    """Compile ``spec_path`` into Terraform under ``output_root`` (default: beside the spec).

    With WriteBack.CHECK or DIFF nothing is written; ``changes`` says what is stale (XF304 if
    an interrupted compile left the output journalled). Output problems are XF302 (exit 2).
    ``self_check``: read the output back before writing it (see selfcheck.py); ``prove``: also
    run verify's exposure proof on it.
    Raises XflowError for an invalid spec (exit 2) or a failed self-check (exit 3).
    """
    root = output_root if output_root is not None else default_output(spec_path)
    spec = load_spec(spec_path)
    planned = plan_spec(spec, spec_path.name)
    if self_check:
        from xflow_perimeter.synth.selfcheck import render_checked

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


__all__ = [
    "CompileResult",
    "WriteBack",
    "XflowError",
    "compile_spec",
    "default_output",
    "load_spec",
]
