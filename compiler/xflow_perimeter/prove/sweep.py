"""Decide one request shape for many callers at once, exactly as ``evaluate`` would for each.

Verify asks the same question (a path, TLS on or off, an action on a key) for every caller class,
and there are hundreds of them on a busy bucket. A statement's match factors into a caller part
(its Principal and its conditions on ``aws:Principal*`` keys) and a part every caller shares (the
targets and the other conditions), so the callers each statement matches are one bitset, computed
once, and each request shape costs a few bitwise operations over the statements that target it.

Bit ``i`` of every bitset here stands for ``callers[i]``. Where ``evaluate`` would have to look at
a value AWS does not document, the sweep says so (``None``) instead of answering; callers then ask
``evaluate`` itself, one request at a time. ``tests/test_sweep.py`` holds the two to the same
answers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from xflow_perimeter.iam.conditions import CompiledCondition, conditions_hold
from xflow_perimeter.iam.evaluate import LOCKOUT_ACTIONS, compiled_policy
from xflow_perimeter.iam.matching import (
    NONE,
    S3_ARN_PREFIX,
    CompiledStatement,
    Layer,
    principal_strength,
)
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.iam.request import Caller, NetworkPath, Request, context_value

CALLER_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:sourceaccount",
        "aws:sourcearn",
    }
)
# Keys every subject shares in one request shape: read from the path, TLS and bucket account.
SHARED_KEYS = frozenset(
    {
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:vpcsourceip",
        "aws:sourceip",
        "aws:securetransport",
        "aws:resourceaccount",
    }
)
_PREFIX_KEY = "s3:prefix"

# For one policy and one request shape: callers its Denies and Allows match, "sure" where the
# match is decided and "maybe" where it may hold on a value AWS does not document.
_Matched = tuple[int, int, int, int]  # deny_sure, deny_maybe, allow_sure, allow_maybe
_NOTHING: _Matched = (0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who asks: the caller, and for a service principal the account and resource it acts for."""

    caller: Caller
    source_account: str | None = None
    source_arn: str | None = None

    def request(self) -> Request:
        # Only these fields are read: the caller keys' context values depend on nothing else.
        return Request(
            caller=self.caller,
            action="s3:GetObject",
            bucket="b",
            bucket_account="000000000000",
            key=None,
            source_account=self.source_account,
            source_arn=self.source_arn,
        )


@dataclass(slots=True)
class _PolicySweep:
    """One policy, compiled for a fixed list of subjects; a statement's subjects on first use."""

    policy: PolicyDocument
    layer: Layer
    subjects: tuple[Subject, ...]
    deny_mask: int  # statements (bit j = statement j) that are Denies
    shared: list[tuple[CompiledCondition, ...]]  # per statement: conditions on shared keys
    by_prefix: list[tuple[CompiledCondition, ...]]  # per statement: conditions on s3:prefix
    constant: _Matched | None = None  # the match of a policy whose statements match anything
    subjects_of: dict[int, tuple[int, int]] = field(default_factory=dict)  # (sure, maybe)
    targeted: dict[tuple[str, str], int] = field(default_factory=dict)
    matched: dict[tuple[int, int], _Matched] = field(default_factory=dict)

    @classmethod
    def build(
        cls, policy: PolicyDocument, layer: Layer, subjects: tuple[Subject, ...]
    ) -> _PolicySweep:
        deny_mask, shared, by_prefix = _split(policy, layer)
        built = cls(policy, layer, subjects, deny_mask, shared, by_prefix)
        statements = compiled_policy(policy, layer).statements
        if all(_matches_anything(s) for s in statements):
            every = (1 << len(statements)) - 1
            built.constant = built.subjects_matched(every, every)
        return built

    def statement_subjects(self, index: int) -> tuple[int, int]:
        """Subjects the statement's Principal and caller conditions surely match, and may match."""
        found = self.subjects_of.get(index)
        if found is not None:
            return found
        statement = compiled_policy(self.policy, self.layer).statements[index]
        on_caller = tuple(c for c in statement.conditions if c.key in CALLER_KEYS)
        sure = maybe = 0
        for bit, subject in enumerate(self.subjects):
            strength = principal_strength(statement.principals, subject.caller, self.layer)
            if strength == NONE:
                continue
            holds: bool | None = True
            if on_caller:
                lookup = functools.partial(context_value, _subject_request(subject))
                holds = conditions_hold(on_caller, lookup)
            if holds is False:
                continue
            maybe |= 1 << bit
            if holds is True and strength is not None:
                sure |= 1 << bit
        found = (sure, maybe)
        self.subjects_of[index] = found
        return found

    def targeting(self, action: str, resource: str) -> int:
        key = (action, resource)
        found = self.targeted.get(key)
        if found is None:
            found = 0
            for index in compiled_policy(self.policy, self.layer).targeting(action, resource):
                found |= 1 << index
            self.targeted[key] = found
        return found

    def statements_holding(
        self, conditions: list[tuple[CompiledCondition, ...]], request: Request
    ) -> tuple[int, int]:
        """Statements whose ``conditions`` surely hold, and those that may hold, for ``request``."""
        sure = maybe = 0
        lookup = functools.partial(context_value, request)
        for index, conds in enumerate(conditions):
            holds = conditions_hold(conds, lookup) if conds else True
            if holds is False:
                continue
            maybe |= 1 << index
            if holds is True:
                sure |= 1 << index
        return sure, maybe

    def subjects_matched(self, sure: int, maybe: int) -> _Matched:
        """The subjects matched by the statements in ``sure`` (decided) and ``maybe``."""
        key = (sure, maybe)
        found = self.matched.get(key)
        if found is not None:
            return found
        deny_sure = deny_maybe = allow_sure = allow_maybe = 0
        for index in bits(maybe):
            subjects_sure, subjects_maybe = self.statement_subjects(index)
            low = 1 << index
            certain = bool(sure & low)
            if self.deny_mask & low:
                deny_maybe |= subjects_maybe
                if certain:
                    deny_sure |= subjects_sure
            else:
                allow_maybe |= subjects_maybe
                if certain:
                    allow_sure |= subjects_sure
        found = (deny_sure, deny_maybe, allow_sure, allow_maybe)
        self.matched[key] = found
        return found


