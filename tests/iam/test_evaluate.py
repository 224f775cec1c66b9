"""Tests for the authorization evaluator (xflow_perimeter.iam.evaluate and its helpers).

The first block is the 23 tricky cases of shared/reference/aws-semantics.md §3, one test each,
named after what it proves; account 111111111111 owns bucket ``b``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.iam.evaluate import (
    ALLOW_EVERYONE_POLICY,
    DEFAULT_ENDPOINT_POLICY,
    Caller,
    Decision,
    Identity,
    Layer,
    NetworkPath,
    Request,
    UnsupportedPolicyError,
    evaluate,
    is_public,
    statement_matches,
    unsupported,
)
from xflow_perimeter.iam.globs import compile_arn_globs, compile_globs
from xflow_perimeter.iam.policy import PolicyDocument, PolicyParseError, parse_policy

OWNER = "111111111111"
OTHER = "222222222222"
THIRD = "333333333333"
ATTACKER = "999999999999"
VPCE_A = "vpce-0aaaaaaaaaaaaaaaa"
VPC_A = "vpc-0aaaaaaaaaaaaaaaa"
VPCE_FOREIGN = "vpce-0ffffffffffffffff"

APP_ROLE = Caller(f"arn:aws:iam::{OWNER}:role/app", OWNER)
OWNER_ROOT = Caller(f"arn:aws:iam::{OWNER}:root", OWNER)
OWNER_USER = Caller(f"arn:aws:iam::{OWNER}:user/bob", OWNER)
OTHER_ROLE = Caller(f"arn:aws:iam::{OTHER}:role/x", OTHER)
OTHER_ROOT = Caller(f"arn:aws:iam::{OTHER}:root", OTHER)
ANONYMOUS = Caller(None, None)
ANONYMOUS_WITH_KEY = Caller(None, None, anonymous_account_key=True)
CLOUDTRAIL = Caller(None, None, service="cloudtrail.amazonaws.com")

VIA_A = NetworkPath(vpce=VPCE_A, vpc=VPC_A, vpc_source_ip="10.0.0.5")
VIA_FOREIGN = NetworkPath(vpce=VPCE_FOREIGN, vpc="vpc-0ffffffffffffffff")
INTERNET = NetworkPath(source_ip="203.0.113.7")


def policy(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def stmt(effect: str = "Allow", **fields: Any) -> dict[str, Any]:
    """A statement; defaults: Principal "*", Action "s3:*", Resource bucket b and its objects."""
    body: dict[str, Any] = {"Effect": effect, "Principal": "*"}
    if "NotAction" not in fields:
        body["Action"] = "s3:*"
    if "NotResource" not in fields:
        body["Resource"] = ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def request(
    caller: Caller = APP_ROLE,
    action: str = "s3:GetObject",
    key: str | None = "k",
    path: NetworkPath = INTERNET,
    bucket: str = "b",
    bucket_account: str = OWNER,
    **extra: Any,
) -> Request:
    return Request(caller, action, bucket, bucket_account, key, path=path, **extra)


def decide(
    req: Request,
    bucket_policy: PolicyDocument | None = None,
    endpoint_policy: PolicyDocument | None = None,
    identity: Identity = "none",
    restrict_public_buckets: bool = False,
) -> Decision:
    """Evaluate; an endpoint request with no endpoint policy given uses AWS's default policy."""
    if endpoint_policy is None and req.path.via_endpoint:
        endpoint_policy = DEFAULT_ENDPOINT_POLICY
    return evaluate(
        req,
        bucket_policy=bucket_policy,
        endpoint_policy=endpoint_policy,
        identity=identity,
        restrict_public_buckets=restrict_public_buckets,
    )


def allowed(req: Request, bucket_policy: PolicyDocument | None = None, **kw: Any) -> bool:
    return decide(req, bucket_policy, **kw).allowed


DENY_UNLESS_VPCE_A = {"StringNotEquals": {"aws:SourceVpce": VPCE_A}}


# --- §3 tricky cases -------------------------------------------------------------------------


def test_case01_negated_operator_on_missing_key_is_true_so_deny_applies() -> None:
    """Deny s3:* if StringNotEquals SourceVpce=A; from the internet SourceVpce is absent, and a
    negated operator on a missing key is true, so the Deny applies."""
    bp = policy(stmt(), stmt("Deny", Condition=DENY_UNLESS_VPCE_A))
    assert not allowed(request(ANONYMOUS), bp)
    assert allowed(request(ANONYMOUS, path=VIA_A), bp)  # the same Deny spares endpoint A


def test_case02_ifexists_on_missing_key_is_true_so_deny_applies() -> None:
    """StringNotEqualsIfExists: IfExists on a missing key is true, so the Deny still applies."""
    bp = policy(
        stmt(), stmt("Deny", Condition={"StringNotEqualsIfExists": {"aws:SourceVpce": VPCE_A}})
    )
    assert not allowed(request(ANONYMOUS), bp)
    assert allowed(request(ANONYMOUS, path=VIA_A), bp)


def test_case03_allow_with_ifexists_is_public_because_missing_key_matches() -> None:
    """Allow * if StringEqualsIfExists SourceVpce=A: the internet lacks the key: anyone gets in."""
    bp = policy(stmt(Condition={"StringEqualsIfExists": {"aws:SourceVpce": VPCE_A}}))
    assert allowed(request(ANONYMOUS), bp)
    assert not allowed(request(ANONYMOUS, path=VIA_FOREIGN), bp)
    assert is_public(bp)


def test_case04_forallvalues_on_missing_key_is_true_so_allow_applies() -> None:
    """ForAllValues over an empty set is vacuously true: the Allow applies on the internet."""
    bp = policy(stmt(Condition={"ForAllValues:StringEquals": {"aws:SourceVpce": VPCE_A}}))
    assert allowed(request(ANONYMOUS), bp)
    assert not allowed(request(ANONYMOUS, path=VIA_FOREIGN), bp)


def test_case05_foranyvalue_on_missing_key_is_false_so_deny_does_not_apply() -> None:
    """ForAnyValue over an empty set is false: the Deny does not apply on the internet."""
    bp = policy(
        stmt(), stmt("Deny", Condition={"ForAnyValue:StringNotEquals": {"aws:SourceVpce": VPCE_A}})
    )
    assert allowed(request(ANONYMOUS), bp)
    assert not allowed(request(ANONYMOUS, path=VIA_FOREIGN), bp)


