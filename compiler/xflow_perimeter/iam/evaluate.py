"""Evaluate: decide one S3 request the way AWS does, from the bucket policy and the endpoint policy.

Order (IAM policy evaluation logic; S3 and PrivateLink guides):

1. An explicit Deny in the bucket policy or the traversed endpoint policy is final, except that
   the bucket owner's root user may always get, put and delete the bucket policy despite the
   bucket policy (an endpoint policy can still block it).
2. Through an endpoint, the endpoint policy must have a matching Allow; it never grants alone.
3. Anonymous: a bucket Allow must match. Service principal: a bucket Allow naming it (or "*").
   Same account: the identity policy, or a bucket Allow naming the caller itself ("*", its ARN);
   an account principal only delegates to the identity policy. Cross account: both.
4. RestrictPublicBuckets with a public bucket policy cancels anonymous and cross-account grants.

Anything outside the model raises ``UnsupportedPolicyError``; nothing is guessed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

from xflow_perimeter.iam.matching import (
    FULL,
    NONE,
    S3_ARN_PREFIX,
    CompiledStatement,
    Layer,
    Problems,
    action_matches,
    applies,
    compile_statement,
    match,
    resource_matches,
    unsupported,
)
from xflow_perimeter.iam.policy import POLICY_VERSION, PolicyDocument, Statement, parse_policy
from xflow_perimeter.iam.publicness import is_public
from xflow_perimeter.iam.request import Caller, NetworkPath, Request

__all__ = [
    "ALLOW_EVERYONE_POLICY",
    "DEFAULT_ENDPOINT_POLICY",
    "Caller",
    "Decision",
    "Identity",
    "Layer",
    "NetworkPath",
    "Request",
    "UnsupportedPolicyError",
    "compiled_policy",
    "evaluate",
    "is_public",
    "statement_matches",
    "unsupported",
]

Identity = Literal["allow-all", "none"]

# What AWS attaches to an endpoint created without a policy.
DEFAULT_ENDPOINT_POLICY = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
)

# Stands for a bucket xflow does not control (e.g. an attacker's): assume it lets anyone in.
ALLOW_EVERYONE_POLICY = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEveryone",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
            }
        ],
    }
)

# The bucket owner's root user may always manage the bucket policy, whatever it denies (S3 API
# reference): the lockout rule. Lower-cased, as actions are compared.
LOCKOUT_ACTIONS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})

_Target = tuple[str, str]  # lower-cased action, resource ARN


class UnsupportedPolicyError(ValueError):
    """Constructs (or request values) the evaluator does not model; ``problems`` lists them."""

    def __init__(self, problems: Problems):
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))

    def __reduce__(self) -> tuple[type[UnsupportedPolicyError], tuple[Problems]]:
        return (UnsupportedPolicyError, (self.problems,))  # workers send it back pickled


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, a short reason, and the (layer, statement) pairs that decided it."""

    allowed: bool
    reason: str
    deciding: tuple[tuple[str, Statement], ...]


def statement_matches(statement: Statement, request: Request, layer: Layer) -> bool:
    """Principal, action, resource and condition all match (any principal strength counts)."""
    compiled = compile_statement(statement, layer)
    if compiled.problems:
        raise UnsupportedPolicyError(tuple((statement, p) for p in compiled.problems))
    strength, decided = match(compiled, request, layer)
    if not decided:
        raise UnsupportedPolicyError(((statement, _UNDECIDED),))
    return strength != NONE


_UNDECIDED = (
    "whether the statement applies depends on a value not known for this request: one AWS does "
    "not document (a service principal's PrincipalArn or PrincipalAccount; whether a principal "
    "ARN differing only in case matches) or one the request leaves out (its SourceIp, SourceVpc "
    "or VpcSourceIp)"
)


