"""The closed world: every block Terraform would deploy from the tree is modelled, harmless,
accepted by a declared exception, or refused by name (address and file:line:col).

Most tests copy the cross-account example (spec and committed Terraform) into ``tmp_path``, add
the kind of edit a pull request could carry, and run verify as the CLI does. The first four are
the reports that found verify saying "grants exactly the spec" on Terraform that deploys more.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xflow_perimeter.api import load_spec
from xflow_perimeter.cli.main import main
from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.prove.verify import Report, verify
from xflow_perimeter.spec.model import DeclaredException
from xflow_perimeter.terraform.closed_world import MAX_REFUSALS, block_address, close
from xflow_perimeter.terraform.reader import TfTree, read_text, read_tree

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cross-account"
DATA = "data-ap-northeast-1"
BP = f"{DATA}/bucket_policies.tf"
EP = "workload-ap-northeast-1/endpoints.tf"


def verify_with(
    tmp_path: Path, files: dict[str, str], exceptions: str = "", edits: dict[str, str] | None = None
) -> Report:
    """Verify the example with ``files`` added (relative to its terraform/), ``edits`` applied
    (old text -> new text, in the bucket policy file) and ``exceptions`` appended to its spec."""
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(
        (EXAMPLE / "spec.yaml").read_text(encoding="utf-8") + exceptions, encoding="utf-8"
    )
    root = tmp_path / "terraform"
    shutil.copytree(EXAMPLE / "terraform", root)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for old, new in (edits or {}).items():
        path = root / BP
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    return verify(load_spec(spec_path), read_tree(root, spec_path=spec_path))


def refused(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.refusals if d.code == code]


def where(diagnostic: Diagnostic) -> str:
    return str(diagnostic.span)


POLICY_HEAD = 'resource "aws_s3_bucket_policy" "reports" {\n'


# -- the reports -----------------------------------------------------------------------------


@pytest.mark.parametrize("meta", ["count = 0", "for_each = {}", "for_each = toset([])"])
def test_no_instances_of_the_bucket_policy_is_refused(tmp_path: Path, meta: str) -> None:
    report = verify_with(tmp_path, {}, edits={POLICY_HEAD: f"{POLICY_HEAD}  {meta}\n"})
    assert report.exit_code == 2
    [problem] = refused(report, "XF413")
    assert problem.message.startswith(f"{DATA}/aws_s3_bucket_policy.reports.{meta.split()[0]}:")
    assert where(problem) == f"{BP}:6:3"


ALLOW_ALL_JSON = """{
  "resource": {
    "aws_s3_bucket_policy": {
      "everyone": {
        "bucket": "chibayuki-test",
        "policy": "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[{\\"Effect\\":\\"Allow\\",\\"Principal\\":\\"*\\",\\"Action\\":\\"s3:*\\",\\"Resource\\":\\"*\\"}]}"
      }
    }
  }
}
"""


def test_a_second_bucket_policy_in_tf_json_is_read_and_refused(tmp_path: Path) -> None:
    report = verify_with(tmp_path, {f"{DATA}/extra.tf.json": ALLOW_ALL_JSON})
    assert report.exit_code == 2
    [string_policy] = refused(report, "XF402")
    assert where(string_policy) == f"{DATA}/extra.tf.json:6:9"
    [second] = refused(report, "XF405")
    assert "aws_s3_bucket_policy.everyone" in second.message
    assert where(second) == f"{DATA}/extra.tf.json:4:7"


HIDDEN_ACL = (
    'resource "aws_s3_bucket_acl" "open" {\n  bucket = "chibayuki-test"\n  acl = "public-read"\n}\n'
)


@pytest.mark.parametrize(
    "source", ["./.acl", "git::https://example.com/acl.git", "registry.example/acl/aws"]
)
def test_a_module_block_is_refused_whatever_its_source(tmp_path: Path, source: str) -> None:
    files = {
        f"{DATA}/.acl/main.tf": HIDDEN_ACL,
        f"{DATA}/acl.tf": f'module "acl" {{\n  source = "{source}"\n}}\n',
    }
    exceptions = f"exceptions:\n  - {{address: {DATA}/module.acl, reason: reviewed}}\n"
    report = verify_with(tmp_path, files, exceptions)
    assert report.exit_code == 2
    [module] = refused(report, "XF412")
    assert module.message.startswith(f"{DATA}/module.acl: ")
    assert where(module) == f"{DATA}/acl.tf:1:1"
    [exception] = refused(report, "XF420")  # an exception cannot accept a module
    assert exception.span is not None and exception.span.file.endswith("spec.yaml")
    # The hidden folder is a module directory of its own, and read.
    [acl] = refused(report, "XF411")
    assert acl.message.startswith(f"{DATA}/.acl/aws_s3_bucket_acl.open: a bucket ACL")


ACL_EDITS = {
    "object ACL": 'resource "aws_s3_object" "o" {\n  bucket = "chibayuki-test"\n  key = "k"\n'
    '  acl = "public-read"\n}\n',
    "bucket ACL argument": 'resource "aws_s3_bucket" "b" {\n  bucket = "chibayuki-test"\n'
    '  acl = "public-read-write"\n}\n',
    "ownership controls": 'resource "aws_s3_bucket_ownership_controls" "c" {\n'
    '  bucket = "chibayuki-test"\n  rule {\n    object_ownership = "ObjectWriter"\n  }\n}\n',
    "public access block": 'resource "aws_s3_bucket_public_access_block" "p" {\n'
    '  bucket = "chibayuki-test"\n  block_public_policy = false\n}\n',
    "access point": 'resource "aws_s3_access_point" "a" {\n  bucket = "chibayuki-test"\n'
    '  name = "a"\n}\n',
    "bucket grant": 'resource "aws_s3_bucket" "b" {\n  bucket = "chibayuki-test"\n'
    '  grant {\n    permission = "READ"\n  }\n}\n',
    "inline bucket policy": 'resource "aws_s3_bucket" "b" {\n  bucket = "chibayuki-test"\n'
    '  policy = "{}"\n}\n',
    "interface endpoint": 'resource "aws_vpc_endpoint" "i" {\n  vpc_id = "vpc-0a1b2c3d4e5f60718"\n'
    '  service_name = "com.amazonaws.ap-northeast-1.s3"\n  vpc_endpoint_type = "Interface"\n}\n',
    "access point endpoint": 'resource "aws_vpc_endpoint" "g" {\n  vpc_id = "vpc-0a1b2c3d4e5f60718"\n'
    '  service_name = "com.amazonaws.s3-global.accesspoint"\n}\n',
    "route": 'resource "aws_route" "r" {\n  route_table_id = "rtb-0a1b2c3d4e5f60718"\n'
    '  destination_cidr_block = "0.0.0.0/0"\n  nat_gateway_id = "nat-0123"\n}\n',
    "route table association": 'resource "aws_route_table_association" "a" {\n'
    '  subnet_id = "subnet-1"\n  route_table_id = "rtb-0ffffffffffffffff"\n}\n',
    "future S3 control resource": 'resource "aws_s3control_something_new" "x" {\n}\n',
    "provisioner": 'resource "terraform_data" "run" {\n  provisioner "local-exec" {\n'
    '    command = "aws s3api put-bucket-acl --bucket chibayuki-test --acl public-read"\n  }\n}\n',
    "external data source": 'data "external" "x" {\n  program = ["sh", "-c", "echo {}"]\n}\n',
    "removed without destroying": "removed {\n  from = aws_vpc_endpoint.old\n"
    "  lifecycle {\n    destroy = false\n  }\n}\n",
    "another aws provider": "terraform {\n  required_providers {\n    aws = {\n"
    '      source = "someone/aws"\n    }\n  }\n}\n',
}


@pytest.mark.parametrize("name", ACL_EDITS)
def test_what_changes_s3_access_is_refused_even_with_an_exception(
    tmp_path: Path, name: str
) -> None:
    text = ACL_EDITS[name]
    [block] = read_text(text, "x.tf").blocks
    address = f"{DATA}/{block_address(block)}"
    exceptions = f"exceptions:\n  - {{address: '{address}', reason: reviewed}}\n"
    report = verify_with(tmp_path, {f"{DATA}/extra.tf": text}, exceptions)
    assert report.exit_code == 2
    [problem] = refused(report, "XF411")
    assert problem.message.startswith(f"{address}: ")
    assert where(problem) == f"{DATA}/extra.tf:1:1"
    [exception] = refused(report, "XF420")
    assert address in exception.message and f"{DATA}/extra.tf:1:1" in exception.message


def test_the_report_no_longer_rests_on_acls_being_unseen(tmp_path: Path) -> None:
    report = verify_with(tmp_path, {f"{DATA}/acl.tf": ACL_EDITS["ownership controls"]})
    assert report.exit_code == 2
    assert "ObjectWriter" not in str(report.refusals)  # refused by type, whatever its value


# -- perimeter resources: meta-arguments and arguments ---------------------------------------


PERIMETER_EDITS = {  # what is added, what the refusal says, where (line:column)
    "provider alias": ("  provider = aws.other\n", "aws_s3_bucket_policy.reports.provider", "6:3"),
    "dynamic block": (
        '  dynamic "x" {\n    for_each = []\n    content {}\n  }\n',
        "a dynamic block",
        "6:3",
    ),
    "ignore_changes": (
        "  lifecycle {\n    ignore_changes = [policy]\n  }\n",
        "lifecycle ignore_changes",
        "7:5",
    ),
    "unknown argument": ('  region = "us-east-1"\n', "the argument(s) region", "6:3"),
    "unknown nested block": ("  extra {\n  }\n", "extra blocks", "6:3"),
}


@pytest.mark.parametrize("name", PERIMETER_EDITS)
def test_perimeter_resources_carry_only_what_verify_models(tmp_path: Path, name: str) -> None:
    added, needle, position = PERIMETER_EDITS[name]
    report = verify_with(tmp_path, {}, edits={POLICY_HEAD: POLICY_HEAD + added})
    assert report.exit_code == 2
    [problem] = refused(report, "XF413")
    assert needle in problem.message, problem.message
    assert where(problem) == f"{BP}:{position}"


HARMLESS_META = {
    "depends_on": "  depends_on = [aws_s3_bucket_policy.other]\n",
    "lifecycle": "  lifecycle {\n    prevent_destroy = true\n    create_before_destroy = true\n"
    "    ignore_changes = [tags]\n    precondition {\n      condition = true\n"
    '      error_message = "x"\n    }\n  }\n',
    "timeouts": '  timeouts {\n    create = "1m"\n  }\n',
}


@pytest.mark.parametrize("name", HARMLESS_META)
def test_what_cannot_change_the_deployment_passes(tmp_path: Path, name: str) -> None:
    report = verify_with(tmp_path, {}, edits={POLICY_HEAD: POLICY_HEAD + HARMLESS_META[name]})
    assert report.exit_code == 0, report.refusals


HARMLESS_BLOCKS = (
    'variable "x" {\n  type = string\n  default = "a"\n}\n'
    'locals {\n  y = "b"\n}\n'
    'output "z" {\n  value = local.y\n}\n'
    "moved {\n  from = aws_s3_bucket_policy.old\n  to = aws_s3_bucket_policy.reports\n}\n"
    'check "c" {\n  assert {\n    condition = true\n    error_message = "x"\n  }\n}\n'
    'terraform {\n  required_version = ">= 1.5"\n  required_providers {\n'
    '    aws = {\n      source = "registry.terraform.io/hashicorp/aws"\n    }\n'
    '    random = {\n      source = "hashicorp/random"\n    }\n  }\n}\n'
)


def test_blocks_that_deploy_nothing_pass(tmp_path: Path) -> None:
    report = verify_with(tmp_path, {f"{DATA}/misc.tf": HARMLESS_BLOCKS})
    assert report.exit_code == 0, report.refusals


# -- unmodelled blocks and declared exceptions -----------------------------------------------


UNMODELLED = (
    'resource "aws_s3_object" "readme" {\n  bucket = "chibayuki-test"\n  key = "README"\n'
    '  content = "hello"\n  acl = "private"\n}\n'
    'data "aws_caller_identity" "me" {\n}\n'
    'provider "aws" {\n  alias = "west"\n  region = "us-west-2"\n}\n'
    'resource "aws_vpc_endpoint" "ssm" {\n  vpc_id = "vpc-0a1b2c3d4e5f60718"\n'
    '  service_name = "com.amazonaws.ap-northeast-1.ssm"\n  vpc_endpoint_type = "Interface"\n}\n'
    'import {\n  to = aws_s3_object.readme\n  id = "chibayuki-test/README"\n}\n'
)
UNMODELLED_ADDRESSES = [
    f"{DATA}/aws_s3_object.readme",
    f"{DATA}/data.aws_caller_identity.me",
    f"{DATA}/provider.aws.west",
    f"{DATA}/aws_vpc_endpoint.ssm",
    f"{DATA}/import.aws_s3_object.readme",
]


def test_unmodelled_blocks_are_refused_by_name(tmp_path: Path) -> None:
    report = verify_with(tmp_path, {f"{DATA}/misc.tf": UNMODELLED})
    assert report.exit_code == 2
    problems = refused(report, "XF410")
    assert [p.message.split(":")[0] for p in problems] == UNMODELLED_ADDRESSES
    assert [where(p) for p in problems] == [
        f"{DATA}/misc.tf:{line}:1" for line in (1, 7, 9, 13, 18)
    ]


def test_declared_exceptions_accept_them_and_the_report_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exceptions = "exceptions:\n" + "".join(
        f"  - {{address: '{a}', reason: 'reviewed in PR 12: {a.rsplit('/')[-1]}'}}\n"
        for a in UNMODELLED_ADDRESSES
    )
    report = verify_with(tmp_path, {f"{DATA}/misc.tf": UNMODELLED}, exceptions)
    assert report.exit_code == 0, report.refusals
    listed = [str(e) for e in report.exceptions if "accepted by the spec" in str(e)]
    assert len(listed) == len(UNMODELLED_ADDRESSES)
    assert listed[0].startswith(f"{DATA}/aws_s3_object.readme ({DATA}/misc.tf:1:1) ")
    assert listed[0].endswith("reviewed in PR 12: aws_s3_object.readme")
    code = main(["verify", str(tmp_path / "spec.yaml"), "--tf", str(tmp_path / "terraform")])
    out = capsys.readouterr().out
    assert code == 0
    assert "declared exceptions:" in out and "accepted by the spec: reviewed in PR 12" in out


def test_a_stale_exception_is_refused_at_its_line_in_the_spec(tmp_path: Path) -> None:
    exceptions = (
        "exceptions:\n"
        f"  - {{address: {DATA}/aws_s3_object.gone, reason: was here}}\n"
        f"  - {{address: {DATA}/output.anything, reason: needs none}}\n"
    )
    report = verify_with(tmp_path, {f"{DATA}/out.tf": 'output "anything" {\n  value = 1\n}\n'},
                         exceptions)  # fmt: skip
    assert report.exit_code == 2
    stale, needless = refused(report, "XF419")
    lines = (EXAMPLE / "spec.yaml").read_text(encoding="utf-8").count("\n")
    assert stale.span is not None and stale.span.line == lines + 2
    assert "names no block" in stale.message
    assert needless.span is not None and needless.span.line == lines + 3
    assert "needs no exception" in needless.message


def test_an_exception_cannot_accept_a_perimeter_resource(tmp_path: Path) -> None:
    exceptions = f"exceptions:\n  - {{address: {DATA}/aws_s3_bucket_policy.reports, reason: x}}\n"
    report = verify_with(tmp_path, {}, exceptions)
    assert report.exit_code == 2
    [problem] = refused(report, "XF420")
    assert "perimeter resource" in problem.message


# -- the closed world on its own -------------------------------------------------------------


def tree(*files: tuple[str, str]) -> TfTree:
    return TfTree(tuple(read_text(text, path) for path, text in files), ())


def test_addresses_name_module_directory_and_block() -> None:
    text = (
        'resource "a_b" "c" {\n}\ndata "d" "e" {\n}\nmodule "m" {\n}\nvariable "v" {\n}\n'
        'output "o" {\n}\nprovider "p" {\n}\ncheck "k" {\n}\nlocals {\n}\nterraform {\n}\n'
        "removed {\n  from = a_b.old\n}\n"
    )
    blocks = read_text(text, "t.tf").blocks
    assert [block_address(b) for b in blocks] == [
        "a_b.c",
        "data.d.e",
        "module.m",
        "var.v",
        "output.o",
        "provider.p",
        "check.k",
        "locals",
        "terraform",
        "removed.a_b.old",
    ]


def test_refusals_are_bounded_and_summed_up() -> None:
    text = "".join(f'resource "x_y" "r{i}" {{\n}}\n' for i in range(MAX_REFUSALS + 50))
    world = close(tree(("m/many.tf", text)))
    assert len(world.refusals) == MAX_REFUSALS + 1
    assert world.refusals[-1].message == "and 50 more blocks refused (XF410), not listed"
    assert world.refusals[-1].span == Span("m/many.tf", 2 * MAX_REFUSALS + 1, 1)


def test_exceptions_match_whole_addresses_only() -> None:
    text = 'data "aws_region" "here" {\n}\n'
    near = DeclaredException("m/data.aws_region.her", "typo", Span("s.yaml", 3, 5))
    world = close(tree(("m/a.tf", text)), [near])
    assert [d.code for d in world.refusals] == ["XF410", "XF419"]
    exact = DeclaredException("m/data.aws_region.here", "ok", Span("s.yaml", 3, 5))
    world = close(tree(("m/a.tf", text)), [exact])
    assert world.refusals == ()
    assert [(e.address, e.reason, str(e.span)) for e in world.excepted] == [
        ("m/data.aws_region.here", "ok", "m/a.tf:1:1")
    ]


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("data-eu-west-1/aws_s3_object.readme", True),
        ("aws_s3_object.readme", True),
        ("a/b/.hidden/data.aws_region.here", True),
        ("data-eu-west-1/terraform", True),
        ("data-eu-west-1/../aws_s3_object.x", False),
        ("./aws_s3_object.x", False),
        ("/abs/aws_s3_object.x", False),
        ("data-eu-west-1/aws_s3_object.x[0]", False),
        ("data-eu-west-1/aws_s3_object.${x}", False),
    ],
)
def test_exception_addresses_are_checked_by_the_schema(
    tmp_path: Path, address: str, valid: bool
) -> None:
    from xflow_perimeter.diagnostics import XflowError

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        (EXAMPLE / "spec.yaml").read_text(encoding="utf-8")
        + f"exceptions:\n  - {{address: '{address}', reason: reviewed}}\n",
        encoding="utf-8",
    )
    if valid:
        assert load_spec(spec).exceptions == (DeclaredException(address, "reviewed"),)
        return
    with pytest.raises(XflowError) as caught:
        load_spec(spec)
    assert [d.code for d in caught.value.diagnostics] == ["XF104"]


@pytest.mark.parametrize(
    ("providers", "verdict"),
    [
        ('aws = "~> 5.0"', 0),
        ('aws = {\n      version = ">= 5.0"\n    }', 0),
        ('aws = {\n      source = "HashiCorp/AWS"\n    }', 0),
        ("aws = var.providers", 2),
        ("aws = {\n      source = var.source\n    }", 2),
        ('aws = {\n      source = "registry.example.com/hashicorp/aws"\n    }', 2),
    ],
)
def test_the_aws_provider_must_be_hashicorps(tmp_path: Path, providers: str, verdict: int) -> None:
    text = f"terraform {{\n  required_providers {{\n    {providers}\n  }}\n}}\n"
    report = verify_with(tmp_path, {f"{DATA}/providers.tf": text})
    assert report.exit_code == verdict, report.refusals
    if verdict:
        [problem] = refused(report, "XF411")
        assert "not hashicorp/aws" in problem.message


def test_json_and_override_files_meet_the_same_rules(tmp_path: Path) -> None:
    files = {
        f"{DATA}/count.tf.json": (
            '{"resource": {"aws_s3_bucket_policy": {"reports": {"count": 0}}}}'
        ),
        f"{DATA}/policy_override.tf": (
            'resource "aws_s3_bucket_policy" "reports" {\n'
            '  provisioner "local-exec" {\n    command = "true"\n  }\n}\n'
        ),
    }
    report = verify_with(tmp_path, files)
    assert report.exit_code == 2
    assert [where(d) for d in refused(report, "XF415")] == [f"{DATA}/count.tf.json:1:40"]
    [provisioner] = refused(report, "XF411")
    assert "provisioner" in provisioner.message