def bits(value: int) -> Iterator[int]:
    """The indices of the bits set in ``value``, lowest first."""
    while value:
        low = value & -value
        value ^= low
        yield low.bit_length() - 1


def _matches_anything(statement: CompiledStatement) -> bool:
    """Every action on every resource, with no condition: only the Principal can tell."""
    return (
        statement.actions is None
        and not statement.not_actions
        and statement.resources is None
        and not statement.not_resources
        and not statement.conditions
    )


@functools.lru_cache(maxsize=65536)
def _subject_request(subject: Subject) -> Request:
    return subject.request()


_Split = tuple[int, list[tuple[CompiledCondition, ...]], list[tuple[CompiledCondition, ...]]]
_SPLITS: dict[tuple[int, Layer], tuple[PolicyDocument, _Split]] = {}


def _split(policy: PolicyDocument, layer: Layer) -> _Split:
    """The policy's Deny statements (as a mask) and each statement's shared and s3:prefix
    conditions; memoised by identity, as evaluate memoises compiled policies."""
    key = (id(policy), layer)
    hit = _SPLITS.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    deny_mask = 0
    shared: list[tuple[CompiledCondition, ...]] = []
    by_prefix: list[tuple[CompiledCondition, ...]] = []
    for index, statement in enumerate(compiled_policy(policy, layer).statements):
        if statement.deny:
            deny_mask |= 1 << index
        shared.append(
            tuple(
                c for c in statement.conditions if c.key not in CALLER_KEYS and c.key != _PREFIX_KEY
            )
        )
        by_prefix.append(tuple(c for c in statement.conditions if c.key == _PREFIX_KEY))
    if len(_SPLITS) >= 65536:
        _SPLITS.clear()
    _SPLITS[key] = (policy, (deny_mask, shared, by_prefix))
    return deny_mask, shared, by_prefix