@dataclass(frozen=True, slots=True)
class _Matches:
    """The statements of a policy that match a request: Allows, with their strength, and Denies."""

    allows: tuple[tuple[Statement, int], ...]
    denies: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class _Scan:
    """A policy's matches for a request, and statements whose match rests on an unknown value."""

    sure: _Matches
    maybe_allows: tuple[tuple[Statement, int], ...]
    maybe_denies: tuple[Statement, ...]

    @property
    def decided(self) -> bool:
        return not self.maybe_allows and not self.maybe_denies

    def most(self) -> _Matches:
        return _Matches(self.sure.allows + self.maybe_allows, self.sure.denies)

    def least(self) -> _Matches:
        return _Matches(self.sure.allows, self.sure.denies + self.maybe_denies)


@dataclass(frozen=True, slots=True)
class _CompiledPolicy:
    """A policy compiled for one layer: its statements compiled, whether it is modelled and public,
    and memos of which statements target what."""

    source: PolicyDocument
    statements: tuple[CompiledStatement, ...]  # aligned with the policy's statements
    modelled: bool
    public: bool
    # (lower-cased action, resource ARN) -> indices of the statements whose targets match
    # them; a memo, because a verifier asks about the same pair for many callers and paths.
    targeted: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)
    # bucket name -> indices of the statements whose resources may reach it (a superset),
    # plus the index it is built from (keys starting with "/", which no bucket name does)
    by_bucket: dict[str, tuple[int, ...]] = field(default_factory=dict)
    by_action: dict[str, frozenset[int]] = field(default_factory=dict)  # few distinct actions

    def targeting(self, action: str, resource: str) -> tuple[int, ...]:
        key = (action, resource)
        found = self.targeted.get(key)
        if found is None:
            if len(self.targeted) >= _MEMO_LIMIT:
                self.targeted.clear()
            statements = self.statements
            acting = self._acting(action)
            found = tuple(
                i
                for i in self._reaching(resource)
                if i in acting and resource_matches(statements[i], resource)
            )
            self.targeted[key] = found
        return found

    def _acting(self, action: str) -> frozenset[int]:
        """Statements whose Action element matches ``action`` (lower-cased)."""
        found = self.by_action.get(action)
        if found is None:
            found = frozenset(
                i
                for i, statement in enumerate(self.statements)
                if action_matches(statement, action)
            )
            self.by_action[action] = found
        return found

    def _reaching(self, resource: str) -> tuple[int, ...] | range:
        """Statements that may match ``resource``: on a large policy, those whose Resource can
        reach its bucket at all, so a request does not test every statement of it."""
        if len(self.statements) < 16 or not resource.startswith(S3_ARN_PREFIX):
            return range(len(self.statements))
        bucket = resource[len(S3_ARN_PREFIX) :].partition("/")[0]
        found = self.by_bucket.get(bucket)
        if found is None:
            if not self.by_bucket:
                self._index_buckets()
            named = self.by_bucket.get(f"/{bucket}", ())
            found = tuple(sorted({*named, *self.by_bucket["/*"]}))
            self.by_bucket[bucket] = found
        return found

    def _index_buckets(self) -> None:
        """One pass over the statements: ``/NAME`` keys list those whose every Resource names
        bucket NAME literally; ``/*`` those that may reach other buckets too."""
        named: dict[str, list[int]] = {}
        anywhere: list[int] = []
        for index, statement in enumerate(self.source.statements):
            buckets = _literal_buckets(statement)
            if buckets is None:
                anywhere.append(index)
            for bucket in buckets or ():
                named.setdefault(f"/{bucket}", []).append(index)
        self.by_bucket.update({key: tuple(value) for key, value in named.items()})
        self.by_bucket["/*"] = tuple(anywhere)


def _literal_buckets(statement: Statement) -> set[str] | None:
    """The buckets the statement's Resource names, or None if it may reach any bucket."""
    if statement.not_resources or not statement.resources:
        return None
    buckets = set()
    for resource in statement.resources:
        if not resource.startswith(S3_ARN_PREFIX):
            return None
        bucket = resource[len(S3_ARN_PREFIX) :].partition("/")[0]
        if "*" in bucket or "?" in bucket:
            return None
        buckets.add(bucket)
    return buckets