def test_case06_sourceip_is_absent_through_an_endpoint_so_notipaddress_deny_applies() -> None:
    """Deny if NotIpAddress SourceIp=corp: SourceIp is absent through an endpoint, so the Deny
    locks out endpoint traffic even from inside the corporate range."""
    bp = policy(stmt(), stmt("Deny", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    decision = decide(request(path=VIA_A), bp, identity="allow-all")
    assert not decision.allowed
    assert decision.reason == "explicit Deny in the bucket policy"
    assert allowed(request(path=NetworkPath(source_ip="10.1.2.3")), bp, identity="allow-all")


def test_case07_star_principal_does_not_pin_the_account() -> None:
    """Allow * if SourceVpce=A: a role of another account through A gets in when its own identity
    policy allows, since "*" does not pin the account."""
    bp = policy(stmt(Condition={"StringEquals": {"aws:SourceVpce": VPCE_A}}))
    req = request(OTHER_ROLE, path=VIA_A)
    assert not allowed(req, bp, identity="none")
    assert allowed(req, bp, identity="allow-all")


def test_case08_star_principal_includes_anonymous() -> None:
    """Allow * if SourceVpce=A: anonymous callers through A are allowed ("*" includes them)."""
    bp = policy(stmt(Condition={"StringEquals": {"aws:SourceVpce": VPCE_A}}))
    assert allowed(request(ANONYMOUS, path=VIA_A), bp)
    assert allowed(request(ANONYMOUS_WITH_KEY, path=VIA_A), bp)


def test_case09_default_endpoint_policy_lets_data_out_to_an_attacker_bucket() -> None:
    """The default endpoint policy allows any bucket: our role can write to an attacker's bucket
    that allows everyone. An endpoint policy restricted to bucket b stops it."""
    exfil = request(APP_ROLE, "s3:PutObject", "evil/x", VIA_A, "evil", ATTACKER)
    assert allowed(exfil, ALLOW_EVERYONE_POLICY, identity="allow-all")
    restricted = policy(stmt(Action="s3:*"))
    assert not allowed(
        exfil, ALLOW_EVERYONE_POLICY, identity="allow-all", endpoint_policy=restricted
    )
    own = request(APP_ROLE, "s3:PutObject", "x", VIA_A)
    assert allowed(own, None, identity="allow-all", endpoint_policy=restricted)


def test_case10_gateway_endpoint_account_principal_means_only_the_root_user() -> None:
    """On a gateway endpoint, Principal {"AWS": "111..."} grants only that account's root user."""
    ep = policy({"Effect": "Allow", "Principal": {"AWS": OWNER}, "Action": "*", "Resource": "*"})
    decision = decide(request(APP_ROLE, path=VIA_A), None, endpoint_policy=ep, identity="allow-all")
    assert not decision.allowed
    assert decision.reason == "no Allow in the endpoint policy"
    assert allowed(request(OWNER_ROOT, path=VIA_A), None, endpoint_policy=ep)


def test_case11_account_principal_in_bucket_policy_only_delegates() -> None:
    """Allow arn:...:111:root with no identity policy: a role of 111 is denied, because an account
    principal delegates to the account's identity policies."""
    bp = policy(stmt(Principal={"AWS": f"arn:aws:iam::{OWNER}:root"}))
    decision = decide(request(APP_ROLE), bp, identity="none")
    assert not decision.allowed
    assert "names only the account" in decision.reason
    assert allowed(request(APP_ROLE), bp, identity="allow-all")
    assert allowed(request(OWNER_ROOT), bp, identity="none")


def test_case12_role_arn_principal_covers_its_sessions_without_identity() -> None:
    """Allow role/app with no identity policy: a session of app is allowed (the role's ARN is its
    aws:PrincipalArn, and a same-account role grant needs no identity policy)."""
    bp = policy(stmt(Principal={"AWS": APP_ROLE.arn}))
    decision = decide(request(APP_ROLE), bp, identity="none")
    assert decision.allowed
    assert decision.deciding == (("bucket", bp.statements[0]),)
    assert not allowed(request(OWNER_USER), bp, identity="none")


def test_case13_endpoint_resource_glob_also_matches_lookalike_buckets() -> None:
    """Endpoint Resource arn:aws:s3:::b* also matches b-evil/x, a bucket anyone can create."""
    ep = policy(stmt(Resource="arn:aws:s3:::b*"))
    req = request(APP_ROLE, key="x", bucket="b-evil", bucket_account=ATTACKER, path=VIA_A)
    assert statement_matches(ep.statements[0], req, "endpoint")
    assert allowed(req, ALLOW_EVERYONE_POLICY, endpoint_policy=ep, identity="allow-all")


def test_case14_bucket_arn_does_not_cover_objects() -> None:
    """A grant on arn:aws:s3:::b alone does not cover the object b/k."""
    bp = policy(stmt(Resource="arn:aws:s3:::b"))
    assert not allowed(request(ANONYMOUS, key="k"), bp)
    assert allowed(request(ANONYMOUS, "s3:ListBucket", key=None), bp)


def test_case15_object_keys_are_case_sensitive_but_actions_are_not() -> None:
    """Allow b/pub/* with Action S3:GETOBJECT: GetObject b/PUB/x is denied (keys are case-
    sensitive) while b/pub/x is allowed (actions are case-insensitive)."""
    bp = policy(stmt(Action="S3:GETOBJECT", Resource="arn:aws:s3:::b/pub/*"))
    assert not allowed(request(ANONYMOUS, key="PUB/x"), bp)
    assert allowed(request(ANONYMOUS, key="pub/x"), bp)
    assert allowed(request(ANONYMOUS, "s3:getobject", key="pub/x"), bp)


def test_case16_notaction_is_not_an_allow_list() -> None:
    """Allow * with NotAction s3:Delete*: PutObject is allowed (everything but deletes is)."""
    bp = policy(stmt(NotAction="s3:Delete*"))
    assert allowed(request(ANONYMOUS, "s3:PutObject"), bp)
    assert allowed(request(ANONYMOUS, "ec2:RunInstances"), bp)  # every service, not only s3
    assert not allowed(request(ANONYMOUS, "s3:DeleteObject"), bp)


def test_case17_notprincipal_is_refused() -> None:
    """Allow with NotPrincipal role/x grants everyone else, anonymous included, and AWS leaves
    Deny + NotPrincipal order-dependent: the policy is refused rather than evaluated."""
    with pytest.raises(PolicyParseError, match="NotPrincipal"):
        parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "NotPrincipal": {"AWS": f"arn:aws:iam::{OWNER}:role/x"},
                        "Action": "s3:*",
                        "Resource": "*",
                    }
                ],
            }
        )


def test_case18_null_true_means_the_key_is_absent() -> None:
    """Deny if Null SourceVpce=true: from the internet the key is absent, so the Deny applies."""
    bp = policy(stmt(), stmt("Deny", Condition={"Null": {"aws:SourceVpce": "true"}}))
    assert not allowed(request(ANONYMOUS), bp)
    assert allowed(request(ANONYMOUS, path=VIA_A), bp)


def test_case19_policy_variables_and_old_versions_are_refused() -> None:
    """Without Version 2012-10-17 a ${aws:username} is literal, so AWS denies bob on b/bob/k; the
    evaluator models neither variables nor old versions and refuses both."""
    with pytest.raises(PolicyParseError, match="Version"):
        parse_policy({"Statement": [stmt(Resource="arn:aws:s3:::b/${aws:username}/*")]})
    old = PolicyDocument(policy(stmt()).statements, version="2008-10-17")
    assert any("Version" in message for _, message in unsupported(old, "bucket"))
    bp = policy(stmt(Resource="arn:aws:s3:::b/${aws:username}/*"))
    assert [s for s, _ in unsupported(bp, "bucket")] == [bp.statements[0]]
    with pytest.raises(UnsupportedPolicyError, match="policy variable"):
        decide(request(OWNER_USER, key="bob/k"), bp)


