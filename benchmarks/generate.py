#!/usr/bin/env python3
"""Seeded synthetic organisation spec for xflow's scale benchmark.

    python benchmarks/generate.py --flows 10000 [--seed 1] -o benchmarks/out/flows-10000/spec.yaml
    python benchmarks/generate.py --flows 1000 -o out/spec.yaml --requests 10000 --requests-out out/requests.jsonl

At 10,000 flows the organisation has 1,000 buckets in 50 accounts, 100 networks (all in
eu-west-1, 1-4 route tables each, ~20% adopting an existing endpoint), 2,000 principals (mostly
roles, some users) and a few admins; smaller sizes scale down (100 flows: 10 buckets, 5 accounts,
3 networks, 20 principals). Principals, buckets and each bucket's prefixes are drawn with a
Zipf-like skew, so a few principals and buckets take part in many flows and most in few.

AWS caps an endpoint policy at 20,480 characters and a bucket policy at 20,480 bytes. xflow's
endpoint policy grows with the distinct (bucket, prefix) targets and principals over its network,
its bucket policy with the distinct principals (and their flow profiles) into the bucket, so the
generator caps those per network and per bucket (see CAPS) and, unless --no-check, compiles the
spec in-process and reports the largest policies (exit 1 if one is over a limit).

The same seed and size always give the same spec, byte for byte.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REGION = "eu-west-1"
ENDPOINT_LIMIT = 20_480  # characters, endpoint policy
BUCKET_POLICY_LIMIT = 20_480  # bytes, bucket policy

# Per-entity caps (on top of the policy size budget below, which is what really binds).
CAPS = {
    "flows_per_network": 250,
    "targets_per_network": 14,  # distinct (bucket, prefix) pairs over one network's endpoint
    "flows_per_bucket": 80,
    "principals_per_bucket": 40,
    "flows_per_principal": 60,
}
COVER = 0.7  # chance that a new target goes to a bucket without flows yet (while there are some)
PRINCIPAL_COVER = (
    0.25  # chance that a flow goes to a principal without flows yet (while there are some)
)
REUSE = 0.9  # chance that a new flow reuses a target (bucket, prefix) already used in its network

TEAMS = 40
KINDS = {  # principal kind -> (weight, access choices with weights)
    "reader": (30, [("read", 30), (["read", "list"], 50), (["read", "s3:GetObjectTagging"], 6)]),
    "analyst": (20, [(["read", "list"], 70), ("read", 20), ("list", 10)]),
    "etl": (18, [(["read", "write", "list"], 55), (["read", "list"], 25), ("write", 20)]),
    "ingest": (14, [("write", 60), (["write", "list"], 35), (["write", "s3:GetObjectTagging"], 5)]),
    "janitor": (
        5,
        [(["delete", "list"], 70), ("delete", 20), (["read", "write", "delete", "list"], 10)],
    ),
    "auditor": (
        5,
        [("list", 50), (["s3:GetObjectTagging"], 30), (["list", "s3:GetObjectTagging"], 20)],
    ),
    "service": (
        8,
        [(["read", "write"], 40), (["read", "write", "delete", "list"], 30), ("read", 30)],
    ),
}
PREFIX_FORMS = [
    "{team}/exports/",
    "{team}/raw/",
    "{team}/curated/",
    "{team}/reports/published/",
    "landing/incoming/",
    "events/{year}/",
    "tables/{domain}/",
    "logs/app/",
    "archive/{year}/",
    "models/{domain}/",
    "tmp/scratch/",
    "shared/{domain}/",
]
DOMAINS = ["sales", "billing", "search", "ads", "fraud", "ml", "crm", "ops", "hr", "web"]
PURPOSES = ["raw", "curated", "exports", "landing", "reports", "archive", "models", "logs"]
WHOLE_BUCKET_SHARE = 0.12  # flows without a prefix


@dataclass
class Network:
    name: str
    account: str  # alias
    vpc_id: str
    route_tables: list[str]
    endpoint: str  # "create" or vpce-...
    flows: int = 0
    targets: set[tuple[str, str | None]] = field(default_factory=set)


@dataclass
class Bucket:
    key: str
    name: str
    account: str
    prefixes: list[str]
    prefix_weights: list[float]
    flows: int = 0
    principals: set[str] = field(default_factory=set)


@dataclass
class Principal:
    key: str
    arn: str
    kind: str
    networks: list[str]
    flows: int = 0


@dataclass(frozen=True)
class Flow:
    principal: str
    network: str
    bucket: str
    access: str | tuple[str, ...]
    prefix: str | None


@dataclass
class Org:
    flows_target: int
    seed: int
    accounts: dict[str, str]
    networks: dict[str, Network]
    buckets: dict[str, Bucket]
    principals: dict[str, Principal]
    admins: list[str]
    flows: list[Flow]
    assertions: list[dict[str, object]]


def sizes(flows: int) -> dict[str, int]:
    """Entity counts for a flow count: 10,000 -> 1,000 buckets, 50 accounts, 100 networks, 2,000 principals."""
    return {
        "buckets": max(10, round(flows / 10)),
        "accounts": max(5, round(flows / 200)),
        "networks": max(3, round(flows / 100)),
        "principals": max(20, round(flows / 5)),
        "admins": max(2, min(5, round(flows / 2000))),
    }


class Zipf:
    """Weighted sampling over items with weight 1/rank**s, ranks shuffled by the caller's order."""

    def __init__(self, items: list[str], s: float, rng: random.Random) -> None:
        self.items = items
        self.rng = rng
        weights = [1.0 / (rank + 1) ** s for rank in range(len(items))]
        self.cumulative = list(itertools.accumulate(weights))

    def weight(self, index: int) -> float:
        return self.cumulative[index] - (self.cumulative[index - 1] if index else 0.0)

    def sample(self) -> str:
        x = self.rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_right(self.cumulative, x)]