_MEMO_LIMIT = 8192


@functools.lru_cache(maxsize=65536)
def _compile_policy(policy: PolicyDocument, layer: Layer) -> _CompiledPolicy:
    statements = tuple(compile_statement(s, layer) for s in policy.statements)
    # The same test as ``not unsupported(policy, layer)``, reusing each statement's problems.
    modelled = policy.version == POLICY_VERSION and not any(c.problems for c in statements)
    return _CompiledPolicy(policy, statements, modelled, is_public(policy))


# Policies are immutable, so the hot path looks them up by identity (hashing a whole policy on
# every request would dominate the cost); the entry keeps the policy alive, so ids stay unique.
_BY_IDENTITY: dict[tuple[int, Layer], tuple[PolicyDocument, _CompiledPolicy]] = {}
_BY_IDENTITY_LIMIT = 65536


def _compiled(policy: PolicyDocument, layer: Layer) -> _CompiledPolicy:
    key = (id(policy), layer)
    hit = _BY_IDENTITY.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    compiled = _compile_policy(policy, layer)
    if not compiled.modelled:  # report this policy's own statements (and spans), not a twin's
        raise UnsupportedPolicyError(unsupported(policy, layer))
    if len(_BY_IDENTITY) >= _BY_IDENTITY_LIMIT:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[key] = (policy, compiled)
    return compiled


def compiled_policy(policy: PolicyDocument, layer: Layer) -> _CompiledPolicy:
    """The policy compiled for matching (memoised); raises UnsupportedPolicyError if not modelled."""
    return _compiled(policy, layer)


def _scan(policy: PolicyDocument | None, layer: Layer, request: Request, target: _Target) -> _Scan:
    if policy is None:
        return _Scan(_Matches((), ()), (), ())
    allows: list[tuple[Statement, int]] = []
    denies: list[Statement] = []
    maybe_allows: list[tuple[Statement, int]] = []
    maybe_denies: list[Statement] = []
    policy_compiled = _compiled(policy, layer)
    for index in policy_compiled.targeting(*target):
        statement, compiled = policy.statements[index], policy_compiled.statements[index]
        strength, decided = applies(compiled, request, layer)
        if strength == NONE:
            continue
        if compiled.deny:
            (denies if decided else maybe_denies).append(statement)
        else:
            (allows if decided else maybe_allows).append((statement, strength))
    return _Scan(_Matches(tuple(allows), tuple(denies)), tuple(maybe_allows), tuple(maybe_denies))


def evaluate(
    request: Request,
    *,
    bucket_policy: PolicyDocument | None,
    endpoint_policy: PolicyDocument | None,
    identity: Identity = "allow-all",
    restrict_public_buckets: bool = False,
) -> Decision:
    """Decide ``request`` as AWS would.

    Args:
        bucket_policy: the bucket's policy; None = the bucket has none.
        endpoint_policy: the traversed endpoint's policy (``DEFAULT_ENDPOINT_POLICY`` for an
            endpoint without one); must be None exactly when the request uses no endpoint.
        identity: the caller's identity policy, "allow-all" or "none" (the root user always has
            full identity permissions, whatever this says).
        restrict_public_buckets: Block Public Access RestrictPublicBuckets on the bucket.

    Raises:
        UnsupportedPolicyError: a policy uses a construct not modelled, or the answer depends on
            a request value AWS does not document.
    """
    if request.path.via_endpoint != (endpoint_policy is not None):
        raise ValueError("pass an endpoint policy exactly when the request uses an endpoint")
    target = (request.action.lower(), request.resource_arn)
    bucket = _scan(bucket_policy, "bucket", request, target)
    endpoint = None
    if endpoint_policy is not None:
        endpoint = _scan(endpoint_policy, "endpoint", request, target)
    cancelled = (
        restrict_public_buckets
        and bucket_policy is not None
        and _compiled(bucket_policy, "bucket").public
    )

    def decide(b: _Matches, e: _Matches | None) -> Decision:
        return _decide(request, b, e, identity, cancelled)

    if bucket.decided and (endpoint is None or endpoint.decided):
        return decide(bucket.sure, endpoint.sure if endpoint else None)
    most = decide(bucket.most(), endpoint.most() if endpoint else None)
    least = decide(bucket.least(), endpoint.least() if endpoint else None)
    if most.allowed == least.allowed:  # the undocumented values cannot change the answer
        return least if least.allowed else most
    maybe = [*bucket.maybe_denies, *(s for s, _ in bucket.maybe_allows)]
    if endpoint is not None:
        maybe += [*endpoint.maybe_denies, *(s for s, _ in endpoint.maybe_allows)]
    raise UnsupportedPolicyError(tuple((s, _UNDECIDED) for s in maybe))


