"""One side of a diff: a spec and the Terraform as committed beside it, read as verify reads it.

A side whose Terraform verify would refuse (an exit-2 diagnostic) is not diffed: its exposure
is not proven, so any comparison with it could say "unchanged" wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xflow_perimeter.api import default_output, load_spec
from xflow_perimeter.diagnostics import Diagnostic, Severity, XflowError
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.prove.checks import structure
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import read_tree


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: a spec and its Terraform, read as verify reads them."""

    label: str
    spec: Spec
    perimeter: Perimeter
    # bucket name -> its policy in the Terraform (the first, as verify reads it)
    bucket_policies: dict[str, PolicyDocument | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for policy in self.perimeter.bucket_policies:
            self.bucket_policies.setdefault(policy.bucket, policy.policy)


@dataclass(frozen=True, slots=True)
class Refused:
    """A side verify would refuse, with the diagnostics that say why; it is not diffed."""

    label: str
    diagnostics: tuple[Diagnostic, ...]


def load_side(label: str, spec_path: Path, tf_root: Path | None) -> Side | Refused:
    """Read ``spec_path`` and its Terraform (default: ``terraform/`` beside it)."""
    root = tf_root if tf_root is not None else default_output(spec_path)
    try:
        spec = load_spec(spec_path)
        if not root.is_dir():
            raise XflowError([Diagnostic("XF302", f"Terraform directory {root} does not exist")])
        perimeter = read_perimeter(read_tree(root, spec_path=spec_path), spec.exceptions)
    except XflowError as error:
        return Refused(label, tuple(error.diagnostics))
    refusals = [d for d in perimeter.refusals if d.severity is not Severity.WARNING]
    if not refusals:
        refusals = list(structure.check_alone(spec, perimeter).refusals)
    if refusals:
        return Refused(label, tuple(refusals))
    return Side(label, spec, perimeter)
