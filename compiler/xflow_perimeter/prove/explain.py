"""Explain: decide one request (or a batch) against the committed Terraform, with the reasons."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from xflow_perimeter.iam.evaluate import (
    ALLOW_EVERYONE_POLICY,
    Decision,
    Layer,
    UnsupportedPolicyError,
    compiled_policy,
    evaluate,
)
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.findings import RequestFields, request_fields
from xflow_perimeter.prove.network_paths import INTERNET_IP, NoRoute, PathClass, Topology, route
from xflow_perimeter.spec.actions import lookup
from xflow_perimeter.spec.model import Bucket, Spec
from xflow_perimeter.spec.regions import REGIONS
from xflow_perimeter.terraform.perimeter import Perimeter

Identity = Literal["allow-all", "none"]


@dataclass(frozen=True, slots=True)
class ExplainRequest:
    """A request to explain, as the user gives it: principal, network, bucket, key and action."""

    principal: str | None  # IAM ARN; None: anonymous
    network: str | None  # spec network name; None: the internet
    bucket: str  # bucket name (or a spec bucket key)
    bucket_account: str | None = None  # None: the spec bucket's account
    bucket_region: str | None = None  # None: the spec bucket's Region, else the network's
    key: str | None = None  # object key; for listing actions, the s3:prefix
    action: str = "s3:GetObject"
    identity: Identity = "allow-all"


@dataclass(frozen=True, slots=True)
class ExplainResult:
    """An explained request: the decision and its reasons, and the request as evaluated."""

    request: ExplainRequest
    decision: Decision
    description: str  # the request as evaluated, in words
    fields: RequestFields  # the request as evaluated, as fields

    def to_json(self) -> dict[str, object]:
        """The library's plain form (locations as the reader gives them); the CLI's JSON
        report, with its schema, is report.structured's."""
        return {
            "decision": "allow" if self.decision.allowed else "deny",
            "reason": self.decision.reason,
            "request": self.description,
            "deciding": [
                {
                    "layer": layer,
                    "sid": statement.sid,
                    "location": str(statement.span) if statement.span else None,
                }
                for layer, statement in self.decision.deciding
            ],
        }


class ExplainError(ValueError):
    """A request that names something the spec does not have, or is malformed."""


def _caller(spec: Spec, principal: str | None) -> Caller:
    if principal is None:
        return Caller(arn=None, account=None)
    named = next((p.arn for p in spec.principals if p.key == principal), None)
    if named is not None:  # a spec principal's name, as assertions accept
        return _caller(spec, named)
    parts = principal.split(":")
    if len(parts) < 6 or parts[:3] != ["arn", "aws", "iam"] or not parts[4].isdigit():
        names = ", ".join(p.key for p in spec.principals) or "none"
        raise ExplainError(
            f"principal must be an IAM ARN, a spec principal ({names}) or 'anonymous': "
            f"{principal!r}"
        )
    return Caller(arn=principal, account=parts[4])


def _path(
    spec: Spec, topology: Topology, network: str | None, bucket_region: str | None
) -> PathClass | NoRoute:
    """The path the request takes: from the internet, or the way its network routes it to a
    bucket in ``bucket_region`` (None: the network's own Region)."""
    if network is None:
        return PathClass(
            "internet", None, NetworkPath(source_ip=INTERNET_IP), None, None, "the internet"
        )
    found = next((n for n in spec.networks if n.name == network), None)
    if found is None:
        raise ExplainError(f"unknown network {network!r}; use a spec network name or 'internet'")
    return route(topology, found, bucket_region or found.region)


def _region(bucket_spec: Bucket | None, given: str | None) -> str | None:
    """The bucket's Region: the spec's for a spec bucket, else the one given (None: the
    network's)."""
    if given is not None and given not in REGIONS:
        raise ExplainError(f"unknown AWS Region {given!r} for the bucket")
    if bucket_spec is None:
        return given
    if given is not None and given != bucket_spec.region:
        raise ExplainError(
            f"bucket {bucket_spec.name} is in {bucket_spec.region} in the spec, not {given}"
        )
    return bucket_spec.region


@dataclass(frozen=True, slots=True)
class Lookup:
    """Spec buckets (by name and by spec key) and bucket policies by name, built once per batch."""

    buckets: dict[str, Bucket]
    policies: dict[str, PolicyDocument | None]

    @classmethod
    def of(cls, spec: Spec, perimeter: Perimeter) -> Lookup:
        buckets = {b.key: b for b in spec.buckets} | {b.name: b for b in spec.buckets}
        policies: dict[str, PolicyDocument | None] = {}
        for item in perimeter.bucket_policies:
            policies.setdefault(item.bucket, item.policy)
        return cls(buckets, policies)


