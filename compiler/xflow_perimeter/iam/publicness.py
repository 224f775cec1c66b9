"""S3's definition of a "public" bucket policy (Block Public Access), read conservatively.

S3 starts from "public" and calls a policy non-public only if every Allow statement is tied to
fixed values (no wildcard, no policy variable) of: a principal (AWS or service); aws:SourceIp
CIDRs; aws:SourceArn, SourceVpc, SourceVpce, SourceOwner or SourceAccount (S3 User Guide, "The
meaning of public"). Where the guide leaves room for doubt this module says "public":

* a condition fixes a statement only with a plain StringEquals/StringLike/ArnEquals/ArnLike (no
  IfExists, no set qualifier: those hold when the key is missing) or, for aws:SourceIp, IpAddress;
* SourceIp CIDRs count only when globally routable and no wider than /8 (IPv4) or /32 (IPv6);
* other keys S3 lists (aws:userid, access-point keys, the KMS key id) are not recognised;
* the "no bad actions" allowance is ignored: every action is treated as a bad one.
"""

from __future__ import annotations

import functools
import ipaddress

from xflow_perimeter.iam.globs import has_wildcard
from xflow_perimeter.iam.policy import Condition, PolicyDocument, PrincipalRef, Statement

_FIXING_KEYS = frozenset(
    {"aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount"}
)
_FIXING_OPERATORS = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike"})


@functools.lru_cache(maxsize=4096)
def is_public(policy: PolicyDocument) -> bool:
    """True if S3 would (or might) call this bucket policy public; doubt counts as public."""
    return any(_public_statement(s) for s in policy.statements if s.effect == "Allow")


def _public_statement(statement: Statement) -> bool:
    if _fixed_principals(statement.principals):
        return False
    return not any(_fixing_condition(c) for c in statement.conditions)


def _fixed(value: str) -> bool:
    return bool(value) and not has_wildcard(value) and "${" not in value


def _fixed_principals(principals: tuple[PrincipalRef, ...] | None) -> bool:
    if not principals:
        return False
    return all(ref.kind in ("AWS", "Service") and _fixed(ref.value) for ref in principals)


def _fixing_condition(condition: Condition) -> bool:
    key = condition.key.lower()
    if condition.operator in _FIXING_OPERATORS and key in _FIXING_KEYS:
        return all(_fixed(v) for v in condition.values)
    if condition.operator == "IpAddress" and key == "aws:sourceip":
        return all(_narrow_public_cidr(v) for v in condition.values)
    return False


def _narrow_public_cidr(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    widest = 8 if network.version == 4 else 32
    return network.is_global and network.prefixlen >= widest
