"""The one escaping function, ``hclwriter.quote``, on arbitrary strings (not only what the schema
lets through): whatever it writes reads back as exactly the input, through xflow's own reader (fast
and python-hcl2 paths) and through hashicorp's HCL parser (``hclvalues``, built by
scripts/dev-setup from scripts/hclvalues/main.go).
"""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from xflow_perimeter.synth.hclwriter import attributes, quote
from xflow_perimeter.terraform.fast_reader import NotInSubset, read_text_fast
from xflow_perimeter.terraform.hcl2_reader import read_text_hcl2
from xflow_perimeter.terraform.reader import JsonEncoded, Literal, TfFile, read_text

HOSTILE = '${}%"\\\n\r\t\x00\x1b\x7f\u2028 aé~😀'
STRINGS = st.one_of(st.text(), st.text(alphabet=HOSTILE))
# The strings that took part in escaping bugs elsewhere (terraform-facts.md §1.4), and the edges.
AWKWARD = [
    "",
    "${var.x}",
    "%{if true}x%{endif}",
    "$${",
    "%%{",
    "$$$${",
    "${",
    "%{",
    "$",
    "%",
    "$$",
    "}",
    '"',
    "\\",
    "\\u0041",
    "\\n",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\u2028\u2029",
    "😀",
    "EOT\n",
    "a\r\nb",
    "e\u0301",
    "arn:aws:s3:::b/${aws:username}/*",
]


def template_opener(value: str) -> bool:
    return "${" in value or "%{" in value


def document(values: list[str]) -> str:
    """One resource per value, written as render.py writes Terraform: the value as a block
    label, as an attribute, and as both key and element inside ``jsonencode``."""
    lines = []
    for value in values:
        lines += [
            f'resource "xflow_test" {quote(value)} {{',
            f"  value = {quote(value)}",
            "  policy = jsonencode({",
            f"    {quote(value)} = [{quote(value)}]",
            "  })",
            "}",
        ]
    return "\n".join(lines) + "\n"


def read_back(tf: TfFile) -> list[tuple[str, object, object]]:
    """Each block's label, value and policy as xflow read them."""
    out = []
    for block in tf.blocks:
        assert block.block_type == "resource" and block.labels[0] == "xflow_test"
        value = block.attribute("value")
        policy = block.attribute("policy")
        assert value is not None and isinstance(value[0], Literal), value
        assert policy is not None and isinstance(policy[0], JsonEncoded), policy
        out.append((block.labels[1], value[0].value, policy[0].value))
    return out


def expected(values: list[str]) -> list[tuple[str, object, object]]:
    return [(value, value, {value: [value]}) for value in values]


def test_quote_leaves_plain_text_alone_and_escapes_the_rest() -> None:
    assert quote("exports/a.csv") == '"exports/a.csv"'
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("${x}%{y}") == '"$${x}%%{y}"'
    assert quote("$$ %%") == '"$$ %%"'  # without "{" after them, "$" and "%" mean themselves
    assert quote("\n\r\t\x00\x7f") == '"\\n\\r\\t\\u0000\\u007f"'


@settings(max_examples=150, deadline=None)
@given(st.lists(STRINGS, min_size=1, max_size=8))
@example(AWKWARD)
def test_xflow_reads_back_exactly_what_quote_wrote(values: list[str]) -> None:
    text = document(values)
    assert read_back(read_text(text, "x.tf")) == expected(values)
    assert read_back(read_text_hcl2(text, "x.tf")) == expected(values)
    try:
        fast = read_text_fast(text, "x.tf")
    except NotInSubset:
        # The fast reader leaves template sequences (even escaped ones) to python-hcl2, and
        # nothing else that quote writes.
        assert any(template_opener(value) for value in values)
    else:
        assert read_back(fast) == expected(values)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(STRINGS, min_size=1, max_size=8))
@example(values=AWKWARD)
def test_hashicorp_hcl_reads_back_exactly_what_quote_wrote(
    values: list[str], hclvalues: str, tmp_path: Path
) -> None:
    path = tmp_path / "x.tf"
    path.write_text(document(values), encoding="utf-8")
    run = subprocess.run([hclvalues, str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    blocks = json.loads(run.stdout)["blocks"]
    got = [
        (
            block["labels"][1],
            block["attributes"]["value"],
            json.loads(block["attributes"]["policy"]),  # the text jsonencode made
        )
        for block in blocks
    ]
    # Terraform's values are cty strings, which are NFC-normalised as they are made (labels are
    # not); that is what Terraform deploys, and independent of escaping.
    want = []
    for value in values:
        nfc = unicodedata.normalize("NFC", value)
        want.append((value, nfc, {nfc: [nfc]}))
    assert got == want


def keys_document(keys: list[str]) -> str:
    """A policy whose keys are ``keys`` (each mapped to itself), written by the writer's
    ``attributes`` as render.py writes policies: identifiers bare, other keys through quote."""
    body = "\n".join(attributes([(key, key) for key in keys], 2))
    return 'resource "xflow_test" "keys" {\n  policy = jsonencode({\n' + body + "\n  })\n}\n"


KEYS = st.lists(
    st.one_of(
        STRINGS,
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]*", fullmatch=True),
        st.sampled_from(["for", "in", "if", "null", "true", "false", "Null", "for_each"]),
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]*\n", fullmatch=True),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda key: unicodedata.normalize("NFC", key),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keys=KEYS)
@example(keys=["for", "a"])
@example(keys=["abc\n"])
def test_policy_keys_read_back_exactly(keys: list[str], hclvalues: str, tmp_path: Path) -> None:
    text = keys_document(keys)
    [block] = read_text(text, "x.tf").blocks
    policy = block.attribute("policy")
    assert policy is not None and policy[0] == JsonEncoded({key: key for key in keys}), text
    path = tmp_path / "x.tf"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run([hclvalues, str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, (text, run.stderr)
    [go_block] = json.loads(run.stdout)["blocks"]
    nfc = [unicodedata.normalize("NFC", key) for key in keys]
    assert json.loads(go_block["attributes"]["policy"]) == {key: key for key in nfc}


# python-hcl2 on its own: what xflow's reader works around (terraform/escapes.py) -----------------

VALUE_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False)


def python_hcl2_value(value: str) -> object:
    return hcl2.loads(f"a = {quote(value)}\n", serialization_options=VALUE_OPTIONS)["a"]


@settings(max_examples=100, deadline=None)
@given(STRINGS.filter(lambda value: not template_opener(value)))
@example('\\u0041\\n"\u2028😀$$%%')
def test_python_hcl2_alone_reads_values_without_template_sequences(value: str) -> None:
    assert python_hcl2_value(value) == value


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="python-hcl2 #336: with strip_string_quotes, $${ and %%{ come back still doubled",
)
@pytest.mark.parametrize("value", ["${var.x}", "%{if true}x%{endif}", "a/${aws:username}/b"])
def test_python_hcl2_alone_unescapes_template_sequences(value: str) -> None:
    assert python_hcl2_value(value) == value


@pytest.mark.xfail(
    strict=True,
    raises=UnexpectedInput,
    reason="python-hcl2 #238: an escaped $${ or %%{ with no } after it does not parse",
)
@pytest.mark.parametrize("value", ["${", "a%{", "$${"])
def test_python_hcl2_alone_parses_unclosed_template_sequences(value: str) -> None:
    assert python_hcl2_value(value) == value
