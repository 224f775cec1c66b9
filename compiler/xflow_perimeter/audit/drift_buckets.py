"""Drift in the spec's buckets: policies, ACLs and ownership, public access, access points."""

from __future__ import annotations

from xflow_perimeter.audit.committed import Committed
from xflow_perimeter.audit.live import (
    LiveBucket,
    LiveRegion,
    LiveState,
    Missing,
    PublicAccessBlock,
    Unreadable,
)
from xflow_perimeter.audit.normalise import PolicyShapeError, canonical, canonical_text, differences
from xflow_perimeter.audit.report import AuditFinding
from xflow_perimeter.diagnostics import Span
from xflow_perimeter.iam.policy import to_json
from xflow_perimeter.spec.model import Bucket

ENFORCED = "BucketOwnerEnforced"


def check_buckets(committed: Committed, live: LiveState) -> list[AuditFinding]:
    out: list[AuditFinding] = []
    for bucket in committed.spec.buckets:
        region = live.region(bucket.account_id, bucket.region)
        if region is None or live.account_failure(bucket.account_id) is not None:
            continue  # the account could not be reached: reported once, as XF602
        found = next((b for b in region.buckets if b.name == bucket.name), None)
        if found is not None:
            out.extend(_BucketCheck(committed, region, bucket, found).run())
    return out


class _BucketCheck:
    def __init__(
        self, committed: Committed, region: LiveRegion, bucket: Bucket, live: LiveBucket
    ) -> None:
        self.committed = committed
        self.region = region
        self.bucket = bucket
        self.live = live
        self.findings: list[AuditFinding] = []

    def finding(
        self, code: str, message: str, span: Span | None = None, notes: tuple[str, ...] = ()
    ) -> None:
        bucket = self.bucket
        where = span if span is not None else bucket.span
        self.findings.append(
            AuditFinding(code, message, where, bucket.account_id, bucket.region, notes)
        )

    def run(self) -> list[AuditFinding]:
        bucket, live = self.bucket, self.live
        if live.exists is False:
            self.finding(
                "XF621",
                f"bucket {bucket.name} does not exist (expected in account {bucket.account_id}, "
                f"{bucket.region})",
            )
            return self.findings
        if isinstance(live.region, str) and live.region != bucket.region:
            self.finding(
                "XF622",
                f"bucket {bucket.name} is in {live.region}, but the spec puts it in "
                f"{bucket.region}: the gateway endpoints of {bucket.region} do not serve it",
            )
        self._policy()
        self._ownership()
        self._public_access()
        self._access_points()
        return self.findings

    def _policy(self) -> None:
        name = self.bucket.name
        tf_policy = self.committed.bucket_policy(name)
        deployed = self.live.policy
        if isinstance(deployed, Unreadable) or deployed is None:
            return  # not read: reported as XF601
        if tf_policy is None or tf_policy.policy is None:
            if not isinstance(deployed, Missing):
                self.finding(
                    "XF611",
                    f"bucket {name} has a policy, but the committed Terraform has none for it "
                    "(run xflow verify)",
                )
            return
        span = self.committed.span(tf_policy.policy.span or tf_policy.span)
        if isinstance(deployed, Missing):
            self.finding(
                "XF611",
                f"bucket {name} has no policy; the committed one is {tf_policy.address}",
                span,
            )
            return
        try:
            live_policy = canonical_text(deployed)
        except PolicyShapeError as error:
            self.finding("XF611", f"the policy of bucket {name} cannot be read: {error}", span)
            return
        changed = differences(canonical(to_json(tf_policy.policy)), live_policy)
        if changed:
            self.finding(
                "XF611",
                f"the deployed policy of bucket {name} differs from the committed one "
                f"({tf_policy.address})",
                span,
                tuple(f"deployed {line}" for line in changed),
            )

    def _ownership(self) -> None:
        name, ownership = self.bucket.name, self.live.object_ownership
        if isinstance(ownership, Missing):
            self.finding(
                "XF617",
                f"bucket {name} has no ownership controls, so ACLs are enabled and can grant "
                f"access that no policy shows; set ObjectOwnership to {ENFORCED}",
            )
        elif isinstance(ownership, str) and ownership != ENFORCED:
            self.finding(
                "XF617",
                f"bucket {name} has ObjectOwnership {ownership}, so ACLs are enabled and can "
                f"grant access that no policy shows; set it to {ENFORCED}",
            )
        if isinstance(self.live.acl_grants, tuple):
            extra = [g for g in self.live.acl_grants if not g.is_owner]
            if extra:
                self.finding(
                    "XF618",
                    f"bucket {name}: its ACL grants access beyond the bucket owner",
                    notes=tuple(f"grant: {g.permission} to {g.grantee}" for g in extra),
                )

    def _public_access(self) -> None:
        own = self.live.public_access_block
        account = self.region.account_public_access_block
        settings = dict.fromkeys(PublicAccessBlock(False, False, False, False).settings(), False)
        undecided = False
        for layer in (own, account):
            if isinstance(layer, PublicAccessBlock):
                for key, on in layer.settings().items():
                    settings[key] = settings[key] or on
            elif isinstance(layer, Unreadable) or layer is None:
                undecided = True
        off = sorted(key for key, on in settings.items() if not on)
        if not off or undecided:
            return  # blocked, or not known (the failed read is reported as XF601)
        self.finding(
            "XF619",
            f"bucket {self.bucket.name}: public access is not blocked ({', '.join(off)} off for "
            "the bucket and for its account)",
        )

    def _access_points(self) -> None:
        if not isinstance(self.live.access_points, tuple):
            return
        for point in self.live.access_points:
            where = f" in {point.vpc_id}" if point.vpc_id else ""
            self.finding(
                "XF620",
                f"bucket {self.bucket.name} has access point {point.name} "
                f"({point.network_origin}{where}): requests through it are also decided by its "
                "own policy, which xflow neither writes nor proves",
            )
