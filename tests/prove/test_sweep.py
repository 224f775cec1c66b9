"""The sweep decides a request shape for many callers at once; it must answer exactly as evaluate.

Two levels: random policies and request shapes against ``evaluate`` one subject at a time, and
whole verify reports with the sweep against ``verify(exhaustive=True)`` on the examples and on
mutated policies. (conftest.py also cross-checks every sweep in every other test's verify.)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.iam.conditions import KEY_TYPES
from xflow_perimeter.iam.evaluate import UnsupportedPolicyError, evaluate
from xflow_perimeter.iam.policy import PolicyDocument, parse_policy
from xflow_perimeter.iam.request import Caller, NetworkPath, Request
from xflow_perimeter.prove.intent import Intent
from xflow_perimeter.prove.layers import bucket as bucket_layer
from xflow_perimeter.prove.layers import endpoint as endpoint_layer
from xflow_perimeter.prove.layers import mismatch
from xflow_perimeter.prove.layers import service as service_layer
from xflow_perimeter.prove.sweep import CALLER_KEYS, SHARED_KEYS, Subject, Sweep
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.synth.grants import Grant
from xflow_perimeter.synth.render import policy_attribute
from xflow_perimeter.terraform.reader import TfTree, read_text, read_tree

REPO = Path(__file__).resolve().parents[2]
OWNER, OTHER = "111111111111", "222222222222"
BUCKET = "data-bucket"
VPCE, VPC = "vpce-0aaaaaaaaaaaaaaaa", "vpc-0aaaaaaaaaaaaaaaa"

SUBJECTS = [
    Subject(Caller(f"arn:aws:iam::{OWNER}:role/app", OWNER)),
    Subject(Caller(f"arn:aws:iam::{OWNER}:root", OWNER)),
    Subject(Caller(f"arn:aws:iam::{OWNER}:user/Bob", OWNER)),
    Subject(Caller(f"arn:aws:iam::{OTHER}:role/x", OTHER)),
    Subject(Caller(f"arn:aws:iam::{OTHER}:root", OTHER)),
    Subject(Caller(None, None)),
    Subject(Caller(None, None, anonymous_account_key=True)),
    Subject(Caller(None, None, service="cloudtrail.amazonaws.com"), OWNER, None),
    Subject(
        Caller(None, None, service="cloudtrail.amazonaws.com"),
        OTHER,
        f"arn:aws:cloudtrail:us-east-1:{OTHER}:trail/t",
    ),
    Subject(Caller(None, None, service="logging.s3.amazonaws.com"), None, None),
]

PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": OWNER},
    {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"AWS": f"arn:aws:iam::{OWNER}:role/app"},
    {"AWS": f"arn:aws:iam::{OWNER}:user/bob"},  # differs from Bob only in case: undecided
    {"Service": "cloudtrail.amazonaws.com"},
    {"AWS": [f"arn:aws:iam::{OTHER}:role/x", f"arn:aws:iam::{OWNER}:role/app"]},
]
ACTIONS = ["s3:*", "s3:GetObject", "s3:Get*", "s3:ListBucket", "s3:PutBucketPolicy", "*"]
RESOURCES = [
    "*",
    f"arn:aws:s3:::{BUCKET}",
    f"arn:aws:s3:::{BUCKET}/*",
    f"arn:aws:s3:::{BUCKET}/exports/*",
    "arn:aws:s3:::data-*",
    "arn:aws:s3:::other/*",
]
CONDITIONS: list[tuple[str, str, list[str]]] = [
    ("ArnNotEquals", "aws:PrincipalArn", [f"arn:aws:iam::{OWNER}:role/app"]),
    ("ArnLike", "aws:PrincipalArn", [f"arn:aws:iam::{OTHER}:*"]),
    ("StringEquals", "aws:PrincipalAccount", [OWNER]),
    ("StringNotEqualsIfExists", "aws:PrincipalAccount", [OTHER]),
    ("StringEquals", "aws:SourceVpc", [VPC]),
    ("StringNotEquals", "aws:SourceVpce", [VPCE]),
    ("Bool", "aws:SecureTransport", ["false"]),
    ("StringLike", "s3:prefix", ["exports/*"]),
    ("StringNotLikeIfExists", "s3:prefix", ["exports/*"]),
    ("StringEquals", "aws:ResourceAccount", [OWNER]),
    ("StringEquals", "aws:SourceAccount", [OWNER]),
    ("ArnLike", "aws:SourceArn", [f"arn:aws:cloudtrail:us-east-1:{OTHER}:trail/*"]),
    ("StringNotEqualsIfExists", "aws:PrincipalServiceName", ["cloudtrail.amazonaws.com"]),
    ("Null", "aws:PrincipalServiceName", ["true"]),
    ("Bool", "aws:PrincipalIsAWSService", ["true"]),
    ("IpAddress", "aws:SourceIp", ["203.0.113.0/24"]),
    ("NotIpAddress", "aws:VpcSourceIp", ["10.0.0.0/8"]),
]
TARGETS: list[tuple[str, str | None, str | None]] = [
    ("s3:GetObject", "exports/a.csv", None),
    ("s3:GetObject", "private/b", None),
    ("s3:PutObject", "exports/a.csv", None),
    ("s3:ListBucket", None, "exports/"),
    ("s3:ListBucket", None, None),
    ("s3:PutBucketPolicy", None, None),
]
PATHS = [
    NetworkPath(vpce=VPCE, vpc=VPC, vpc_source_ip="10.0.0.10"),
    NetworkPath(
        vpce="vpce-0fffffffffffffff0", vpc="vpc-0fffffffffffffff0", vpc_source_ip="172.16.0.1"
    ),
    NetworkPath(vpce=VPCE, vpc=VPC),  # VpcSourceIp unknown: undecided where a policy tests it
    NetworkPath(source_ip="203.0.113.10"),
    NetworkPath(source_ip="198.51.100.10"),
]


def _statement(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Principal": draw(st.sampled_from(PRINCIPALS)),
    }
    action_key = "NotAction" if draw(st.integers(0, 5)) == 0 else "Action"
    statement[action_key] = draw(
        st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True)
    )
    resource_key = "NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"
    statement[resource_key] = draw(
        st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True)
    )
    conditions: dict[str, dict[str, list[str]]] = {}
    for operator, key, values in draw(
        st.lists(st.sampled_from(CONDITIONS), max_size=3, unique_by=lambda c: (c[0], c[1]))
    ):
        conditions.setdefault(operator, {})[key] = values
    if conditions:
        statement["Condition"] = conditions
    return statement


@st.composite
def policies(draw: st.DrawFn) -> PolicyDocument:
    statements = [_statement(draw) for _ in range(draw(st.integers(1, 5)))]
    return parse_policy({"Version": "2012-10-17", "Statement": statements})


def test_every_condition_key_is_assigned_to_the_subject_or_the_shared_request() -> None:
    # A key added to the evaluator must be placed here too, or the sweep would memoise it wrongly.
    assert set(KEY_TYPES) == CALLER_KEYS | SHARED_KEYS | {"s3:prefix"}
    assert not CALLER_KEYS & SHARED_KEYS


def _one_by_one(
    subjects: list[Subject], request: Request, bucket: PolicyDocument | None, endpoint: Any
) -> list[bool] | None:
    answers = []
    for subject in subjects:
        asked = dataclasses.replace(
            request,
            caller=subject.caller,
            source_account=subject.source_account,
            source_arn=subject.source_arn,
        )
        try:
            answers.append(evaluate(asked, bucket_policy=bucket, endpoint_policy=endpoint).allowed)
        except UnsupportedPolicyError:
            return None
    return answers


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    bucket=st.one_of(st.none(), policies()),
    endpoint=policies(),
    path=st.sampled_from(PATHS),
    target=st.sampled_from(TARGETS),
    tls=st.booleans(),
    account=st.sampled_from([OWNER, OTHER]),
)
def test_sweep_answers_exactly_as_evaluate_for_each_subject(
    bucket: PolicyDocument | None,
    endpoint: PolicyDocument,
    path: NetworkPath,
    target: tuple[str, str | None, str | None],
    tls: bool,
    account: str,
) -> None:
    endpoint_policy = endpoint if path.via_endpoint else None
    action, key, prefix = target
    request = Request(
        caller=SUBJECTS[0].caller,
        action=action,
        bucket=BUCKET,
        bucket_account=account,
        key=key,
        list_prefix=prefix,
        path=path,
        secure_transport=tls,
    )
    expected = _one_by_one(SUBJECTS, request, bucket, endpoint_policy)
    try:
        swept = Sweep(SUBJECTS, BUCKET, account, bucket, endpoint_policy).allowed(request)
    except UnsupportedPolicyError:  # a construct outside the model: evaluate refuses it too
        assert expected is None
        return
    if expected is None:
        assert swept is None, "evaluate refuses a subject, so the sweep must not answer"
        return
    assert swept is not None, "evaluate answers every subject, so the sweep must too"
    assert [bool(swept >> i & 1) for i in range(len(SUBJECTS))] == expected


def test_sweep_refuses_where_evaluate_refuses_a_case_only_principal_difference() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": f"arn:aws:iam::{OWNER}:user/bob"},
                    "Action": "s3:*",
                    "Resource": "*",
                }
            ],
        }
    )
    request = Request(SUBJECTS[0].caller, "s3:GetObject", BUCKET, OWNER, "k")
    assert Sweep(SUBJECTS, BUCKET, OWNER, policy, None).allowed(request) is None
    assert Sweep(SUBJECTS[:2], BUCKET, OWNER, policy, None).allowed(request) == 0b11


def _tree(files: dict[str, str]) -> TfTree:
    return TfTree(tuple(read_text(files[k], k) for k in sorted(files)), ())


@pytest.mark.parametrize("example", ["cross-account", "data-platform"])
def test_verify_reports_equal_the_exhaustive_reports_on_the_examples(example: str) -> None:
    spec = load_spec(REPO / "examples" / example / "spec.yaml")
    tree = read_tree(REPO / "examples" / example / "terraform")
    fast = verify(spec, tree)
    assert fast == verify(spec, tree, exhaustive=True)
    assert fast.requests_evaluated > 1000


_EDITS = ("drop", "actions-star", "resources-star", "principal-star", "conditions-none")


@st.composite
def _mutations(draw: st.DrawFn, count: int) -> list[tuple[int, int, str]]:
    edits = st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(_EDITS))
    return draw(st.lists(edits, min_size=1, max_size=count))


def _edited(policy: PolicyDocument, index: int, edit: str) -> PolicyDocument:
    statements = list(policy.statements)
    statement = statements[index % len(statements)]
    if edit == "drop":
        statements.remove(statement)
    else:
        changed = {
            "actions-star": {"actions": ("s3:*",), "not_actions": False},
            "resources-star": {"resources": ("*",), "not_resources": False},
            "principal-star": {
                "principals": parse_policy(_star_principal()).statements[0].principals
            },
            "conditions-none": {"conditions": ()},
        }[edit]
        statements[statements.index(statement)] = dataclasses.replace(statement, **changed)
    return dataclasses.replace(policy, statements=tuple(statements))


def _star_principal() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }


@pytest.fixture(scope="module")
def data_platform() -> tuple[Any, dict[str, str], list[tuple[str, PolicyDocument]]]:
    spec = load_spec(REPO / "examples" / "data-platform" / "spec.yaml")
    planned, files = generate(spec, "spec.yaml")
    policies: list[tuple[str, PolicyDocument]] = []
    for module in planned.modules:
        for bucket_policy in module.bucket_policies:
            policies.append((f"{module.directory}/bucket_policies.tf", bucket_policy.policy))
        for endpoint in module.endpoints:
            if endpoint.policy is not None:
                policies.append((f"{module.directory}/endpoints.tf", endpoint.policy))
    return spec, files, policies


@settings(max_examples=12, deadline=None, derandomize=True)
@given(mutations=_mutations(3))
def test_verify_reports_equal_the_exhaustive_reports_on_mutated_policies(
    data_platform: tuple[Any, dict[str, str], list[tuple[str, PolicyDocument]]],
    mutations: list[tuple[int, int, str]],
) -> None:
    spec, files, policies = data_platform
    files = dict(files)
    for which, index, edit in mutations:
        rel, original = policies[which % len(policies)]
        if not original.statements or policy_attribute(original) not in files[rel]:
            continue  # already edited by an earlier mutation of this list
        mutated = _edited(original, index, edit)
        files[rel] = files[rel].replace(policy_attribute(original), policy_attribute(mutated))
    tree = _tree(files)
    assert verify(spec, tree) == verify(spec, tree, exhaustive=True)


def _with_undecidable_deny(
    files: dict[str, str], policies: list[tuple[str, PolicyDocument]]
) -> dict[str, str]:
    """A Deny naming a principal ARN that differs from a listed one only in case, in the last
    bucket policy: whether it applies is undocumented, so evaluating some requests fails."""
    rel, original = next(p for p in reversed(policies) if p[0].endswith("bucket_policies.tf"))
    listed = next(
        value
        for statement in original.statements
        for ref in statement.principals or ()
        if ref.kind == "AWS" and ":role/" in (value := ref.value)
    )
    extra = {
        "Effect": "Deny",
        "Principal": {
            "AWS": listed.rpartition("/")[0] + "/" + listed.rpartition("/")[2].swapcase()
        },
        "Action": "s3:*",
        "Resource": "*",
    }
    document = parse_policy({"Version": "2012-10-17", "Statement": [extra]})
    edited = dataclasses.replace(original, statements=original.statements + document.statements)
    text = files[rel].replace(policy_attribute(original), policy_attribute(edited))
    return {**files, rel: text}


@pytest.mark.parametrize("refused", [False, True])
def test_forked_workers_give_the_same_report_as_one_process(
    data_platform: tuple[Any, dict[str, str], list[tuple[str, PolicyDocument]]], refused: bool
) -> None:
    spec, files, policies = data_platform
    if refused:  # an error in a later task: the same refusal and the same count of requests
        files = _with_undecidable_deny(files, policies)
    tree = _tree(files)
    alone = verify(spec, tree, workers=1)
    assert (alone.refusals != ()) == refused
    assert verify(spec, tree, workers=2) == alone
    assert verify(spec, tree, workers=3) == alone


def test_the_suite_cross_checks_every_sweep_and_a_sweep_that_misses_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert mismatch.CROSS_CHECK, "conftest.py must turn the cross-check on for the whole suite"
    spec = load_spec(REPO / "examples" / "cross-account" / "spec.yaml")
    tree = read_tree(REPO / "examples" / "cross-account" / "terraform")
    narrower = dataclasses.replace(spec, flows=spec.flows[1:])  # the Terraform grants more
    assert verify(narrower, tree).exit_code == 1
    # A sweep that misses every mismatch: only the plain loop beside it can tell.
    for layer in (bucket_layer, endpoint_layer, service_layer):
        monkeypatch.setattr(layer, "bits", lambda value: iter(()))
    with pytest.raises(AssertionError, match=r"sweep .* != plain loop"):
        verify(narrower, tree)


@pytest.mark.parametrize("exhaustive", [False, True])
def test_the_sweep_and_the_plain_loop_read_one_intent(
    monkeypatch: pytest.MonkeyPatch, exhaustive: bool
) -> None:
    # Drop the uploader's flows from the intent alone (not from the spec's grants): the sweep's
    # expected bitsets and the plain loop must both see it, or the cross-check fails.
    uploader = "arn:aws:iam::000000000000:user/Chibayuki"
    spec = load_spec(REPO / "examples" / "cross-account" / "spec.yaml")
    tree = read_tree(REPO / "examples" / "cross-account" / "terraform")
    built = Intent.__init__

    def without_uploader(self: Intent, spec: Spec, grants: tuple[Grant, ...]) -> None:
        built(self, spec, tuple(g for g in grants if g.principal_arn != uploader))

    monkeypatch.setattr(Intent, "__init__", without_uploader)
    report = verify(spec, tree, exhaustive=exhaustive)
    unintended = [f for f in report.findings if f.code == "XF501" and uploader in f.message]
    assert unintended, report.findings
    assert {f.code for f in report.findings} == {"XF501"}
