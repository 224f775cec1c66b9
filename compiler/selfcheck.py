"""Compile's self-check of the Terraform about to be written, before writing it.

Always: the files parse back (with the same reader verify uses) into exactly the planned policies,
endpoints and route-table associations, with nothing verify would refuse. That catches any
rendering or escaping fault on the spec at hand. With ``prove``, compile also runs the whole
exposure proof of ``xflow verify`` on them, which costs as much as a verify.
"""

from __future__ import annotations

from .errors import EXIT_INTERNAL, Diagnostic, XflowError
from .hcl import TfTree, read_text
from .model import Spec
from .plan import Plan
from .policy import PolicyDocument, to_json
from .tfmodel import Perimeter, read_perimeter
from .verify import verify_perimeter


def check_generated(spec: Spec, planned: Plan, files: dict[str, str], *, prove: bool) -> None:
    """Raise XflowError (exit 3) unless the generated files read back as planned (and, with
    ``prove``, verify exactly against the spec)."""
    tree = TfTree(
        files=tuple(read_text(text, path) for path, text in sorted(files.items())),
        problems=(),
    )
    perimeter = read_perimeter(tree)
    report = verify_perimeter(spec, perimeter, structure_only=not prove)
    problems = [*report.refusals, *(f.to_diagnostic() for f in report.findings)]
    if not problems:
        problems = _differences(planned, perimeter)
    if problems:
        summary = Diagnostic(
            "XF303",
            "the generated Terraform does not verify against the spec, so nothing was written; "
            "this is a bug in xflow, please report it with the spec (compile --fast skips this check)",
        )
        raise XflowError([summary, *problems], exit_code=EXIT_INTERNAL)


def _differences(planned: Plan, perimeter: Perimeter) -> list[Diagnostic]:
    """Planned policies that do not read back identically from the rendered files."""
    bucket_policies = {p.address: p.policy for p in perimeter.bucket_policies}
    endpoints = {e.address: e.policy for e in perimeter.endpoints}
    out = []
    expected = 0
    for module in planned.modules:
        for bucket_policy in module.bucket_policies:
            expected += 1
            address = f"{module.directory}/aws_s3_bucket_policy.{bucket_policy.resource_name}"
            if not _same(bucket_policies.get(address), bucket_policy.policy):
                out.append(
                    Diagnostic("XF303", f"{address}: the policy does not read back as planned")
                )
        for endpoint in module.endpoints:
            expected += 1
            kind = "aws_vpc_endpoint_policy" if endpoint.network.endpoint_id else "aws_vpc_endpoint"
            address = f"{module.directory}/{kind}.{endpoint.resource_name}"
            if not _same(endpoints.get(address), endpoint.policy):
                out.append(
                    Diagnostic("XF303", f"{address}: the policy does not read back as planned")
                )
    if expected != len(perimeter.bucket_policies) + len(perimeter.endpoints):
        out.append(Diagnostic("XF303", "the files hold policies that were not planned"))
    return out


def _same(parsed: PolicyDocument | None, planned: PolicyDocument) -> bool:
    # As JSON data: the renderer orders condition operators and keys, the plan need not.
    return parsed is not None and to_json(parsed) == to_json(planned)
