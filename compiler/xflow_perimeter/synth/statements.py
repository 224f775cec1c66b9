"""Grants -> IAM policy documents: one endpoint policy per network, one bucket policy per bucket."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from xflow_perimeter.iam.policy import Condition, PolicyDocument, PrincipalRef, Statement
from xflow_perimeter.spec import aws_owned
from xflow_perimeter.spec.auditors import AUDITOR_ACTIONS
from xflow_perimeter.spec.model import Bucket, Network, Spec, arn_account
from xflow_perimeter.synth.grants import Grant, Scope, ServiceGrant

ALL_S3 = "s3:*"


def object_arn(bucket_name: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket_name}/{prefix}*"


def _sid(label: str, *content: object) -> str:
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{label}{digest[:8].upper()}"


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_") if part)


def network_condition(network: Network, operator: str = "StringEquals") -> Condition:
    """How a bucket policy recognises traffic from a network: its endpoint id if adopted, else its VPC."""
    if network.endpoint_id is not None:
        return Condition(operator, "aws:SourceVpce", (network.endpoint_id,))
    return Condition(operator, "aws:SourceVpc", (network.vpc_id,))


def _scope_target(bucket: Bucket, scope: Scope) -> tuple[str, tuple[Condition, ...]]:
    """The Resource ARN of a scope and the s3:prefix condition a listing scope needs."""
    if scope.kind == "object":
        return object_arn(bucket.name, scope.prefix), ()
    if not scope.prefix:
        return bucket.arn, ()
    return bucket.arn, (Condition("StringLike", "s3:prefix", (f"{scope.prefix}*",)),)


def _actions_by_principals(grants: Iterable[Grant]) -> dict[tuple[str, ...], list[str]]:
    """Group actions that share exactly the same set of principals."""
    principals: dict[str, set[str]] = defaultdict(set)
    for grant in grants:
        principals[grant.action].add(grant.principal_arn)
    grouped: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for action, arns in principals.items():
        grouped[tuple(sorted(arns))].append(action)
    return {arns: sorted(actions) for arns, actions in grouped.items()}


def endpoint_policy(
    network: Network, buckets: Sequence[Bucket], grants: Sequence[Grant]
) -> PolicyDocument:
    """Allow-list of exactly the flows over ``network``: principal, action, resource and owning account."""
    by_key = {b.key: b for b in buckets}
    by_target: dict[tuple[str, Scope], list[Grant]] = defaultdict(list)
    for grant in grants:
        if grant.network == network.name:
            by_target[(grant.bucket, grant.scope)].append(grant)
    statements: list[Statement] = []
    for (bucket_key, scope), group in sorted(by_target.items()):
        bucket = by_key[bucket_key]
        resource, extra = _scope_target(bucket, scope)
        for arns, actions in sorted(_actions_by_principals(group).items()):
            conditions = (
                Condition("ArnEquals", "aws:PrincipalArn", arns),
                Condition("StringEquals", "aws:ResourceAccount", (bucket.account_id,)),
                *extra,
            )
            statements.append(
                Statement(
                    sid=_sid(f"Allow{_camel(bucket.key)}", resource, actions, arns, scope),
                    effect="Allow",
                    principals=(PrincipalRef("*", "*"),),
                    actions=tuple(actions),
                    resources=(resource,),
                    conditions=conditions,
                )
            )
    owned = aws_owned.objects_for(network.workloads, network.region)
    if owned:
        # AWS-owned buckets are read anonymously or with any credentials: no principal or account
        # condition, and exact names only, so no one else's bucket can match.
        statements.append(
            Statement(
                sid="AllowAwsOwnedBuckets",
                effect="Allow",
                principals=(PrincipalRef("*", "*"),),
                actions=(aws_owned.ACTION,),
                resources=tuple(o.arn for o in owned),
            )
        )
    if not statements:
        # An endpoint with no flows still needs a policy that allows nothing: AWS's default allows all.
        statements.append(
            Statement(
                sid="DenyAll",
                effect="Deny",
                principals=(PrincipalRef("*", "*"),),
                actions=("*",),
                resources=("*",),
            )
        )
    return PolicyDocument(statements=tuple(statements))


def bucket_policy(
    spec: Spec,
    bucket: Bucket,
    grants: Sequence[Grant],
    services: Sequence[ServiceGrant] = (),
) -> PolicyDocument:
    """Allows for the flows into ``bucket`` plus the Denies that make them the only way in."""
    mine = [g for g in grants if g.bucket == bucket.key]
    my_services = [g for g in services if g.bucket == bucket.key]
    # Service principals carry no principal ARN: they are exempt from the principal Denies and
    # get only what their Allow (pinned to the source account) grants.
    not_service: tuple[Condition, ...] = ()
    unlisted_services: tuple[Condition, ...] = ()
    if my_services:
        names = tuple(sorted({g.service for g in my_services}))
        not_service = (Condition("Null", "aws:PrincipalServiceName", ("true",)),)
        unlisted_services = (
            Condition("StringNotEqualsIfExists", "aws:PrincipalServiceName", names),
        )
    networks = {n.name: n for n in spec.networks}
    resources = (bucket.arn, f"{bucket.arn}/*")
    statements = [
        Statement(
            sid="DenyInsecureTransport",
            effect="Deny",
            principals=(PrincipalRef("*", "*"),),
            actions=(ALL_S3,),
            resources=resources,
            conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
        )
    ]
    # Only admins of the bucket's own account are exempt from the Denies: one of another account
    # gets nothing from this bucket (its identity policy cannot grant cross-account access), and
    # exempting it would let a flow granted to its whole account (a root principal) reach it.
    admins = {arn for arn in spec.admins if arn_account(arn) == bucket.account_id}
    # Auditors of every account are exempt too, then confined to configuration reads.
    listed = tuple(sorted({g.principal_arn for g in mine} | admins | set(spec.auditors)))
    statements.append(
        Statement(
            sid="DenyUnlistedPrincipals",
            effect="Deny",
            principals=(PrincipalRef("*", "*"),),
            actions=(ALL_S3,),
            resources=resources,
            conditions=(
                *((Condition("ArnNotEquals", "aws:PrincipalArn", listed),) if listed else ()),
                *unlisted_services,
            ),
        )
    )
    statements.extend(_auditor_statements(bucket, spec.auditors))
    statements.extend(_allow_statements(bucket, mine, networks))
    statements.extend(_service_statements(bucket, my_services))
    limits = _flow_limits(bucket, [g for g in mine if g.principal_arn not in admins], networks)
    statements.extend(replace(s, conditions=s.conditions + not_service) for s in limits)
    return PolicyDocument(statements=tuple(statements))


def _auditor_statements(bucket: Bucket, auditors: Sequence[str]) -> list[Statement]:
    """Auditors may read the bucket's configuration and nothing else; one of another account
    also needs the bucket's Allow (one of its own account gets it from its identity policy)."""
    if not auditors:
        return []
    resources = (bucket.arn, f"{bucket.arn}/*")
    who = Condition("ArnEquals", "aws:PrincipalArn", tuple(auditors))
    out = [
        _deny(
            "DenyAuditorsAllButConfigReads",
            resources,
            (who,),
            actions=AUDITOR_ACTIONS,
            not_actions=True,
        )
    ]
    foreign = tuple(arn for arn in auditors if arn_account(arn) != bucket.account_id)
    if foreign:
        out.append(
            Statement(
                sid="AllowAuditorsConfigReads",
                effect="Allow",
                principals=tuple(PrincipalRef("AWS", arn) for arn in foreign),
                actions=AUDITOR_ACTIONS,
                resources=(bucket.arn,),
            )
        )
    return out