def test_case20_securetransport_is_always_present() -> None:
    """Deny if Bool SecureTransport=false: plain HTTP through A is denied (the key is always
    present, also through an endpoint); HTTPS is not."""
    bp = policy(stmt(), stmt("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    assert not allowed(request(ANONYMOUS, path=VIA_A, secure_transport=False), bp)
    assert allowed(request(ANONYMOUS, path=VIA_A, secure_transport=True), bp)


def test_case21_one_public_statement_cancels_cross_account_grants() -> None:
    """Allow * unconditionally plus Allow 222; with RestrictPublicBuckets a role of 222 is denied:
    the public statement makes the policy public, which cancels every cross-account grant."""
    bp = policy(stmt(Action="s3:GetObject"), stmt(Principal={"AWS": OTHER}))
    req = request(OTHER_ROLE)
    assert allowed(req, bp, identity="allow-all")
    decision = decide(req, bp, identity="allow-all", restrict_public_buckets=True)
    assert not decision.allowed
    assert "RestrictPublicBuckets" in decision.reason
    assert not allowed(request(ANONYMOUS), bp, restrict_public_buckets=True)
    assert allowed(request(APP_ROLE), bp, identity="none", restrict_public_buckets=True)
    without_public = policy(stmt(Principal={"AWS": OTHER}))
    assert allowed(req, without_public, identity="allow-all", restrict_public_buckets=True)


def test_case22_owner_root_can_always_manage_the_bucket_policy() -> None:
    """Deny s3:* to *: the owner's root user may still PutBucketPolicy (lockout rule), but not
    GetObject; and an endpoint policy can still block it."""
    bp = policy(stmt("Deny"))
    decision = decide(request(OWNER_ROOT, "s3:PutBucketPolicy", key=None), bp)
    assert decision.allowed
    assert "lockout" in decision.reason
    assert not allowed(request(OWNER_ROOT, "s3:GetObject"), bp)
    assert not allowed(request(OTHER_ROOT, "s3:PutBucketPolicy", key=None), bp)
    ep = policy(stmt(Action="s3:GetObject"))
    via = request(OWNER_ROOT, "s3:DeleteBucketPolicy", key=None, path=VIA_A)
    assert not allowed(via, bp, endpoint_policy=ep)
    assert allowed(via, bp, endpoint_policy=DEFAULT_ENDPOINT_POLICY)


def test_case23_negated_operator_ands_its_values() -> None:
    """Allow if StringNotEquals PrincipalAccount=[222, 333]: account 222 does not match (a negated
    operator holds only if the value equals none of the values); account 111's root does."""
    bp = policy(stmt(Condition={"StringNotEquals": {"aws:PrincipalAccount": [OTHER, THIRD]}}))
    assert not statement_matches(bp.statements[0], request(OTHER_ROLE), "bucket")
    assert not allowed(request(OTHER_ROLE), bp, identity="allow-all")
    assert statement_matches(bp.statements[0], request(OWNER_USER), "bucket")


# --- condition operators: missing keys, values, qualifiers ---------------------------------------

TRAIL = f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/t"

# family -> (key, policy value, request without the key, request that matches, one that does not)
FAMILIES: dict[str, tuple[str, str, Request, Request, Request]] = {
    "string": (
        "aws:SourceVpce",
        VPCE_A,
        request(ANONYMOUS, path=INTERNET),
        request(ANONYMOUS, path=VIA_A),
        request(ANONYMOUS, path=VIA_FOREIGN),
    ),
    "arn": (
        "aws:SourceArn",
        TRAIL,
        request(ANONYMOUS),
        request(ANONYMOUS, source_arn=TRAIL),
        request(ANONYMOUS, source_arn=TRAIL.replace("trail/t", "trail/u")),
    ),
    "ip": (
        "aws:SourceIp",
        "203.0.113.0/24",
        request(ANONYMOUS, path=VIA_A),
        request(ANONYMOUS, path=NetworkPath(source_ip="203.0.113.9")),
        request(ANONYMOUS, path=NetworkPath(source_ip="198.51.100.1")),
    ),
    "bool": (
        "aws:PrincipalIsAWSService",
        "false",
        request(ANONYMOUS),
        request(APP_ROLE),
        request(CLOUDTRAIL),
    ),
}
OPERATOR_FAMILIES = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string", False),
    "StringNotEqualsIgnoreCase": ("string", True),
    "StringLike": ("string", False),
    "StringNotLike": ("string", True),
    "ArnEquals": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnLike": ("arn", False),
    "ArnNotLike": ("arn", True),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "Bool": ("bool", False),
}
VARIANTS = ("", "IfExists", "ForAnyValue:", "ForAllValues:")
MISSING_RESULT = {"IfExists": True, "ForAnyValue:": False, "ForAllValues:": True}


def _operator_name(base: str, variant: str) -> str:
    return base + variant if variant == "IfExists" else variant + base


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("base", sorted(OPERATOR_FAMILIES))
def test_missing_and_present_key_rules_per_operator(base: str, variant: str) -> None:
    """Missing key: positive false, negated true, IfExists true, ForAnyValue false, ForAllValues
    true. Present key (single-valued): positive = any value matches, negated = none matches."""
    family, negated = OPERATOR_FAMILIES[base]
    key, value, missing, hit, miss = FAMILIES[family]
    bp = policy(stmt(Condition={_operator_name(base, variant): {key: value}}))
    statement = bp.statements[0]
    assert statement_matches(statement, missing, "bucket") is MISSING_RESULT.get(variant, negated)
    assert statement_matches(statement, hit, "bucket") is (not negated)
    assert statement_matches(statement, miss, "bucket") is negated


@pytest.mark.parametrize(
    ("value", "path", "expected"),
    [
        ("true", INTERNET, True),
        ("true", VIA_A, False),
        ("false", INTERNET, False),
        ("false", VIA_A, True),
        (["true", "false"], INTERNET, True),
        (["true", "false"], VIA_A, True),
    ],
)
def test_null_true_means_absent_false_means_present(
    value: Any, path: NetworkPath, expected: bool
) -> None:
    bp = policy(stmt(Condition={"Null": {"aws:SourceVpce": value}}))
    assert statement_matches(bp.statements[0], request(ANONYMOUS, path=path), "bucket") is expected


def test_json_booleans_in_conditions_work_like_strings() -> None:
    bp = policy(stmt("Deny", Condition={"Bool": {"aws:SecureTransport": False}}))
    assert statement_matches(bp.statements[0], request(secure_transport=False), "bucket")
    assert not statement_matches(bp.statements[0], request(secure_transport=True), "bucket")


def test_positive_operator_ors_its_values() -> None:
    bp = policy(stmt(Condition={"StringEquals": {"aws:SourceVpce": [VPCE_FOREIGN, VPCE_A]}}))
    assert statement_matches(bp.statements[0], request(path=VIA_A), "bucket")
    assert statement_matches(bp.statements[0], request(path=VIA_FOREIGN), "bucket")


def test_conditions_and_across_operators_and_keys() -> None:
    bp = policy(
        stmt(
            Condition={
                "StringEquals": {"aws:SourceVpce": VPCE_A, "aws:ResourceAccount": OWNER},
                "Bool": {"aws:SecureTransport": "true"},
            }
        )
    )
    statement = bp.statements[0]
    assert statement_matches(statement, request(path=VIA_A), "bucket")
    assert not statement_matches(statement, request(path=VIA_A, secure_transport=False), "bucket")
    assert not statement_matches(statement, request(path=VIA_A, bucket_account=OTHER), "bucket")


def test_condition_key_names_are_case_insensitive() -> None:
    bp = policy(stmt(Condition={"StringEquals": {"AWS:SOURCEVPCE": VPCE_A}}))
    assert statement_matches(bp.statements[0], request(path=VIA_A), "bucket")
    assert not statement_matches(bp.statements[0], request(path=VIA_FOREIGN), "bucket")


@pytest.mark.parametrize(
    ("operator", "policy_value", "expected"),
    [
        ("StringEquals", VPCE_A.upper(), False),
        ("StringEqualsIgnoreCase", VPCE_A.upper(), True),
        ("StringNotEqualsIgnoreCase", VPCE_A.upper(), False),
        ("StringLike", "VPCE-0AAAAAAAA*", False),
        ("StringLike", VPCE_A, True),
    ],
)
def test_string_value_case_rules(operator: str, policy_value: str, expected: bool) -> None:
    """StringEquals and StringLike compare values case-sensitively; *IgnoreCase does not."""
    # s3:prefix, not a system ID, so that wildcards are modelled.
    bp = policy(stmt(Condition={operator: {"s3:prefix": policy_value}}))
    req = request(key=None, action="s3:ListBucket", list_prefix=VPCE_A)
    assert statement_matches(bp.statements[0], req, "bucket") is expected


def test_bool_values_are_case_insensitive() -> None:
    bp = policy(stmt(Condition={"Bool": {"aws:SecureTransport": "FALSE"}}))
    assert statement_matches(bp.statements[0], request(secure_transport=False), "bucket")
    assert not statement_matches(bp.statements[0], request(secure_transport=True), "bucket")


def test_s3_prefix_is_absent_when_the_request_has_none() -> None:
    bp = policy(stmt(Action="s3:ListBucket", Condition={"StringLike": {"s3:prefix": "home/*"}}))
    assert allowed(request(ANONYMOUS, "s3:ListBucket", None, list_prefix="home/a/"), bp)
    assert not allowed(request(ANONYMOUS, "s3:ListBucket", None, list_prefix="other/"), bp)
    assert not allowed(request(ANONYMOUS, "s3:ListBucket", None), bp)


# --- ARN and IP operators ----------------------------------------------------------------------


@pytest.mark.parametrize("operator", ["ArnLike", "ArnEquals"])
@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:iam::*:role/*", f"arn:aws:iam::{OWNER}:role/app", True),
        ("arn:aws:iam::*:role/*", f"arn:aws:iam::{OWNER}:user/app", False),
        ("arn:aws:iam::*:role/app", f"arn:aws:iam::{OWNER}:role/App", False),  # case-sensitive
        # "*" does not cross a segment's colon: the region segment cannot swallow "x:".
        ("arn:aws:cloudtrail:*:1111*:trail/t", f"arn:aws:cloudtrail:x:y:{OWNER}:trail/t", False),
        ("arn:aws:cloudtrail:*:*:trail/t", f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/t", True),
        # ... but the sixth segment (the resource) is the rest of the ARN, colons included.
        ("arn:aws:logs:*:*:log-group:*", f"arn:aws:logs:eu-west-1:{OWNER}:log-group:a:b", True),
        ("arn:aws:?am::*:root", f"arn:aws:iam::{OWNER}:root", True),
        ("arn:aws:iam::*:root", "arn:aws:iam::root", False),
    ],
)
def test_arn_operators_match_per_segment(
    operator: str, pattern: str, value: str, expected: bool
) -> None:
    """ArnLike compares the six colon-separated segments one by one, with globs that stay inside
    a segment; ArnEquals behaves exactly like ArnLike (IAM documents them together)."""
    bp = policy(stmt(Condition={operator: {"aws:SourceArn": pattern}}))
    assert statement_matches(bp.statements[0], request(source_arn=value), "bucket") is expected


def test_arn_glob_regex_rejects_patterns_without_six_segments() -> None:
    with pytest.raises(ValueError, match="six segments"):
        compile_arn_globs(("arn:aws:iam",))


@pytest.mark.parametrize(
    ("cidr", "ip", "expected"),
    [
        ("203.0.113.0/24", "203.0.113.255", True),
        ("203.0.113.0/24", "203.0.114.0", False),
        ("203.0.113.7", "203.0.113.7", True),  # a bare address is a /32
        ("203.0.113.7/24", "203.0.113.1", True),  # host bits are ignored
        ("2001:db8::/32", "2001:db8:1::1", True),
        ("2001:db8::/32", "203.0.113.1", False),  # other family: no match, no error
        ("0.0.0.0/0", "198.51.100.1", True),
    ],
)
def test_ip_address_is_cidr_membership(cidr: str, ip: str, expected: bool) -> None:
    bp = policy(stmt(Condition={"IpAddress": {"aws:SourceIp": cidr}}))
    req = request(path=NetworkPath(source_ip=ip))
    assert statement_matches(bp.statements[0], req, "bucket") is expected


def test_vpc_source_ip_is_present_only_through_an_endpoint() -> None:
    bp = policy(stmt(Condition={"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}}))
    assert statement_matches(bp.statements[0], request(path=VIA_A), "bucket")
    assert not statement_matches(bp.statements[0], request(path=INTERNET), "bucket")


# --- actions and resources ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:Get*", "s3:GetObjectVersion", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObjects", False),
        ("s3:*", "s3:GetObject", True),
        ("s3:*", "s3express:CreateSession", False),  # the service prefix is exact
        ("*", "ec2:RunInstances", True),
        ("S3:getOBJECT", "s3:GetObject", True),
    ],
)
def test_actions_are_case_insensitive_globs(pattern: str, action: str, expected: bool) -> None:
    bp = policy(stmt(Action=pattern))
    assert statement_matches(bp.statements[0], request(action=action), "bucket") is expected


@pytest.mark.parametrize(
    ("pattern", "bucket", "key", "expected"),
    [
        ("arn:aws:s3:::b/*", "b", "a/b/c", True),  # "*" crosses "/"
        ("arn:aws:s3:::b/*", "b", None, False),  # b/* is not the bucket
        ("arn:aws:s3:::b/*", "bb", "k", False),
        ("arn:aws:s3:::b/a?c", "b", "abc", True),
        ("arn:aws:s3:::b/a?c", "b", "ac", False),
        ("arn:aws:s3:::b/*", "b", "x:y", True),  # keys may hold colons
        ("arn:aws:s3:::*", "any", None, True),
        ("arn:aws:s3:::*", "any", "k", True),
        ("arn:aws:s3:::b/pre/*", "b", "Pre/x", False),
        ("arn:aws:s3:::b/*/x", "b", "a\nb/x", True),  # "*" also crosses newlines
    ],
)
def test_resources_are_case_sensitive_globs_over_the_arn(
    pattern: str, bucket: str, key: str | None, expected: bool
) -> None:
    bp = policy(stmt(Resource=pattern))
    req = request(bucket=bucket, key=key, action="s3:GetObject" if key else "s3:ListBucket")
    assert statement_matches(bp.statements[0], req, "bucket") is expected


