"""Diagnostics: source spans, the catalogue of stable codes, exit codes and the exception that
carries them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

EXIT_OK = 0
EXIT_FINDINGS = 1  # drift under --check, or the Terraform's exposure differs from the spec
EXIT_INVALID = 2  # invalid spec, invalid Terraform, refused construct, or bad usage
EXIT_INTERNAL = 3  # a bug in xflow (including a failed self-check of compile's own output)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class DiagnosticCode:
    """One entry of the catalogue: a stable code, its usual severity, a title and an explanation.

    ``title`` says in a few words what went wrong; ``explanation`` what it means and what to do.
    Both are documentation: tests and users match on the code, never on the wording.
    """

    code: str
    severity: Severity
    title: str
    explanation: str


_E, _W = Severity.ERROR, Severity.WARNING

# Every code xflow reports, in code order. The README's "Diagnostic codes" table is generated from
# these (markdown_table; tests/test_diagnostics.py checks the README). Never reuse a retired code.
_ENTRIES = (
    # Reading the spec (XF0xx)
    DiagnosticCode(
        "XF001",
        _E,
        "the spec file cannot be read",
        "The file is missing, is a directory, cannot be opened, or is not UTF-8 text (then the "
        "position is that of the first byte that does not decode). Check the path; save the file "
        "as UTF-8.",
    ),
    DiagnosticCode(
        "XF002",
        _E,
        "YAML syntax error",
        "The spec is not well-formed YAML, or holds a character YAML does not allow. It is "
        "reported alone: nothing after a syntax error can be trusted. Fix the YAML at the "
        "position shown.",
    ),
    DiagnosticCode(
        "XF003",
        _E,
        "duplicate mapping key",
        "A mapping names the same key twice. YAML loaders silently keep one of the two values, so "
        "xflow refuses rather than guess which was meant. Remove or rename one; the message names "
        "the line of the first.",
    ),
    DiagnosticCode(
        "XF004",
        _E,
        "mapping key is not a plain string",
        "A key is a list or a mapping, or an unquoted word YAML reads as a number, boolean or null "
        "(`123`, `on`, `no`, `~`). Quote the key.",
    ),
    DiagnosticCode(
        "XF005",
        _E,
        "YAML construct not allowed in a spec (tag, merge key, alias bomb, deep nesting)",
        "A spec is plain data. Explicit tags (other than `!!str` on a string), merge keys "
        '(`<<`), aliases that contain themselves or expand to too many values (a "billion '
        'laughs" document) and nesting too many levels deep are refused before anything reads '
        "the document. Write the values out.",
    ),
    # Schema (XF1xx)
    DiagnosticCode(
        "XF101",
        _E,
        "required field missing",
        "An entry lacks a field the schema requires (a bucket without `region`, a flow without "
        "`access`). Add it; the message names the field.",
    ),
    DiagnosticCode(
        "XF102",
        _E,
        "unknown field",
        "A key the schema does not define, usually a typo; the message suggests the closest "
        "known field. Unknown fields are errors so that a misspelt restriction is never silently "
        "ignored.",
    ),
    DiagnosticCode(
        "XF103",
        _E,
        "wrong type (with a hint when YAML read an unquoted value as a number, boolean or null)",
        "A value has the wrong type. When YAML read an unquoted value as something other than a "
        "string (an account id with a leading zero as a number, `no` as a boolean), the message "
        "says so: quote the value.",
    ),
    DiagnosticCode(
        "XF104",
        _E,
        "value does not match the allowed pattern or values",
        "A name, id, ARN, prefix or keyword is outside what the schema allows. The patterns are "
        "strict so that no spec value can change the structure of the generated Terraform (no "
        "`${`, `%{`, quotes, backslashes or control characters). The message shows what is "
        "expected.",
    ),
    DiagnosticCode(
        "XF105",
        _E,
        "other schema violation",
        "Any other schema rule, such as an empty list where at least one item is needed or a "
        "list that repeats an item. The message states the rule.",
    ),
    # Semantics (XF2xx)
    DiagnosticCode(
        "XF201",
        _E,
        "unknown reference (account, network, bucket, principal, service)",
        "A network, bucket, flow, assertion or admin names an account alias, network, bucket, "
        "principal or service the spec does not declare. Declare it or fix the name; the message "
        "suggests the closest declared name (or the spec name of a bucket or network named by its "
        "S3 name or VPC id), else lists the known names.",
    ),
    DiagnosticCode(
        "XF202",
        _E,
        "duplicate name or value",
        "Two entries that must differ do not: two bucket entries for one S3 bucket, two "
        "principals with one ARN, or two names that give the same Terraform resource name (names "
        "are lower-cased and other characters become `_`). Declare each thing once, or rename "
        "one.",
    ),
    DiagnosticCode(
        "XF203",
        _E,
        "invalid S3 bucket name",
        "The name breaks S3's rules for general-purpose buckets: 3 to 63 lower-case letters, "
        "digits, `.` and `-`, starting and ending with a letter or digit, not an IP address, no "
        "reserved prefix or suffix. The message names the rule.",
    ),
    DiagnosticCode(
        "XF205",
        _E,
        "unknown AWS Region",
        "The Region is not in xflow's list of AWS Regions. Check the spelling (`ap-northeast-1`).",
    ),
    DiagnosticCode(
        "XF206",
        _E,
        "route table claimed by two networks",
        "A route table can be associated with one S3 gateway endpoint only, so it belongs to one "
        "network. Remove it from the other.",
    ),
    DiagnosticCode(
        "XF207",
        _E,
        "VPC or endpoint claimed by two networks",
        "Bucket policies tell networks apart by VPC id (`aws:SourceVpc`) or endpoint id "
        "(`aws:SourceVpce`), so two networks cannot share either. Merge the two networks or fix "
        "the id.",
    ),
    DiagnosticCode(
        "XF208",
        _E,
        "unknown S3 action, or one that cannot be scoped to a bucket",
        "An `access` item is neither a level (read, write, list, delete) nor an action in xflow's "
        "catalogue of S3 actions (the message suggests the closest one), or it is an action that "
        "acts on no bucket or object (such as `s3:ListAllMyBuckets`), which bucket and endpoint "
        "policies cannot scope: grant those with an identity policy.",
    ),
    DiagnosticCode(
        "XF209",
        _E,
        "invalid key prefix (leading `/`, `//`, or a listing prefix under 6 characters)",
        "A flow's `prefix` starts with `/` or holds `//` (S3 keys rarely do: write the prefix as "
        "keys are stored, `exports/`), or a flow that lists has a prefix shorter than 6 "
        "characters (AWS rejects endpoint policies whose wildcards have fewer than 6 literal "
        "characters beside them). Service flows follow the same rules as principal flows. Use a "
        "longer prefix, or drop listing from the flow.",
    ),
    DiagnosticCode(
        "XF210",
        _E,
        "flow crosses Regions",
        "The bucket is in another Region than the flow's network. A gateway endpoint serves only "
        "buckets in its own Region, so this traffic would leave through the NAT or internet "
        "gateway, past the endpoint policy. Use a network in the bucket's Region.",
    ),
    DiagnosticCode(
        "XF211",
        _E,
        "duplicate flow",
        "Two flows have the same principal and network (or the same service), bucket, prefix and "
        "actions. Remove one; the message names the first.",
    ),
    DiagnosticCode(
        "XF212",
        _E,
        "invalid assertion",
        "An assertion names an S3 action that is not in xflow's catalogue. Use an exact action "
        "such as `s3:GetObject`.",
    ),
    DiagnosticCode(
        "XF213",
        _E,
        "a flow names neither a principal and a network, nor a service (or both)",
        "A flow is either a principal with a network, or a service (which reaches S3 from AWS's "
        "own network, not through a VPC). Give exactly one of the two forms; the message names the "
        "fields to add or remove. The JSON Schema states the rule too, so editors flag it.",
    ),
    DiagnosticCode(
        "XF214",
        _W,
        "a network's egress (NAT or internet gateway) bypasses the endpoint policy and the spec "
        "does not accept it",
        "A network declares `egress: nat` or `internet` without `bypass_accepted`: through that "
        "egress any credentials reach any bucket in other Regions without the endpoint policy, "
        "so `xflow verify` will report XF508. Compile warns so that this shows before CI; "
        "restrict the egress, or say why it is acceptable in `bypass_accepted`.",
    ),
    DiagnosticCode(
        "XF215",
        _E,
        "`bypass_accepted` on a network whose egress cannot bypass the endpoint",
        "`bypass_accepted` accepts the bypass of a NAT or internet gateway, so it belongs only "
        "to a network with `egress: nat` or `internet`. With `egress: none` (or no egress "
        "declared) there is nothing to accept: remove it, or declare the egress the network "
        "really has.",
    ),
    DiagnosticCode(
        "XF216",
        _E,
        "an assertion gives a spec bucket another Region than the spec's",
        "An assertion's bucket mapping `{name, account, region}` names a bucket the spec declares, "
        "with a different Region. The Region decides the request's path (the endpoint serves its "
        "own Region only), so the two cannot both hold: drop `region`, or name the bucket by its "
        "spec name.",
    ),
    DiagnosticCode(
        "XF220",
        _W,
        "a bucket has no admin in its own account; only its root user could still manage its "
        "policy",
        "Bucket policies deny everything outside the flows to everyone but the `admins` of the "
        "bucket's own account. Without one, only that account's root user could still read or "
        "replace the policy. Add a role of that account to `admins`.",
    ),
    DiagnosticCode(
        "XF230",
        _E,
        "declared exception names a Terraform address twice",
        "Each entry of the spec's `exceptions` names one Terraform block; the same address twice "
        "is ambiguous (which reason holds?). Keep one entry per address.",
    ),
    DiagnosticCode(
        "XF250",
        _E,
        "an auditor is also an admin or a flow's principal",
        "Bucket policies confine each of the spec's `auditors` to reading bucket configuration "
        "(a Deny of every other action), which would take away an admin's break-glass access or "
        "a flow. Give auditing a role of its own and list that one under `auditors`.",
    ),
    # Compile (XF3xx)
    DiagnosticCode(
        "XF301",
        _E,
        "policy over AWS's size limit even after compaction (merging statements that differ "
        "only in resources)",
        "An endpoint policy (20,480 characters) or bucket policy (20 KB) is still over AWS's "
        "limit after compaction; xflow never truncates or widens a policy instead. The notes name "
        "the largest statements. Give principals with the same flows the same access and "
        "prefixes, use fewer distinct prefixes per bucket, or split the flows over more networks.",
    ),
    DiagnosticCode(
        "XF302",
        _E,
        "output directory problem: a file xflow did not generate in the way, a module directory "
        "of another spec, a symbolic link, or an operating-system error",
        "compile cannot write its output: a file xflow did not generate stands where it would "
        "write (xflow never overwrites those), a module directory belongs to another spec (its "
        "`xflow-module.json` names that spec; both are named), a symbolic link stands below the "
        "output root (xflow never writes through one), a file stands where a directory is needed, "
        "or the operating system refused (permission denied, read-only or full file system); or "
        "verify's Terraform directory does not exist. Move the file, fix the path or the "
        "permissions. A failed compile leaves the previous output as it was.",
    ),
    DiagnosticCode(
        "XF303",
        _E,
        "compile's self-check failed (a bug in xflow)",
        "compile reads back and verifies what it generated before writing it; the output did not "
        "match the spec, so nothing was written (exit 3). This is a bug in xflow: please report "
        "it with the spec. `compile --fast` skips the check.",
    ),
    DiagnosticCode(
        "XF304",
        _E,
        "an interrupted (or still running) compile left the output journalled, maybe half replaced",
        "compile replaces its files under a journal (`.xflow-journal.json` in the output root), "
        "so a compile killed part-way leaves either the old tree, the new tree, or this journal. "
        "While it is there, `--check` and verify refuse the tree. Run compile again: it finishes "
        "or rolls back the interrupted replace (note XF306).",
    ),
    DiagnosticCode(
        "XF305",
        Severity.NOTE,
        "generated files without an `xflow-module.json` (from an older release), adopted or left "
        "alone",
        "Releases before ownership manifests marked generated files by their header only. Such "
        "files where this spec's modules go, naming this spec, are adopted (their manifest is "
        "written); anywhere else they are left alone, as another spec's or a person's.",
    ),
    DiagnosticCode(
        "XF306",
        Severity.NOTE,
        "compile finished or rolled back an interrupted compile, or removed its temporary files",
        "A previous compile was killed while replacing files; this compile, holding the output "
        "root's lock, completed its journalled replace (or undid it if it had not committed) and "
        "removed temporary files it left.",
    ),
    # Reading Terraform (XF4xx)
    DiagnosticCode(
        "XF401",
        _E,
        "Terraform file cannot be parsed",
        "A `.tf` or `.tf.json` file is not UTF-8, has a syntax error, or holds something Terraform "
        "itself rejects (an attribute defined twice, a newline in a quoted string, an invalid "
        "escape). Fix the file at the position shown.",
    ),
    DiagnosticCode(
        "XF402",
        _E,
        "policy is not a literal `jsonencode({...})` object",
        "The verifier reads policies written as `jsonencode({...})` of literal values, as compile "
        "writes them. Heredocs, templates, `file()` and other functions are refused rather than "
        "guessed at. Regenerate with `xflow compile`.",
    ),
    DiagnosticCode(
        "XF403",
        _E,
        "unresolved reference or variable, or a missing value",
        "A value the verifier must know (a policy, a bucket name, an endpoint id, route table "
        "ids) is missing, or is a reference or variable that Terraform resolves only at plan "
        "time. Write the literal value, as compile does.",
    ),
    DiagnosticCode(
        "XF404",
        _E,
        "construct the verifier does not model",
        "What the verifier cannot evaluate exactly it refuses, never passes: `NotPrincipal`, "
        "unknown condition operators or keys, policy variables. (Blocks that change S3 access "
        "beside the bucket policy are XF411.) Remove the construct or express it in the spec.",
    ),
    DiagnosticCode(
        "XF405",
        _E,
        "second policy for one bucket or endpoint",
        "S3 keeps one policy per bucket and an endpoint has one policy, so two resources that set "
        "it overwrite each other on every apply (an inline `policy` on `aws_s3_bucket` is refused "
        "as XF411); so do two S3 gateway endpoints for one network. Keep one.",
    ),
    DiagnosticCode(
        "XF406",
        _E,
        "malformed policy document",
        "The policy is not a valid IAM policy document: a missing or misspelt element, a value of "
        "the wrong type, a key given twice. Fix it, or regenerate with `xflow compile`.",
    ),
    DiagnosticCode(
        "XF410",
        _E,
        "block xflow does not model; a reviewed exception in the spec can accept it",
        "Verify proves the perimeter resources it models and refuses every other block rather than "
        "pass it unseen: other resources and data sources, `provider` and `import` blocks, "
        "`terraform` settings beyond versions, providers, backend and cloud. Remove the block, or "
        "review it and declare it in the spec's `exceptions` with the reason it is safe; verify "
        "then lists it in its report.",
    ),
    DiagnosticCode(
        "XF411",
        _E,
        "block that changes S3 access beside the proved policies; no exception accepts it",
        "ACLs (`aws_s3_bucket_acl`, `acl` or `grant` on buckets and objects), ownership controls, "
        "public access blocks, access points and other `aws_s3control_*` resources, replication, "
        "website and acceleration settings, an inline bucket `policy`, other S3 endpoints, routes, "
        'route tables, gateways, VPCs, subnets and DNS, provisioners, `data "external"`, '
        "`removed` blocks that leave such a resource deployed, and an `aws` provider from another "
        "source than hashicorp/aws all change who reaches S3 data, or by which path, outside the "
        "policies verify proves. Remove it or manage it outside the Terraform root xflow verifies.",
    ),
    DiagnosticCode(
        "XF412",
        _E,
        "`module` block",
        "A module deploys what its source holds, which verify does not read (local, hidden or "
        "remote). Put what it deploys in the module directory as resources, or remove it. No "
        "exception accepts it.",
    ),
    DiagnosticCode(
        "XF413",
        _E,
        "meta-argument, argument or nested block on a perimeter resource that verify does not "
        "model",
        "`count` and `for_each` (Terraform may deploy the resource any number of times, none "
        "included), `provider` (another account, Region or API endpoint), `dynamic` blocks, "
        "`lifecycle { ignore_changes }` other than for tags (Terraform keeps whatever is "
        "deployed), and arguments or nested blocks verify does not read change what is deployed "
        "beyond what verify proves. `depends_on`, `timeouts` and the rest of `lifecycle` are fine. "
        "Remove it.",
    ),
    DiagnosticCode(
        "XF414",
        _E,
        "override file that cannot be merged",
        "Terraform merges a block of an override file (`override.tf`, `*_override.tf` and their "
        "`.tf.json` forms) into the block of the same header in the module's other files, and "
        "rejects one without such a block, `moved`, `import`, `removed` and `check` blocks, and "
        "`depends_on` in an override. Fix or remove the override.",
    ),
    DiagnosticCode(
        "XF415",
        _E,
        "block or local value defined twice in one module",
        "Two resources (data sources, modules, variables, outputs, providers, checks, local "
        "values) with the same address in one module directory: Terraform refuses the module. "
        "Remove or rename one; the message names the first.",
    ),
    DiagnosticCode(
        "XF416",
        _E,
        "Terraform file beyond the readers' limits",
        "A file nested more than 100 deep, with more than 1,000,000 tokens or 200,000 blocks, "
        "attributes and values, or more than 1,000,000 values inside `jsonencode`; or, outside the "
        "form xflow writes, more than python-hcl2 takes (1,250,000 characters, 120,000 tokens). "
        "The readers stop there to keep their time and memory bounded. Split the file, or write it "
        "the way `xflow compile` does.",
    ),
    DiagnosticCode(
        "XF417",
        _E,
        "policy larger than AWS accepts",
        "An endpoint policy over 20,480 characters, or a bucket policy over 20,480 bytes (as "
        "compact JSON, as compile measures them), or with more statements than fit in that size: "
        "AWS would reject it, so verify refuses it before evaluating it. Regenerate with `xflow "
        "compile`.",
    ),
    DiagnosticCode(
        "XF418",
        _E,
        "module manifest or folder that cannot be read",
        "A module directory's `xflow-module.json` is not one xflow writes; a symbolic link to a "
        "folder stands under the Terraform root (xflow does not follow it); or an OpenTofu "
        "`.tofu` file, which OpenTofu reads in place of the `.tf` file of its name, stands in a "
        "module directory. Fix or remove it.",
    ),
    DiagnosticCode(
        "XF419",
        _E,
        "declared exception that matches no refused block",
        "An exception's address names no block in the Terraform (addresses are the module "
        "directory under the Terraform root, then the block's address there), or a block that "
        "needs no exception. Correct the address or remove the exception, so that none outlives "
        "its block.",
    ),
    DiagnosticCode(
        "XF420",
        _E,
        "declared exception for a block that no exception can accept",
        "The exception names a perimeter resource, which verify proves itself, or a block refused "
        "whatever the spec says (XF411, XF412). Remove the exception.",
    ),
    # Verify findings (XF5xx)
    DiagnosticCode(
        "XF501",
        _E,
        "unintended access",
        "The Terraform allows a request the spec does not. The counterexample names the "
        "principal, network, bucket, action and key; the notes name the statements that allowed "
        "it. Regenerate with `xflow compile`, or add the flow to the spec if it is intended.",
    ),
    DiagnosticCode(
        "XF502",
        _E,
        "intended flow denied",
        "A flow in the spec would fail: the counterexample is a request the flow needs, the "
        "notes name the statements that denied it. Regenerate with `xflow compile`.",
    ),
    DiagnosticCode(
        "XF503",
        _E,
        "one layer is wider than its share of the spec (masked by the other layer)",
        "The endpoint policy or the bucket policy alone would decide a request differently from "
        "the spec; only the other layer makes the result right today, so one edit to it exposes "
        "the data. Regenerate with `xflow compile`.",
    ),
    DiagnosticCode(
        "XF504",
        _E,
        "route table not associated with its network's endpoint",
        "A route table the spec lists has no `aws_vpc_endpoint_route_table_association`: S3 "
        "traffic from its subnets does not pass the endpoint, so flows from there fail. With "
        "`egress: nat` or `internet` (or none declared) that traffic leaves through the gateway "
        "without the endpoint policy, so any credentials reach any bucket; with `egress: none` "
        "its subnets have no route to S3 at all. Add the association (compile writes one per "
        "route table).",
    ),
    DiagnosticCode(
        "XF505",
        _E,
        "missing endpoint or bucket policy for the spec",
        "The Terraform does not cover a bucket or network of the spec: a bucket without "
        "`aws_s3_bucket_policy`, a network without an S3 gateway endpoint, an existing endpoint "
        "without `aws_vpc_endpoint_policy` (it keeps AWS's default policy, which allows "
        "everything), or an endpoint in another Region than its network. Regenerate with "
        "`xflow compile`.",
    ),
    DiagnosticCode(
        "XF506",
        _E,
        "assertion failed",
        "An assertion of the spec expects allow (or deny) and the Terraform decides the other "
        "way; the notes name the deciding statements.",
    ),
    DiagnosticCode(
        "XF507",
        _E,
        "endpoint, association or bucket policy the spec does not declare",
        "The Terraform holds an S3 endpoint, a route table association or a bucket policy for a "
        "network, route table or bucket the spec does not declare. Declare it in the spec, or "
        "remove it from the Terraform.",
    ),
    DiagnosticCode(
        "XF508",
        _E,
        "a network's egress (NAT or internet gateway) bypasses the endpoint policy and the spec "
        "does not accept it",
        "A network declares `egress: nat` or `internet`. A gateway endpoint serves its own Region "
        "only, so through that egress any credentials reach any bucket in other Regions without "
        "the endpoint policy. Restrict the egress, or say why it is acceptable in "
        "`bypass_accepted` (the report lists it).",
    ),
    DiagnosticCode(
        "XF509",
        _E,
        "a same-account flow holds only if the caller's identity policy grants it",
        "In AWS a request in the bucket's own account is allowed by the caller's identity policy "
        "or by a bucket policy Allow that names the caller itself. The bucket policy does not "
        "grant this flow itself (narrowed by hand, or naming only the account, which delegates "
        "to the identity policy), so the flow works only where an identity policy happens to "
        "grant it. Regenerate with `xflow compile`.",
    ),
    # Audit of the deployed perimeter (XF601-XF629)
    DiagnosticCode(
        "XF601",
        _E,
        "a read failed, so what it would check is unchecked",
        "The audit could not read something it checks: access denied (the message names the "
        "IAM action the audit role lacks; `xflow audit --print-iam-policy` prints them all), "
        "throttled after botocore's standard retries (`AWS_MAX_ATTEMPTS`), an unreachable "
        "endpoint, or another error from AWS. What that read would have checked is not "
        "checked, so the audit does not pass.",
    ),
    DiagnosticCode(
        "XF602",
        _E,
        "an account cannot be reached",
        "The audit has no credentials for an account of the spec: none were found, AssumeRole "
        "of `arn:aws:iam::ACCOUNT:role/NAME` failed, or (without `--role-name`) the caller's "
        "credentials belong to another account. Nothing in that account is checked.",
    ),
    DiagnosticCode(
        "XF603",
        _E,
        "the audit needs boto3",
        "`xflow audit` reads AWS with boto3, an optional dependency: `pip install "
        "'xflow-perimeter[audit]'`.",
    ),
    DiagnosticCode(
        "XF610",
        _E,
        "deployed endpoint policy differs from the committed one",
        "The policy of a network's deployed S3 endpoint does not mean the same as the "
        "committed Terraform's, after normalising what AWS rewrites (whitespace, key order, "
        "statement order, one-item lists, account-id principals; Sids carry no meaning). The "
        "notes say what differs, statement by statement. Apply the Terraform, or find who "
        "edited the endpoint.",
    ),
    DiagnosticCode(
        "XF611",
        _E,
        "deployed bucket policy differs from the committed one",
        "A spec bucket's deployed policy is missing or does not mean the same as the "
        "committed Terraform's (compared as for XF610); the notes say what differs. Apply the "
        "Terraform, or find who edited the bucket policy.",
    ),
    DiagnosticCode(
        "XF612",
        _E,
        "route-table association missing from the deployment",
        "The committed Terraform associates a route table with its network's endpoint, but "
        "the deployed endpoint is not associated with it: S3 traffic from its subnets leaves "
        "without the endpoint policy.",
    ),
    DiagnosticCode(
        "XF613",
        _E,
        "deployed route-table association the committed Terraform does not have",
        "The deployed endpoint is associated with a route table that the committed Terraform "
        "does not associate with it. Declare the route table in the spec, or remove the "
        "association.",
    ),
    DiagnosticCode(
        "XF614",
        _E,
        "route table in a spec VPC that the spec does not list",
        "A route table of a spec network's VPC (the main route table included) is not listed "
        "in any network's `route_table_ids`: subnets that use it reach S3 without the "
        "endpoint policy. List it, or delete it.",
    ),
    DiagnosticCode(
        "XF615",
        _E,
        "route that contradicts the network's declared egress",
        "A listed route table has a default route (or a route to the S3 prefix list) through "
        "a NAT gateway, an internet gateway or another gateway that the network's `egress` "
        "does not declare (undeclared egress is taken as none). S3 requests that leave that "
        "way bypass the endpoint policy.",
    ),
    DiagnosticCode(
        "XF616",
        _E,
        "another VPC endpoint for S3 in a spec VPC",
        "A spec VPC holds an S3 endpoint besides its network's (gateway or interface, "
        "whatever its policy). Its own policy, not the one xflow manages, decides what "
        "traffic through it may reach, and requests through it satisfy bucket policies that "
        "name the network by `aws:SourceVpc`. Remove it, or bring it under the spec.",
    ),
    DiagnosticCode(
        "XF617",
        _E,
        "ACLs enabled",
        "A spec bucket's object ownership is not `BucketOwnerEnforced` (or it has no "
        "ownership controls at all), so ACLs can grant access that no policy shows. Set "
        "ObjectOwnership to BucketOwnerEnforced.",
    ),
    DiagnosticCode(
        "XF618",
        _E,
        "ACL grant beyond the bucket owner",
        "A spec bucket's ACL grants access to someone other than its owner (the notes list "
        "the grants).",
    ),
    DiagnosticCode(
        "XF619",
        _E,
        "public access not blocked",
        "Neither the spec bucket's nor its account's S3 public access block turns on all four "
        "settings (the message names those off).",
    ),
    DiagnosticCode(
        "XF620",
        _E,
        "access point on a spec bucket",
        "A spec bucket has an S3 access point: requests through it are also decided by the "
        "access point's own policy, which xflow neither writes nor proves.",
    ),
    DiagnosticCode(
        "XF621",
        _E,
        "spec bucket does not exist",
        "A bucket of the spec does not exist (GetBucketLocation answered NoSuchBucket).",
    ),
    DiagnosticCode(
        "XF622",
        _E,
        "spec bucket in another Region than the spec declares",
        "The bucket exists in another Region, so the gateway endpoints of the spec's Region "
        "do not serve it.",
    ),
    DiagnosticCode(
        "XF623",
        _E,
        "spec VPC, route table or endpoint does not exist",
        "A network's VPC, one of its route tables, its existing endpoint or the gateway "
        "endpoint the Terraform creates is not there.",
    ),
    DiagnosticCode(
        "XF624",
        _E,
        "the deployed perimeter cannot be proven",
        "The audit runs verify's exposure proof on what is deployed (its findings are XF501-XF508 "
        'marked "deployed"). A deployed policy it cannot parse, or a construct the proof refuses '
        "(the message names verify's code), leaves the deployed exposure unknown. Replace the "
        "deployed policy with the committed one (terraform apply).",
    ),
    # Reports for CI (XF7xx)
    DiagnosticCode(
        "XF701",
        _E,
        "generated file is stale, missing or no longer generated",
        "`compile --check` found a file of the output that differs from what the spec compiles "
        "to: the spec changed without `xflow compile`, or a generated file was edited or "
        "deleted. Run `xflow compile SPEC` and commit the result.",
    ),
    # Diff (XF8xx)
    DiagnosticCode(
        "XF801",
        _E,
        "diff cannot decide a request class",
        "A policy on one side of a diff uses a construct the evaluator does not model, so the "
        "two sides cannot be compared.",
    ),
    DiagnosticCode(
        "XF802",
        _E,
        "diff cannot read a revision",
        "The spec is not in a git repository, or git cannot produce the revision asked for.",
    ),
)

CATALOGUE: Mapping[str, DiagnosticCode] = MappingProxyType({c.code: c for c in _ENTRIES})
# Each code's title, for callers that need no more (derived from the catalogue).
CODES: Mapping[str, str] = MappingProxyType({c.code: c.title for c in _ENTRIES})


def markdown_table() -> str:
    """The README's table of diagnostic codes, generated from the catalogue."""
    lines = ["| code | severity | meaning | explanation |", "|---|---|---|---|"]
    for entry in CATALOGUE.values():
        cells = (entry.code, entry.severity.value, entry.title, entry.explanation)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem to report: its catalogue code, message, location, severity and notes."""

    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code}")

    def render(self) -> str:
        where = f"{self.span}: " if self.span else ""
        lines = [f"{where}{self.severity.value} {self.code}: {self.message}"]
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    span = diagnostic.span
    if span is None:
        return ("", 0, 0, diagnostic.code)
    return (span.file, span.line, span.column, diagnostic.code)


class XflowError(Exception):
    """Raised at a stage boundary with every diagnostic that stage found."""

    def __init__(
        self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...], exit_code: int = EXIT_INVALID
    ):
        self.diagnostics = tuple(sorted(diagnostics, key=sort_key))
        self.exit_code = exit_code
        super().__init__("\n".join(d.render() for d in self.diagnostics))