def _weighted(rng: random.Random, choices: list[tuple[object, float]]) -> object:
    values = [c for c, _ in choices]
    weights = [w for _, w in choices]
    return rng.choices(values, weights)[0]


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def hex17(self, kind: str) -> str:
        while True:
            value = f"{kind}-{self.rng.getrandbits(68):017x}"
            if value not in self.seen:
                self.seen.add(value)
                return value

    def account(self) -> str:
        while True:
            value = f"{self.rng.randrange(100_000_000_000, 1_000_000_000_000):012d}"
            if value not in self.seen:
                self.seen.add(value)
                return value


def build_org(flows: int, seed: int = 1, budget_fraction: float = 0.95) -> Org:
    rng = random.Random(f"xflow-bench-{seed}-{flows}")
    n = sizes(flows)
    ids = _Ids(rng)

    accounts = {f"acct-{i:02d}": ids.account() for i in range(n["accounts"])}
    aliases = list(accounts)

    networks: dict[str, Network] = {}
    adopted = set(rng.sample(range(n["networks"]), max(1, round(n["networks"] * 0.2))))
    for i in range(n["networks"]):
        account = aliases[i % len(aliases)] if i < len(aliases) else rng.choice(aliases)
        name = f"vpc-{account.removeprefix('acct-')}-{i:03d}"
        route_tables = [ids.hex17("rtb") for _ in range(rng.randint(1, 4))]
        endpoint = ids.hex17("vpce") if i in adopted else "create"
        networks[name] = Network(name, account, ids.hex17("vpc"), route_tables, endpoint)
    net_names = list(networks)

    buckets: dict[str, Bucket] = {}
    bucket_order: list[str] = []
    for i in range(n["buckets"]):
        team = f"team-{rng.randrange(TEAMS):02d}"
        purpose = rng.choice(PURPOSES)
        key = f"b{i:04d}-{team}-{purpose}"
        forms = rng.sample(PREFIX_FORMS, rng.randint(2, 6))
        prefixes = sorted(
            {
                form.format(
                    team=team, year=rng.choice([2022, 2023, 2024]), domain=rng.choice(DOMAINS)
                )
                for form in forms
            }
        )
        rng.shuffle(prefixes)
        weights = [1.0 / (r + 1) for r in range(len(prefixes))]
        buckets[key] = Bucket(
            key, f"acme-{team}-{purpose}-{i:04d}", rng.choice(aliases), prefixes, weights
        )
        bucket_order.append(key)
    rng.shuffle(bucket_order)

    # Principals: Zipf-weighted; each lives in one network (a few in two), assigned so that the
    # expected load per network is balanced (hot principals spread over networks).
    kinds = list(KINDS)
    kind_weights = [KINDS[k][0] for k in kinds]
    principal_keys: list[str] = []
    principal_meta: list[tuple[str, str, str]] = []
    for i in range(n["principals"]):
        kind = rng.choices(kinds, kind_weights)[0]
        team = f"team-{rng.randrange(TEAMS):02d}"
        key = f"{kind}-{team}-{i:04d}"
        principal_keys.append(key)
        principal_meta.append((key, kind, team, i))
    rng.shuffle(principal_keys)
    pzipf = Zipf(principal_keys, 1.0, rng)
    load = {name: 0.0 for name in net_names}
    principals: dict[str, Principal] = {}
    meta = {key: (kind, team, i) for key, kind, team, i in principal_meta}
    for index, key in enumerate(principal_keys):  # descending weight
        kind, team, i = meta[key]
        home = min(net_names, key=lambda name: (load[name], name))
        load[home] += min(
            pzipf.weight(index) / pzipf.cumulative[-1] * flows, CAPS["flows_per_principal"]
        )
        homes = [home]
        if rng.random() < 0.1 and len(net_names) > 1:
            homes.append(rng.choice([x for x in net_names if x != home]))
        is_user = rng.random() < 0.12
        if is_user:
            account = accounts[rng.choice(aliases)]
            arn = f"arn:aws:iam::{account}:user/{key.replace('-', '.')}"
        else:
            account = accounts[networks[home].account]
            path = f"{team}/" if rng.random() < 0.5 else ""
            arn = f"arn:aws:iam::{account}:role/{path}{kind}-{i:04d}"
        principals[key] = Principal(key, arn, kind, homes)

    admin_accounts = sorted(rng.sample(aliases, n["admins"]))
    admins = [f"arn:aws:iam::{accounts[a]}:role/BreakGlass" for a in admin_accounts]

    bzipf = Zipf(bucket_order, 1.0, rng)
    budget = _Budget(networks, buckets, admins, budget_fraction)
    chosen: list[Flow] = []
    seen: set[tuple[str, str, str, str | None]] = set()
    by_network: dict[str, list[Flow]] = {name: [] for name in networks}
    uncovered = set(buckets)
    uncovered_order = sorted(uncovered)
    idle = set(principals)
    idle_order = sorted(idle)
    attempts = 0
    max_attempts = flows * 200
    uniform = False
    while len(chosen) < flows:
        attempts += 1
        if attempts > max_attempts:
            raise SystemExit(
                f"generate: placed only {len(chosen)} of {flows} flows within the policy size budget"
            )
        if attempts == flows * 40:
            uniform = True  # the skewed draw is saturated: fill from the whole population
        if idle and rng.random() < PRINCIPAL_COVER:
            p = principals[_pick(rng, idle_order, idle)]
        else:
            p = principals[rng.choice(principal_keys) if uniform else pzipf.sample()]
        if p.flows >= CAPS["flows_per_principal"]:
            continue
        net = networks[
            p.networks[0] if len(p.networks) == 1 or rng.random() < 0.7 else p.networks[1]
        ]
        if net.flows >= CAPS["flows_per_network"]:
            continue
        # Teams in one VPC mostly use the same datasets the same way: reuse an existing flow's
        # target (preferential attachment, so popular targets get more popular) and usually its
        # access; otherwise subscribe to a new target drawn from the skewed bucket population.
        existing = by_network[net.name]
        if existing and rng.random() < REUSE:
            model = rng.choice(existing)
            b = buckets[model.bucket]
            prefix = model.prefix
            access = model.access if rng.random() < 0.95 else _access(rng, p.kind)
        else:
            if len(net.targets) >= CAPS["targets_per_network"]:
                continue
            if uncovered and rng.random() < COVER:
                b = buckets[_pick(rng, uncovered_order, uncovered)]
            else:
                b = buckets[rng.choice(bucket_order) if uniform else bzipf.sample()]
            if rng.random() < WHOLE_BUCKET_SHARE:
                prefix = None
            else:
                prefix = rng.choices(b.prefixes, b.prefix_weights)[0]
            access = _access(rng, p.kind)
        if (p.key, net.name, b.key, prefix) in seen:
            continue
        if b.flows >= CAPS["flows_per_bucket"]:
            continue
        if p.arn not in b.principals and len(b.principals) >= CAPS["principals_per_bucket"]:
            continue
        flow = Flow(p.key, net.name, b.key, access, prefix)
        if not budget.admit(flow, p.arn):
            continue
        seen.add((p.key, net.name, b.key, prefix))
        chosen.append(flow)
        by_network[net.name].append(flow)
        p.flows += 1
        net.flows += 1
        net.targets.add((b.key, prefix))
        b.flows += 1
        b.principals.add(p.arn)
        uncovered.discard(b.key)
        idle.discard(p.key)

    org = Org(flows, seed, accounts, networks, buckets, principals, admins, chosen, [])
    org.assertions = _assertions(org, rng)
    return org


