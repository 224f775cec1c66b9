"""Verify's checks, one module each, run in order by prove.verify (its tuple CHECKS).

A check reads a ``CheckContext`` (the spec, the Terraform read back, the matched topology and,
unless only the structure is checked, the verifier) and returns a ``CheckResult``. A refusal
stops the checks after it: what they would prove rests on a construct the verifier cannot read.
Adding a check is adding a module here and a line to CHECKS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.prove.findings import Finding
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.terraform.perimeter import Perimeter

if TYPE_CHECKING:  # the structure check runs without them (compile's self-check never loads them)
    from xflow_perimeter.prove.network_paths import Topology
    from xflow_perimeter.prove.verifier import Verifier


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check reads: the spec, the Terraform read back, the matched topology and, unless only
    the structure is checked, the verifier."""

    spec: Spec
    perimeter: Perimeter
    topology: Topology
    verifier: Verifier | None  # None when only the structure is checked (compile's self-check)
    workers: int | None  # worker processes for the exposure proof; None: decide by size

    @property
    def proof(self) -> Verifier:
        """The verifier, for the checks that need the exposure proof's state."""
        if self.verifier is None:
            raise RuntimeError("this check needs the exposure proof, and it was not asked for")
        return self.verifier


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a check found: findings, refusals (which stop later checks), exceptions, warnings."""

    findings: tuple[Finding, ...] = ()
    refusals: tuple[Diagnostic, ...] = ()
    exceptions: tuple[str, ...] = ()  # exposure the spec accepts, listed in the report
    warnings: tuple[Diagnostic, ...] = ()  # printed, never a refusal: they change no exit code


@dataclass(frozen=True, slots=True)
class Check:
    """One of verify's checks; a structural one runs without the exposure proof (and before it)."""

    name: str
    run: Callable[[CheckContext], CheckResult]
    structural: bool = False  # runs without the exposure proof (before every check that needs it)
