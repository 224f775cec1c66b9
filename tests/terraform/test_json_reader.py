"""Terraform's JSON syntax (``.tf.json``): blocks, attributes and their spans, strings read as
Terraform's templates, and every malformed file refused with its line and column."""

from __future__ import annotations

import json

import pytest

from xflow_perimeter.diagnostics import Span, XflowError
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.reader import Block, Literal, Opaque, Reference, read_text

TEXT = """\
{
  "//": "written by a tool",
  "resource": {
    "aws_vpc_endpoint_route_table_association": {
      "a": {
        "vpc_endpoint_id": "${aws_vpc_endpoint.app.id}",
        "route_table_id": "rtb-0a1b2c3d",
        "//": ["a comment may be any value"]
      }
    },
    "aws_s3_object": [
      {"x": {"bucket": "b", "count": 2, "tags": {"k": "v"}, "lifecycle": {"ignore_changes": ["tags"]}}},
      {"y": [{"provisioner": {"local-exec": {"command": "true"}}}]}
    ]
  },
  "data": {"aws_region": {"here": {}}},
  "provider": {"aws": [{"region": "eu-west-1"}, {"alias": "x", "region": "us-east-1"}]},
  "locals": [{"a": 1.5}, {"b": null}],
  "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
  "moved": [{"from": "${a.b}", "to": "${a.c}"}]
}
"""


def blocks() -> tuple[Block, ...]:
    return read_text(TEXT, "m/main.tf.json").blocks


def test_blocks_come_from_every_level_objects_or_lists() -> None:
    assert [(b.block_type, b.labels) for b in blocks()] == [
        ("resource", ("aws_vpc_endpoint_route_table_association", "a")),
        ("resource", ("aws_s3_object", "x")),
        ("resource", ("aws_s3_object", "y")),
        ("data", ("aws_region", "here")),
        ("provider", ("aws",)),
        ("provider", ("aws",)),
        ("locals", ()),
        ("locals", ()),
        ("terraform", ()),
        ("moved", ()),
    ]


def test_spans_point_at_the_keys() -> None:
    association, x, y, region, *_ = blocks()
    assert association.span == Span("m/main.tf.json", 5, 7)
    assert [(name, str(span)) for name, _, span in association.attributes] == [
        ("vpc_endpoint_id", "m/main.tf.json:6:9"),
        ("route_table_id", "m/main.tf.json:7:9"),
    ]
    assert x.span == Span("m/main.tf.json", 12, 8)
    assert y.span == Span("m/main.tf.json", 13, 8)
    assert region.span == Span("m/main.tf.json", 16, 27)


def test_strings_are_templates_as_terraform_reads_them() -> None:
    association, x, *_ = blocks()
    assert association.attribute("vpc_endpoint_id") == (
        Reference("aws_vpc_endpoint.app.id"),
        Span("m/main.tf.json", 6, 9),
    )
    assert association.attribute("route_table_id") is not None
    tags = x.attribute("tags")
    assert tags is not None and isinstance(tags[0], Opaque) and tags[0].kind == "object"
    assert tags[0].entries == (("k", Literal("v")),)
    for text in ("a${b}c", "${a.b} ", "$${escaped}", "%{if x}y%{endif}", "${f(x)}"):
        block = read_text(json.dumps({"locals": {"v": text}}), "t.tf.json").blocks[0]
        [(_, value, _)] = block.attributes
        assert isinstance(value, Opaque) and value.kind == "template", text


def test_nested_blocks_by_name() -> None:
    _, x, y, *_ = blocks()
    assert [(n.block_type, n.labels) for n in x.nested] == [("lifecycle", ())]
    assert [(n.block_type, n.labels) for n in y.nested] == [("provisioner", ("local-exec",))]
    [terraform] = [b for b in blocks() if b.block_type == "terraform"]
    [providers] = terraform.nested
    [(name, value, _)] = providers.attributes
    assert name == "aws" and isinstance(value, Opaque)
    assert value.entries == (("source", Literal("hashicorp/aws")),)


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ("", "XF401", 1, 1),
        ("[]", "XF401", 1, 1),
        ('{"resource": 1}', "XF401", 1, 14),
        ('{"locals": {"a": 1, "a": 2}}', "XF401", 1, 21),
        ('{"locals": {"a": {"k": 1, "k": 2}}}', "XF401", 1, 18),
        ('{"locals": {"a": 1}} x', "XF401", 1, 22),
        ('{\n  "locals": {"a": tru}\n}', "XF401", 2, 19),
        ('{"locals": {"a": "\\q"}}', "XF401", 1, 19),
        ('{"resource": {"a": {"b": {}}}, "resource": {}}', "XF401", 1, 32),
        ('{"locals": {"a": ' + "[" * 5000 + "]" * 5000 + "}}", "XF416", 1, 18),
    ],
)
def test_malformed_files_are_refused_where_they_go_wrong(
    text: str, code: str, line: int, column: int
) -> None:
    with pytest.raises(XflowError) as caught:
        read_text(text, "t.tf.json")
    [problem] = caught.value.diagnostics
    assert (problem.code, problem.span) == (code, Span("t.tf.json", line, column))


def test_too_many_elements_are_refused() -> None:
    text = json.dumps({"locals": {"a": [1] * (limits.MAX_FILE_ELEMENTS + 1)}})
    with pytest.raises(XflowError) as caught:
        read_text(text, "t.tf.json")
    assert [d.code for d in caught.value.diagnostics] == ["XF416"]


def test_nested_blocks_are_known_per_kind_of_block() -> None:
    text = json.dumps(
        {
            "resource": {
                "x_y": {
                    "z": {
                        "data": {"k": "v"},
                        "dynamic": {"rule": {"for_each": [], "content": {"a": 1}}},
                    }
                }
            },
            "check": {"c": {"data": {"aws_region": {"here": {}}}}},
        }
    )
    resource, check = read_text(text, "t.tf.json").blocks
    assert [name for name, _, _ in resource.attributes] == ["data"]
    [dynamic] = resource.nested
    assert (dynamic.block_type, dynamic.labels) == ("dynamic", ("rule",))
    assert [n.block_type for n in dynamic.nested] == ["content"]
    [scoped] = check.nested
    assert (scoped.block_type, scoped.labels) == ("data", ("aws_region", "here"))