LEVELS = {
    "read": ("s3:GetObject", "s3:GetObjectVersion"),
    "write": ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
    "list": ("s3:ListBucket",),
    "delete": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
}
LISTING = {"s3:ListBucket", "s3:ListBucketVersions"}
_EMPTY_POLICY = len('{"Version":"2012-10-17","Statement":[]}')
_SID_HASH = "X" * 8  # xflow's Sids end in 8 hex digits of a content hash


def _access(rng: random.Random, kind: str) -> str | tuple[str, ...]:
    access = _weighted(rng, KINDS[kind][1])
    return tuple(access) if isinstance(access, list) else access  # type: ignore[return-value]


def _items(access: str | tuple[str, ...]) -> tuple[str, ...]:
    return (access,) if isinstance(access, str) else access


def _flow_grants(flow: Flow) -> list[tuple[str, tuple[str, str]]]:
    """(action, scope) pairs of a flow, scope = (kind, prefix), as xflow's grants derive them."""
    prefix = flow.prefix or ""
    out = []
    for item in _items(flow.access):
        for action in LEVELS.get(item, (item,)):
            out.append((action, ("bucket", prefix) if action in LISTING else ("object", prefix)))
    return out


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_") if part)


def _size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _target(bucket: Bucket, scope: tuple[str, str]) -> tuple[str, dict[str, object]]:
    kind, prefix = scope
    if kind == "object":
        return f"arn:aws:s3:::{bucket.name}/{prefix}*", {}
    if not prefix:
        return f"arn:aws:s3:::{bucket.name}", {}
    return f"arn:aws:s3:::{bucket.name}", {"StringLike": {"s3:prefix": [f"{prefix}*"]}}


