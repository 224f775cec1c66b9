"""Policy comparison: what AWS rewrites is equal; any change in meaning is named."""

from __future__ import annotations

import json

import pytest

from xflow_perimeter.audit.normalise import (
    PolicyShapeError,
    canonical,
    canonical_text,
    differences,
)

COMMITTED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowRead",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]},
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::b/*"],
            "Condition": {"StringEquals": {"aws:SourceVpc": ["vpc-1"]}},
        },
        {
            "Sid": "DenyHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:*"],
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": ["false"]}},
        },
    ],
}


def test_aws_rewrites_are_equal() -> None:
    rewritten = (
        '{"Statement":[{"Condition":{"Bool":{"aws:SecureTransport":false}},"Resource":'
        '["arn:aws:s3:::b/*","arn:aws:s3:::b"],"Action":"s3:*","Principal":"*","Effect":"Deny",'
        '"Sid":"DenyHttp"},\n  {"Effect":"Allow","Principal":{"AWS":"111111111111"},'
        '"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":'
        '{"aws:SourceVpc":"vpc-1"}}}],"Version":"2012-10-17"}'
    )
    assert differences(canonical(COMMITTED), canonical_text(rewritten)) == ()


def test_sid_and_duplicates_carry_no_meaning() -> None:
    renamed = json.loads(json.dumps(COMMITTED))
    renamed["Statement"][0]["Sid"] = "Other"
    renamed["Statement"].append(renamed["Statement"][1])
    assert canonical(renamed) == canonical(COMMITTED)


def test_widened_action_is_named() -> None:
    wider = json.loads(json.dumps(COMMITTED))
    wider["Statement"][0]["Action"] = ["s3:GetObject", "s3:PutObject"]
    assert differences(canonical(COMMITTED), canonical(wider)) == (
        "statement 'AllowRead': Action adds s3:PutObject",
    )


def test_changed_condition_effect_and_principal_are_named() -> None:
    edited = json.loads(json.dumps(COMMITTED))
    statement = edited["Statement"][0]
    statement["Effect"] = "Deny"
    statement["Principal"] = "*"
    statement["Condition"] = {"StringEquals": {"aws:SourceVpc": ["vpc-2"]}, "Bool": {"x": "y"}}
    assert differences(canonical(COMMITTED), canonical(edited)) == (
        "statement 'AllowRead': Effect is Deny instead of Allow",
        "statement 'AllowRead': Principal adds *",
        "statement 'AllowRead': Principal AWS drops arn:aws:iam::111111111111:root",
        "statement 'AllowRead': adds Condition Bool x = y",
        "statement 'AllowRead': Condition StringEquals aws:SourceVpc adds vpc-2",
        "statement 'AllowRead': Condition StringEquals aws:SourceVpc drops vpc-1",
    )


def test_added_and_removed_statements_are_named() -> None:
    edited = json.loads(json.dumps(COMMITTED))
    del edited["Statement"][1]
    edited["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    )
    assert differences(canonical(COMMITTED), canonical(edited)) == (
        "adds statement (no Sid): Allow | Principal * | Action s3:* | Resource *",
        "lacks statement 'DenyHttp': Deny | Principal * | Action s3:* | Resource arn:aws:s3:::b, "
        "arn:aws:s3:::b/* | Bool aws:SecureTransport = false",
    )


def test_not_action_is_not_action() -> None:
    edited = json.loads(json.dumps(COMMITTED))
    edited["Statement"][1]["NotAction"] = edited["Statement"][1].pop("Action")
    assert differences(canonical(COMMITTED), canonical(edited)) == (
        "statement 'DenyHttp': drops Action",
        "statement 'DenyHttp': adds NotAction",
    )


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"Statement": 3}', '{"Statement": [1]}', '{"Statement": [{"Bogus": 1}]}'],
)
def test_unreadable_policies_raise(text: str) -> None:
    with pytest.raises(PolicyShapeError):
        canonical_text(text)