def test_notresource_matches_everything_except_the_listed_resources() -> None:
    bp = policy(stmt(NotResource="arn:aws:s3:::b/secret/*"))
    assert allowed(request(ANONYMOUS, key="public/x"), bp)
    assert allowed(request(ANONYMOUS, "s3:ListBucket", None), bp)
    assert not allowed(request(ANONYMOUS, key="secret/x"), bp)


def test_notaction_and_notresource_with_star_match_nothing() -> None:
    assert not statement_matches(policy(stmt(NotAction="*")).statements[0], request(), "bucket")
    assert not statement_matches(policy(stmt(NotResource="*")).statements[0], request(), "bucket")


def test_deny_with_notaction_spares_only_the_listed_actions() -> None:
    bp = policy(stmt(), stmt("Deny", NotAction=["s3:GetObject", "s3:ListBucket"]))
    assert allowed(request(ANONYMOUS, "s3:GetObject"), bp)
    assert not allowed(request(ANONYMOUS, "s3:PutObject"), bp)


# --- principals and accounts -------------------------------------------------------------------


def test_same_account_identity_alone_is_enough() -> None:
    assert allowed(request(APP_ROLE), None, identity="allow-all")
    assert not allowed(request(APP_ROLE), None, identity="none")
    decision = decide(request(APP_ROLE), None, identity="allow-all")
    assert decision.reason == "same account: the identity policy allows"


def test_root_user_always_has_identity_permissions() -> None:
    assert allowed(request(OWNER_ROOT), None, identity="none")
    cross = request(OTHER_ROOT)
    assert allowed(cross, policy(stmt(Principal={"AWS": OTHER})), identity="none")


def test_cross_account_needs_identity_and_bucket_policy() -> None:
    bp = policy(stmt(Principal={"AWS": OTHER_ROLE.arn}))
    assert not allowed(request(OTHER_ROLE), None, identity="allow-all")
    assert not allowed(request(OTHER_ROLE), bp, identity="none")
    decision = decide(request(OTHER_ROLE), bp, identity="allow-all")
    assert decision.allowed
    assert decision.deciding == (("bucket", bp.statements[0]),)


@pytest.mark.parametrize("principal", [OTHER, f"arn:aws:iam::{OTHER}:root"])
def test_bucket_account_principal_covers_every_principal_of_that_account(principal: str) -> None:
    bp = policy(stmt(Principal={"AWS": principal}))
    assert allowed(request(OTHER_ROLE), bp, identity="allow-all")
    assert not allowed(request(APP_ROLE), bp, identity="none")


def test_same_account_user_arn_grant_needs_no_identity_policy() -> None:
    bp = policy(stmt(Principal={"AWS": OWNER_USER.arn}))
    assert allowed(request(OWNER_USER), bp, identity="none")
    assert not allowed(request(APP_ROLE), bp, identity="none")


def test_principal_arns_match_exactly() -> None:
    bp = policy(stmt(Principal={"AWS": f"arn:aws:iam::{OWNER}:role/app2"}))
    assert not allowed(request(APP_ROLE), bp, identity="none")
    bp_path = policy(stmt(Principal={"AWS": f"arn:aws:iam::{OWNER}:role/team/app"}))
    assert not allowed(request(APP_ROLE), bp_path, identity="none")
    pathed = Caller(f"arn:aws:iam::{OWNER}:role/team/app", OWNER)
    assert allowed(request(pathed), bp_path, identity="none")


def test_anonymous_needs_a_bucket_grant_to_everyone() -> None:
    assert not allowed(request(ANONYMOUS), None)
    assert not allowed(request(ANONYMOUS), policy(stmt(Principal={"AWS": OWNER})))
    assert allowed(request(ANONYMOUS), policy(stmt(Principal={"AWS": "*"})))
    assert allowed(request(ANONYMOUS), policy(stmt()))


def test_anonymous_principal_account_is_evaluated_both_ways() -> None:
    """AWS documents aws:PrincipalAccount for anonymous callers inconsistently ("anonymous" or
    absent); Caller.anonymous_account_key selects which, and the answers differ."""
    bp = policy(stmt(Condition={"StringEqualsIfExists": {"aws:PrincipalAccount": OWNER}}))
    assert allowed(request(ANONYMOUS), bp)
    assert not allowed(request(ANONYMOUS_WITH_KEY), bp)
    anon = policy(stmt(Condition={"StringEquals": {"aws:PrincipalAccount": "anonymous"}}))
    assert allowed(request(ANONYMOUS_WITH_KEY), anon)
    assert not allowed(request(ANONYMOUS), anon)


