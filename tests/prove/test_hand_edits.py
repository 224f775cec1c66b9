"""Hand edits of generated Terraform: verify must catch every edit that changes what AWS would allow,
name who, what and where, refuse what it cannot prove, and pass edits that change nothing.

Each test copies an example's committed ``terraform/`` into ``tmp_path``, applies a textual edit
(the kind a person makes in a pull request), and runs ``verify``. The expected codes come from
reasoning about AWS (explicit Deny wins; a same-account caller needs the identity *or* the bucket
policy, a cross-account caller both; a gateway endpoint's policy gates every request through it),
not from what verify happens to print. The property test at the end mutates generated policies at
random and checks every exit-0 mutation against a hand-justified list and against the evaluator.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.iam.evaluate import ALLOW_EVERYONE_POLICY, DEFAULT_ENDPOINT_POLICY, evaluate
from xflow_perimeter.iam.policy import Condition, PolicyDocument, Statement
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.verify import Finding, Report, verify
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.synth.render import policy_attribute
from xflow_perimeter.terraform.perimeter import read_perimeter
from xflow_perimeter.terraform.reader import TfTree, read_text, read_tree

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

# cross-account: bucket chibayuki-test (account 000000000000); uploader (same account) writes, and
# app-role (999999999999, cross-account) reads and lists exports/, both through network app.
BP = "data-ap-northeast-1/bucket_policies.tf"
EP = "workload-ap-northeast-1/endpoints.tf"
OUTPUTS = "workload-ap-northeast-1/outputs.tf"
APP = "arn:aws:iam::999999999999:role/app"
UPLOADER = "arn:aws:iam::000000000000:user/Chibayuki"
BREAKGLASS = "arn:aws:iam::000000000000:role/BreakGlass"
MALLORY = "arn:aws:iam::123456789012:user/mallory"
APP_VPC = "vpc-0a1b2c3d4e5f60718"
OTHER_VPC = "vpc-0fffffffffffffff0"

# data-platform: lake bucket acme-lake-raw (111111111111); etl (same account) reads events/.
LAKE_BP = "lake-eu-west-1/bucket_policies.tf"
LAKE_EP = "lake-eu-west-1/endpoints.tf"
ANALYTICS_EP = "analytics-eu-west-1/endpoints.tf"
ETL = "arn:aws:iam::111111111111:role/etl/spark-etl"

Edit = tuple[str, Callable[[str], str | None]]  # (file relative to terraform/, text -> new text)


# -- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def specs() -> dict[str, Spec]:
    return {
        name: load_spec(EXAMPLES / name / "spec.yaml")
        for name in ("cross-account", "data-platform")
    }


def verify_edited(
    tmp_path: Path, specs: dict[str, Spec], edits: Iterable[Edit], example: str = "cross-account"
) -> Report:
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLES / example / "terraform", root)
    for rel, edit in edits:
        path = root / rel
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = edit(old)
        if new is None:
            path.unlink()
            continue
        assert new != old, f"the edit of {rel} changed nothing"
        path.write_text(new, encoding="utf-8")
    return verify(specs[example], read_tree(root))


def codes(report: Report) -> set[str]:
    return {f.code for f in report.findings} | {d.code for d in report.refusals}


def findings(report: Report, code: str, *needles: str) -> list[Finding]:
    """The findings with ``code`` whose message contains every needle."""
    return [f for f in report.findings if f.code == code and all(n in f.message for n in needles)]


def describe(report: Report) -> str:
    lines = [f"exit {report.exit_code}"]
    lines += [f"  refused {d.code} {d.span}: {d.message}" for d in report.refusals]
    lines += [
        f"  {f.code} {f.span}: {f.message} | {f.counterexample} | {f.deciding}"
        for f in report.findings
    ]
    return "\n".join(lines)


def statement_bounds(text: str, sid: str) -> tuple[int, int]:
    """Start and end offsets of the generated statement with ``sid`` (unique in ``text``)."""
    opening = re.compile(r"\n      \{\n        Sid +\= \"" + re.escape(sid) + '"\n')
    found = list(opening.finditer(text))
    assert len(found) == 1, f"statement {sid} occurs {len(found)} times"
    start = found[0].start() + 1
    end = text.index("\n      },\n", start) + len("\n      },\n")
    return start, end


def statement_line(text: str, sid: str) -> int:
    """The 1-based line of the ``{`` that opens statement ``sid`` (where verify's spans point)."""
    return text.count("\n", 0, statement_bounds(text, sid)[0]) + 1


def drop_statement(sid: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        start, end = statement_bounds(text, sid)
        return text[:start] + text[end:]

    return edit


def in_statement(sid: str, old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        start, end = statement_bounds(text, sid)
        body = text[start:end]
        assert body.count(old) == 1, f"{old!r} occurs {body.count(old)} times in {sid}"
        return text[:start] + body.replace(old, new) + text[end:]

    return edit


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times"
        return text.replace(old, new)

    return edit


def delete_resource(kind: str, name: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        start = text.index(f'resource "{kind}" "{name}" {{')
        end = text.index("\n}\n", start) + len("\n}\n")
        return text[:start] + text[end:]

    return edit


def replace_policy(new_attribute: str) -> Callable[[str], str]:
    """Replace the first ``policy = jsonencode({...})`` in the file with ``new_attribute``."""

    def edit(text: str) -> str:
        start = text.index("  policy = jsonencode({")
        end = text.index("\n  })\n", start) + len("\n  })\n")
        return text[:start] + new_attribute + text[end:]

    return edit


def points_at(finding: Finding, file: str, line: int | None = None) -> bool:
    """The finding's span (or one of its deciding statements) is in ``file`` (at ``line``)."""
    where = f"{file}:{line}:" if line is not None else f"{file}:"
    in_span = finding.span is not None and str(finding.span).startswith(where)
    return in_span or any(d.startswith(where) for d in finding.deciding)


def request(
    arn: str | None,
    action: str,
    key: str | None,
    *,
    via: str | None = "app",
    bucket: str = "chibayuki-test",
    account: str = "000000000000",
    list_prefix: str | None = None,
    tls: bool = True,
) -> Request:
    caller = Caller(arn=arn, account=arn.split(":")[4] if arn else None)
    if via == "app":
        path = NetworkPath(vpce="vpce-0123456789abcdef0", vpc=APP_VPC, vpc_source_ip="10.0.0.10")
    elif via == "foreign":
        path = NetworkPath(vpce="vpce-0fffffffffffffff0", vpc=OTHER_VPC, vpc_source_ip="10.0.0.10")
    else:
        path = NetworkPath(source_ip="203.0.113.10")
    return Request(caller, action, bucket, account, key, list_prefix, path, tls)


def edited_bucket_policy(tmp_path: Path, rel: str = BP) -> PolicyDocument:
    perimeter = read_perimeter(read_tree(tmp_path / "terraform"))
    return next(
        p.policy for p in perimeter.bucket_policies if p.span.file == rel and p.policy is not None
    )


# -- the baseline ----------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["cross-account", "data-platform"])
def test_committed_examples_verify_clean(
    tmp_path: Path, specs: dict[str, Spec], example: str
) -> None:
    report = verify_edited(tmp_path, specs, [], example)
    assert report.exit_code == 0, describe(report)


# -- edits that widen one layer --------------------------------------------------------------


def test_endpoint_allow_action_widened_to_s3_star_is_masked_by_the_bucket(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # The endpoint now lets app-role do anything under exports/; the bucket policy's
    # DenyOtherActions for app-role still stops PutObject/DeleteObject, so the exposure is masked.
    edit = in_statement(
        "AllowReports67B2B685",
        'Action = [\n          "s3:GetObject",\n          "s3:GetObjectVersion",\n        ]',
        'Action = ["s3:*"]',
    )
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF503"}, describe(report)
    masked = findings(
        report, "XF503", "endpoint policy alone", APP, "chibayuki-test", "network app"
    )
    assert masked, describe(report)
    line = statement_line(
        edit((EXAMPLES / "cross-account/terraform" / EP).read_text()), "AllowReports67B2B685"
    )
    assert all(points_at(f, EP, line) for f in masked), describe(report)
    assert "AllowReports67B2B685" in masked[0].deciding[0]


def test_bucket_allow_action_widened_to_s3_star_is_neutral(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # In the bucket policy the same widening changes nothing: DenyOtherActionsAC5FE83B (NotAction
    # the read/list actions, for app-role from its VPC) already denies every other action, and
    # DenyOtherNetworks146C3F30 denies app-role everywhere else. Explicit Deny wins.
    edit = in_statement(
        "AllowApp67B2B685",
        'Action = [\n          "s3:GetObject",\n          "s3:GetObjectVersion",\n        ]',
        'Action = ["s3:*"]',
    )
    report = verify_edited(tmp_path, specs, [(BP, edit)])
    assert report.exit_code == 0, describe(report)
    # Independently: the evaluator on the edited policy denies a write by app-role, by that Deny.
    policy = edited_bucket_policy(tmp_path)
    decision = evaluate(
        request(APP, "s3:PutObject", "exports/x.csv"),
        bucket_policy=policy,
        endpoint_policy=DEFAULT_ENDPOINT_POLICY,
    )
    assert not decision.allowed
    assert [s.sid for _, s in decision.deciding] == ["DenyOtherActionsAC5FE83B"]


def test_endpoint_object_resource_widened_to_star(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # app-role may now GetObject on any bucket of account 000000000000 through the endpoint: a
    # bucket outside the spec is real exposure (XF501); chibayuki-test outside exports/ is
    # masked by the bucket policy's DenyOutsidePrefixes (XF503).
    edit = in_statement("AllowReports67B2B685", '"arn:aws:s3:::chibayuki-test/exports/*"', '"*"')
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF501", "XF503"}, describe(report)
    real = findings(
        report,
        "XF501",
        APP,
        "s3:GetObject",
        "account 000000000000 (not a spec bucket)",
        "network app",
    )
    assert real and all(points_at(f, EP) for f in real), describe(report)
    masked = findings(
        report, "XF503", "endpoint policy alone", "app-role", "chibayuki-test from network app"
    )
    assert masked and all(points_at(f, EP) for f in masked), describe(report)
    assert "xflow-outside" in masked[0].counterexample  # a key outside exports/


def test_endpoint_object_resource_widened_to_bucket_glob(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # arn:aws:s3:::chibayuki-* reaches every object of every chibayuki-* bucket of the account.
    edit = in_statement(
        "AllowReports67B2B685",
        '"arn:aws:s3:::chibayuki-test/exports/*"',
        '"arn:aws:s3:::chibayuki-*"',
    )
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    real = findings(report, "XF501", APP, "s3:GetObject", "network app")
    other_buckets = [
        f
        for f in real
        if re.search(r"on chibayuki-(?!test )\S+ in account 000000000000", f.message)
    ]
    assert other_buckets, describe(report)
    assert all(points_at(f, EP) for f in real)
    assert findings(report, "XF503", "endpoint policy alone", "chibayuki-test from network app"), (
        describe(report)
    )


@pytest.mark.parametrize("resource", ['"*"', '"arn:aws:s3:::chibayuki-*"'])
def test_bucket_object_resource_widened_is_neutral(
    tmp_path: Path, specs: dict[str, Spec], resource: str
) -> None:
    # A bucket policy only governs its own bucket, and DenyOutsidePrefixes96FA044B already denies
    # app-role's GetObject outside exports/ from its VPC (DenyOtherNetworks from anywhere else).
    edit = in_statement("AllowApp67B2B685", '"arn:aws:s3:::chibayuki-test/exports/*"', resource)
    report = verify_edited(tmp_path, specs, [(BP, edit)])
    assert report.exit_code == 0, describe(report)
    policy = edited_bucket_policy(tmp_path)
    decision = evaluate(
        request(APP, "s3:GetObject", "private/secret.csv"),
        bucket_policy=policy,
        endpoint_policy=DEFAULT_ENDPOINT_POLICY,
    )
    assert [s.sid for _, s in decision.deciding] == ["DenyOutsidePrefixes96FA044B"]


# -- principals ------------------------------------------------------------------------------


def test_principal_added_to_bucket_allow_is_stopped_by_deny_unlisted(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # mallory is in no list of DenyUnlistedPrincipals, so the Allow naming her is dead.
    edit = in_statement("AllowApp67B2B685", f'AWS = ["{APP}"]', f'AWS = ["{APP}", "{MALLORY}"]')
    report = verify_edited(tmp_path, specs, [(BP, edit)])
    assert report.exit_code == 0, describe(report)
    policy = edited_bucket_policy(tmp_path)
    decision = evaluate(
        request(MALLORY, "s3:GetObject", "exports/a.csv"),
        bucket_policy=policy,
        endpoint_policy=DEFAULT_ENDPOINT_POLICY,
    )
    assert [s.sid for _, s in decision.deciding] == ["DenyUnlistedPrincipals"]


def test_principal_added_to_bucket_allow_and_to_the_listed_principals(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # Now the bucket policy alone lets mallory read exports/ from the app VPC; the endpoint policy
    # (PrincipalArn app-role only) is what stops her: masked, XF503 on the bucket layer.
    edits = [
        (BP, in_statement("AllowApp67B2B685", f'AWS = ["{APP}"]', f'AWS = ["{APP}", "{MALLORY}"]')),
        (
            BP,
            in_statement(
                "DenyUnlistedPrincipals", f'"{APP}",\n', f'"{APP}",\n              "{MALLORY}",\n'
            ),
        ),
    ]
    report = verify_edited(tmp_path, specs, edits)
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF503"}, describe(report)
    masked = findings(
        report,
        "XF503",
        "bucket policy alone",
        MALLORY,
        "s3:GetObject",
        "chibayuki-test from network app",
    )
    assert masked, describe(report)
    assert all(points_at(f, BP) for f in masked)
    assert any("AllowApp67B2B685" in d for f in masked for d in f.deciding)


@pytest.mark.parametrize(
    ("added", "label"),
    [(MALLORY, MALLORY), (UPLOADER, "uploader")],
    ids=["outsider", "listed-principal"],
)
def test_principal_added_to_endpoint_principal_arn(
    tmp_path: Path, specs: dict[str, Spec], added: str, label: str
) -> None:
    # The endpoint lets the added principal read exports/; the bucket policy stops it
    # (DenyUnlistedPrincipals for an outsider, DenyOtherActions for the write-only uploader).
    edit = in_statement(
        "AllowReports67B2B685",
        f'"aws:PrincipalArn" = ["{APP}"]',
        f'"aws:PrincipalArn" = ["{APP}", "{added}"]',
    )
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF503"}, describe(report)
    masked = findings(
        report, "XF503", "endpoint policy alone", label, "s3:GetObject", "chibayuki-test"
    )
    assert masked and all(points_at(f, EP) for f in masked), describe(report)


def test_endpoint_principal_arn_changed(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # The uploader's endpoint statement now names another user: the uploader's writes die at the
    # endpoint (XF502, and the spec's allow assertion fails), and the other user gets an endpoint
    # grant that only DenyUnlistedPrincipals masks (XF503).
    other = "arn:aws:iam::000000000000:user/Other"
    edit = in_statement(
        "AllowReportsCA6D5E8B",
        f'"aws:PrincipalArn" = ["{UPLOADER}"]',
        f'"aws:PrincipalArn" = ["{other}"]',
    )
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF502", "XF503", "XF506"}, describe(report)
    assert findings(
        report,
        "XF502",
        "flow denied",
        "uploader",
        "s3:PutObject",
        "chibayuki-test from network app",
    )
    masked = findings(report, "XF503", "endpoint policy alone", other, "s3:PutObject")
    assert masked and all(points_at(f, EP) for f in masked), describe(report)


# -- Denies removed --------------------------------------------------------------------------


def test_deny_unlisted_principals_removed(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # Any other principal of the bucket's account, whose identity policy allows S3, now reaches the
    # bucket from the internet (no endpoint policy there): real exposure.
    report = verify_edited(tmp_path, specs, [(BP, drop_statement("DenyUnlistedPrincipals"))])
    assert report.exit_code == 1, describe(report)
    assert "XF501" in codes(report), describe(report)
    assert findings(
        report,
        "XF501",
        "unlisted principals of account 000000000000",
        "chibayuki-test from the internet",
    )
    # Cross-account outsiders still get nothing: there is no Allow for them.
    assert not findings(report, "XF501", "account 123456789012"), describe(report)
    # Through the app VPC the endpoint policy still stops them: masked.
    assert findings(
        report,
        "XF503",
        "bucket policy alone",
        "unlisted principals of account 000000000000",
        "network app",
    )


def test_deny_insecure_transport_removed(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # Nothing else looks at aws:SecureTransport: every flow now also works over plain HTTP.
    report = verify_edited(tmp_path, specs, [(BP, drop_statement("DenyInsecureTransport"))])
    assert report.exit_code == 1, describe(report)
    assert "XF501" in codes(report), describe(report)
    for who, action in (("app-role", "s3:GetObject"), ("uploader", "s3:PutObject")):
        found = findings(
            report, "XF501", who, action, "chibayuki-test from network app over plain HTTP"
        )
        assert found, describe(report)
        assert all(points_at(f, BP) for f in found), describe(report)
        assert all("TLS off" in f.counterexample for f in found)
    assert all("over plain HTTP" in f.message for f in report.findings if f.code == "XF501")


def assertion_line(text: str) -> int:
    """Line of the assertion in the cross-account example whose entry starts with ``text``."""
    lines = (REPO / "examples" / "cross-account" / "spec.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith("- {" + text))


def test_deny_other_networks_removed_for_the_same_account_uploader(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # The uploader is in the bucket's account: its identity policy suffices, so without
    # DenyOtherNetworks it writes from the internet and from any other VPC.
    report = verify_edited(tmp_path, specs, [(BP, drop_statement("DenyOtherNetworks5BB6C112"))])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF501", "XF506"}, describe(report)
    assert findings(report, "XF501", "uploader", "chibayuki-test from the internet")
    assert findings(report, "XF501", "uploader", "from a VPC endpoint outside the spec")
    assertion = findings(report, "XF506", "expects deny")
    assert (
        assertion
        and assertion[0].span is not None
        and assertion[0].span.line == assertion_line("principal: uploader, network: internet")
    )


def test_deny_other_networks_removed_for_the_cross_account_role_is_neutral(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # app-role is cross-account: it needs the bucket's Allow, which requires aws:SourceVpc = the app
    # VPC. Off that VPC nothing allows it, so the Deny was redundant.
    report = verify_edited(tmp_path, specs, [(BP, drop_statement("DenyOtherNetworks146C3F30"))])
    assert report.exit_code == 0, describe(report)
    policy = edited_bucket_policy(tmp_path)
    for via in ("foreign", None):
        endpoint = DEFAULT_ENDPOINT_POLICY if via else None
        decision = evaluate(
            request(APP, "s3:GetObject", "exports/a.csv", via=via),
            bucket_policy=policy,
            endpoint_policy=endpoint,
        )
        assert not decision.allowed and "grants nothing" in decision.reason


def test_per_prefix_deny_removed_for_a_cross_account_role_is_neutral(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # app-role's Allows are already scoped to exports/ (Resource and s3:prefix), and a
    # cross-account caller needs them.
    edits = [
        (BP, drop_statement("DenyOutsidePrefixes96FA044B")),
        (BP, drop_statement("DenyOutsidePrefixes53706BE7")),
    ]
    report = verify_edited(tmp_path, specs, edits)
    assert report.exit_code == 0, describe(report)


def test_per_prefix_deny_removed_for_a_same_account_role(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # etl is in the lake account: its identity policy reads all of acme-lake-raw, so only
    # DenyOutsidePrefixes0B04B8B9 kept it inside events/. The lake endpoint still allows only
    # events/*, so today it is masked (XF503 on the bucket layer).
    report = verify_edited(
        tmp_path, specs, [(LAKE_BP, drop_statement("DenyOutsidePrefixes0B04B8B9"))], "data-platform"
    )
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF503"}, describe(report)
    masked = findings(
        report,
        "XF503",
        "bucket policy alone",
        "etl",
        ETL,
        "s3:GetObject",
        "acme-lake-raw from network lake-vpc",
    )
    assert masked, describe(report)
    assert "xflow-outside" in masked[0].counterexample  # a key outside events/


def test_per_prefix_deny_removed_and_endpoint_widened_is_real_exposure(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    edits = [
        (LAKE_BP, drop_statement("DenyOutsidePrefixes0B04B8B9")),
        (
            LAKE_EP,
            in_statement(
                "AllowRaw9048BF0F",
                '"arn:aws:s3:::acme-lake-raw/events/*"',
                '"arn:aws:s3:::acme-lake-raw/*"',
            ),
        ),
    ]
    report = verify_edited(tmp_path, specs, edits, "data-platform")
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF501"}, describe(report)
    real = findings(report, "XF501", "etl", "s3:GetObject", "acme-lake-raw from network lake-vpc")
    assert real and "xflow-outside" in real[0].counterexample, describe(report)
    assert all(points_at(f, LAKE_EP) for f in real)


# -- conditions ------------------------------------------------------------------------------


def test_endpoint_resource_account_changed(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # The uploader's endpoint statement now only matches buckets owned by 123456789012: its writes
    # to chibayuki-test (owned by 000000000000) die at the endpoint, and a same-named bucket in
    # 123456789012 (after a delete and re-create) would take them instead.
    edit = in_statement(
        "AllowReportsCA6D5E8B",
        '"aws:ResourceAccount" = ["000000000000"]',
        '"aws:ResourceAccount" = ["123456789012"]',
    )
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF501", "XF502", "XF506"}, describe(report)
    assert findings(
        report,
        "XF502",
        "flow denied",
        "uploader",
        "s3:PutObject",
        "chibayuki-test from network app",
    )
    real = findings(
        report, "XF501", "uploader", "chibayuki-test in account 123456789012 (not a spec bucket)"
    )
    assert real and all(points_at(f, EP) for f in real), describe(report)


def test_endpoint_prefix_condition_removed(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # app-role may list the whole bucket through the endpoint; DenyOutsidePrefixes53706BE7 in the
    # bucket policy still stops listings outside exports/.
    edit = in_statement(
        "AllowReports89AF498C",
        '          StringLike = {\n            "s3:prefix" = ["exports/*"]\n          }\n',
        "",
    )
    report = verify_edited(tmp_path, specs, [(EP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF503"}, describe(report)
    masked = findings(
        report, "XF503", "endpoint policy alone", "app-role", "s3:ListBucket", "chibayuki-test"
    )
    line = statement_line(
        edit((EXAMPLES / "cross-account/terraform" / EP).read_text()), "AllowReports89AF498C"
    )
    assert masked and all(points_at(f, EP, line) for f in masked), describe(report)


def test_source_vpc_changed_in_one_allow(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # app-role's read Allow now names another VPC: from the app VPC nothing allows the
    # cross-account read (XF502), and from the other VPC DenyOtherNetworks146C3F30 still denies
    # it, so no new access appears.
    edit = in_statement("AllowApp67B2B685", APP_VPC, OTHER_VPC)
    report = verify_edited(tmp_path, specs, [(BP, edit)])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF502", "XF506"}, describe(report)
    assert findings(
        report,
        "XF502",
        "flow denied",
        "app-role",
        "s3:GetObject",
        "chibayuki-test from network app",
    )


def test_source_vpc_changed_in_the_same_account_allow_leaves_the_flow_to_identity(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # The uploader is in the bucket's account: DenyOtherNetworks5BB6C112 still pins it to the app
    # VPC, and the write still works where its identity policy grants it, but the bucket policy no
    # longer grants it itself (XF509).
    report = verify_edited(
        tmp_path, specs, [(BP, in_statement("AllowAppCA6D5E8B", APP_VPC, OTHER_VPC))]
    )
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF509"}, describe(report)
    assert findings(report, "XF509", "uploader", "s3:PutObject", "identity policy grants it")


def test_source_vpc_changed_everywhere_in_the_bucket_policy(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # Every flow now belongs to another VPC: denied from the app VPC, allowed from the foreign one.
    report = verify_edited(tmp_path, specs, [(BP, replace(APP_VPC, OTHER_VPC, count=9))])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF501", "XF502", "XF506"}, describe(report)
    for who in ("app-role", "uploader"):
        assert findings(report, "XF502", "flow denied", who, "chibayuki-test from network app"), (
            describe(report)
        )
        foreign = findings(
            report, "XF501", who, "from a VPC endpoint outside the spec (vpce-", f"in {OTHER_VPC})"
        )
        assert foreign and all(points_at(f, BP) for f in foreign), describe(report)


# -- resources deleted or added --------------------------------------------------------------


ASSOCIATION_B = (
    '\nresource "aws_vpc_endpoint_route_table_association" "app_rtb_0b1b2c3d4e5f60718" {\n'
    "  vpc_endpoint_id = aws_vpc_endpoint.app.id\n"
    '  route_table_id  = "rtb-0b1b2c3d4e5f60718"\n}\n'
)


def test_route_table_association_deleted(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # Subnets on rtb-0b1b... reach S3 over the NAT: no aws:SourceVpc, so both flows fail there.
    report = verify_edited(tmp_path, specs, [(EP, replace(ASSOCIATION_B, ""))])
    assert report.exit_code == 1, describe(report)
    assert codes(report) == {"XF502", "XF504"}, describe(report)
    unassociated = findings(report, "XF504", "rtb-0b1b2c3d4e5f60718", "'app'")
    assert len(unassociated) == 1 and not findings(report, "XF504", "rtb-0a1b2c3d4e5f60718"), (
        describe(report)
    )
    for who in ("app-role", "uploader"):
        assert findings(report, "XF502", who, "through route table rtb-0b1b2c3d4e5f60718"), (
            describe(report)
        )


def test_extra_route_table_association(tmp_path: Path, specs: dict[str, Spec]) -> None:
    extra = (
        '\nresource "aws_vpc_endpoint_route_table_association" "extra" {\n'
        "  vpc_endpoint_id = aws_vpc_endpoint.app.id\n"
        '  route_table_id  = "rtb-0c0c0c0c0c0c0c0c0"\n}\n'
    )
    report = verify_edited(tmp_path, specs, [(EP, lambda text: text + extra)])
    assert codes(report) == {"XF507"} and report.exit_code == 1, describe(report)
    assert findings(report, "XF507", "rtb-0c0c0c0c0c0c0c0c0")


SECOND_BUCKET_POLICY = """
resource "aws_s3_bucket_policy" "reports_extra" {
  bucket = "chibayuki-test"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowEveryone"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:GetObject"]
        Resource  = ["arn:aws:s3:::chibayuki-test/*"]
      },
    ]
  })
}
"""


@pytest.mark.parametrize("rel", [BP, "data-ap-northeast-1/extra.tf"], ids=["same-file", "new-file"])
def test_second_bucket_policy_for_the_same_bucket_is_refused(
    tmp_path: Path, specs: dict[str, Spec], rel: str
) -> None:
    report = verify_edited(tmp_path, specs, [(rel, lambda text: text + SECOND_BUCKET_POLICY)])
    assert report.exit_code == 2, describe(report)
    refused = [d for d in report.refusals if d.code == "XF405"]
    assert len(refused) == 1, describe(report)
    assert refused[0].span is not None and refused[0].span.file == rel
    assert "reports_extra" in refused[0].message and "chibayuki-test" in refused[0].message


def test_policy_rewritten_as_heredoc_is_refused(tmp_path: Path, specs: dict[str, Spec]) -> None:
    heredoc = (
        "  policy = <<EOF\n"
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", '
        '"Action": "s3:*", "Resource": "*"}]}\n'
        "EOF\n"
    )
    report = verify_edited(tmp_path, specs, [(BP, replace_policy(heredoc))])
    assert report.exit_code == 2, describe(report)
    assert {d.code for d in report.refusals} == {"XF402"}, describe(report)
    assert str(report.refusals[0].span) == f"{BP}:7:3"


def test_policy_from_data_aws_iam_policy_document_is_an_unresolved_reference(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # `policy = data.aws_iam_policy_document.x.json` is a reference Terraform resolves at plan
    # time: XF403 (unresolved reference), as a reference in `bucket` or inside jsonencode is.
    # The data block itself is not modelled either (XF410, closed world).
    data_block = """
data "aws_iam_policy_document" "reports" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:aws:s3:::chibayuki-test/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}
"""
    edits = [
        (BP, replace_policy("  policy = data.aws_iam_policy_document.reports.json\n")),
        (BP, lambda t: t + data_block),
    ]
    report = verify_edited(tmp_path, specs, edits)
    assert report.exit_code == 2, describe(report)
    assert [d.code for d in report.refusals] == ["XF410", "XF403"], describe(report)
    unresolved = report.refusals[1]
    assert "data.aws_iam_policy_document.reports.json" in unresolved.message
    assert str(unresolved.span) == f"{BP}:7:3"


def test_bucket_policy_deleted(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # No bucket policy: every principal of 000000000000 has the bucket through its identity policy,
    # from anywhere, and cross-account app-role has no Allow any more.
    report = verify_edited(
        tmp_path, specs, [(BP, delete_resource("aws_s3_bucket_policy", "reports"))]
    )
    assert report.exit_code == 1, describe(report)
    assert {"XF505", "XF501", "XF502"} <= codes(report), describe(report)
    assert findings(report, "XF505", "chibayuki-test", "no aws_s3_bucket_policy")
    assert findings(
        report,
        "XF501",
        "unlisted principals of account 000000000000",
        "chibayuki-test from the internet",
    )
    assert findings(report, "XF502", "flow denied", "app-role", "s3:GetObject", "network app"), (
        describe(report)
    )


def test_endpoint_and_its_associations_deleted(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # No endpoint: the app VPC's requests arrive without one, so the bucket policy
    # (aws:SourceVpc) denies both flows.
    report = verify_edited(tmp_path, specs, [(EP, lambda text: None), (OUTPUTS, lambda text: None)])
    assert report.exit_code == 1, describe(report)
    assert {"XF505", "XF504", "XF502"} <= codes(report), describe(report)
    assert findings(report, "XF505", "network 'app'", "no S3 gateway endpoint")
    assert findings(report, "XF502", "flow denied", "uploader"), describe(report)
    # Network app has egress: none, so without its endpoint it has no route to S3 at all: the
    # spec's assertion that the intruder cannot exfiltrate through it still holds.
    assert not any(
        f.span is not None
        and f.span.line == assertion_line('principal: "arn:aws:iam::123456789012:user/intruder"')
        for f in findings(report, "XF506")
    ), describe(report)


def test_endpoint_resource_deleted_leaving_dangling_references_is_refused(
    tmp_path: Path, specs: dict[str, Spec]
) -> None:
    # The associations still say aws_vpc_endpoint.app.id: Terraform cannot plan that either.
    report = verify_edited(tmp_path, specs, [(EP, delete_resource("aws_vpc_endpoint", "app"))])
    assert report.exit_code == 2, describe(report)
    refused = [d for d in report.refusals if d.code == "XF403"]
    assert len(refused) == 2 and all(d.span is not None and d.span.file == EP for d in refused), (
        describe(report)
    )
    assert all("unresolved reference" in d.message for d in refused)


def test_endpoint_policy_attribute_removed(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # An endpoint without a policy gets AWS's default full-access policy: any credentials in the
    # VPC reach any bucket of any account (exfiltration), which the spec's own assertion forbids.
    report = verify_edited(tmp_path, specs, [(EP, replace_policy(""))])
    assert report.exit_code == 1, describe(report)
    assert {"XF501", "XF506"} <= codes(report), describe(report)
    assert findings(report, "XF501", "xflow-intruder-bucket", "network app")
    # The bucket policy is unchanged, and its DenyUnlistedPrincipals denies s3:* on chibayuki-test to
    # every unlisted principal whatever the endpoint says: no finding may claim otherwise.
    bogus = findings(
        report, "XF501", "unlisted principals of account 000000000000", "on chibayuki-test from"
    )
    assert not bogus, describe(report)
    # Every request in a counterexample is an S3 request, so its action is an s3: action.
    actions = [f.counterexample.split(" by ", 1)[0] for f in report.findings if f.counterexample]
    assert all(a.startswith("s3:") for a in actions), sorted(set(actions))


def test_adopted_endpoint_policy_resource_deleted(tmp_path: Path, specs: dict[str, Spec]) -> None:
    # analytics-vpc uses an existing endpoint (vpce-0a0b0c0d0e0f10203) whose policy xflow owns via
    # aws_vpc_endpoint_policy. Deleting that resource makes the AWS provider call
    # ModifyVpcEndpoint(ResetPolicy=true): the endpoint stays, its route-table association
    # (a separate resource, still present) stays, and its policy becomes full access. So the flows
    # keep working (aws:SourceVpce still matches) and every credential in the VPC reaches every
    # bucket through the endpoint: XF505 plus exposure, not "unassociated" and not "flow denied".
    report = verify_edited(
        tmp_path,
        specs,
        [(ANALYTICS_EP, delete_resource("aws_vpc_endpoint_policy", "analytics_vpc"))],
        "data-platform",
    )
    assert report.exit_code == 1, describe(report)
    assert findings(report, "XF505", "analytics-vpc"), describe(report)
    assert not findings(report, "XF504"), describe(report)
    assert not findings(report, "XF502"), describe(report)
    assert findings(report, "XF501", "network analytics-vpc", "not a spec bucket"), describe(report)


# -- constructs verify must refuse -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sid", "old", "new"),
    [
        (
            "DenyOtherNetworks146C3F30",
            'Principal = "*"',
            f'NotPrincipal = {{ AWS = ["{BREAKGLASS}"] }}',
        ),
        ("AllowApp67B2B685", "Principal = {", "NotPrincipal = {"),
    ],
    ids=["deny", "allow"],
)
def test_not_principal_is_refused_as_unmodelled(
    tmp_path: Path, specs: dict[str, Spec], sid: str, old: str, new: str
) -> None:
    # NotPrincipal is valid IAM that the evaluator does not model: XF404 (README: "Anything the
    # evaluator does not model (NotPrincipal, ...) is refused"), not XF406 (malformed document).
    report = verify_edited(tmp_path, specs, [(BP, in_statement(sid, old, new))])
    assert report.exit_code == 2, describe(report)
    assert [d.code for d in report.refusals] == ["XF404"], describe(report)
    assert "NotPrincipal" in report.refusals[0].message
    assert report.refusals[0].span is not None and report.refusals[0].span.file == BP


@pytest.mark.parametrize(
    ("rel", "sid"),
    [(BP, "AllowApp67B2B685"), (EP, "AllowReports67B2B685")],
    ids=["bucket", "endpoint"],
)
def test_unknown_condition_operator_is_refused(
    tmp_path: Path, specs: dict[str, Spec], rel: str, sid: str
) -> None:
    numeric = '          NumericLessThan = {\n            "s3:max-keys" = ["10"]\n          }\n'
    edit = in_statement(sid, "          StringEquals = {", numeric + "          StringEquals = {")
    report = verify_edited(tmp_path, specs, [(rel, edit)])
    assert report.exit_code == 2, describe(report)
    assert [d.code for d in report.refusals] == ["XF404"], describe(report)
    refusal = report.refusals[0]
    assert "NumericLessThan" in refusal.message and sid in refusal.message
    line = statement_line(edit((EXAMPLES / "cross-account/terraform" / rel).read_text()), sid)
    assert str(refusal.span) == f"{rel}:{line}:7"


# -- where findings point --------------------------------------------------------------------


@pytest.mark.parametrize(
    "sid", ["DenyUnlistedPrincipals", "DenyInsecureTransport", "DenyOtherNetworks5BB6C112"]
)
def test_findings_of_a_removed_deny_point_at_the_bucket_policy(
    tmp_path: Path, specs: dict[str, Spec], sid: str
) -> None:
    # README: "Every problem is printed as FILE:LINE:COL: error XFnnn: message". A finding caused by
    # deleting a Deny from bucket_policies.tf must lead there (its span or a deciding statement),
    # not print without a location or point at the spec's network.
    report = verify_edited(tmp_path, specs, [(BP, drop_statement(sid))])
    exposure = [
        f
        for f in report.findings
        if f.code in ("XF501", "XF503") and "on chibayuki-test from" in f.message
    ]
    assert exposure, describe(report)
    unlocated = [f.message for f in exposure if f.span is None]
    assert not unlocated, "\n".join(unlocated)
    elsewhere = [f"{f.span}: {f.message}" for f in exposure if not points_at(f, BP)]
    assert not elsewhere, "\n".join(elsewhere)


# -- edits that change nothing ---------------------------------------------------------------


def _swap(text: str, first: str, second: str) -> str:
    a, b = statement_bounds(text, first), statement_bounds(text, second)
    assert a[1] <= b[0]
    return text[: a[0]] + text[b[0] : b[1]] + text[a[1] : b[0]] + text[a[0] : a[1]] + text[b[1] :]


def _reformat(text: str) -> str:
    """Tabs instead of spaces, no `=` alignment, a blank line between every line."""
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 2
        out.append("\t" * depth + re.sub(r" +=", " =", stripped))
    return "\n\n".join(out)


def _move_last(text: str, sid: str) -> str:
    start, end = statement_bounds(text, sid)
    body = text[start:end]
    rest = text[:start] + text[end:]
    close = rest.index("    ]\n  })")
    return rest[:close] + body + rest[close:]


LISTED = [f'"{BREAKGLASS}",\n', f'"{UPLOADER}",\n', f'"{APP}",\n']

NEUTRAL_EDITS: dict[str, list[Edit]] = {
    "reorder-statements": [
        (BP, lambda t: _swap(t, "DenyInsecureTransport", "DenyOutsidePrefixes96FA044B")),
        (BP, lambda t: _swap(t, "AllowApp89AF498C", "DenyOtherNetworks5BB6C112")),
        (EP, lambda t: _move_last(t, "AllowReports89AF498C")),
    ],
    "reorder-list-items": [
        (
            BP,
            replace(
                "              " + "              ".join(LISTED),
                "              " + "              ".join(LISTED[::-1]),
            ),
        ),
        (
            BP,
            in_statement(
                "AllowAppCA6D5E8B",
                '"s3:AbortMultipartUpload",\n          "s3:ListMultipartUploadParts",',
                '"s3:ListMultipartUploadParts",\n          "s3:AbortMultipartUpload",',
            ),
        ),
        (
            BP,
            in_statement(
                "DenyInsecureTransport",
                '"arn:aws:s3:::chibayuki-test",\n          "arn:aws:s3:::chibayuki-test/*",',
                '"arn:aws:s3:::chibayuki-test/*",\n          "arn:aws:s3:::chibayuki-test",',
            ),
        ),
    ],
    "reformat-whitespace": [(BP, _reformat), (EP, _reformat)],
    "rename-sids": [
        (BP, replace('"AllowApp67B2B685"', '"ReadExports"')),
        (BP, replace('"DenyUnlistedPrincipals"', '"OnlyTheseThree"')),
        (EP, replace('"AllowReportsCA6D5E8B"', '"Upload"')),
    ],
    "add-comments": [
        (
            BP,
            replace(
                '      {\n        Sid       = "DenyUnlistedPrincipals"',
                '      # who may touch the bucket at all\n      /* a block\n         comment */\n      {\n        Sid       = "DenyUnlistedPrincipals" // trailing',
            ),
        ),
        (
            EP,
            replace(
                '  vpc_endpoint_type = "Gateway"\n',
                '  vpc_endpoint_type = "Gateway" # gateway, not interface\n',
            ),
        ),
    ],
    "single-item-list-to-string": [
        (
            BP,
            in_statement(
                "AllowApp89AF498C", 'Action   = ["s3:ListBucket"]', 'Action   = "s3:ListBucket"'
            ),
        ),
        (BP, in_statement("AllowApp67B2B685", f'AWS = ["{APP}"]', f'AWS = "{APP}"')),
        (
            BP,
            in_statement(
                "DenyOtherNetworks146C3F30",
                f'"aws:SourceVpc" = ["{APP_VPC}"]',
                f'"aws:SourceVpc" = "{APP_VPC}"',
            ),
        ),
        (
            EP,
            in_statement(
                "AllowReports89AF498C",
                'Action    = ["s3:ListBucket"]',
                'Action    = "s3:ListBucket"',
            ),
        ),
        (
            EP,
            in_statement(
                "AllowReportsCA6D5E8B",
                'Resource = ["arn:aws:s3:::chibayuki-test/*"]',
                'Resource = "arn:aws:s3:::chibayuki-test/*"',
            ),
        ),
    ],
    "json-style-keys": [
        (BP, replace('    Version = "2012-10-17"\n', '    "Version" = "2012-10-17"\n')),
        (
            EP,
            in_statement(
                "AllowReports67B2B685",
                '        Effect    = "Allow"\n',
                '        "Effect" : "Allow"\n',
            ),
        ),
    ],
}


@pytest.mark.parametrize("name", sorted(NEUTRAL_EDITS))
def test_semantics_preserving_edit_passes(
    tmp_path: Path, specs: dict[str, Spec], name: str
) -> None:
    report = verify_edited(tmp_path, specs, NEUTRAL_EDITS[name])
    assert report.exit_code == 0, describe(report)


# -- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "exit_code", "code"),
    [
        ([(BP, drop_statement("DenyOtherNetworks5BB6C112"))], 1, "XF501"),
        (
            [(BP, replace_policy("  policy = data.aws_iam_policy_document.reports.json\n"))],
            2,
            "XF40",
        ),
    ],
    ids=["finding", "refusal"],
)
def test_cli_exit_codes(
    tmp_path: Path, specs: dict[str, Spec], edits: list[Edit], exit_code: int, code: str
) -> None:
    verify_edited(tmp_path, specs, edits)
    spec = EXAMPLES / "cross-account" / "spec.yaml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "xflow_perimeter",
            "verify",
            str(spec),
            "--tf",
            str(tmp_path / "terraform"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == exit_code, run.stdout + run.stderr
    assert f"error {code}" in run.stdout


# -- property: random single mutations of a generated policy ---------------------------------
#
# Mutations of cross-account's generated policies, rendered back with the compiler's own writer.
# A mutation is either caught (exit 1) or listed below as neutral, each with the AWS reason; a
# listed one must pass, and the evaluator must agree on a grid of concrete requests that neither
# layer changed. Any behaviour change the grid sees must be caught.

Mutation = tuple[str, str, str, int, int]  # (layer, sid, kind, index, value index)

KNOWN_NEUTRAL: dict[str, str] = {
    # A bucket policy governs only its own bucket: Resource "*" on a statement whose other
    # resources were the bucket and its objects changes nothing, and NotResource "*" matches
    # nothing, like dropping the statement.
    "bucket:DenyInsecureTransport:resources-star": "own bucket only",
    "bucket:DenyUnlistedPrincipals:resources-star": "own bucket only",
    "bucket:DenyOtherNetworks5BB6C112:resources-star": "own bucket only",
    "bucket:DenyOtherActionsD0BF094F:resources-star": "own bucket only",
    "bucket:DenyOtherNetworks146C3F30:resources-star": "own bucket only",
    "bucket:DenyOtherActionsAC5FE83B:resources-star": "own bucket only",
    "bucket:DenyOutsidePrefixes53706BE7:resources-star": "ListBucket applies to the bucket ARN only",
    "bucket:DenyOutsidePrefixes96FA044B:resources-star": "NotResource * matches nothing; the Allow is exports/* anyway",
    # The uploader is in the bucket's account: its identity policy grants the write without any
    # bucket Allow, and DenyOtherNetworks5BB6C112 / DenyOtherActionsD0BF094F bound it regardless.
    "bucket:AllowAppCA6D5E8B:drop": "same account: the identity policy suffices",
    "bucket:AllowAppCA6D5E8B:actions-star": "same account; DenyOtherActionsD0BF094F",
    "bucket:AllowAppCA6D5E8B:resources-star": "same account; the Allow is redundant",
    "bucket:AllowAppCA6D5E8B:condition-0": "same account; DenyOtherNetworks5BB6C112",
    "bucket:DenyOtherActionsD0BF094F:condition-1": "off its VPC DenyOtherNetworks5BB6C112 denies all anyway",
    # app-role is cross-account: it needs a bucket Allow, so Denies that repeat the Allows' scope
    # are redundant, and Allows widened past the Denies stay bounded by them.
    "bucket:AllowApp89AF498C:actions-star": "other bucket actions: DenyOtherActionsAC5FE83B",
    "bucket:AllowApp89AF498C:resources-star": "ListBucket applies to the bucket ARN only",
    "bucket:AllowApp89AF498C:condition-0": "off its VPC: DenyOtherNetworks146C3F30",
    "bucket:AllowApp89AF498C:condition-1": "other prefixes: DenyOutsidePrefixes53706BE7",
    "bucket:AllowApp67B2B685:actions-star": "other actions: DenyOtherActionsAC5FE83B",
    "bucket:AllowApp67B2B685:resources-star": "other keys: DenyOutsidePrefixes96FA044B",
    "bucket:AllowApp67B2B685:condition-0": "off its VPC: DenyOtherNetworks146C3F30",
    "bucket:DenyOtherNetworks146C3F30:drop": "off its VPC no Allow matches (aws:SourceVpc)",
    "bucket:DenyOtherActionsAC5FE83B:drop": "the Allows name only its read and list actions",
    "bucket:DenyOtherActionsAC5FE83B:actions-star": "NotAction s3:* matches nothing: as dropped",
    "bucket:DenyOtherActionsAC5FE83B:condition-1": "off its VPC DenyOtherNetworks146C3F30 denies all",
    "bucket:DenyOutsidePrefixes53706BE7:drop": "the ListBucket Allow requires s3:prefix exports/*",
    "bucket:DenyOutsidePrefixes53706BE7:actions-star": "no Allow for other bucket actions",
    "bucket:DenyOutsidePrefixes53706BE7:condition-1": "off its VPC DenyOtherNetworks146C3F30 denies all",
    "bucket:DenyOutsidePrefixes96FA044B:drop": "the GetObject Allow names exports/* only",
    "bucket:DenyOutsidePrefixes96FA044B:condition-1": "off its VPC DenyOtherNetworks146C3F30 denies all",
}


def _mutations(layer: str, policy: PolicyDocument) -> list[Mutation]:
    out: list[Mutation] = []
    for statement in policy.statements:
        sid = statement.sid
        out += [
            (layer, sid, "drop", 0, 0),
            (layer, sid, "actions-star", 0, 0),
            (layer, sid, "resources-star", 0, 0),
        ]
        for index, condition in enumerate(statement.conditions):
            out.append((layer, sid, "condition", index, 0))
            if len(condition.values) > 1:
                out += [(layer, sid, "value", index, v) for v in range(len(condition.values))]
    return [m for m in out if _mutate(policy, m) != policy]  # e.g. Action is already ["s3:*"]


def _mutation_id(mutation: Mutation) -> str:
    layer, sid, kind, index, value = mutation
    if kind == "condition":
        return f"{layer}:{sid}:condition-{index}"
    if kind == "value":
        return f"{layer}:{sid}:value-{index}-{value}"
    return f"{layer}:{sid}:{kind}"


def _mutate(policy: PolicyDocument, mutation: Mutation) -> PolicyDocument:
    _, sid, kind, index, value = mutation
    statements: list[Statement] = []
    for statement in policy.statements:
        if statement.sid != sid:
            statements.append(statement)
        elif kind == "actions-star":
            statements.append(dataclasses.replace(statement, actions=("s3:*",)))
        elif kind == "resources-star":
            statements.append(dataclasses.replace(statement, resources=("*",)))
        elif kind == "condition":
            kept = statement.conditions[:index] + statement.conditions[index + 1 :]
            statements.append(dataclasses.replace(statement, conditions=kept))
        elif kind == "value":
            old = statement.conditions[index]
            values = old.values[:value] + old.values[value + 1 :]
            new = Condition(old.operator, old.key, values)
            conditions = (*statement.conditions[:index], new, *statement.conditions[index + 1 :])
            statements.append(dataclasses.replace(statement, conditions=conditions))
        else:
            assert kind == "drop"
    return dataclasses.replace(policy, statements=tuple(statements))


class Generated:
    """cross-account compiled in memory: its policies, file texts and parsed files."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        planned, self.files = generate(spec, "spec.yaml")
        module_of = {m.directory: m for m in planned.modules}
        self.bucket = module_of["data-ap-northeast-1"].bucket_policies[0].policy
        self.endpoint = module_of["workload-ap-northeast-1"].endpoints[0].policy
        self.parsed = {rel: read_text(text, rel) for rel, text in self.files.items()}
        self.grid = _grid()
        self.decisions = _decisions(self.grid, self.bucket, self.endpoint)

    def tree(self, rel: str, text: str) -> TfTree:
        files = dict(self.parsed)
        files[rel] = read_text(text, rel)
        return TfTree(tuple(files[k] for k in sorted(files)), ())


def _grid() -> list[Request]:
    callers = [
        UPLOADER,
        APP,
        BREAKGLASS,
        "arn:aws:iam::000000000000:role/other",
        MALLORY,
        "arn:aws:iam::000000000000:root",
        None,
    ]
    targets = [
        ("s3:GetObject", "exports/a.csv", None),
        ("s3:GetObject", "private/b.csv", None),
        ("s3:PutObject", "in/c.csv", None),
        ("s3:PutObject", "exports/d.csv", None),
        ("s3:DeleteObject", "exports/a.csv", None),
        ("s3:ListMultipartUploadParts", "in/c.csv", None),
        ("s3:ListBucket", None, "exports/"),
        ("s3:ListBucket", None, "private/"),
        ("s3:GetBucketPolicy", None, None),
        ("s3:PutBucketPolicy", None, None),
    ]
    buckets = [
        ("chibayuki-test", "000000000000"),
        ("chibayuki-other", "000000000000"),
        ("loot", "123456789012"),
    ]
    out = []
    for arn in callers:
        for action, key, prefix in targets:
            for bucket, account in buckets:
                vias: list[str | None] = (
                    ["app", "foreign", None] if bucket == "chibayuki-test" else ["app"]
                )
                for via in vias:
                    for tls in (True, False):
                        out.append(
                            request(
                                arn,
                                action,
                                key,
                                via=via,
                                bucket=bucket,
                                account=account,
                                list_prefix=prefix,
                                tls=tls,
                            )
                        )
    return out


def _decisions(
    grid: list[Request], bucket: PolicyDocument, endpoint: PolicyDocument
) -> list[tuple[bool, ...]]:
    """Per request: (combined, bucket layer alone, endpoint layer alone), as verify splits layers."""
    out = []
    for r in grid:
        ours = r.bucket == "chibayuki-test"
        bucket_policy = bucket if ours else ALLOW_EVERYONE_POLICY
        if r.path.via_endpoint:
            endpoint_policy = endpoint if r.path.vpc == APP_VPC else DEFAULT_ENDPOINT_POLICY
        else:
            endpoint_policy = None
        combined = evaluate(r, bucket_policy=bucket_policy, endpoint_policy=endpoint_policy).allowed
        alone = DEFAULT_ENDPOINT_POLICY if r.path.via_endpoint else None
        bucket_alone = evaluate(r, bucket_policy=bucket_policy, endpoint_policy=alone).allowed
        endpoint_alone = combined
        if endpoint_policy is not None:
            endpoint_alone = evaluate(
                r, bucket_policy=ALLOW_EVERYONE_POLICY, endpoint_policy=endpoint_policy
            ).allowed
        out.append((combined, bucket_alone, endpoint_alone))
    return out


@pytest.fixture(scope="module")
def generated(specs: dict[str, Spec]) -> Generated:
    return Generated(specs["cross-account"])


def _all_mutations(generated: Generated) -> list[Mutation]:
    return _mutations("bucket", generated.bucket) + _mutations("endpoint", generated.endpoint)


def test_generated_policies_verify_clean(generated: Generated) -> None:
    # The property below needs an exact baseline: then any layer change on the grid is a deviation.
    report = verify(
        generated.spec, TfTree(tuple(generated.parsed[k] for k in sorted(generated.parsed)), ())
    )
    assert report.exit_code == 0, describe(report)
    known = {_mutation_id(m) for m in _all_mutations(generated)}
    assert set(KNOWN_NEUTRAL) <= known, sorted(set(KNOWN_NEUTRAL) - known)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(data=st.data())
def test_random_single_mutation_is_caught_or_demonstrably_neutral(
    generated: Generated, data: st.DataObject
) -> None:
    mutation = data.draw(st.sampled_from(_all_mutations(generated)), label="mutation")
    name = _mutation_id(mutation)
    layer = mutation[0]
    original = generated.bucket if layer == "bucket" else generated.endpoint
    mutated = _mutate(original, mutation)
    rel = BP if layer == "bucket" else EP
    text = generated.files[rel]
    assert text.count(policy_attribute(original)) == 1
    tree = generated.tree(rel, text.replace(policy_attribute(original), policy_attribute(mutated)))
    report = verify(generated.spec, tree)
    assert report.exit_code in (0, 1), f"{name}: {describe(report)}"

    bucket = mutated if layer == "bucket" else generated.bucket
    endpoint = mutated if layer == "endpoint" else generated.endpoint
    changed = [
        (r, before, after)
        for r, before, after in zip(
            generated.grid,
            generated.decisions,
            _decisions(generated.grid, bucket, endpoint),
            strict=True,
        )
        if before != after
    ]
    if changed:
        r, before, after = changed[0]
        assert report.exit_code == 1, (
            f"{name} changes {r} from {before} to {after}, yet verify passes"
        )
    if report.exit_code == 0:
        assert name in KNOWN_NEUTRAL, f"{name} passed verify but is not a known-neutral mutation"
    if name in KNOWN_NEUTRAL:
        assert not changed, f"{name} is listed neutral but changes {changed[:1]}"
        assert report.exit_code == 0, (
            f"{name} is neutral ({KNOWN_NEUTRAL[name]}), yet: {describe(report)}"
        )
