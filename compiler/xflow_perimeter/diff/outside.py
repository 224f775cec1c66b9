"""Buckets outside both specs that an endpoint may let requests reach: the buckets a changed
endpoint policy names, an intruder's own bucket (reached by ``Resource: "*"`` or a bucket
pattern), each in an account outside the specs, in the accounts the policies name and in the
account of the network the endpoint serves, and every spec bucket's name in a foreign account.

Only endpoints whose policy or route differs between the sides can decide such a bucket's
requests differently (the bucket's own policy is the same unknown on both sides), and a bucket
no statement of those policies may target is denied by both: neither needs a class.
"""

from __future__ import annotations

from xflow_perimeter.diff.classes import BucketId
from xflow_perimeter.diff.origins import Origin
from xflow_perimeter.diff.sides import Side
from xflow_perimeter.iam.matching import may_target
from xflow_perimeter.iam.policy import PolicyDocument
from xflow_perimeter.prove.request_classes import bucket_witnesses, constants

INTRUDER_BUCKET = "xflow-intruder-bucket"


def outside_buckets(
    old: Side, new: Side, paths: list[Origin], foreign: str, spec_buckets: set[BucketId]
) -> list[BucketId]:
    changed = [
        served.endpoint_policy
        for origin in paths
        if not origin.same
        for served in (origin.old, origin.new)
        if served.endpoint_policy is not None
    ]
    if not changed:
        return []
    found = constants(changed)
    network_accounts = {n.account_id for side in (old, new) for n in side.spec.networks}
    names = bucket_witnesses(found.resources) | {INTRUDER_BUCKET}
    names |= {b.name for b in spec_buckets}
    accounts = {foreign} | set(found.accounts) | network_accounts
    out = {
        BucketId(name, account, outside=True)
        for name in names
        if _reachable(changed, name)
        for account in accounts
        if BucketId(name, account) not in spec_buckets
    }
    return sorted(out, key=lambda b: (b.name, b.account))


def _reachable(policies: list[PolicyDocument], name: str) -> bool:
    return any(may_target(s, name) for p in policies for s in p.statements)
