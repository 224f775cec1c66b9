"""The committed side of the audit: the spec and its Terraform, read as verify reads them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from xflow_perimeter.diagnostics import Severity, Span, XflowError
from xflow_perimeter.iam.evaluate import DEFAULT_ENDPOINT_POLICY
from xflow_perimeter.iam.policy import JsonValue, to_json
from xflow_perimeter.prove.checks import structure
from xflow_perimeter.prove.endpoints import match_endpoints
from xflow_perimeter.spec.model import Network, Spec
from xflow_perimeter.terraform.perimeter import (
    Perimeter,
    TfAssociation,
    TfBucketPolicy,
    TfEndpoint,
    read_perimeter,
)
from xflow_perimeter.terraform.reader import read_tree


@dataclass(frozen=True, slots=True)
class Committed:
    """The committed side of the audit: the spec and its Terraform, read as verify reads them."""

    spec: Spec
    perimeter: Perimeter
    endpoints: tuple[tuple[str, TfEndpoint], ...]  # network name -> its endpoint in the Terraform
    root: Path

    def span(self, span: Span | None) -> Span | None:
        """A Terraform span relative to the working directory, like the spec's."""
        if span is None:
            return None
        return replace(span, file=(self.root / span.file).as_posix())

    def endpoint(self, network: Network) -> TfEndpoint | None:
        return next((e for name, e in self.endpoints if name == network.name), None)

    def endpoint_policy(self, endpoint: TfEndpoint) -> JsonValue:
        """The committed policy as JSON data (no policy attribute: AWS's default full access)."""
        return to_json(endpoint.policy if endpoint.policy is not None else DEFAULT_ENDPOINT_POLICY)

    def associations(self, endpoint: TfEndpoint) -> dict[str, TfAssociation]:
        """Route table id -> the committed association of ``endpoint`` with it."""
        return {
            a.route_table_id: a
            for a in self.perimeter.associations
            if (a.endpoint_address is not None and a.endpoint_address == endpoint.address)
            or (a.endpoint_id is not None and a.endpoint_id == endpoint.endpoint_id)
        }

    def bucket_policy(self, bucket_name: str) -> TfBucketPolicy | None:
        return next((p for p in self.perimeter.bucket_policies if p.bucket == bucket_name), None)


def load_committed(spec: Spec, root: Path) -> Committed:
    """Read the committed Terraform under ``root``; XflowError (exit 2) if verify would refuse it."""
    perimeter = read_perimeter(read_tree(root, spec_path=Path(spec.path)), spec.exceptions)
    match = match_endpoints(spec, perimeter)
    checked = structure.check_alone(spec, perimeter, match)
    refusals = [d for d in checked.refusals if d.severity is Severity.ERROR]
    committed = Committed(spec, perimeter, tuple(sorted(match.endpoints.items())), root)
    if refusals:
        raise XflowError([replace(d, span=committed.span(d.span)) for d in refusals])
    return committed
