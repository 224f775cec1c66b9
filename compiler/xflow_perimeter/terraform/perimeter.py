"""Verify's reading stage: the perimeter resources of a Terraform tree as typed data.

The closed world (:mod:`~xflow_perimeter.terraform.closed_world`) decides which blocks are
perimeter resources and refuses what is not modelled. Everything the verifier cannot take at face
value in a perimeter resource (a policy that is not a literal jsonencode or is larger than AWS
accepts, an unresolved reference, a second policy for one bucket, an unsupported construct)
becomes a diagnostic with its location; nothing is skipped silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.iam.matching import unsupported
from xflow_perimeter.iam.policy import (
    BUCKET_POLICY_LIMIT,
    ENDPOINT_POLICY_LIMIT,
    PolicyDocument,
    PolicyParseError,
    compact_size,
    parse_policy,
)
from xflow_perimeter.spec.model import DeclaredException
from xflow_perimeter.terraform.catalogue import S3_GATEWAY_SERVICE
from xflow_perimeter.terraform.closed_world import Excepted, close
from xflow_perimeter.terraform.reader import (
    Block,
    JsonEncoded,
    Literal,
    Opaque,
    Reference,
    SkippedModule,
    TfTree,
    Value,
)

_ENDPOINT_REF = re.compile(r"^aws_vpc_endpoint\.([A-Za-z_][A-Za-z0-9_-]*)\.id$")


@dataclass(frozen=True, slots=True)
class TfEndpoint:
    """An S3 gateway endpoint as read from the Terraform, created there or adopted (policy only)."""

    address: str  # "module/resource_type.name"
    module: str
    vpc_id: str | None  # None for an adopted endpoint (aws_vpc_endpoint_policy)
    endpoint_id: str | None  # the literal vpce id of an adopted endpoint
    region: str | None
    policy: PolicyDocument | None  # None: no policy attribute, so AWS's default full access
    span: Span | None = field(compare=False)  # None: an existing endpoint outside the Terraform
    inline_route_tables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TfAssociation:
    """An association of an endpoint with a route table, as read from the Terraform (a resource of
    its own, or one of the endpoint's route_table_ids)."""

    address: str
    endpoint_address: str | None  # resolved aws_vpc_endpoint in the same module
    endpoint_id: str | None  # or a literal vpce id
    route_table_id: str
    span: Span | None = field(compare=False)


@dataclass(frozen=True, slots=True)
class TfBucketPolicy:
    """A bucket policy as read from the Terraform: the bucket it governs, its policy and where it
    was written."""

    address: str
    bucket: str
    policy: PolicyDocument | None
    span: Span | None = field(compare=False)


@dataclass(frozen=True, slots=True)
class Perimeter:
    """What verify reads from a Terraform tree: its endpoints, associations and bucket policies, the
    refusals, and what it leaves out by declaration."""

    endpoints: tuple[TfEndpoint, ...]
    associations: tuple[TfAssociation, ...]
    bucket_policies: tuple[TfBucketPolicy, ...]
    refusals: tuple[Diagnostic, ...]  # constructs that stop the proof (exit 2)
    excepted: tuple[Excepted, ...] = ()  # blocks the spec's exceptions accept
    skipped: tuple[SkippedModule, ...] = ()  # module directories left to other specs

    def policies(self) -> list[PolicyDocument | None]:
        """Every policy in the tree: bucket policies, then endpoint policies (None: AWS's default)."""
        return [p.policy for p in self.bucket_policies] + [e.policy for e in self.endpoints]

    def declared(self) -> tuple[str, ...]:
        """What the proof leaves out by declaration, one line each, for verify's report."""
        lines = [
            f"{e.address} ({e.span}) is not modelled; accepted by the spec: {e.reason}"
            for e in self.excepted
        ]
        lines += [
            f"module directory {s.directory or '.'} belongs to spec {s.spec} ({s.span.file}); "
            "not read"
            for s in self.skipped
        ]
        return tuple(lines)


class _Reader:
    def __init__(self) -> None:
        self.refusals: list[Diagnostic] = []

    def refuse(self, code: str, message: str, span: Span | None) -> None:
        self.refusals.append(Diagnostic(code, message, span))

    def literal(
        self, block: Block, name: str, address: str, *, required: bool = True
    ) -> str | None:
        found = block.attribute(name)
        if found is None:
            if required:
                self.refuse("XF403", f"{address} has no {name}", block.span)
            return None
        value, span = found
        if isinstance(value, Literal) and isinstance(value.value, str):
            return value.value
        self.refuse(
            "XF403",
            f"{address}.{name} must be a literal string for the verifier to know it "
            f"(found {_describe(value)})",
            span,
        )
        return None

    def policy(
        self, block: Block, address: str, layer: str, *, required: bool
    ) -> PolicyDocument | None:
        found = block.attribute("policy")
        if found is None:
            if required:
                self.refuse("XF403", f"{address} has no policy", block.span)
            return None
        value, span = found
        if isinstance(value, Opaque) and value.kind in (
            "jsonencode-with-expressions",
            "duplicate-key",
        ):
            code = "XF403" if value.kind == "jsonencode-with-expressions" else "XF406"
            self.refuse(code, f"{address}.policy: {value.detail or value.kind}", value.span or span)
            return None
        if isinstance(value, Reference):
            self.refuse(
                "XF403",
                f"{address}.policy is {_describe(value)}, which the verifier cannot resolve; "
                "write the policy as jsonencode({...}) of literal values (xflow compile does)",
                span,
            )
            return None
        if not isinstance(value, JsonEncoded):
            self.refuse(
                "XF402",
                f"{address}.policy is {_describe(value)}; xflow verifies policies written as "
                "jsonencode({...}) of literal values (regenerate with xflow compile)",
                span,
            )
            return None
        in_bytes = layer == "bucket"
        limit = BUCKET_POLICY_LIMIT if in_bytes else ENDPOINT_POLICY_LIMIT
        size = compact_size(value.value, in_bytes=in_bytes)
        if size > limit:
            unit = "bytes" if in_bytes else "characters"
            self.refuse(
                "XF417",
                f"{address}.policy is {size:,} {unit}, over AWS's limit of {limit:,} for "
                f"{'a bucket' if in_bytes else 'an endpoint'} policy: AWS would reject it",
                span,
            )
            return None
        try:
            document = parse_policy(value.value, span, value.statement_spans)
        except PolicyParseError as error:
            code = "XF404" if error.unsupported else "XF406"
            self.refuse(code, f"{address}.policy: {error}", error.span or span)
            return None
        for statement, message in unsupported(
            document, "bucket" if layer == "bucket" else "endpoint"
        ):
            where = statement.span if statement is not None and statement.span else span
            sid = f" statement {statement.sid!r}" if statement is not None and statement.sid else ""
            self.refuse("XF404", f"{address}.policy{sid}: {message}", where)
        return document


def _describe(value: Value) -> str:
    if isinstance(value, Reference):
        return f"the reference {value.expression}"
    if isinstance(value, Opaque):
        return f"a {value.kind} expression"
    if isinstance(value, Literal):
        return "a plain string" if isinstance(value.value, str) else f"the literal {value.value!r}"
    return "a jsonencode expression"


def read_perimeter(tree: TfTree, exceptions: Sequence[DeclaredException] = ()) -> Perimeter:
    """Extract endpoints, route-table associations and bucket policies from ``tree``.

    Args:
        tree: the Terraform tree as read.
        exceptions: the spec's declared exceptions, which accept blocks xflow does not model.
    """
    reader = _Reader()
    reader.refusals.extend(tree.problems)
    world = close(tree, exceptions)
    reader.refusals.extend(world.refusals)
    endpoints: list[TfEndpoint] = []
    associations: list[tuple[Block, str, str]] = []
    bucket_policies: list[TfBucketPolicy] = []
    endpoint_policies: list[tuple[Block, str, str]] = []
    for item in world.perimeter:
        block, module, address = item.block, item.module, item.address
        kind = block.labels[0]
        if kind == "aws_vpc_endpoint":
            endpoint = _endpoint(reader, block, module, address)
            if endpoint is not None:
                endpoints.append(endpoint)
        elif kind == "aws_vpc_endpoint_policy":
            endpoint_policies.append((block, module, address))
        elif kind == "aws_vpc_endpoint_route_table_association":
            associations.append((block, module, address))
        elif kind == "aws_s3_bucket_policy":
            bucket = reader.literal(block, "bucket", address)
            policy = reader.policy(block, address, "bucket", required=True)
            if bucket is not None:
                bucket_policies.append(TfBucketPolicy(address, bucket, policy, block.span))
    endpoints = _attach_endpoint_policies(reader, endpoints, endpoint_policies)
    resolved = _associations(reader, endpoints, associations)
    _check_duplicate_bucket_policies(reader, bucket_policies)
    return Perimeter(
        endpoints=tuple(endpoints),
        associations=tuple(resolved),
        bucket_policies=tuple(bucket_policies),
        refusals=tuple(reader.refusals),
        excepted=world.excepted,
        skipped=tree.skipped,
    )


def _endpoint(reader: _Reader, block: Block, module: str, address: str) -> TfEndpoint | None:
    """An S3 gateway endpoint (the closed world has sent every other endpoint elsewhere)."""
    service = reader.literal(block, "service_name", address)
    if service is None:
        return None
    match = S3_GATEWAY_SERVICE.match(service)
    endpoint_type = reader.literal(block, "vpc_endpoint_type", address, required=False)
    if match is None or endpoint_type not in (None, "Gateway"):
        return None
    inline: tuple[str, ...] = ()
    found = block.attribute("route_table_ids")
    if found is not None:
        value, span = found
        items = value.items if isinstance(value, Opaque) and value.kind == "list" else ()
        if not items or not all(isinstance(i, Literal) and isinstance(i.value, str) for i in items):
            reader.refuse("XF403", f"{address}.route_table_ids must be a list of literal ids", span)
        inline = tuple(str(i.value) for i in items if isinstance(i, Literal))
    return TfEndpoint(
        address=address,
        module=module,
        vpc_id=reader.literal(block, "vpc_id", address),
        endpoint_id=None,
        region=match.group(1),
        policy=reader.policy(block, address, "endpoint", required=False),
        span=block.span,
        inline_route_tables=inline,
    )


def _attach_endpoint_policies(
    reader: _Reader, endpoints: list[TfEndpoint], policies: list[tuple[Block, str, str]]
) -> list[TfEndpoint]:
    out = {e.address: e for e in endpoints}
    seen: dict[str, str] = {}
    for block, module, address in policies:
        policy = reader.policy(block, address, "endpoint", required=True)
        found = block.attribute("vpc_endpoint_id")
        target: str | None = None
        if found is not None and isinstance(found[0], Reference):
            match = _ENDPOINT_REF.match(found[0].expression)
            candidate = (
                f"{module + '/' if module else ''}aws_vpc_endpoint.{match.group(1)}"
                if match
                else ""
            )
            if candidate in out:
                target = candidate
                if out[candidate].policy is not None:
                    reader.refuse(
                        "XF405",
                        f"{address} and {candidate} both set the policy of one endpoint",
                        block.span,
                    )
                out[candidate] = _replace_policy(out[candidate], policy)
            else:
                reader.refuse("XF403", f"{address}.vpc_endpoint_id: unresolved reference", found[1])
            continue
        endpoint_id = reader.literal(block, "vpc_endpoint_id", address)
        if endpoint_id is None:
            continue
        target = endpoint_id
        if target in seen:
            reader.refuse(
                "XF405", f"{address} and {seen[target]} both set the policy of {target}", block.span
            )
            continue
        seen[target] = address
        out[address] = TfEndpoint(
            address=address,
            module=module,
            vpc_id=None,
            endpoint_id=endpoint_id,
            region=None,
            policy=policy,
            span=block.span,
        )
    return sorted(out.values(), key=lambda e: e.address)


def _replace_policy(endpoint: TfEndpoint, policy: PolicyDocument | None) -> TfEndpoint:
    return TfEndpoint(
        endpoint.address,
        endpoint.module,
        endpoint.vpc_id,
        endpoint.endpoint_id,
        endpoint.region,
        policy,
        endpoint.span,
        endpoint.inline_route_tables,
    )


def _associations(
    reader: _Reader, endpoints: list[TfEndpoint], blocks: list[tuple[Block, str, str]]
) -> list[TfAssociation]:
    addresses = {e.address for e in endpoints}
    out: list[TfAssociation] = []
    for block, module, address in blocks:
        route_table = reader.literal(block, "route_table_id", address)
        found = block.attribute("vpc_endpoint_id")
        if route_table is None or found is None:
            if found is None:
                reader.refuse("XF403", f"{address} has no vpc_endpoint_id", block.span)
            continue
        value, span = found
        if isinstance(value, Reference):
            match = _ENDPOINT_REF.match(value.expression)
            candidate = (
                f"{module + '/' if module else ''}aws_vpc_endpoint.{match.group(1)}"
                if match
                else ""
            )
            if candidate not in addresses:
                reader.refuse("XF403", f"{address}.vpc_endpoint_id: unresolved reference", span)
                continue
            out.append(TfAssociation(address, candidate, None, route_table, block.span))
        elif isinstance(value, Literal) and isinstance(value.value, str):
            out.append(TfAssociation(address, None, value.value, route_table, block.span))
        else:
            reader.refuse(
                "XF403", f"{address}.vpc_endpoint_id must be a literal or a reference", span
            )
    for endpoint in endpoints:
        out.extend(
            TfAssociation(
                f"{endpoint.address}.route_table_ids", endpoint.address, None, rtb, endpoint.span
            )
            for rtb in endpoint.inline_route_tables
        )
    return out


def _check_duplicate_bucket_policies(reader: _Reader, policies: list[TfBucketPolicy]) -> None:
    by_bucket: dict[str, list[TfBucketPolicy]] = defaultdict(list)
    for policy in policies:
        by_bucket[policy.bucket].append(policy)
    for bucket, group in sorted(by_bucket.items()):
        for extra in group[1:]:
            reader.refuse(
                "XF405",
                f"{extra.address} is a second policy for bucket {bucket} (first: {group[0].address}); "
                "S3 keeps one policy per bucket and the last apply wins",
                extra.span,
            )
