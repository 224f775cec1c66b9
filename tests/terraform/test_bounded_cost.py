"""Reading Terraform costs time linear in the input and memory within 10x the input plus 100 MB,
and a hostile file is refused quickly rather than read slowly.

The hostile files run in a child process whose address space is capped with ``setrlimit`` (the
interpreter and its imports count against the cap); the child reports the CPU time it spent from
reading the tree to the refusal (CPU time, not wall time: the machine may be shared).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import XflowError
from xflow_perimeter.iam.policy import (
    BUCKET_POLICY_LIMIT,
    ENDPOINT_POLICY_LIMIT,
    MAX_STATEMENTS,
    PolicyParseError,
    parse_policy,
)
from xflow_perimeter.prove.verify import verify
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.fast_reader import read_text_fast
from xflow_perimeter.terraform.hcl2_reader import read_text_hcl2
from xflow_perimeter.terraform.reader import read_text, read_tree

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cross-account"
SIZE = 5_000_000
MEMORY_CAP = 10 * SIZE + 100_000_000


def _policy(statements: str, layer: str = "aws_s3_bucket_policy") -> str:
    return (
        f'resource "{layer}" "hostile" {{\n  bucket = "chibayuki-test"\n  policy = jsonencode({{\n'
        f'    Version = "2012-10-17"\n    Statement = [\n{statements}    ]\n  }})\n}}\n'
    )


def _fill(unit: str, head: str = "", tail: str = "") -> str:
    return head + unit * ((SIZE - len(head) - len(tail)) // len(unit)) + tail


STATEMENT = '      { Effect = "Deny", Principal = "*", Action = "s3:*", Resource = "*" },\n'
HOSTILE = {
    "long string": _policy(_fill("k", '      { Sid = "', '", Effect = "Deny" },\n')),
    "deep nesting": _fill("[", "locals {\n  x = ") + "\n}\n",
    "many attributes": _fill("  a = 1\n", 'resource "aws_s3_bucket_policy" "x" {\n', "}\n"),
    "many statements": _policy(_fill(STATEMENT)),
    "huge policy": _policy(
        _fill('"arn:aws:s3:::chibayuki-test/k",', '      { Effect = "Deny", Resource = [', "] },\n")
    ),
    "many list items": _fill("1,", "locals {\n  x = [", "]\n}\n"),
    "many blocks": _fill("a {}\n"),
    "long traversal": _fill(".b", 'resource "aws_s3_bucket_policy" "x" {\n  bucket = a', "\n}\n"),
    "outside the fast subset": _fill("  a = 1 + 1\n", "locals {\n", "}\n"),
    "json nesting": _fill("[", '{"locals": {"x": ') + "}}",
    "json attributes": '{"locals": {'
    + "".join(f'"a{i:07}": 1, ' for i in range(SIZE // 15))
    + '"b": 1}}',
}
EXPECTED = {
    "long string": "XF417",
    "deep nesting": "XF416",
    "many attributes": "XF416",
    "many statements": "XF417",
    "huge policy": "XF417",
    "many list items": "XF416",
    "many blocks": "XF416",
    "long traversal": "XF403",
    "outside the fast subset": "XF416",
    "json nesting": "XF416",
    "json attributes": "XF416",
}
CHILD = textwrap.dedent(
    """\
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
    from pathlib import Path
    from xflow_perimeter.api import load_spec
    from xflow_perimeter.prove.verify import verify
    from xflow_perimeter.terraform.reader import read_tree
    spec = load_spec(Path(sys.argv[1]))
    started = time.process_time()
    report = verify(spec, read_tree(Path(sys.argv[2])))
    cpu = time.process_time() - started
    codes = sorted({{d.code for d in report.refusals}})
    print(json.dumps({{"codes": codes, "cpu": cpu, "evaluated": report.requests_evaluated}}))
    """
)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_quickly_in_little_memory(tmp_path: Path, name: str) -> None:
    text = HOSTILE[name]
    assert SIZE * 0.99 <= len(text) <= SIZE * 1.01
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLE / "terraform", root)
    suffix = ".tf.json" if name.startswith("json") else ".tf"
    (root / "data-ap-northeast-1" / f"hostile{suffix}").write_text(text, encoding="utf-8")
    child = CHILD.format(cap=MEMORY_CAP)
    done = subprocess.run(
        [sys.executable, "-c", child, str(EXAMPLE / "spec.yaml"), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert EXPECTED[name] in result["codes"], result
    assert result["evaluated"] == 0
    assert result["cpu"] < 2.0, result


def test_the_memory_cap_is_real(tmp_path: Path) -> None:
    """The child fails when it needs more than the cap: the test above would see it."""
    child = CHILD.format(cap=MEMORY_CAP).replace(
        "started =", "hog = bytearray(" + str(MEMORY_CAP) + ")\nstarted ="
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(EXAMPLE / "spec.yaml"), str(EXAMPLE / "terraform")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "MemoryError" in done.stderr


# -- linear duplicate detection ----------------------------------------------------------------


def _attributes(count: int) -> str:
    return "locals {\n" + "".join(f"  a{i} = {i}\n" for i in range(count)) + "}\n"


def test_duplicate_attributes_are_found_in_linear_time() -> None:
    text = _attributes(60_000)
    started = time.process_time()
    [block] = read_text_fast(text, "t.tf").blocks
    assert len(block.attributes) == 60_000
    assert time.process_time() - started < 2.0  # pairwise comparison: 2e9 steps


def test_python_hcl2_finds_duplicates_in_linear_time_too() -> None:
    text = _attributes(20_000) + "locals {\n  b = 1\n  b = 2\n}\n"
    started = time.process_time()
    with pytest.raises(XflowError) as caught:
        read_text_hcl2(text, "t.tf")
    assert time.process_time() - started < 10.0  # pairwise: 2e8 steps, minutes
    assert [(d.code, d.span.line if d.span else 0) for d in caught.value.diagnostics] == [
        ("XF401", 20_005)
    ]


# -- the general reader's size cap ---------------------------------------------------------------


def test_the_general_reader_takes_no_file_over_its_cap() -> None:
    text = _fill("  a = 1 + 1\n", "locals {\n", "}\n")[: limits.GENERAL_READER_MAX_CHARS + 20]
    started = time.process_time()
    with pytest.raises(XflowError) as caught:
        read_text(text, "big.tf")
    assert time.process_time() - started < 1.0
    [problem] = caught.value.diagnostics
    assert problem.code == "XF416" and str(problem.span) == "big.tf:1:1"
    assert "unexpected character at big.tf:2:9" in problem.message  # why the fast reader stopped
    assert f"{limits.GENERAL_READER_MAX_CHARS:,}" in problem.message


def test_the_general_reader_takes_no_file_with_too_many_tokens() -> None:
    """A traversal of 1.2 MB, under the size cap, took python-hcl2 14 s and 900 MB."""
    text = "locals {\n  x = a" + '["k"]' * 240_000 + "\n}\n"
    assert len(text) < limits.GENERAL_READER_MAX_CHARS
    started = time.process_time()
    with pytest.raises(XflowError) as caught:
        read_text(text, "t.tf")
    assert time.process_time() - started < 1.0
    [problem] = caught.value.diagnostics
    assert problem.code == "XF416"
    assert f"({limits.GENERAL_READER_MAX_TOKENS:,})" in problem.message


# -- policies larger than AWS accepts are refused before evaluation ----------------------------------


def _sized_policy(layer: str, size: int, char: str = "k") -> str:
    """A one-statement policy whose compact JSON is ``size`` characters."""
    base = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::chibayuki-test/"}]}'
    key = char * (size - len(base))
    statement = (
        '      { Effect = "Deny", Principal = "*", Action = "s3:*", '
        f'Resource = "arn:aws:s3:::chibayuki-test/{key}" }},\n'
    )
    return _policy(statement, layer)


@pytest.mark.parametrize(
    ("size", "char", "refused"),
    [
        (BUCKET_POLICY_LIMIT, "k", False),
        (BUCKET_POLICY_LIMIT + 1, "k", True),
        (BUCKET_POLICY_LIMIT - 100, "é", True),  # bytes, not characters: é is two
    ],
)
def test_bucket_policy_size_is_measured_in_bytes(
    tmp_path: Path, size: int, char: str, refused: bool
) -> None:
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLE / "terraform", root)
    path = root / "data-ap-northeast-1" / "bucket_policies.tf"
    path.write_text(_sized_policy("aws_s3_bucket_policy", size, char).replace("hostile", "reports"))
    report = verify(load_spec(EXAMPLE / "spec.yaml"), read_tree(root))
    codes = [d.code for d in report.refusals]
    assert ("XF417" in codes) == refused, codes
    if refused:
        assert report.requests_evaluated == 0


def test_endpoint_policy_size_is_measured_in_characters(tmp_path: Path) -> None:
    text = _sized_policy("aws_vpc_endpoint_policy", ENDPOINT_POLICY_LIMIT - 100, "é")
    text = text.replace('  bucket = "chibayuki-test"\n', '  vpc_endpoint_id = "vpce-0123"\n')
    [block] = read_text(text, "m/e.tf").blocks
    from xflow_perimeter.terraform.perimeter import read_perimeter
    from xflow_perimeter.terraform.reader import TfTree

    fits = read_perimeter(TfTree((read_text(text, "m/e.tf"),), ()))
    assert "XF417" not in [d.code for d in fits.refusals]
    over = text.replace("chibayuki-test/", "chibayuki-test/" + "k" * 200)
    refused = read_perimeter(TfTree((read_text(over, "m/e.tf"),), ()))
    [problem] = [d for d in refused.refusals if d.code == "XF417"]
    assert "characters" in problem.message and str(problem.span) == "m/e.tf:3:3"
    assert block.labels == ("aws_vpc_endpoint_policy", "hostile")


def test_statement_count_is_bounded_by_the_size_limits() -> None:
    smallest = {"Effect": "Deny", "Action": "", "Resource": ""}
    fits = {"Version": "2012-10-17", "Statement": [smallest] * MAX_STATEMENTS}
    assert len(parse_policy(fits).statements) == MAX_STATEMENTS
    assert (
        len(json.dumps(fits, separators=(",", ":")))
        > max(BUCKET_POLICY_LIMIT, ENDPOINT_POLICY_LIMIT)
        - len(json.dumps(smallest, separators=(",", ":")))
        - 40
    )
    over = {"Version": "2012-10-17", "Statement": [smallest] * (MAX_STATEMENTS + 1)}
    with pytest.raises(PolicyParseError, match="statements"):
        parse_policy(over)