def test_anonymous_requests_lack_principal_is_aws_service() -> None:
    """IAM: aws:PrincipalIsAWSService is present for signed requests only; anonymous ones lack it,
    so the usual `BoolIfExists ... false` exemption guard still applies to them."""
    guard = {"StringNotEqualsIfExists": {"aws:SourceVpce": VPCE_A}}
    strict = policy(
        stmt(), stmt("Deny", Condition={**guard, "Bool": {"aws:PrincipalIsAWSService": "false"}})
    )
    assert allowed(request(ANONYMOUS), strict)
    loose = policy(
        stmt(),
        stmt("Deny", Condition={**guard, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}),
    )
    assert not allowed(request(ANONYMOUS), loose)


def test_principal_arn_condition_is_the_role_for_sessions_and_absent_for_anonymous() -> None:
    bp = policy(stmt(Condition={"ArnEquals": {"aws:PrincipalArn": APP_ROLE.arn}}))
    assert allowed(request(APP_ROLE), bp, identity="none")
    assert not allowed(request(ANONYMOUS), bp)


def test_service_principal_needs_a_bucket_grant_naming_it_or_everyone() -> None:
    named = policy(stmt(Principal={"Service": "cloudtrail.amazonaws.com"}))
    assert allowed(request(CLOUDTRAIL, "s3:PutObject"), named)
    assert allowed(request(CLOUDTRAIL, "s3:PutObject"), policy(stmt()))
    assert not allowed(request(CLOUDTRAIL, "s3:PutObject"), None, identity="allow-all")
    assert not allowed(request(CLOUDTRAIL, "s3:PutObject"), policy(stmt(Principal={"AWS": OWNER})))
    other = Caller(None, None, service="config.amazonaws.com")
    assert not allowed(request(other, "s3:PutObject"), named)
    assert not allowed(request(APP_ROLE), named, identity="none")


def test_service_principal_keys_and_source_account() -> None:
    bp = policy(
        stmt(
            Principal={"Service": "cloudtrail.amazonaws.com"},
            Condition={
                "StringEquals": {"aws:SourceAccount": OWNER},
                "Bool": {"aws:PrincipalIsAWSService": "true"},
                "StringLike": {"aws:PrincipalServiceName": "cloudtrail.*"},
            },
        )
    )
    assert allowed(request(CLOUDTRAIL, "s3:PutObject", source_account=OWNER), bp)
    assert not allowed(request(CLOUDTRAIL, "s3:PutObject", source_account=OTHER), bp)
    assert not allowed(request(CLOUDTRAIL, "s3:PutObject"), bp)


def test_undocumented_service_principal_account_is_refused_when_it_decides() -> None:
    """AWS does not document aws:PrincipalAccount/PrincipalArn for service principals: if the
    answer depends on it, evaluate refuses instead of guessing either way."""
    deny_outsiders = stmt("Deny", Condition={"StringNotEquals": {"aws:PrincipalAccount": OWNER}})
    bp = policy(stmt(Principal={"Service": "cloudtrail.amazonaws.com"}), deny_outsiders)
    with pytest.raises(UnsupportedPolicyError, match="not known"):
        decide(request(CLOUDTRAIL, "s3:PutObject"), bp)
    with pytest.raises(UnsupportedPolicyError, match="not known"):
        statement_matches(bp.statements[1], request(CLOUDTRAIL), "bucket")
    deny_unlisted = stmt("Deny", Condition={"ArnNotLike": {"aws:PrincipalArn": APP_ROLE.arn}})
    by_arn = policy(stmt(Principal={"Service": "cloudtrail.amazonaws.com"}), deny_unlisted)
    with pytest.raises(UnsupportedPolicyError, match="not known"):
        decide(request(CLOUDTRAIL, "s3:PutObject"), by_arn)


def test_undocumented_value_is_fine_when_other_conditions_decide() -> None:
    exempt = {
        "StringNotEquals": {"aws:PrincipalAccount": OWNER},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    }
    bp = policy(
        stmt(Principal={"Service": "cloudtrail.amazonaws.com"}), stmt("Deny", Condition=exempt)
    )
    assert allowed(request(CLOUDTRAIL, "s3:PutObject"), bp)
    assert not allowed(request(OTHER_ROLE), bp, identity="allow-all")


def test_undocumented_allow_is_not_reported_when_a_documented_allow_decides() -> None:
    named = stmt(Principal={"Service": "cloudtrail.amazonaws.com"})
    maybe = stmt(Condition={"StringEquals": {"aws:PrincipalAccount": OWNER}})
    bp = policy(maybe, named)
    decision = decide(request(CLOUDTRAIL, "s3:PutObject"), bp)
    assert decision.allowed
    assert decision.deciding == (("bucket", bp.statements[1]),)


def test_undocumented_value_is_fine_when_the_answer_is_the_same_either_way() -> None:
    maybe_deny = stmt("Deny", Condition={"StringNotEquals": {"aws:PrincipalAccount": OWNER}})
    no_grant = policy(maybe_deny)  # no Allow for the service: denied whatever the Deny does
    decision = decide(request(CLOUDTRAIL, "s3:PutObject"), no_grant)
    assert not decision.allowed
    assert decision.deciding == ()
    sure_deny = policy(stmt(), maybe_deny, stmt("Deny", Action="s3:PutObject"))
    decision = decide(request(CLOUDTRAIL, "s3:PutObject"), sure_deny)
    assert not decision.allowed
    assert decision.deciding == (("bucket", sure_deny.statements[2]),)