class Sweep:
    """The decisions of one bucket policy and one endpoint policy for every subject in a list.

    The callers' identity policies allow everything (as verify assumes) and Block Public Access
    is off, which are ``evaluate``'s defaults.
    """

    def __init__(
        self,
        subjects: Sequence[Subject],
        bucket: str,
        bucket_account: str,
        bucket_policy: PolicyDocument | None,
        endpoint_policy: PolicyDocument | None,
        shared_with: Sweep | None = None,
    ) -> None:
        """``shared_with``: a sweep over the same subjects, whose per-policy work (which subjects
        each statement matches) this one reuses for the same policies."""
        self.subjects = tuple(subjects)
        if shared_with is not None and shared_with.subjects != self.subjects:
            raise ValueError("a sweep can share work only with a sweep over the same subjects")
        self._parts: dict[tuple[int, Layer], _PolicySweep] = (
            shared_with._parts if shared_with is not None else {}
        )
        self._holding_memo: dict[tuple[int, object], tuple[int, int]] = (
            shared_with._holding_memo if shared_with is not None else {}
        )
        self.bucket_name = bucket
        self.bucket_account = bucket_account
        self._bucket_arn = S3_ARN_PREFIX + bucket
        self.everyone = (1 << len(self.subjects)) - 1
        self.same_account = 0
        self.owner_root = 0
        for bit, subject in enumerate(self.subjects):
            if subject.caller.account == bucket_account:
                self.same_account |= 1 << bit
                if subject.caller.is_root:
                    self.owner_root |= 1 << bit
        self.bucket = self._part(bucket_policy, "bucket")
        self.endpoint = self._part(endpoint_policy, "endpoint")

    def _part(self, policy: PolicyDocument | None, layer: Layer) -> _PolicySweep | None:
        if policy is None:
            return None
        found = self._parts.get((id(policy), layer))
        if found is None or found.policy is not policy:
            found = _PolicySweep.build(policy, layer, self.subjects)
            self._parts[(id(policy), layer)] = found
        return found

    def allowed(self, request: Request) -> int | None:
        """Subjects allowed ``request`` (its own caller and source are ignored), or None when
        some subject's answer rests on a value AWS does not document, as evaluate would refuse."""
        if (request.bucket, request.bucket_account) != (self.bucket_name, self.bucket_account):
            raise ValueError("the sweep was built for another bucket")
        return self.allowed_at(
            request.action,
            request.key,
            request.list_prefix,
            request.path,
            request.secure_transport,
        )

    def allowed_at(
        self,
        action: str,
        key: str | None,
        list_prefix: str | None,
        path: NetworkPath,
        secure_transport: bool,
    ) -> int | None:
        """``allowed`` for the request with these fields on the sweep's bucket."""
        if path.via_endpoint != (self.endpoint is not None):
            raise ValueError("pass an endpoint policy exactly when the request uses an endpoint")
        lowered = action.lower()
        resource = self._bucket_arn if key is None else f"{self._bucket_arn}/{key}"
        shape = _Shape(self, action, key, list_prefix, path, secure_transport)
        bucket = self._matched(self.bucket, lowered, resource, shape)
        endpoint = self._matched(self.endpoint, lowered, resource, shape)
        exempt = self.owner_root if lowered in LOCKOUT_ACTIONS else 0
        # evaluate decides with the undocumented matches counted against the request (least)
        # and for it (most), and answers only when both agree.
        least = self._decide(bucket[1], bucket[2], endpoint[1], endpoint[2], exempt)
        if _decided(bucket) and _decided(endpoint):
            return least
        most = self._decide(bucket[0], bucket[3], endpoint[0], endpoint[3], exempt)
        if least != most:
            return None
        return least

    def _decide(
        self,
        bucket_denies: int,
        bucket_allows: int,
        endpoint_denies: int,
        endpoint_allows: int,
        exempt: int,
    ) -> int:
        denied = endpoint_denies | (bucket_denies & ~exempt)
        gate = endpoint_allows if self.endpoint is not None else self.everyone
        granted = self.same_account | bucket_allows
        return ~denied & gate & granted & self.everyone

    def _matched(
        self, sweep: _PolicySweep | None, action: str, resource: str, shape: _Shape
    ) -> _Matched:
        if sweep is None:
            return _NOTHING
        if sweep.constant is not None:
            return sweep.constant
        targeted = sweep.targeting(action, resource)
        if not targeted:
            return _NOTHING
        values = (shape.path, shape.secure_transport, self.bucket_account)
        shared = self._holding(sweep, sweep.shared, shape, values)
        prefix = self._holding(sweep, sweep.by_prefix, shape, shape.list_prefix)
        return sweep.subjects_matched(
            targeted & shared[0] & prefix[0], targeted & shared[1] & prefix[1]
        )

    def _holding(
        self,
        sweep: _PolicySweep,
        conditions: list[tuple[CompiledCondition, ...]],
        shape: _Shape,
        values: object,
    ) -> tuple[int, int]:
        key = (id(conditions), values)
        found = self._holding_memo.get(key)
        if found is None:
            found = sweep.statements_holding(conditions, shape.request())
            self._holding_memo[key] = found
        return found


@dataclass(slots=True)
class _Shape:
    """A request shape, made into a Request only when a condition must read it."""

    sweep: Sweep
    action: str
    key: str | None
    list_prefix: str | None
    path: NetworkPath
    secure_transport: bool

    def request(self) -> Request:
        return Request(
            caller=_NOBODY,
            action=self.action,
            bucket=self.sweep.bucket_name,
            bucket_account=self.sweep.bucket_account,
            key=self.key,
            list_prefix=self.list_prefix,
            path=self.path,
            secure_transport=self.secure_transport,
        )


_NOBODY = Caller(arn=None, account=None)  # shared keys never read the caller


def _decided(matched: _Matched) -> bool:
    return matched[0] == matched[1] and matched[2] == matched[3]
