"""Invalid specs: every error code at the line it belongs to, and no way to inject into the output.

Each ``tests/invalid/*.yaml`` marks the lines that must be reported with a trailing
``# expect: XFnnn`` comment (several per file allowed, one code per comment); loading the file
must report exactly those (code, line) pairs.
"""

from __future__ import annotations

import json
import re
import string
import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xflow_perimeter.api import generate, load_spec
from xflow_perimeter.cli.main import main
from xflow_perimeter.diagnostics import CATALOGUE, Severity, XflowError
from xflow_perimeter.report.locations import display_path
from xflow_perimeter.terraform.reader import JsonEncoded, read_text

REPO = Path(__file__).resolve().parents[2]
INVALID = REPO / "tests" / "invalid"
SPEC_FILES = sorted(INVALID.glob("*.yaml"))
EXPECT = re.compile(r"#\s*expect:\s*(XF\d{3})\s*$")

# Codes a spec can earn while loading (every error code below XF300), each of which needs an
# invalid spec here; XF001 (unreadable file) is tested directly below.
LOAD_CODES = {
    code
    for code, entry in CATALOGUE.items()
    if code < "XF300" and entry.severity is Severity.ERROR and code != "XF001"
}


def expectations(path: Path) -> set[tuple[str, int]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            found.add((match.group(1), number))
    return found


def reported(path: Path) -> set[tuple[str, int | None]]:
    with pytest.raises(XflowError) as caught:
        load_spec(path)
    return {(d.code, d.span.line if d.span else None) for d in caught.value.diagnostics}


def test_every_load_code_has_an_invalid_spec() -> None:
    assert {"XF002", "XF101", "XF201", "XF213"} <= LOAD_CODES
    covered = {code for path in SPEC_FILES for code, _ in expectations(path)}
    assert covered >= LOAD_CODES, sorted(LOAD_CODES - covered)


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_invalid_spec_reports_exactly_the_expected_lines(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect: XFnnn' comment"
    assert reported(path) == expected


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_invalid_spec_compiles_to_nothing(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tf"
    assert main(["compile", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    shown = display_path(path)  # the path is printed relative to the working directory
    for code, line in expectations(path):
        assert re.search(rf"^{re.escape(shown)}:{line}:\d+: error {code}: ", err, re.M), err
    assert not out.exists()


# XF001 ---------------------------------------------------------------------------------------------


def test_xf001_missing_file(tmp_path: Path) -> None:
    with pytest.raises(XflowError) as caught:
        load_spec(tmp_path / "absent.yaml")
    assert [d.code for d in caught.value.diagnostics] == ["XF001"]
    assert "absent.yaml" in caught.value.diagnostics[0].message


def test_xf001_directory(tmp_path: Path) -> None:
    with pytest.raises(XflowError) as caught:
        load_spec(tmp_path)
    assert [d.code for d in caught.value.diagnostics] == ["XF001"]


def test_xf001_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b'xflow: 1\naccounts: {data: "\xff"}\n')
    with pytest.raises(XflowError) as caught:
        load_spec(path)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "XF001"
    assert diagnostic.span is not None and diagnostic.span.line == 2


def test_xf001_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(tmp_path / "absent.yaml"), "-o", str(tmp_path / "tf")]) == 2
    err = capsys.readouterr().err
    assert "error XF001: " in err and "Traceback" not in err
    assert not (tmp_path / "tf").exists()


# Injection -----------------------------------------------------------------------------------------

TEMPLATE = """\
xflow: 1
accounts:
  @ALIAS@: "000000000000"
  workload: "999999999999"
networks:
  @NET@:
    account: workload
    region: @REGION@
    vpc_id: @VPC@
    route_table_ids: [@RTB@]
    endpoint: @VPCE@
buckets:
  @BUCKETKEY@: {name: @BUCKET@, account: @ALIAS@, region: ap-northeast-1}
principals:
  @PRINCIPAL@: {arn: @ARN@}
admins: [@ADMIN@]
flows:
  - {principal: @PRINCIPAL@, network: @NET@, bucket: @BUCKETKEY@, access: [read, list], prefix: @PREFIX@}
assertions:
  - {principal: @PRINCIPAL@, network: @NET@, bucket: @BUCKETKEY@, key: @KEY@, action: s3:GetObject,
     expect: allow}
"""

DEFAULTS = {
    "ALIAS": "data",
    "NET": "app",
    "REGION": "ap-northeast-1",
    "VPC": "vpc-0a1b2c3d4e5f60718",
    "RTB": "rtb-0a1b2c3d4e5f60718",
    "VPCE": "vpce-0a1b2c3d4e5f60718",
    "BUCKETKEY": "reports",
    "BUCKET": "injection-test-bucket",
    "PRINCIPAL": "app-role",
    "ARN": "arn:aws:iam::999999999999:role/app",
    "ADMIN": "arn:aws:iam::000000000000:role/BreakGlass",
    "PREFIX": "exports/",
    "KEY": "exports/x.csv",
}

PAYLOADS = {
    "interpolation": "${var.x}",
    "directive": "%{if true}x%{endif}",
    "quote": '"',
    "backslash": "\\",
    "newline": "\n",
    "trailing-newline": "",  # appended after the newline below
    "star": "*",
    "question": "?",
}


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar that loads as exactly ``value``."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def render(**values: str) -> str:
    merged = {**DEFAULTS, **values}
    return re.sub(r"@([A-Z]+)@", lambda m: yaml_string(merged[m.group(1)]), TEMPLATE)


def injected(field: str, payload: str) -> str:
    if payload == "":
        return DEFAULTS[field] + "\n"  # a trailing newline: Python's `$` would let it through
    middle = len(DEFAULTS[field]) // 2
    return DEFAULTS[field][:middle] + payload + DEFAULTS[field][middle:]


INJECTIONS = [
    pytest.param(field, payload, id=f"{field.lower()}-{name}")
    for field in DEFAULTS
    for name, payload in PAYLOADS.items()
]


def test_the_injection_template_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(render(), encoding="utf-8")
    spec = load_spec(path)
    assert spec.flows[0].prefix == "exports/"


@pytest.mark.parametrize(("field", "payload"), INJECTIONS)
def test_injection_is_rejected_and_nothing_is_written(
    field: str, payload: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(render(**{field: injected(field, payload)}), encoding="utf-8")
    with pytest.raises(XflowError) as caught:
        load_spec(path)
    codes = {d.code for d in caught.value.diagnostics}
    assert codes == {"XF104"}, caught.value
    out = tmp_path / "tf"
    assert main(["compile", str(path), "-o", str(out)]) == 2
    assert "error XF104: " in capsys.readouterr().err
    assert not out.exists()


# Prefixes: rejected, or carried into the policies verbatim ------------------------------------------

PREFIX_PATTERN = re.compile(r"[A-Za-z0-9!_.'()=+,@:-][A-Za-z0-9!_.'()/=+,@:-]{0,1023}")
REFERENCE_PREFIX = "xflowreferenceprefix/"
ALLOWED = string.ascii_letters + string.digits + "!_.'()/=+,@:-"
HOSTILE = '${}%*?"\\\n\r\t #&[]~^<>|`;'


def policies_of(files: dict[str, str]) -> dict[str, object]:
    """Each generated policy, parsed back from the HCL, by resource address."""
    out: dict[str, object] = {}
    for relative, text in files.items():
        for block in read_text(text, relative).blocks:
            attribute = block.attribute("policy")
            if attribute is None:
                continue
            value, _ = attribute
            assert isinstance(value, JsonEncoded), (relative, value)
            out[f"{relative}:{'.'.join(block.labels)}"] = value.value
    return out


def statements(policy: object, prefix: str | None = None) -> list[str]:
    """A policy's statements without Sids (they hash the prefix), sorted, as JSON text.

    With ``prefix``, the reference prefix is replaced by it: what the policy must be for ``prefix``.
    """

    def walk(value: object) -> object:
        if isinstance(value, str):
            return value if prefix is None else value.replace(REFERENCE_PREFIX, prefix)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if k != "Sid"}
        return value

    assert isinstance(policy, dict)
    found = policy["Statement"]
    assert isinstance(found, list)
    return sorted(json.dumps(walk(s), sort_keys=True) for s in found)


def compile_prefix(tmp_path: Path, prefix: str, listing: bool) -> dict[str, str]:
    path = tmp_path / "spec.yaml"
    access = "[read, list]" if listing else "read"
    text = render(PREFIX=prefix).replace("access: [read, list]", f"access: {access}")
    path.write_text(text, encoding="utf-8")
    _, files = generate(load_spec(path), "spec.yaml")
    return files


@cache
def reference(listing: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        files = compile_prefix(Path(folder), REFERENCE_PREFIX, listing)
    policies = policies_of(files)
    assert REFERENCE_PREFIX in json.dumps(policies)
    return policies


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet=ALLOWED + HOSTILE, min_size=1, max_size=40),
        st.text(alphabet=ALLOWED, min_size=1, max_size=40),
    )
)
@example("exports/")
@example("a/${var.x}/")
@example("a%{if true}b%{endif}")
@example('a"b')
@example("a\\b")
@example("exports/\n")
@example("x*")
@example("q?")
@example("it's(1)=2+3,@:!-_.")
@example("e")
def test_random_prefix_is_rejected_or_kept_verbatim(tmp_path: Path, prefix: str) -> None:
    listing = len(prefix) >= 6
    try:
        files = compile_prefix(tmp_path, prefix, listing)
    except XflowError as error:
        codes = {d.code for d in error.diagnostics}
        assert codes <= {"XF104", "XF209"}, error
        return
    assert PREFIX_PATTERN.fullmatch(prefix), f"accepted a prefix outside the schema: {prefix!r}"
    policies = policies_of(files)
    expected = reference(listing)
    assert set(policies) == set(expected)
    for address, policy in policies.items():
        assert statements(policy) == statements(expected[address], prefix), address
    resources = json.dumps(policies)
    assert json.dumps(f"arn:aws:s3:::injection-test-bucket/{prefix}*") in resources
    if listing:
        assert json.dumps(f"{prefix}*") in resources