def _allow_statements(
    bucket: Bucket, grants: Sequence[Grant], networks: dict[str, Network]
) -> list[Statement]:
    by_target: dict[tuple[str, Scope], list[Grant]] = defaultdict(list)
    for grant in grants:
        by_target[(grant.network, grant.scope)].append(grant)
    out: list[Statement] = []
    for (network_name, scope), group in sorted(by_target.items()):
        resource, extra = _scope_target(bucket, scope)
        for arns, actions in sorted(_actions_by_principals(group).items()):
            out.append(
                Statement(
                    sid=_sid(f"Allow{_camel(network_name)}", resource, actions, arns, scope),
                    effect="Allow",
                    principals=tuple(PrincipalRef("AWS", arn) for arn in arns),
                    actions=tuple(actions),
                    resources=(resource,),
                    conditions=(network_condition(networks[network_name]), *extra),
                )
            )
    return out


def _service_statements(bucket: Bucket, grants: Sequence[ServiceGrant]) -> list[Statement]:
    by_target: dict[tuple[str, str, str, Scope], list[str]] = defaultdict(list)
    for grant in grants:
        key = (grant.service, grant.source_account, grant.source_arn, grant.scope)
        by_target[key].append(grant.action)
    out: list[Statement] = []
    for (service, account, source_arn, scope), actions in sorted(by_target.items()):
        resource, extra = _scope_target(bucket, scope)
        pinned: tuple[Condition, ...] = (
            Condition("StringEquals", "aws:SourceAccount", (account,)),
        )
        if source_arn:
            pinned += (Condition("ArnEquals", "aws:SourceArn", (source_arn,)),)
        out.append(
            Statement(
                sid=_sid("AllowService", service, account, source_arn, resource, sorted(actions)),
                effect="Allow",
                principals=(PrincipalRef("Service", service),),
                actions=tuple(sorted(actions)),
                resources=(resource,),
                conditions=(*pinned, *extra),
            )
        )
    return out