def explain_one(
    spec: Spec,
    perimeter: Perimeter,
    topology: Topology,
    ask: ExplainRequest,
    lookup_table: Lookup | None = None,
) -> ExplainResult:
    table = lookup_table or Lookup.of(spec, perimeter)
    bucket_spec = table.buckets.get(ask.bucket)
    name = bucket_spec.name if bucket_spec else ask.bucket
    account = ask.bucket_account or (bucket_spec.account_id if bucket_spec else None)
    if account is None:
        raise ExplainError(f"bucket {ask.bucket!r} is not in the spec: give its account too")
    action = lookup(ask.action)
    if action is None:
        raise ExplainError(f"unknown S3 action {ask.action!r}")
    action_name = action.name
    object_level = action.resource == "object"
    key = ask.key if object_level else None
    if object_level and key is None:
        key = "xflow-example-key"
    list_prefix = ask.key if action.prefix_key else None
    in_spec = bucket_spec is not None and account == bucket_spec.account_id
    region = _region(bucket_spec if in_spec else None, ask.bucket_region)
    path = _path(spec, topology, ask.network, region)
    policy: PolicyDocument | None
    if in_spec:
        policy = table.policies.get(name)
        owner = "a spec bucket"
    else:
        policy = ALLOW_EVERYONE_POLICY
        owner = "a bucket outside the spec, assumed to allow everyone"
    request = Request(
        caller=_caller(spec, ask.principal),
        action=action_name,
        bucket=name,
        bucket_account=account,
        key=key,
        list_prefix=list_prefix,
        path=path.path if isinstance(path, PathClass) else NetworkPath(),
    )
    if isinstance(path, NoRoute):
        decision = Decision(False, path.reason, ())
    else:
        decision = evaluate(
            request,
            bucket_policy=policy,
            endpoint_policy=path.endpoint_policy,
            identity=ask.identity,
        )
    where = (
        f"key {key}"
        if key is not None
        else f"s3:prefix {list_prefix!r}"
        if list_prefix
        else "the bucket"
    )
    description = (
        f"{action_name} by {ask.principal or 'anonymous'} (identity policy: {ask.identity}) on "
        f"{name} in account {account} ({owner}), {where}, from {path.label}"
    )
    fields = request_fields(
        request,
        path,
        region=region,
        identity=ask.identity,
    )
    return ExplainResult(ask, decision, description, fields)


FIELDS = {
    "principal",
    "network",
    "bucket",
    "bucket_account",
    "bucket_region",
    "key",
    "action",
    "identity",
}


def parse_request_line(line: str) -> ExplainRequest:
    """One JSON Lines request: {"principal", "network", "bucket", "bucket_account",
    "bucket_region", "key", "action", "identity"}."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise ExplainError(f"not JSON: {error.msg}") from error
    if not isinstance(raw, dict):
        raise ExplainError("each line must be a JSON object")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ExplainError(f"unknown field(s): {', '.join(unknown)}")
    for name in ("bucket", "action"):
        if not isinstance(raw.get(name), str):
            raise ExplainError(f"field {name!r} is required and must be a string")
    for name in FIELDS - {"bucket", "action"}:
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise ExplainError(f"field {name!r} must be a string")
    raw_identity = raw.get("identity") or "allow-all"
    if raw_identity not in ("allow-all", "none"):
        raise ExplainError("identity must be allow-all or none")
    identity: Identity = "none" if raw_identity == "none" else "allow-all"
    principal = raw.get("principal")
    network = raw.get("network")
    return ExplainRequest(
        principal=None if principal in (None, "anonymous") else principal,
        network=None if network in (None, "internet") else network,
        bucket=raw["bucket"],
        bucket_account=raw.get("bucket_account"),
        bucket_region=raw.get("bucket_region"),
        key=raw.get("key"),
        action=raw["action"],
        identity=identity,
    )


def _compile_all(perimeter: Perimeter) -> None:
    """Compile every policy once before a batch, so each request costs only its evaluation
    (the first request to touch a policy would otherwise pay for compiling it)."""
    layers: list[tuple[PolicyDocument | None, Layer]] = [
        (p.policy, "bucket") for p in perimeter.bucket_policies
    ]
    layers += [(e.policy, "endpoint") for e in perimeter.endpoints]
    for policy, layer in layers:
        if policy is None:
            continue
        try:
            compiled_policy(policy, layer)
        except UnsupportedPolicyError:
            continue  # each request that reaches it reports the refusal itself


def prepare_batch(spec: Spec, perimeter: Perimeter) -> Lookup:
    """Everything a batch of requests shares: the lookup table, and every policy compiled."""
    table = Lookup.of(spec, perimeter)
    _compile_all(perimeter)
    return table


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """The answer to one line of a batch: its result, or why the line could not be answered."""

    line: int  # 1-based line number in the batch
    result: ExplainResult | None
    error: str | None = None

    @property
    def outcome(self) -> Literal["allow", "deny", "error"]:
        if self.result is None:
            return "error"
        return "allow" if self.result.decision.allowed else "deny"

    def to_json(self) -> dict[str, object]:
        if self.result is None:
            return {"line": self.line, "error": self.error}
        return {"line": self.line, **self.result.to_json()}


def explain_lines(
    spec: Spec,
    perimeter: Perimeter,
    topology: Topology,
    lines: Iterable[str],
    table: Lookup | None = None,
) -> Iterator[BatchAnswer]:
    """One answer per non-blank line (``table`` from ``prepare_batch``)."""
    if table is None:
        table = prepare_batch(spec, perimeter)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            result = explain_one(spec, perimeter, topology, parse_request_line(line), table)
        except (ExplainError, ValueError) as error:
            yield BatchAnswer(number, None, str(error))
            continue
        yield BatchAnswer(number, result)