def test_network_values_left_out_of_the_request_are_unknown_not_absent() -> None:
    """Through an endpoint SourceVpc and VpcSourceIp are always present, and on the internet
    SourceIp is: a request that leaves them out must not be evaluated as if they were absent."""
    by_vpc = policy(stmt(), stmt("Deny", Condition={"StringNotEquals": {"aws:SourceVpc": VPC_A}}))
    bare = NetworkPath(vpce=VPCE_A)
    with pytest.raises(UnsupportedPolicyError, match="not known"):
        decide(request(ANONYMOUS, path=bare), by_vpc)
    assert allowed(request(ANONYMOUS, path=VIA_A), by_vpc)
    by_ip = policy(stmt(Condition={"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}))
    with pytest.raises(UnsupportedPolicyError, match="not known"):
        decide(request(ANONYMOUS, path=NetworkPath()), by_ip)
    assert not allowed(request(ANONYMOUS, path=bare), by_ip)  # absent through an endpoint
    by_private_ip = policy(stmt(Condition={"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}}))
    with pytest.raises(UnsupportedPolicyError, match="not known"):
        decide(request(ANONYMOUS, path=bare), by_private_ip)


def test_principal_arn_differing_only_in_case_is_refused_when_it_decides() -> None:
    """Whether IAM matches principal ARNs case-insensitively is not documented: refuse."""
    bp = policy(stmt(Principal={"AWS": f"arn:aws:iam::{OWNER}:role/App"}))
    with pytest.raises(UnsupportedPolicyError):
        decide(request(APP_ROLE), bp, identity="none")
    assert allowed(request(APP_ROLE), bp, identity="allow-all")  # same either way


# --- endpoint policies ----------------------------------------------------------------------------


def test_endpoint_policy_gates_but_never_grants() -> None:
    assert not allowed(request(OTHER_ROLE, path=VIA_A), None, identity="allow-all")
    assert not allowed(request(ANONYMOUS, path=VIA_A), None)
    assert allowed(request(APP_ROLE, path=VIA_A), None, identity="allow-all")


def test_endpoint_principal_arn_is_exact_and_star_includes_anonymous() -> None:
    ep = policy(stmt(Principal={"AWS": APP_ROLE.arn}))
    assert allowed(request(APP_ROLE, path=VIA_A), None, endpoint_policy=ep, identity="allow-all")
    assert not allowed(
        request(OWNER_USER, path=VIA_A), None, endpoint_policy=ep, identity="allow-all"
    )
    assert not allowed(request(ANONYMOUS, path=VIA_A), policy(stmt()), endpoint_policy=ep)
    assert allowed(request(ANONYMOUS, path=VIA_A), policy(stmt()), endpoint_policy=policy(stmt()))


def test_endpoint_deny_is_final_and_reported() -> None:
    ep = policy(stmt(), stmt("Deny", Action="s3:PutObject"))
    bp = policy(stmt("Deny", Action="s3:PutObject"))
    decision = decide(request(APP_ROLE, "s3:PutObject", path=VIA_A), bp, endpoint_policy=ep)
    assert not decision.allowed
    assert decision.reason == "explicit Deny in the bucket and endpoint policies"
    assert decision.deciding == (("endpoint", ep.statements[1]), ("bucket", bp.statements[0]))
    only_ep = decide(request(APP_ROLE, "s3:PutObject", path=VIA_A), None, endpoint_policy=ep)
    assert only_ep.reason == "explicit Deny in the endpoint policy"


def test_allowed_decision_names_endpoint_and_bucket_statements() -> None:
    ep = policy(stmt())
    bp = policy(stmt(Condition={"StringEquals": {"aws:SourceVpce": VPCE_A}}))
    decision = decide(request(ANONYMOUS, path=VIA_A), bp, endpoint_policy=ep)
    assert decision.allowed
    assert decision.deciding == (("endpoint", ep.statements[0]), ("bucket", bp.statements[0]))


def test_evaluate_rejects_an_endpoint_policy_that_does_not_fit_the_path() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        evaluate(request(path=VIA_A), bucket_policy=None, endpoint_policy=None)
    with pytest.raises(ValueError, match="endpoint"):
        evaluate(
            request(path=INTERNET), bucket_policy=None, endpoint_policy=DEFAULT_ENDPOINT_POLICY
        )


# --- RestrictPublicBuckets and is_public ---------------------------------------------------------


def test_restrict_public_buckets_keeps_service_and_same_account_grants() -> None:
    bp = policy(stmt())
    assert is_public(bp)
    assert allowed(request(CLOUDTRAIL, "s3:PutObject"), bp, restrict_public_buckets=True)
    assert allowed(request(APP_ROLE), bp, identity="none", restrict_public_buckets=True)
    assert not allowed(request(ANONYMOUS), bp, restrict_public_buckets=True)
    assert not allowed(request(OTHER_ROLE), bp, identity="allow-all", restrict_public_buckets=True)


def _cond(operator: str, key: str, value: Any) -> dict[str, Any]:
    return {operator: {key: value}}


@pytest.mark.parametrize(
    ("statement", "public"),
    [
        (stmt(), True),
        (stmt(Principal={"AWS": "*"}), True),
        (stmt(Principal={"AWS": OTHER}), False),
        (stmt(Principal={"AWS": [OTHER, "*"]}), True),
        (stmt(Principal={"Service": "cloudtrail.amazonaws.com"}), False),
        (stmt(Condition=_cond("StringEquals", "aws:SourceVpce", VPCE_A)), False),
        (stmt(Condition=_cond("StringEquals", "aws:sourcevpc", VPC_A)), False),
        (stmt(Condition=_cond("ArnEquals", "aws:SourceArn", TRAIL)), False),
        (stmt(Condition=_cond("StringEquals", "aws:SourceAccount", OWNER)), False),
        (stmt(Condition=_cond("StringEqualsIfExists", "aws:SourceVpce", VPCE_A)), True),
        (stmt(Condition=_cond("ForAllValues:StringEquals", "aws:SourceVpce", VPCE_A)), True),
        (stmt(Condition=_cond("StringLike", "aws:SourceVpc", "vpc-*")), True),
        (stmt(Condition=_cond("StringNotEquals", "aws:SourceVpce", VPCE_A)), True),
        (stmt(Condition=_cond("StringEquals", "aws:PrincipalAccount", OWNER)), True),  # doubt
        (stmt(Condition=_cond("IpAddress", "aws:SourceIp", "52.94.76.0/22")), False),
        (stmt(Condition=_cond("IpAddress", "aws:SourceIp", "203.0.113.0/24")), True),  # TEST-NET
        (stmt(Condition=_cond("IpAddress", "aws:SourceIp", "0.0.0.0/0")), True),
        (stmt(Condition=_cond("IpAddress", "aws:SourceIp", "10.0.0.0/8")), True),  # RFC 1918
        (stmt(Condition=_cond("IpAddress", "aws:SourceIp", "2001:4860::/32")), False),
        (stmt(Condition=_cond("IpAddress", "aws:SourceIp", "2001:4860::/31")), True),
        (stmt(Condition=_cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24")), True),
        (stmt("Deny"), False),  # only Allow statements can make a policy public
    ],
)
def test_is_public_follows_s3_and_counts_doubt_as_public(
    statement: dict[str, Any], public: bool
) -> None:
    assert is_public(policy(statement)) is public


def test_is_public_needs_every_allow_to_be_fixed() -> None:
    fixed = stmt(Principal={"AWS": OTHER})
    assert not is_public(policy(fixed, fixed))
    assert is_public(policy(fixed, stmt(Action="s3:GetObject")))


# --- unsupported(): every construct outside the model is reported, and evaluate refuses it ------

UNSUPPORTED_STATEMENTS: list[tuple[str, Layer, dict[str, Any], str]] = [
    ("no-principal-bucket", "bucket", {"Principal": None}, "no Principal"),
    ("no-principal-endpoint", "endpoint", {"Principal": None}, "no Principal"),
    (
        "federated",
        "bucket",
        {"Principal": {"Federated": "cognito-identity.amazonaws.com"}},
        "Federated",
    ),
    (
        "canonical-user",
        "bucket",
        {"Principal": {"CanonicalUser": "79a59df900b949e55d96a1e6"}},
        "CanonicalUser",
    ),
    (
        "assumed-role",
        "bucket",
        {"Principal": {"AWS": f"arn:aws:sts::{OWNER}:assumed-role/app/s"}},
        "role-session",
    ),
    (
        "partial-wildcard",
        "bucket",
        {"Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/*"}},
        "AWS principal",
    ),
    ("group", "bucket", {"Principal": {"AWS": f"arn:aws:iam::{OWNER}:group/g"}}, "AWS principal"),
    (
        "other-partition",
        "bucket",
        {"Principal": {"AWS": f"arn:aws-cn:iam::{OWNER}:root"}},
        "AWS principal",
    ),
    ("service-on-endpoint", "endpoint", {"Principal": {"Service": "s3.amazonaws.com"}}, "Service"),
    (
        "account-deny-on-endpoint",
        "endpoint",
        {"Effect": "Deny", "Principal": {"AWS": OWNER}},
        "Deny",
    ),
    (
        "service-wildcard",
        "bucket",
        {"Principal": {"Service": "*.amazonaws.com"}},
        "service principal",
    ),
    (
        "org-id-key",
        "bucket",
        {"Condition": _cond("StringEquals", "aws:PrincipalOrgID", "o-1")},
        "key",
    ),
    ("vpc-arn-key", "bucket", {"Condition": _cond("StringEquals", "aws:SourceVpcArn", "x")}, "key"),
    ("numeric", "bucket", {"Condition": _cond("NumericLessThan", "s3:max-keys", "10")}, "operator"),
    (
        "date",
        "bucket",
        {"Condition": _cond("DateGreaterThan", "aws:CurrentTime", "2020")},
        "operator",
    ),
    ("binary", "bucket", {"Condition": _cond("BinaryEquals", "s3:prefix", "QUJD")}, "operator"),
    ("misspelt", "bucket", {"Condition": _cond("StringEqual", "s3:prefix", "a")}, "operator"),
    ("lowercase-op", "bucket", {"Condition": _cond("stringequals", "s3:prefix", "a")}, "operator"),
    ("null-ifexists", "bucket", {"Condition": _cond("NullIfExists", "s3:prefix", "true")}, "Null"),
    ("set-null", "bucket", {"Condition": _cond("ForAnyValue:Null", "s3:prefix", "true")}, "Null"),
    (
        "set-ifexists",
        "bucket",
        {"Condition": _cond("ForAnyValue:StringEqualsIfExists", "s3:prefix", "a")},
        "set qualifier",
    ),
    (
        "variable",
        "bucket",
        {"Condition": _cond("StringLike", "s3:prefix", "${aws:username}/*")},
        "variable",
    ),
    (
        "vpce-wildcard",
        "bucket",
        {"Condition": _cond("StringLike", "aws:SourceVpce", "vpce-0*")},
        "wildcard",
    ),
    (
        "vpc-wildcard",
        "bucket",
        {"Condition": _cond("StringNotLike", "aws:SourceVpc", "vpc-?")},
        "wildcard",
    ),
    (
        "account-star",
        "bucket",
        {"Condition": _cond("StringEquals", "aws:PrincipalAccount", "*")},
        "wildcard",
    ),
    (
        "resource-account",
        "bucket",
        {"Condition": _cond("StringLike", "aws:ResourceAccount", "1*")},
        "wildcard",
    ),
    (
        "source-account",
        "bucket",
        {"Condition": _cond("StringLike", "aws:SourceAccount", "1*")},
        "wildcard",
    ),
    ("bad-bool", "bucket", {"Condition": _cond("Bool", "aws:SecureTransport", "yes")}, "Bool"),
    ("bad-null", "bucket", {"Condition": _cond("Null", "aws:SourceVpce", "maybe")}, "Null"),
    (
        "bad-cidr",
        "bucket",
        {"Condition": _cond("IpAddress", "aws:SourceIp", "10.0.0.0/33")},
        "CIDR",
    ),
    ("short-arn", "bucket", {"Condition": _cond("ArnLike", "aws:SourceArn", "arn:aws:s3")}, "six"),
    (
        "arn-on-string",
        "bucket",
        {"Condition": _cond("ArnEquals", "aws:SourceVpce", VPCE_A)},
        "type",
    ),
    ("bool-on-string", "bucket", {"Condition": _cond("Bool", "s3:prefix", "true")}, "type"),
    (
        "ip-on-string",
        "bucket",
        {"Condition": _cond("IpAddress", "aws:SourceVpce", "10.0.0.0/8")},
        "type",
    ),
    (
        "string-on-ip",
        "bucket",
        {"Condition": _cond("StringEquals", "aws:SourceIp", "10.0.0.1")},
        "type",
    ),
    (
        "string-on-bool",
        "bucket",
        {"Condition": _cond("StringEquals", "aws:SecureTransport", "true")},
        "type",
    ),
    ("sqs-resource", "bucket", {"Resource": f"arn:aws:sqs:us-east-1:{OWNER}:q"}, "resource"),
    ("cn-resource", "bucket", {"Resource": "arn:aws-cn:s3:::b"}, "resource"),
    ("wild-partition", "endpoint", {"Resource": "arn:*:s3:::b"}, "resource"),
    ("resource-variable", "bucket", {"Resource": "arn:aws:s3:::b/${aws:userid}"}, "variable"),
    ("action-no-colon", "bucket", {"Action": "s3*"}, "action"),
    ("action-wild-service", "bucket", {"Action": "*:GetObject"}, "action"),
    ("notaction-variable", "bucket", {"NotAction": "s3:${x}"}, "action"),
]


@pytest.mark.parametrize(
    ("layer", "fields", "fragment"),
    [
        pytest.param(layer, fields, fragment, id=name)
        for name, layer, fields, fragment in UNSUPPORTED_STATEMENTS
    ],
)
def test_unsupported_construct_is_reported_and_refused(
    layer: Layer, fields: dict[str, Any], fragment: str
) -> None:
    """Each construct outside the model yields an entry naming its statement, and evaluate() raises
    rather than guessing (a guess could turn a deny into an allow or the reverse)."""
    doc = policy(stmt(**fields))
    found = unsupported(doc, layer)
    assert found, "expected a problem"
    assert all(s is doc.statements[0] for s, _ in found)
    assert any(fragment in message for _, message in found), found
    if layer == "bucket":
        with pytest.raises(UnsupportedPolicyError):
            decide(request(APP_ROLE), doc, identity="allow-all")
    else:
        with pytest.raises(UnsupportedPolicyError):
            decide(request(APP_ROLE, path=VIA_A), None, endpoint_policy=doc, identity="allow-all")


def test_unsupported_statement_is_refused_even_when_it_could_not_match() -> None:
    bp = policy(
        stmt(),
        stmt(
            "Deny", Action="s3:PutObject", Condition=_cond("DateLessThan", "aws:CurrentTime", "x")
        ),
    )
    with pytest.raises(UnsupportedPolicyError) as raised:
        decide(request(ANONYMOUS, "s3:GetObject"), bp)
    assert raised.value.problems[0][0] is bp.statements[1]
    with pytest.raises(UnsupportedPolicyError):
        statement_matches(bp.statements[1], request(), "bucket")


def test_refusal_names_the_statements_of_the_policy_passed_in() -> None:
    """Equal policies share compiled state, but a refusal must carry the caller's own statements,
    whose spans give the file:line to report."""
    body: dict[str, Any] = {"Version": "2012-10-17", "Statement": [stmt(Action="s3*")]}
    first = parse_policy(body, span=Span("a.tf", 1, 1))
    second = parse_policy(body, span=Span("b.tf", 9, 1))
    for doc, file in ((first, "a.tf"), (second, "b.tf")):
        with pytest.raises(UnsupportedPolicyError) as raised:
            decide(request(), doc)
        ((statement, _),) = raised.value.problems
        assert statement is doc.statements[0]
        assert statement.span is not None and statement.span.file == file


def test_old_version_is_reported_at_policy_level() -> None:
    old = PolicyDocument(policy(stmt()).statements, version="2008-10-17")
    assert unsupported(old, "endpoint") == (
        (None, "policy Version '2008-10-17' is not modelled (only 2012-10-17)"),
    )
    with pytest.raises(UnsupportedPolicyError):
        decide(request(ANONYMOUS), old)


MODELLED = policy(
    stmt(Principal={"AWS": [OWNER, OTHER_ROLE.arn, f"arn:aws:iam::{OTHER}:root", "*"]}),
    stmt(
        Principal={"Service": "cloudtrail.amazonaws.com"}, Action=["s3:PutObject", "s3:Get?bject"]
    ),
    stmt(
        "Deny",
        NotAction="s3:GetBucketPolicy",
        NotResource="arn:aws:s3:::b/public/*",
        Condition={
            "StringNotEqualsIfExists": {"aws:SourceVpce": [VPCE_A], "aws:PrincipalAccount": OWNER},
            "ForAnyValue:StringLike": {"s3:prefix": "home/*"},
            "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            "NotIpAddressIfExists": {
                "aws:SourceIp": "203.0.113.0/24",
                "aws:VpcSourceIp": "10.0.0.0/8",
            },
            "Null": {"aws:SourceArn": "true"},
            "StringEqualsIgnoreCase": {"aws:PrincipalServiceName": "X.amazonaws.com"},
            "ForAllValues:StringNotEquals": {"aws:SourceVpc": VPC_A, "aws:ResourceAccount": OWNER},
        },
    ),
)


def test_modelled_constructs_report_nothing() -> None:
    assert unsupported(MODELLED, "bucket") == ()
    endpoint = policy(stmt(Principal={"AWS": [OWNER, APP_ROLE.arn]}, Resource="*", Action="*"))
    assert unsupported(endpoint, "endpoint") == ()
    assert unsupported(DEFAULT_ENDPOINT_POLICY, "endpoint") == ()
    assert unsupported(ALLOW_EVERYONE_POLICY, "bucket") == ()


# --- request model validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Caller(f"arn:aws:iam::{OWNER}:role/app", OTHER),  # ARN of another account
        lambda: Caller(f"arn:aws:sts::{OWNER}:assumed-role/app/s", OWNER),  # sessions are the role
        lambda: Caller(None, OWNER),
        lambda: Caller(f"arn:aws:iam::{OWNER}:root", OWNER, anonymous_account_key=True),
        lambda: Caller(None, None, service="cloudtrail.amazonaws.com", anonymous_account_key=True),
        lambda: NetworkPath(
            vpce=VPCE_A, source_ip="203.0.113.1"
        ),  # SourceIp is absent on endpoints
        lambda: NetworkPath(vpc=VPC_A),
        lambda: NetworkPath(source_ip="not-an-ip"),
        lambda: NetworkPath(vpce=VPCE_A, vpc_source_ip="10.0.0.256"),
        lambda: request(bucket_account="111"),
        lambda: request(bucket="b/k"),
    ],
)
def test_inconsistent_requests_are_rejected(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def test_caller_helpers_and_resource_arn() -> None:
    assert OWNER_ROOT.is_root and not APP_ROLE.is_root
    assert ANONYMOUS.is_anonymous and not CLOUDTRAIL.is_anonymous and CLOUDTRAIL.is_service
    assert request(key=None).resource_arn == "arn:aws:s3:::b"
    assert request(key="a/b").resource_arn == "arn:aws:s3:::b/a/b"
    assert VIA_A.via_endpoint and not INTERNET.via_endpoint


# --- glob matching against a naive reference ---------------------------------------------------


def _naive_glob(pattern: str, text: str) -> bool:
    if not pattern:
        return not text
    head = pattern[0]
    if head == "*":
        return any(_naive_glob(pattern[1:], text[i:]) for i in range(len(text) + 1))
    if not text:
        return False
    return (head == "?" or head == text[0]) and _naive_glob(pattern[1:], text[1:])


def _naive_arn(pattern: str, text: str) -> bool:
    patterns, texts = pattern.split(":", 5), text.split(":", 5)
    if len(patterns) != 6 or len(texts) != 6:
        return False
    if any(":" in t for t in texts[:5]):
        return False
    return all(_naive_glob(p, t) for p, t in zip(patterns, texts, strict=True))


GLOB_TEXT = st.text(alphabet="ab:/*?.\n", max_size=10)
PLAIN_TEXT = st.text(alphabet="ab:/.\nB", max_size=12)


@settings(max_examples=1000)
@given(GLOB_TEXT, PLAIN_TEXT)
@example("*a*ab", "aab")  # a greedy middle segment would commit to the last "a" and fail
@example("*ab*b", "abb")
@example("a*?b", "axb")
def test_glob_regex_equals_naive_matcher(pattern: str, text: str) -> None:
    assert (compile_globs((pattern,)).fullmatch(text) is not None) == _naive_glob(pattern, text)


@given(st.lists(GLOB_TEXT, min_size=1, max_size=3), PLAIN_TEXT)
def test_combined_globs_match_if_any_glob_does(patterns: list[str], text: str) -> None:
    expected = any(_naive_glob(p, text) for p in patterns)
    assert (compile_globs(tuple(patterns)).fullmatch(text) is not None) == expected


@given(
    st.lists(st.text(alphabet="ab*?", max_size=3), min_size=6, max_size=6),
    st.lists(PLAIN_TEXT, min_size=1, max_size=8),
)
def test_arn_regex_equals_naive_per_segment_matcher(segments: list[str], parts: list[str]) -> None:
    pattern = ":".join(segments)
    text = ":".join(parts)
    assert (compile_arn_globs((pattern,)).fullmatch(text) is not None) == _naive_arn(pattern, text)


def test_glob_matching_does_not_backtrack_exponentially() -> None:
    regex = compile_globs(("*a*a*a*a*a*a*a*a*a*a*a*a*b",))
    assert regex.fullmatch("a" * 5000) is None  # would take ages with naive ".*" backtracking


def test_action_globs_fold_case_but_resource_globs_do_not() -> None:
    assert compile_globs(("S3:Get*",), True).fullmatch("s3:getobject")
    assert not compile_globs(("arn:aws:s3:::B/*",)).fullmatch("arn:aws:s3:::b/x")


# --- properties --------------------------------------------------------------------------------

PRINCIPALS = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": OWNER},
        {"AWS": f"arn:aws:iam::{OTHER}:root"},
        {"AWS": APP_ROLE.arn},
        {"AWS": [OWNER_USER.arn, OTHER_ROLE.arn]},
        {"Service": "cloudtrail.amazonaws.com"},
    ]
)
ACTIONS = st.sampled_from(
    ["s3:*", "s3:Get*", "s3:PutObject", "*", ["s3:ListBucket", "s3:PutBucketPolicy"]]
)
RESOURCES = st.sampled_from(
    ["*", "arn:aws:s3:::b", "arn:aws:s3:::b/*", "arn:aws:s3:::b/p/*", "arn:aws:s3:::e*"]
)
CONDITIONS = st.sampled_from(
    [
        None,
        _cond("StringEquals", "aws:SourceVpce", VPCE_A),
        _cond("StringNotEquals", "aws:SourceVpce", VPCE_A),
        _cond("StringNotEqualsIfExists", "aws:SourceVpc", VPC_A),
        _cond("ForAnyValue:StringEquals", "aws:SourceVpce", VPCE_A),
        _cond("ForAllValues:StringEquals", "aws:SourceVpce", VPCE_A),
        _cond("Null", "aws:SourceIp", "false"),
        _cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"),
        _cond("Bool", "aws:SecureTransport", "false"),
        _cond("StringEquals", "aws:PrincipalAccount", OWNER),
        _cond("StringNotEquals", "aws:ResourceAccount", OWNER),
        _cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"),
        _cond("StringLike", "s3:prefix", "p/*"),
    ]
)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    return stmt(
        effect or draw(st.sampled_from(["Allow", "Deny"])),
        Principal=draw(PRINCIPALS),
        Action=draw(ACTIONS),
        Resource=draw(RESOURCES),
        Condition=draw(CONDITIONS),
    )


@st.composite
def requests(draw: st.DrawFn) -> Request:
    caller = draw(
        st.sampled_from(
            [
                APP_ROLE,
                OWNER_ROOT,
                OWNER_USER,
                OTHER_ROLE,
                OTHER_ROOT,
                ANONYMOUS,
                ANONYMOUS_WITH_KEY,
                CLOUDTRAIL,
            ]
        )
    )
    action = draw(
        st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:PutBucketPolicy"])
    )
    on_bucket = action in ("s3:ListBucket", "s3:PutBucketPolicy")
    key = None if on_bucket else draw(st.sampled_from(["k", "p/x", "P/x"]))
    bucket, account = draw(st.sampled_from([("b", OWNER), ("evil", ATTACKER)]))
    path = draw(
        st.sampled_from([VIA_A, VIA_FOREIGN, INTERNET, NetworkPath(source_ip="198.51.100.1")])
    )
    prefix = draw(st.sampled_from([None, "p/", "q/"])) if action == "s3:ListBucket" else None
    tls = draw(st.booleans())
    return Request(
        caller, action, bucket, account, key, list_prefix=prefix, path=path, secure_transport=tls
    )


def _try(
    req: Request, bp: PolicyDocument | None, ep: PolicyDocument | None, **kw: Any
) -> bool | None:
    try:
        return evaluate(
            req, bucket_policy=bp, endpoint_policy=ep if req.path.via_endpoint else None, **kw
        ).allowed
    except UnsupportedPolicyError:
        return None  # undocumented values: the property says nothing about refused requests


SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@SETTINGS
@given(
    st.lists(statements(), min_size=1, max_size=4),
    st.lists(statements(), min_size=1, max_size=3),
    statements("Deny"),
    requests(),
    st.sampled_from(["allow-all", "none"]),
    st.booleans(),
    st.booleans(),
)
def test_adding_a_deny_never_turns_a_deny_into_an_allow(
    bucket: list[dict[str, Any]],
    endpoint: list[dict[str, Any]],
    extra: dict[str, Any],
    req: Request,
    identity: Identity,
    rpb: bool,
    to_endpoint: bool,
) -> None:
    bp, ep = policy(*bucket), policy(*endpoint)
    before = _try(req, bp, ep, identity=identity, restrict_public_buckets=rpb)
    wider_bp = bp if to_endpoint else policy(*bucket, extra)
    wider_ep = policy(*endpoint, extra) if to_endpoint else ep
    after = _try(req, wider_bp, wider_ep, identity=identity, restrict_public_buckets=rpb)
    if before is False and after is not None:
        assert after is False


@SETTINGS
@given(
    st.lists(statements(), min_size=1, max_size=4),
    statements("Allow"),
    requests(),
    st.sampled_from(["allow-all", "none"]),
)
def test_without_restrict_public_buckets_adding_an_allow_never_removes_access(
    bucket: list[dict[str, Any]], extra: dict[str, Any], req: Request, identity: Identity
) -> None:
    before = _try(req, policy(*bucket), DEFAULT_ENDPOINT_POLICY, identity=identity)
    after = _try(req, policy(*bucket, extra), DEFAULT_ENDPOINT_POLICY, identity=identity)
    if before is True and after is not None:
        assert after is True


@SETTINGS
@given(st.lists(statements("Allow"), min_size=1, max_size=4), requests(), st.booleans())
def test_allow_only_bucket_policy_never_restricts_same_account_callers(
    bucket: list[dict[str, Any]], req: Request, rpb: bool
) -> None:
    if req.caller.account != req.bucket_account:
        return
    assert _try(
        req,
        policy(*bucket),
        DEFAULT_ENDPOINT_POLICY,
        identity="allow-all",
        restrict_public_buckets=rpb,
    )


@SETTINGS
@given(st.lists(statements(), min_size=1, max_size=4), requests())
def test_restrict_public_buckets_never_widens_access(
    bucket: list[dict[str, Any]], req: Request
) -> None:
    bp = policy(*bucket)
    with_rpb = _try(
        req, bp, DEFAULT_ENDPOINT_POLICY, identity="allow-all", restrict_public_buckets=True
    )
    if with_rpb:
        assert _try(req, bp, DEFAULT_ENDPOINT_POLICY, identity="allow-all") is True