def _by_principals(actions: dict[str, set[str]]) -> dict[tuple[str, ...], list[str]]:
    grouped: dict[tuple[str, ...], list[str]] = {}
    for action, arns in actions.items():
        grouped.setdefault(tuple(sorted(arns)), []).append(action)
    return grouped


class _Budget:
    """Exact-size model of xflow's endpoint and bucket policies, to admit a flow only if both fit.

    It mirrors compiler/xflow_perimeter/synth/statements.py (statement grouping, Sids of the same length, conditions) so
    the generator can keep every policy under ``fraction`` of AWS's limits while it draws flows;
    generate.py then checks the real compiled policies.
    """

    def __init__(
        self,
        networks: dict[str, Network],
        buckets: dict[str, Bucket],
        admins: list[str],
        fraction: float,
    ) -> None:
        self.networks = networks
        self.buckets = buckets
        self.admins = admins
        self.endpoint_budget = int(ENDPOINT_LIMIT * fraction)
        self.bucket_budget = int(BUCKET_POLICY_LIMIT * fraction)
        # network -> (bucket, scope) -> action -> principal ARNs
        self.targets: dict[str, dict[tuple[str, tuple[str, str]], dict[str, set[str]]]] = {
            name: {} for name in networks
        }
        self.target_cost: dict[tuple[str, str, tuple[str, str]], int] = {}
        self.endpoint_size = {name: _EMPTY_POLICY for name in networks}
        self.statements = {name: 0 for name in networks}
        self.bucket_flows: dict[str, list[tuple[Flow, str]]] = {key: [] for key in buckets}
        self.bucket_size = {key: 0 for key in buckets}

    # endpoint policy ---------------------------------------------------------------------------

    def _target_cost(
        self, bucket: Bucket, scope: tuple[str, str], actions: dict[str, set[str]]
    ) -> tuple[int, int]:
        resource, extra = _target(bucket, scope)
        total = count = 0
        for arns, names in _by_principals(actions).items():
            statement = {
                "Sid": f"Allow{_camel(bucket.key)}{_SID_HASH}",
                "Effect": "Allow",
                "Principal": "*",
                "Action": sorted(names),
                "Resource": [resource],
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": list(arns)},
                    "StringEquals": {"aws:ResourceAccount": ["000000000000"]},
                    **extra,
                },
            }
            total += _size(statement)
            count += 1
        return total, count

    def _endpoint_change(
        self, flow: Flow, arn: str
    ) -> tuple[int, int, dict[tuple[str, tuple[str, str]], dict[str, set[str]]]]:
        bucket = self.buckets[flow.bucket]
        targets = self.targets[flow.network]
        changed: dict[tuple[str, tuple[str, str]], dict[str, set[str]]] = {}
        for action, scope in _flow_grants(flow):
            key = (flow.bucket, scope)
            if key not in changed:
                changed[key] = {a: set(p) for a, p in targets.get(key, {}).items()}
            changed[key].setdefault(action, set()).add(arn)
        delta = statements = 0
        for (bucket_key, scope), actions in changed.items():
            old_size, old_count = self._cost_of(flow.network, bucket_key, scope)
            new_size, new_count = self._target_cost(bucket, scope, actions)
            delta += new_size - old_size
            statements += new_count - old_count
        return delta, statements, changed

    def _cost_of(self, network: str, bucket_key: str, scope: tuple[str, str]) -> tuple[int, int]:
        actions = self.targets[network].get((bucket_key, scope))
        if not actions:
            return 0, 0
        return self._target_cost(self.buckets[bucket_key], scope, actions)

    # bucket policy -----------------------------------------------------------------------------

    def _network_condition(self, name: str, operator: str = "StringEquals") -> dict[str, object]:
        net = self.networks[name]
        if net.endpoint != "create":
            return {operator: {"aws:SourceVpce": [net.endpoint]}}
        return {operator: {"aws:SourceVpc": [net.vpc_id]}}

    def bucket_policy_size(self, bucket: Bucket, flows: list[tuple[Flow, str]]) -> int:
        grants: set[tuple[str, str, str, tuple[str, str]]] = set()  # network, arn, action, scope
        for flow, arn in flows:
            for action, scope in _flow_grants(flow):
                grants.add((flow.network, arn, action, scope))
        grants = _without_redundant(grants)
        bucket_arn = f"arn:aws:s3:::{bucket.name}"
        resources = [bucket_arn, f"{bucket_arn}/*"]
        listed = sorted({g[1] for g in grants} | set(self.admins))
        statements: list[dict[str, object]] = [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": ["false"]}},
            },
            {
                "Sid": "DenyUnlistedPrincipals",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": resources,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": listed}},
            },
        ]
        by_target: dict[tuple[str, tuple[str, str]], dict[str, set[str]]] = {}
        for network, arn, action, scope in grants:
            by_target.setdefault((network, scope), {}).setdefault(action, set()).add(arn)
        for (network, scope), actions in by_target.items():
            resource, extra = _target(bucket, scope)
            for arns, names in _by_principals(actions).items():
                statements.append(
                    {
                        "Sid": f"Allow{_camel(network)}{_SID_HASH}",
                        "Effect": "Allow",
                        "Principal": {"AWS": list(arns)},
                        "Action": sorted(names),
                        "Resource": [resource],
                        "Condition": {**self._network_condition(network), **extra},
                    }
                )
        # Profiles: principals with identical (network -> action -> scopes) share the limit Denies.
        per_principal: dict[str, dict[str, dict[str, set[tuple[str, str]]]]] = {}
        for network, arn, action, scope in grants:
            if arn in self.admins:
                continue
            per_principal.setdefault(arn, {}).setdefault(network, {}).setdefault(action, set()).add(
                scope
            )
        profiles: dict[object, list[str]] = {}
        for arn, by_network in per_principal.items():
            profile = tuple(
                (network, tuple((a, tuple(sorted(s))) for a, s in sorted(by_action.items())))
                for network, by_action in sorted(by_network.items())
            )
            profiles.setdefault(profile, []).append(arn)
        for profile, arns in profiles.items():
            who = {"aws:PrincipalArn": sorted(arns)}
            used = [self.networks[name] for name, _ in profile]  # type: ignore[misc]
            elsewhere: dict[str, list[str]] = {}
            vpcs = sorted(n.vpc_id for n in used if n.endpoint == "create")
            vpces = sorted(n.endpoint for n in used if n.endpoint != "create")
            if vpcs:
                elsewhere["aws:SourceVpc"] = vpcs
            if vpces:
                elsewhere["aws:SourceVpce"] = vpces
            statements.append(
                {
                    "Sid": f"DenyOtherNetworks{_SID_HASH}",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:*"],
                    "Resource": resources,
                    "Condition": {"ArnEquals": who, "StringNotEquals": elsewhere},
                }
            )
            for network, by_action in profile:  # type: ignore[misc]
                via = self._network_condition(network)
                statements.append(
                    {
                        "Sid": f"DenyOtherActions{_SID_HASH}",
                        "Effect": "Deny",
                        "Principal": "*",
                        "NotAction": [a for a, _ in by_action],
                        "Resource": resources,
                        "Condition": {"ArnEquals": who, **via},
                    }
                )
                limited: dict[tuple[str, tuple[str, ...]], list[str]] = {}
                for action, scopes in by_action:
                    if any(not prefix for _, prefix in scopes):
                        continue
                    limited.setdefault(
                        (scopes[0][0], tuple(sorted(p for _, p in scopes))), []
                    ).append(action)
                for (kind, prefixes), names in limited.items():
                    if kind == "object":
                        statements.append(
                            {
                                "Sid": f"DenyOutsidePrefixes{_SID_HASH}",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": sorted(names),
                                "NotResource": [f"{bucket_arn}/{p}*" for p in prefixes],
                                "Condition": {"ArnEquals": who, **via},
                            }
                        )
                    else:
                        statements.append(
                            {
                                "Sid": f"DenyOutsidePrefixes{_SID_HASH}",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": sorted(names),
                                "Resource": [bucket_arn],
                                "Condition": {
                                    "ArnEquals": who,
                                    **via,
                                    "StringNotLike": {"s3:prefix": [f"{p}*" for p in prefixes]},
                                },
                            }
                        )
        return _size({"Version": "2012-10-17", "Statement": statements})

    # both --------------------------------------------------------------------------------------

    def admit(self, flow: Flow, arn: str) -> bool:
        delta, statements, changed = self._endpoint_change(flow, arn)
        new_endpoint = self.endpoint_size[flow.network] + delta + statements  # one comma each
        if self.statements[flow.network] == 0 and statements:
            new_endpoint -= 1
        if new_endpoint > self.endpoint_budget:
            return False
        bucket = self.buckets[flow.bucket]
        new_flows = [*self.bucket_flows[flow.bucket], (flow, arn)]
        new_bucket = self.bucket_policy_size(bucket, new_flows)
        if new_bucket > self.bucket_budget:
            return False
        self.endpoint_size[flow.network] = new_endpoint
        self.statements[flow.network] += statements
        self.targets[flow.network].update(changed)
        self.bucket_flows[flow.bucket] = new_flows
        self.bucket_size[flow.bucket] = new_bucket
        return True


