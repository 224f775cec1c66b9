"""Compare the exposure of two sides: every bucket either side knows (by name and account),
decided over one common set of request classes, skipping soundly what cannot differ."""

from __future__ import annotations

from xflow_perimeter.diff.classes import BucketId, bucket_classes, principal_names
from xflow_perimeter.diff.declared import declared_changes
from xflow_perimeter.diff.exposure import differences
from xflow_perimeter.diff.grouping import entries, sort_key
from xflow_perimeter.diff.model import DiffReport, Entry, Refusal
from xflow_perimeter.diff.origins import origins
from xflow_perimeter.diff.outside import outside_buckets
from xflow_perimeter.diff.services import service_differences
from xflow_perimeter.diff.sides import Refused, Side
from xflow_perimeter.prove.request_classes import constants, fresh_account
from xflow_perimeter.synth.grants import Grant, grants


def diff_sides(old: Side | Refused, new: Side | Refused) -> DiffReport:
    """The report of what changed from ``old`` to ``new``; a refused side is reported, not diffed."""
    if isinstance(old, Refused) or isinstance(new, Refused):
        refusals = tuple(
            Refusal(name, side.label, side.diagnostics)
            for name, side in (("old", old), ("new", new))
            if isinstance(side, Refused)
        )
        return DiffReport(old.label, new.label, (), (), refusals)
    return compare(old, new)


def compare(old: Side, new: Side) -> DiffReport:
    buckets = sorted(
        {BucketId(b.name, b.account_id) for side in (old, new) for b in side.spec.buckets},
        key=lambda b: (b.name, b.account),
    )
    by_bucket: dict[BucketId, list[Grant]] = {}
    for side in (old, new):
        keyed = {b.key: BucketId(b.name, b.account_id) for b in side.spec.buckets}
        for grant in grants(side.spec):
            by_bucket.setdefault(keyed[grant.bucket], []).append(grant)
    everything = constants([*old.perimeter.policies(), *new.perimeter.policies()])
    paths = origins(old, new, everything)
    known = set(everything.accounts)
    for side in (old, new):
        spec = side.spec
        known |= {a for _, a in spec.accounts} | {b.account_id for b in spec.buckets}
        known |= {p.account_id for p in spec.principals} | {n.account_id for n in spec.networks}
    foreign = fresh_account(known)
    buckets += outside_buckets(old, new, paths, foreign, set(buckets))
    found: list[Entry] = []
    names = principal_names(old, new)
    compared = evaluated = 0
    for bucket in buckets:
        if not bucket.outside:
            differing, count = service_differences(old, new, bucket, foreign)
            evaluated += count
            found += entries(differing, bucket.label)
        classes = bucket_classes(bucket, old, new, by_bucket.get(bucket, []), paths, foreign, names)
        if classes is None:
            continue
        compared += 1
        differing, count = differences(classes)
        evaluated += count
        found += entries(differing, bucket.label, bucket.outside)
    return DiffReport(
        old.label,
        new.label,
        tuple(sorted(found, key=sort_key)),
        tuple(declared_changes(old, new)),
        buckets_compared=compared,
        buckets_skipped=len(buckets) - compared,
        requests_evaluated=evaluated,
    )