def _lockout_exempt(request: Request) -> bool:
    caller = request.caller
    return (
        caller.account == request.bucket_account
        and caller.is_root
        and request.action.lower() in LOCKOUT_ACTIONS
    )


def _decide(
    request: Request,
    bucket: _Matches,
    endpoint: _Matches | None,
    identity: Identity,
    cancelled: bool,
) -> Decision:
    exempt = _lockout_exempt(request)
    endpoint_denies = endpoint.denies if endpoint else ()
    bucket_denies = () if exempt else bucket.denies
    if endpoint_denies or bucket_denies:
        deciding = tuple(("endpoint", s) for s in endpoint_denies)
        deciding += tuple(("bucket", s) for s in bucket_denies)
        layers = " and ".join(
            name for name, hit in (("bucket", bucket_denies), ("endpoint", endpoint_denies)) if hit
        )
        plural = "policies" if endpoint_denies and bucket_denies else "policy"
        return Decision(False, f"explicit Deny in the {layers} {plural}", deciding)
    gate: tuple[tuple[str, Statement], ...] = ()
    if endpoint is not None:
        if not endpoint.allows:
            return Decision(False, "no Allow in the endpoint policy", ())
        gate = tuple(("endpoint", s) for s, _ in endpoint.allows)
    allowed, reason, used = _grant(request, bucket.allows, identity, cancelled)
    if allowed and exempt and bucket.denies:
        reason = "the bucket owner's root user may always manage the bucket policy (lockout rule)"
    return Decision(allowed, reason, gate + tuple(("bucket", s) for s in used) if allowed else ())


def _grant(
    request: Request,
    allows: tuple[tuple[Statement, int], ...],
    identity: Identity,
    cancelled: bool,
) -> tuple[bool, str, tuple[Statement, ...]]:
    caller = request.caller
    granting = tuple(s for s, _ in allows)
    if caller.is_service:
        if granting:
            return True, "service principal: the bucket policy allows", granting
        return False, "service principal: the bucket policy grants nothing", ()
    identity_allows = identity == "allow-all" or caller.is_root
    if caller.account == request.bucket_account:
        full = tuple(s for s, strength in allows if strength == FULL)
        if full:
            return True, "same account: the bucket policy allows", full
        if identity_allows:
            return True, "same account: the identity policy allows", ()
        if allows:
            why = "the bucket policy names only the account, which needs the identity policy too"
            return False, f"same account: {why}, and it grants nothing", ()
        return False, "same account: neither the identity policy nor the bucket policy grants", ()
    who = "anonymous" if caller.is_anonymous else "cross-account"
    if not granting:
        return False, f"{who}: the bucket policy grants nothing", ()
    if cancelled:
        why = "the bucket policy is public, so RestrictPublicBuckets cancels its grants"
        return False, f"{who}: {why}", ()
    if caller.is_anonymous:
        return True, "anonymous: the bucket policy allows", granting
    if not identity_allows:
        return False, "cross-account: the identity policy grants nothing", ()
    return True, "cross-account: the identity policy and the bucket policy both allow", granting