def _without_redundant(
    grants: set[tuple[str, str, str, tuple[str, str]]],
) -> set[tuple[str, str, str, tuple[str, str]]]:
    """Drop grants inside another grant's prefix for the same principal, network and action."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for network, arn, action, (kind, prefix) in grants:
        groups.setdefault((network, arn, action, kind), []).append(prefix)
    return {
        g
        for g in grants
        if not any(
            other != g[3][1] and g[3][1].startswith(other)
            for other in groups[(g[0], g[1], g[2], g[3][0])]
        )
    }


def _pick(rng: random.Random, order: list[str], pool: set[str]) -> str:
    """A random member of ``pool``, drawn from ``order`` (its sorted list, pruned lazily)."""
    while True:
        index = rng.randrange(len(order))
        item = order[index]
        if item in pool:
            return item
        order[index] = order[-1]
        order.pop()


def _first_action(access: str | tuple[str, ...]) -> str:
    items = [access] if isinstance(access, str) else list(access)
    for level, action in (
        ("read", "s3:GetObject"),
        ("write", "s3:PutObject"),
        ("delete", "s3:DeleteObject"),
    ):
        if level in items:
            return action
    return "s3:ListBucket" if "list" in items else items[0]


def _assertions(org: Org, rng: random.Random) -> list[dict[str, object]]:
    """A few access tests: some flows allowed, outsiders and an exfiltration target denied."""
    out: list[dict[str, object]] = []
    for flow in rng.sample(org.flows, min(3, len(org.flows))):
        action = _first_action(flow.access)
        item: dict[str, object] = {
            "principal": flow.principal,
            "network": flow.network,
            "bucket": flow.bucket,
            "action": action,
            "expect": "allow",
        }
        if action != "s3:ListBucket":
            item["key"] = f"{flow.prefix or ''}bench/part-0001.parquet"
        elif flow.prefix:
            item["key"] = flow.prefix
        out.append(item)
    first = org.flows[0]
    out.append(
        {
            "principal": "arn:aws:iam::444455556666:role/outsider",
            "network": first.network,
            "bucket": {"name": "exfil-target-bench", "account": "444455556666"},
            "key": "dump.json",
            "action": "s3:PutObject",
            "expect": "deny",
        }
    )
    out.append(
        {
            "principal": first.principal,
            "network": first.network,
            "bucket": first.bucket,
            "key": "definitely-outside/x",
            "action": "s3:PutBucketPolicy",
            "expect": "deny",
        }
    )
    return out


# --- YAML output -------------------------------------------------------------------------------


def _yaml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def to_yaml(org: Org) -> str:
    lines = [
        f"# Synthetic xflow benchmark org: {org.flows_target} flows, seed {org.seed}.",
        "# Generated by benchmarks/generate.py; do not edit.",
        "xflow: 1",
        "",
        "accounts:",
    ]
    lines += [f'  {alias}: "{account}"' for alias, account in org.accounts.items()]
    lines += ["", "networks:"]
    for net in org.networks.values():
        lines.append(f"  {net.name}:")
        lines.append(f"    account: {net.account}")
        lines.append(f"    region: {REGION}")
        lines.append(f"    vpc_id: {net.vpc_id}")
        lines.append(f"    route_table_ids: [{', '.join(net.route_tables)}]")
        if net.endpoint != "create":
            lines.append(f"    endpoint: {net.endpoint}")
    lines += ["", "buckets:"]
    for b in org.buckets.values():
        lines.append(f"  {b.key}: {{name: {b.name}, account: {b.account}, region: {REGION}}}")
    lines += ["", "principals:"]
    for p in org.principals.values():
        lines.append(f'  {p.key}: {{arn: "{p.arn}"}}')
    lines += ["", "admins:"]
    lines += [f'  - "{arn}"' for arn in org.admins]
    lines += ["", "flows:"]
    for f in org.flows:
        item: dict[str, object] = {
            "principal": f.principal,
            "network": f.network,
            "bucket": f.bucket,
            "access": list(f.access) if isinstance(f.access, tuple) else f.access,
        }
        if f.prefix is not None:
            item["prefix"] = f.prefix
        lines.append("  - " + _flow_yaml(item))
    lines += ["", "assertions:"]
    lines += ["  - " + _yaml_value(a) for a in org.assertions]
    return "\n".join(lines) + "\n"


def _flow_yaml(item: dict[str, object]) -> str:
    # Names and levels are plain scalars; quote only the prefix and exact actions.
    parts = []
    for k, v in item.items():
        if k == "prefix":
            parts.append(f"{k}: {json.dumps(v)}")
        elif isinstance(v, list):
            parts.append(f"{k}: [{', '.join(str(x) for x in v)}]")
        else:
            parts.append(f"{k}: {v}")
    return "{" + ", ".join(parts) + "}"


# --- explain requests --------------------------------------------------------------------------

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:PutBucketPolicy",
    "s3:GetBucketPolicy",
    "s3:AbortMultipartUpload",
]


def requests(org: Org, count: int, seed: int = 1) -> list[dict[str, str]]:
    """``count`` explain requests: mostly near the flows (inside and outside them), plus outsiders."""
    rng = random.Random(f"xflow-bench-requests-{seed}-{org.flows_target}")
    nets = list(org.networks)
    buckets = list(org.buckets.values())
    principals = list(org.principals.values())
    out: list[dict[str, str]] = []
    for _ in range(count):
        flow = rng.choice(org.flows)
        p = org.principals[flow.principal]
        b = org.buckets[flow.bucket]
        net = flow.network
        action = _first_action(flow.access)
        prefix = flow.prefix or ""
        key: str | None = f"{prefix}bench/{rng.randrange(10_000):05d}.json"
        bucket_account: str | None = None
        roll = rng.random()
        if roll < 0.45:
            pass  # the flow itself
        elif roll < 0.55:
            key = f"elsewhere/{rng.randrange(1000)}.json"  # outside the prefix
        elif roll < 0.62:
            net = rng.choice([*nets, "internet"])
        elif roll < 0.70:
            action = rng.choice(ACTIONS)
        elif roll < 0.77:
            p = rng.choice(principals)
        elif roll < 0.82:
            b = rng.choice(buckets)
        elif roll < 0.88:
            out.append(
                _request(
                    f"arn:aws:iam::{rng.randrange(10**11, 10**12)}:role/intruder",
                    net,
                    f"exfil-{rng.randrange(1000):03d}-bench",
                    rng.choice(ACTIONS[:4]),
                    key,
                    str(rng.randrange(10**11, 10**12)),
                )
            )
            continue
        elif roll < 0.92:
            out.append(
                _request("anonymous", rng.choice([net, "internet"]), b.name, action, key, None)
            )
            continue
        elif roll < 0.96:
            out.append(
                _request(
                    rng.choice(org.admins),
                    rng.choice([net, "internet"]),
                    b.name,
                    rng.choice(ACTIONS),
                    key,
                    None,
                )
            )
            continue
        else:
            bucket_account = str(rng.randrange(10**11, 10**12))  # same name, another account
        if action in ("s3:ListBucket",):
            key = prefix if prefix and rng.random() < 0.8 else None
        out.append(_request(p.arn, net, b.name, action, key, bucket_account))
    return out


def _request(
    principal: str, network: str, bucket: str, action: str, key: str | None, account: str | None
) -> dict[str, str]:
    item = {"principal": principal, "network": network, "bucket": bucket, "action": action}
    if key is not None:
        item["key"] = key
    if account is not None:
        item["bucket_account"] = account
    return item


# --- checking the generated spec against AWS's size limits -------------------------------------


def policy_sizes(spec_path: Path) -> dict[str, object]:
    """Compile ``spec_path`` in-process and measure every policy as compact JSON."""
    repo = Path(__file__).resolve().parent.parent
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from xflow_perimeter.api import load_spec
    from xflow_perimeter.iam.policy import to_json
    from xflow_perimeter.synth import plan

    started = time.perf_counter()
    # plan.build is what api.generate runs before rendering (and before its own XF301 check), so
    # oversized policies can still be measured and named here.
    planned = plan.build(load_spec(spec_path), spec_path.name)
    elapsed = time.perf_counter() - started
    endpoints: list[tuple[int, str]] = []
    bucket_policies: list[tuple[int, str]] = []
    for module in planned.modules:
        for endpoint in module.endpoints:
            size = len(json.dumps(to_json(endpoint.policy), separators=(",", ":")))
            endpoints.append((size, endpoint.network.name))
        for bp in module.bucket_policies:
            text = json.dumps(to_json(bp.policy), separators=(",", ":"))
            bucket_policies.append((len(text.encode()), bp.bucket.key))
    endpoints.sort(reverse=True)
    bucket_policies.sort(reverse=True)
    return {
        "plan_seconds": round(elapsed, 3),
        "endpoint_policies": len(endpoints),
        "bucket_policies": len(bucket_policies),
        "largest_endpoint": endpoints[:3],
        "largest_bucket": bucket_policies[:3],
        "endpoint_over": sum(1 for s, _ in endpoints if s > ENDPOINT_LIMIT),
        "bucket_over": sum(1 for s, _ in bucket_policies if s > BUCKET_POLICY_LIMIT),
    }


def stats(org: Org) -> dict[str, object]:
    def spread(values: list[int]) -> str:
        values = sorted(values)
        return f"max {values[-1]}, median {values[len(values) // 2]}, min {values[0]}"

    return {
        "flows": len(org.flows),
        "accounts": len(org.accounts),
        "networks": len(org.networks),
        "adopted_endpoints": sum(1 for n in org.networks.values() if n.endpoint != "create"),
        "route_tables": sum(len(n.route_tables) for n in org.networks.values()),
        "buckets": len(org.buckets),
        "principals": len(org.principals),
        "users": sum(1 for p in org.principals.values() if ":user/" in p.arn),
        "admins": len(org.admins),
        "flows_per_principal": spread([p.flows for p in org.principals.values()]),
        "flows_per_bucket": spread([b.flows for b in org.buckets.values()]),
        "principals_per_bucket": spread([len(b.principals) for b in org.buckets.values()]),
        "flows_per_network": spread([n.flows for n in org.networks.values()]),
        "targets_per_network": spread([len(n.targets) for n in org.networks.values()]),
        "distinct_principals_per_network": spread(
            [len({f.principal for f in org.flows if f.network == n}) for n in org.networks]
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, required=True, help="spec file to write")
    parser.add_argument(
        "--requests", type=int, default=0, help="also write this many explain requests"
    )
    parser.add_argument(
        "--requests-out",
        type=Path,
        help="JSON Lines file (default: requests.jsonl beside the spec)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=0.95,
        help="fraction of AWS's policy size limits to fill (default 0.95)",
    )
    parser.add_argument(
        "--no-check", action="store_true", help="skip compiling and measuring the policies"
    )
    parser.add_argument(
        "--stats-json", type=Path, help="write the statistics and policy sizes here"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    org = build_org(args.flows, args.seed, args.budget)
    elapsed = time.perf_counter() - started
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(to_yaml(org), encoding="utf-8")
    info: dict[str, object] = {
        "spec": str(args.output),
        "build_seconds": round(elapsed, 2),
        **stats(org),
    }
    if args.requests:
        target = args.requests_out or args.output.parent / "requests.jsonl"
        lines = [json.dumps(r, sort_keys=True) for r in requests(org, args.requests, args.seed)]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        info["requests"] = str(target)
    status = 0
    if not args.no_check:
        sizes_info = policy_sizes(args.output)
        info.update(sizes_info)
        if sizes_info["endpoint_over"] or sizes_info["bucket_over"]:
            status = 1
    if not args.quiet or status:
        for key, value in info.items():
            print(f"{key}: {value}")
        if status:
            print("generate: a policy is over AWS's size limit; lower CAPS", file=sys.stderr)
    if args.stats_json:
        args.stats_json.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