Profile = tuple[tuple[str, tuple[tuple[str, tuple[Scope, ...]], ...]], ...]


def _profiles(grants: Sequence[Grant]) -> dict[Profile, list[str]]:
    """Principals grouped by identical flows into the bucket: network -> action -> scopes."""
    per_principal: dict[str, dict[str, dict[str, set[Scope]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for grant in grants:
        per_principal[grant.principal_arn][grant.network][grant.action].add(grant.scope)
    grouped: dict[Profile, list[str]] = defaultdict(list)
    for arn, by_network in per_principal.items():
        profile: Profile = tuple(
            (
                network,
                tuple(
                    (action, tuple(sorted(scopes))) for action, scopes in sorted(by_action.items())
                ),
            )
            for network, by_action in sorted(by_network.items())
        )
        grouped[profile].append(arn)
    return grouped


def _flow_limits(
    bucket: Bucket, grants: Sequence[Grant], networks: dict[str, Network]
) -> list[Statement]:
    """Denies that keep each listed principal inside its own networks, actions and prefixes."""
    resources = (bucket.arn, f"{bucket.arn}/*")
    out: list[Statement] = []
    for profile, arns in sorted(_profiles(grants).items(), key=lambda item: sorted(item[1])):
        who = Condition("ArnEquals", "aws:PrincipalArn", tuple(sorted(arns)))
        used = [networks[name] for name, _ in profile]
        vpcs = tuple(sorted(n.vpc_id for n in used if n.endpoint_id is None))
        vpces = tuple(sorted(n.endpoint_id for n in used if n.endpoint_id is not None))
        elsewhere = tuple(
            Condition("StringNotEquals", key, values)
            for key, values in (("aws:SourceVpc", vpcs), ("aws:SourceVpce", vpces))
            if values
        )
        out.append(_deny(_sid("DenyOtherNetworks", arns), resources, (who, *elsewhere)))
        for network_name, by_action in profile:
            via = network_condition(networks[network_name])
            allowed = tuple(action for action, _ in by_action)
            out.append(
                _deny(
                    _sid("DenyOtherActions", arns, network_name),
                    resources,
                    (who, via),
                    actions=allowed,
                    not_actions=True,
                )
            )
            out.extend(_prefix_limits(bucket, by_action, arns, network_name, (who, via)))
    return out


def _prefix_limits(
    bucket: Bucket,
    by_action: tuple[tuple[str, tuple[Scope, ...]], ...],
    arns: list[str],
    network_name: str,
    conditions: tuple[Condition, ...],
) -> list[Statement]:
    limited: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for action, scopes in by_action:
        if any(not s.prefix for s in scopes):
            continue
        limited[(scopes[0].kind, tuple(sorted(s.prefix for s in scopes)))].append(action)
    out: list[Statement] = []
    for (kind, prefixes), actions in sorted(limited.items()):
        sid = _sid("DenyOutsidePrefixes", arns, network_name, kind, prefixes)
        if kind == "object":
            out.append(
                _deny(
                    sid,
                    tuple(object_arn(bucket.name, p) for p in prefixes),
                    conditions,
                    actions=tuple(sorted(actions)),
                    not_resources=True,
                )
            )
        else:
            listing = Condition("StringNotLike", "s3:prefix", tuple(f"{p}*" for p in prefixes))
            out.append(
                _deny(sid, (bucket.arn,), (*conditions, listing), actions=tuple(sorted(actions)))
            )
    return out


def _deny(
    sid: str,
    resources: tuple[str, ...],
    conditions: tuple[Condition, ...],
    *,
    actions: tuple[str, ...] = (ALL_S3,),
    not_actions: bool = False,
    not_resources: bool = False,
) -> Statement:
    return Statement(
        sid=sid,
        effect="Deny",
        principals=(PrincipalRef("*", "*"),),
        actions=actions,
        resources=resources,
        conditions=conditions,
        not_actions=not_actions,
        not_resources=not_resources,
    )
