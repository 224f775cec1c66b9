"""The audit's findings and report, and what the audit does not read."""

from __future__ import annotations

from dataclasses import dataclass, field

from xflow_perimeter.diagnostics import EXIT_FINDINGS, EXIT_OK, Diagnostic, Span, sort_key

LIMITS = (
    "The audit reads the spec's VPCs and buckets only; S3 traffic from other VPCs is verify's "
    "'foreign endpoint' and 'internet' request classes.",
    "Object ACLs are not read (with BucketOwnerEnforced they do not apply); multi-Region access "
    "points and access points owned by other accounts are not listed.",
    "Routes are checked for default routes (0.0.0.0/0, ::/0) and routes to the S3 prefix list; "
    "narrower routes through NAT or internet gateways are not examined.",
    "SCPs, RCPs and identity policies are not read.",
)

# Each assumption verify's proof rests on, and whether the audit checks it on the deployment.
CHECKED = (
    "What is deployed is what is committed: endpoint and bucket policies, route-table "
    "associations (XF610-XF613); the proof is also run on the deployed perimeter itself.",
    "No other S3 endpoint (gateway or interface) serves a spec VPC (XF616).",
    "Object ownership is BucketOwnerEnforced, so ACLs are disabled (XF617, XF618).",
    "Public access is blocked on every spec bucket or its account (XF619).",
    "Networks reach S3 only as their declared egress says: route tables and default routes "
    "(XF614, XF615).",
)
ASSUMED = (
    "Every caller's identity policy allows every action (the worst case an intruder can write); "
    "identity policies are not read.",
    "SCPs, RCPs, permission boundaries and session policies are not read: they can only remove "
    "access, so 'nothing else' still holds, but a flow may be denied by them.",
)


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One finding of the audit: code, message, where, and the account and Region it concerns."""

    code: str
    message: str
    span: Span | None = field(default=None, compare=False)
    account_id: str = ""
    region: str = ""
    notes: tuple[str, ...] = ()

    def to_diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, self.message, self.span, notes=self.notes)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "location": str(self.span) if self.span else None,
            "account": self.account_id or None,
            "region": self.region or None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What the audit found and read, what verify's proof established about the deployed perimeter,
    and what the audit checks, assumes and leaves out."""

    findings: tuple[AuditFinding, ...]
    accounts: int  # accounts in the spec
    account_regions: int  # (account, Region) pairs read
    networks: int
    buckets: int
    limits: tuple[str, ...] = LIMITS
    proof: str = ""  # what verify's proof established about the deployed perimeter
    checked: tuple[str, ...] = CHECKED
    assumed: tuple[str, ...] = ASSUMED

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.findings else EXIT_OK

    @property
    def unchecked(self) -> int:
        """Findings that say something could not be read (so could not be checked)."""
        return sum(1 for f in self.findings if f.code in ("XF601", "XF602"))

    def to_json(self) -> dict[str, object]:
        return {
            "result": "clean" if not self.findings else "findings",
            "findings": [f.to_json() for f in self.findings],
            "unchecked": self.unchecked,
            "read": {
                "accounts": self.accounts,
                "account_regions": self.account_regions,
                "networks": self.networks,
                "buckets": self.buckets,
            },
            "deployed_proof": self.proof,
            "checked": list(self.checked),
            "assumed": list(self.assumed),
            "limits": list(self.limits),
        }


def sorted_findings(findings: list[AuditFinding]) -> tuple[AuditFinding, ...]:
    return tuple(
        sorted(
            dict.fromkeys(findings),
            key=lambda f: (*sort_key(f.to_diagnostic()), f.account_id, f.region, f.message),
        )
    )
