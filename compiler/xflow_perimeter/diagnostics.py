"""Diagnostics: source spans, stable error codes, exit codes and the exception that carries them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_FINDINGS = 1  # drift under --check, or the Terraform's exposure differs from the spec
EXIT_INVALID = 2  # invalid spec, invalid Terraform, refused construct, or bad usage
EXIT_INTERNAL = 3  # a bug in xflow (including a failed self-check of compile's own output)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# The catalogue of diagnostic codes. Codes are stable: tests and users match on them, never on wording.
CODES: dict[str, str] = {
    # Reading the spec (XF0xx)
    "XF001": "the spec file cannot be read",
    "XF002": "YAML syntax error",
    "XF003": "duplicate mapping key",
    "XF004": "mapping key is not a plain string",
    "XF005": "YAML construct not allowed in a spec (custom tag)",
    # Schema (XF1xx)
    "XF101": "required field missing",
    "XF102": "unknown field",
    "XF103": "wrong type (YAML read an unquoted value as a number, boolean or null)",
    "XF104": "value does not match the allowed pattern or values",
    "XF105": "other schema violation",
    # Semantics (XF2xx)
    "XF201": "unknown reference",
    "XF202": "duplicate name or value",
    "XF203": "invalid S3 bucket name",
    "XF205": "unknown AWS Region",
    "XF206": "route table claimed by two networks",
    "XF207": "VPC or endpoint claimed by two networks",
    "XF208": "unknown S3 action or one that cannot be scoped to a bucket",
    "XF209": "invalid key prefix",
    "XF210": "flow crosses Regions: a gateway endpoint serves only buckets in its own Region",
    "XF211": "duplicate flow",
    "XF212": "invalid assertion",
    "XF213": "a flow needs either a principal and a network, or a service",
    "XF220": "warning: bucket has no admin in its own account (lockout risk)",
    # Compile (XF3xx)
    "XF301": "policy over AWS's size limit",
    "XF302": "output directory problem",
    "XF303": "compile's self-check found the generated Terraform wrong (a bug in xflow)",
    "XF304": "an interrupted (or running) compile left the output journalled, maybe half replaced",
    "XF305": "note: output without an ownership manifest, from an older xflow (adopted or left)",
    "XF306": "note: compile finished or rolled back an interrupted compile, or removed its leftovers",
    # Reading Terraform (XF4xx)
    "XF401": "Terraform file cannot be parsed",
    "XF402": "policy is not a literal jsonencode({...}) object",
    "XF403": "unresolved reference or variable",
    "XF404": "policy construct the verifier does not model",
    "XF405": "second policy for one bucket or endpoint",
    "XF406": "malformed policy document",
    "XF407": "resource the verifier does not recognise in generated output",
    # Verify findings (XF5xx)
    "XF501": "unintended access",
    "XF502": "intended flow denied",
    "XF503": "a layer is wider than its share of the spec (masked by the other layer)",
    "XF504": "route table not associated with its network's endpoint",
    "XF505": "missing policy or endpoint for the spec",
    "XF506": "assertion failed",
    "XF507": "endpoint or association the spec does not declare",
    "XF508": "a network's other egress bypasses the endpoint policy",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code}")

    def render(self) -> str:
        where = f"{self.span}: " if self.span else ""
        lines = [f"{where}{self.severity.value} {self.code}: {self.message}"]
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    span = diagnostic.span
    if span is None:
        return ("", 0, 0, diagnostic.code)
    return (span.file, span.line, span.column, diagnostic.code)


class XflowError(Exception):
    """Raised at a stage boundary with every diagnostic that stage found."""

    def __init__(
        self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...], exit_code: int = EXIT_INVALID
    ):
        self.diagnostics = tuple(sorted(diagnostics, key=sort_key))
        self.exit_code = exit_code
        super().__init__("\n".join(d.render() for d in self.diagnostics))
