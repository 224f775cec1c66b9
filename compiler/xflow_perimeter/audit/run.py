"""Run the audit: read every account and Region of the spec concurrently, then compare.

The reads are independent tasks (one per account and Region for its networks, one per bucket,
one per account and Region for the account-wide S3 settings) on a bounded thread pool; each
worker thread has its own boto3 sessions and clients.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from typing import Any

from xflow_perimeter.audit.committed import Committed
from xflow_perimeter.audit.deployed import prove_deployed
from xflow_perimeter.audit.drift_buckets import check_buckets
from xflow_perimeter.audit.drift_network import check_networks
from xflow_perimeter.audit.live import (
    LiveAccount,
    LiveBucket,
    LiveRegion,
    LiveState,
    Missing,
    PublicAccessBlock,
    Unreadable,
)
from xflow_perimeter.audit.read_buckets import read_account_public_access_block, read_bucket
from xflow_perimeter.audit.read_network import NetworkReads, read_networks
from xflow_perimeter.audit.report import AuditFinding, AuditReport, sorted_findings
from xflow_perimeter.audit.sessions import (
    Access,
    Reader,
    Readers,
    SessionHook,
    Sessions,
    account_access,
    base_credentials,
    caller_account,
)
from xflow_perimeter.spec.model import Spec

Progress = Callable[[int, int, str], None]  # (done, total, what was just read)
DEFAULT_WORKERS = 8


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """How the audit reaches AWS: the role to assume, worker threads, a hook on every session."""

    role_name: str | None = None  # assume arn:aws:iam::ACCOUNT:role/NAME in every account
    workers: int = DEFAULT_WORKERS
    session_hook: SessionHook | None = None  # sees every boto3 session (event handlers)


def audit(
    committed: Committed, settings: AuditSettings, progress: Progress | None = None
) -> AuditReport:
    """Read the deployed perimeter of ``committed.spec`` and hold it to the committed Terraform."""
    spec = committed.spec
    live = read_live(spec, settings, progress)
    findings = _unreadable_findings(live)
    findings += check_networks(committed, live)
    findings += check_buckets(committed, live)
    proof = prove_deployed(committed, live)
    findings += proof.findings
    return AuditReport(
        findings=sorted_findings(findings),
        proof=proof.summary,
        accounts=len(live.accounts),
        account_regions=len(live.regions),
        networks=len(spec.networks),
        buckets=len(spec.buckets),
    )


def targets(spec: Spec) -> list[tuple[str, str]]:
    """Every (account, Region) the spec has a network or a bucket in."""
    pairs = {(n.account_id, n.region) for n in spec.networks}
    pairs |= {(b.account_id, b.region) for b in spec.buckets}
    return sorted(pairs)


def read_live(spec: Spec, settings: AuditSettings, progress: Progress | None) -> LiveState:
    pairs = targets(spec)
    accounts = sorted({account for account, _ in pairs})
    home = {account: min(r for a, r in pairs if a == account) for account in accounts}
    workers = max(1, settings.workers)
    sessions = Sessions(settings.session_hook)
    access = _access(accounts, home, settings, sessions, workers)
    reachable = [(a, r) for a, r in pairs if access[a].credentials is not None]
    readers = Readers(access, sessions)
    tasks: list[tuple[str, Callable[[], Any]]] = []
    for account, region in reachable:
        here = (account, region)
        vpcs = tuple(sorted(n.vpc_id for n in spec.networks if (n.account_id, n.region) == here))
        buckets = [b for b in spec.buckets if (b.account_id, b.region) == here]
        if vpcs:
            networks = partial(read_networks, vpc_ids=vpcs)
            tasks.append((f"networks in {account} {region}", _task(readers, here, networks)))
        for bucket in buckets:
            one_bucket = partial(read_bucket, bucket=bucket)
            tasks.append((f"bucket {bucket.name}", _task(readers, here, one_bucket)))
        if buckets:
            settings_read = partial(read_account_public_access_block, account_id=account)
            tasks.append(
                (f"S3 settings of {account} in {region}", _task(readers, here, settings_read))
            )
    results: dict[int, Any] = {}
    with ThreadPoolExecutor(max_workers=min(workers, max(1, len(tasks)))) as pool:
        futures = {pool.submit(run): index for index, (_, run) in enumerate(tasks)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            if progress is not None:
                progress(done, len(tasks), tasks[index][0])
    return _assemble(spec, reachable, access, [results[i] for i in range(len(tasks))])


def _task(
    readers: Readers, where: tuple[str, str], read: Callable[[Reader], object]
) -> Callable[[], tuple[str, str, object]]:
    account, region = where
    return lambda: (account, region, read(readers.get(account, region)))


def _access(
    accounts: list[str],
    home: dict[str, str],
    settings: AuditSettings,
    sessions: Sessions,
    workers: int,
) -> dict[str, Access]:
    base = base_credentials(sessions)
    if isinstance(base, str):
        return {
            a: Access(
                a,
                None,
                Unreadable(a, home[a], "the caller's credentials", "", "credentials", base),
            )
            for a in accounts
        }
    caller = None
    if settings.role_name is None and accounts:
        caller = caller_account(base, home[accounts[0]], sessions)
    with ThreadPoolExecutor(max_workers=min(workers, max(1, len(accounts)))) as pool:
        found = pool.map(
            lambda a: account_access(a, home[a], base, settings.role_name, caller, sessions),
            accounts,
        )
        return {a.account_id: a for a in found}


def _assemble(
    spec: Spec,
    reachable: list[tuple[str, str]],
    access: dict[str, Access],
    results: list[tuple[str, str, Any]],
) -> LiveState:
    regions = []
    for account, region in reachable:
        here = [value for a, r, value in results if (a, r) == (account, region)]
        networks = next(
            (v for v in here if isinstance(v, NetworkReads)),
            NetworkReads(frozenset(), (), (), frozenset()),
        )
        buckets = tuple(v for v in here if isinstance(v, LiveBucket))
        account_block: PublicAccessBlock | Missing | Unreadable | None = next(
            (v for v in here if isinstance(v, PublicAccessBlock | Missing | Unreadable)), None
        )
        regions.append(
            LiveRegion(
                account_id=account,
                region=region,
                vpc_ids=networks.vpc_ids,
                endpoints=networks.endpoints,
                route_tables=networks.route_tables,
                s3_prefix_lists=networks.s3_prefix_lists,
                buckets=buckets,
                account_public_access_block=account_block,
            )
        )
    accounts = tuple(LiveAccount(a, access[a].failure) for a in sorted(access))
    return LiveState(accounts, tuple(regions))


def _unreadable_findings(live: LiveState) -> list[AuditFinding]:
    failures = [(a.failure, "XF602") for a in live.accounts if a.failure is not None]
    failures += [(f, "XF601") for f in live.read_failures()]
    return [
        AuditFinding(
            code,
            failure.describe() if code == "XF601" else _unreached(failure),
            None,
            failure.account_id,
            failure.region,
            (f"needs: {failure.action}",) if failure.kind == "denied" else (),
        )
        for failure, code in failures
    ]


def _unreached(failure: Unreadable) -> str:
    action = f" ({failure.action})" if failure.action else ""
    return (
        f"cannot reach account {failure.account_id} through {failure.subject}{action}: "
        f"{failure.reason}"
    )
