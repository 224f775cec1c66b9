"""Compaction merges only statements that differ in Resource, and never NotResource ones."""

from __future__ import annotations

from xflow_perimeter.iam.policy import parse_policy
from xflow_perimeter.synth.compact import compact


def _policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _stmt(
    sid: str,
    resource: str,
    *,
    principal: str = "arn:aws:iam::111111111111:role/a",
    not_resource: bool = False,
) -> dict[str, object]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject"],
        "NotResource" if not_resource else "Resource": [resource],
        "Condition": {"ArnEquals": {"aws:PrincipalArn": [principal]}},
    }


def test_statements_differing_only_in_resources_merge() -> None:
    policy = parse_policy(_policy(_stmt("A", "arn:aws:s3:::b/x*"), _stmt("B", "arn:aws:s3:::b/y*")))
    merged = compact(policy)
    assert [s.sid for s in merged.statements] == ["A"]
    assert merged.statements[0].resources == ("arn:aws:s3:::b/x*", "arn:aws:s3:::b/y*")


def test_statements_with_other_conditions_stay_apart() -> None:
    policy = parse_policy(
        _policy(
            _stmt("A", "arn:aws:s3:::b/x*"),
            _stmt("B", "arn:aws:s3:::c/y*", principal="arn:aws:iam::111111111111:role/other"),
        )
    )
    assert [s.sid for s in compact(policy).statements] == ["A", "B"]


def test_not_resource_statements_never_merge() -> None:
    policy = parse_policy(
        _policy(
            _stmt("A", "arn:aws:s3:::b/x*", not_resource=True),
            _stmt("B", "arn:aws:s3:::b/y*", not_resource=True),
        )
    )
    assert compact(policy) == policy
