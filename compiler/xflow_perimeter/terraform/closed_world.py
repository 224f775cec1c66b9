"""Verify's closed world: every block Terraform would read is one xflow models, or it is refused.

Each top-level block of the tree gets one verdict (see :mod:`~xflow_perimeter.terraform.catalogue`):

* a perimeter resource, which :mod:`~xflow_perimeter.terraform.perimeter` reads; meta-arguments,
  arguments and nested blocks that could change what Terraform deploys from it are refused (XF413);
* harmless: deploys nothing and cannot reach a perimeter resource (``output``, ``variable``,
  ``locals``, ``moved``, ``check``, and ``terraform`` with required versions and providers);
* unmodelled (XF410), unless the spec declares a reviewed exception for its address;
* changes S3 access another way than the proved policies (XF411), or a ``module`` (XF412): refused
  whatever the spec says, and an exception naming it is refused too (XF420).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.spec.model import DeclaredException
from xflow_perimeter.terraform import catalogue
from xflow_perimeter.terraform.records import Block, Literal, Opaque, Reference, TfTree

# Past this many refusals the rest are summed up in one: the first ones say what to fix.
MAX_REFUSALS = 1_000


class Verdict(enum.Enum):
    PERIMETER = "perimeter resource"
    HARMLESS = "harmless"
    UNMODELLED = "unmodelled"
    ACCESS = "changes S3 access"
    MODULE = "module"


@dataclass(frozen=True, slots=True)
class PerimeterBlock:
    """A perimeter resource and where it is: its module directory and full address."""

    module: str
    address: str  # "module/aws_s3_bucket_policy.reports"
    block: Block


@dataclass(frozen=True, slots=True)
class Excepted:
    """A block verify does not model, accepted by a declared exception."""

    address: str
    reason: str
    span: Span  # the block in the Terraform


@dataclass(frozen=True, slots=True)
class ClosedWorld:
    """Every block of a tree judged: perimeter resources, blocks exceptions accept, and refusals."""

    perimeter: tuple[PerimeterBlock, ...]
    excepted: tuple[Excepted, ...]
    refusals: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class _Judged:
    """One top-level block: its full address, its verdict and, when that may refuse it, why."""

    address: str
    block: Block
    verdict: Verdict
    why: str  # for UNMODELLED, ACCESS and MODULE


def block_address(block: Block) -> str:
    """The block's address in its module, as Terraform names it (``data.TYPE.NAME``, ``var.X``)."""
    kind, labels = block.block_type, block.labels
    if kind == "resource":
        return ".".join(labels)
    if kind == "variable":
        return ".".join(("var", *labels))
    if kind == "provider":
        found = block.attribute("alias")
        alias = found[0].value if found and isinstance(found[0], Literal) else None
        return ".".join(("provider", *labels, *([str(alias)] if alias is not None else [])))
    if kind in ("import", "moved", "removed"):
        target = block.attribute("to" if kind == "import" else "from")
        expression = target[0] if target else None
        named = expression.expression if isinstance(expression, Reference) else "?"
        return f"{kind}.{named}"
    return ".".join((kind, *labels))


def close(tree: TfTree, exceptions: Sequence[DeclaredException] = ()) -> ClosedWorld:
    """Judge every block of ``tree``; apply the spec's declared ``exceptions``."""
    judged: list[_Judged] = []
    refusals: list[Diagnostic] = []
    for tf_file in tree.files:
        module = tf_file.path.rpartition("/")[0]
        for block in tf_file.blocks:
            local = block_address(block)
            address = f"{module}/{local}" if module else local
            verdict, why = _judge(block)
            judged.append(_Judged(address, block, verdict, why))
            if verdict is Verdict.PERIMETER:
                refusals.extend(_perimeter_problems(address, block))
    by_address: dict[str, list[_Judged]] = {}
    for item in judged:
        by_address.setdefault(item.address, []).append(item)
    declared = {e.address: e for e in exceptions}
    excepted: list[Excepted] = []
    for item in judged:
        exception = declared.get(item.address)
        if item.verdict is Verdict.UNMODELLED and exception is not None:
            excepted.append(Excepted(item.address, exception.reason, item.block.span))
        elif item.verdict is Verdict.UNMODELLED:
            refusals.append(
                Diagnostic(
                    "XF410",
                    f"{item.address}: {item.why}, which xflow does not model; remove it, or review "
                    "it and declare it in the spec's exceptions with the reason it is safe",
                    item.block.span,
                )
            )
        elif item.verdict is Verdict.ACCESS:
            refusals.append(
                Diagnostic(
                    "XF411",
                    f"{item.address}: {item.why}; verify cannot prove the exposure with it, and no "
                    "exception can accept it",
                    item.block.span,
                )
            )
        elif item.verdict is Verdict.MODULE:
            refusals.append(Diagnostic("XF412", f"{item.address}: {item.why}", item.block.span))
    refusals.extend(_exception_problems(exceptions, by_address))
    return ClosedWorld(
        perimeter=tuple(
            PerimeterBlock(i.address.rpartition("/")[0], i.address, i.block)
            for i in judged
            if i.verdict is Verdict.PERIMETER
        ),
        excepted=tuple(excepted),
        refusals=_bounded(refusals),
    )


def _exception_problems(
    exceptions: Iterable[DeclaredException], by_address: dict[str, list[_Judged]]
) -> list[Diagnostic]:
    out = []
    for exception in exceptions:
        found = by_address.get(exception.address, [])
        blocked = [i for i in found if i.verdict not in (Verdict.UNMODELLED, Verdict.HARMLESS)]
        if blocked:
            item = blocked[0]
            what = (
                "is a perimeter resource, which verify proves itself"
                if item.verdict is Verdict.PERIMETER
                else f"is refused whatever the spec says ({item.why})"
            )
            out.append(
                Diagnostic(
                    "XF420",
                    f"exception {exception.address}: the block at {item.block.span} {what}; "
                    "remove the exception",
                    exception.span,
                )
            )
        elif not found:
            out.append(
                Diagnostic(
                    "XF419",
                    f"exception {exception.address} names no block in the Terraform (addresses are "
                    "the module directory under the Terraform root, then the block's address, "
                    "such as data-eu-west-1/aws_s3_object.readme); remove it or correct it",
                    exception.span,
                )
            )
        elif all(i.verdict is Verdict.HARMLESS for i in found):
            out.append(
                Diagnostic(
                    "XF419",
                    f"exception {exception.address}: the block needs no exception; remove it",
                    exception.span,
                )
            )
    return out


def _bounded(refusals: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    if len(refusals) <= MAX_REFUSALS:
        return tuple(refusals)
    rest = refusals[MAX_REFUSALS:]
    codes = sorted({d.code for d in rest})
    summary = Diagnostic(
        rest[0].code,
        f"and {len(rest)} more blocks refused ({', '.join(codes)}), not listed",
        rest[0].span,
    )
    return (*refusals[:MAX_REFUSALS], summary)


def _judge(block: Block) -> tuple[Verdict, str]:
    kind, labels = block.block_type, block.labels
    if any(n.block_type == "provisioner" for n in block.nested):
        return Verdict.ACCESS, "its provisioner runs commands while Terraform applies"
    if kind == "resource" and len(labels) == 2:
        return _judge_resource(block, labels[0])
    if kind == "data" and len(labels) == 2:
        if catalogue.runs_commands(kind, labels):
            return Verdict.ACCESS, "runs a program of its own while Terraform plans"
        return Verdict.UNMODELLED, f"the data source {labels[0]}"
    if kind == "module":
        return Verdict.MODULE, (
            "module blocks deploy what their source holds, which verify does not read; put what "
            "it deploys in this directory as resources, or remove it"
        )
    if kind == "provider":
        return Verdict.UNMODELLED, (
            "a provider configuration (it decides the account, Region and API endpoints "
            "this module deploys to)"
        )
    if kind == "terraform":
        return _judge_terraform(block)
    if kind == "check":
        for nested in block.nested:
            if catalogue.runs_commands(nested.block_type, nested.labels):
                return Verdict.ACCESS, "runs a program of its own while Terraform plans"
        return Verdict.HARMLESS, ""
    if kind == "removed":
        return _judge_removed(block)
    if kind in catalogue.HARMLESS and kind != "terraform":
        return Verdict.HARMLESS, ""
    if kind == "import":
        return Verdict.UNMODELLED, "an import block"
    return Verdict.UNMODELLED, f"a {kind} block"


def _judge_resource(block: Block, resource_type: str) -> tuple[Verdict, str]:
    if resource_type == "aws_vpc_endpoint":
        return _judge_endpoint(block)
    if resource_type in catalogue.MODELLED:
        return Verdict.PERIMETER, ""
    arguments = frozenset(name for name, _, _ in block.attributes)
    arguments |= frozenset(n.block_type for n in block.nested)
    acl = block.attribute("acl")
    acl_value = acl[0].value if acl and isinstance(acl[0], Literal) else None
    why = catalogue.access_change(resource_type, arguments, acl_value)
    if why is not None:
        return Verdict.ACCESS, why
    return Verdict.UNMODELLED, f"the resource type {resource_type}"


def _judge_endpoint(block: Block) -> tuple[Verdict, str]:
    found = block.attribute("service_name")
    service = found[0].value if found and isinstance(found[0], Literal) else None
    if not isinstance(service, str):
        return Verdict.PERIMETER, ""  # perimeter refuses a service name it cannot read
    if catalogue.S3_GATEWAY_SERVICE.match(service) is None:
        if "s3" in service:
            return Verdict.ACCESS, f"it is an endpoint for {service}, another path to S3"
        return Verdict.UNMODELLED, f"an endpoint for {service}"
    found = block.attribute("vpc_endpoint_type")
    endpoint_type = found[0].value if found and isinstance(found[0], Literal) else "Gateway"
    if endpoint_type != "Gateway" and found is not None and isinstance(found[0], Literal):
        return Verdict.ACCESS, f"it is an S3 {endpoint_type} endpoint, another path to S3"
    return Verdict.PERIMETER, ""


def _judge_terraform(block: Block) -> tuple[Verdict, str]:
    for nested in block.nested:
        if nested.block_type != "required_providers":
            continue
        for name, value, _ in nested.attributes:
            if name != "aws":
                continue
            source = "hashicorp/aws"
            if isinstance(value, Opaque) and value.kind == "object":
                entry = dict(value.entries).get("source")
                if entry is not None:
                    source = (
                        entry.value
                        if isinstance(entry, Literal) and isinstance(entry.value, str)
                        else "?"
                    )
                elif not value.entries and value.text.strip("{} \t\r\n"):
                    source = "?"  # an object whose keys the readers could not take literally
            elif not isinstance(value, Literal):
                source = "?"
            if source.lower() not in catalogue.AWS_PROVIDER_SOURCES:
                return Verdict.ACCESS, (
                    f"it takes the aws provider from {source!r}, not hashicorp/aws, so aws_ "
                    "resources here may do anything"
                )
    others = [n for n, _, _ in block.attributes if n not in catalogue.TERRAFORM_SETTINGS]
    others += [n.block_type for n in block.nested if n.block_type not in catalogue.TERRAFORM_NESTED]
    if others:
        return Verdict.UNMODELLED, f"terraform settings {', '.join(others)}"
    return Verdict.HARMLESS, ""


def _judge_removed(block: Block) -> tuple[Verdict, str]:
    found = block.attribute("from")
    target = found[0].expression if found and isinstance(found[0], Reference) else ""
    resource_type = target.split(".")[0]
    reaches_s3 = (
        not target
        or resource_type == "module"
        or resource_type in catalogue.MODELLED
        or catalogue.in_access_family(resource_type)
    )
    if reaches_s3:
        return Verdict.ACCESS, (
            "it can leave a resource deployed that the configuration no longer holds"
        )
    return Verdict.UNMODELLED, "a removed block"


def _perimeter_problems(address: str, block: Block) -> list[Diagnostic]:
    """XF413 for what a perimeter resource carries beyond what verify reads."""
    allowed = catalogue.MODELLED[block.labels[0]]
    out: list[Diagnostic] = []
    unknown: list[tuple[str, Span]] = []
    for name, _, span in block.attributes:
        if name in allowed or name in catalogue.ORDERING_ONLY:
            continue
        if name in ("count", "for_each"):
            message = (
                f"{address}.{name}: Terraform may deploy this resource any number of times, "
                "none included; verify proves exactly one, so remove it"
            )
            out.append(Diagnostic("XF413", message, span))
        elif name == "provider":
            message = (
                f"{address}.provider: deploys through another provider configuration (another "
                "account, Region or API endpoint) than the module's; remove it"
            )
            out.append(Diagnostic("XF413", message, span))
        else:
            unknown.append((name, span))
    if unknown:
        names = ", ".join(n for n, _ in unknown[:5])
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        message = (
            f"{address}: verify does not model the argument(s) {names}{more}; it reads "
            f"{', '.join(sorted(allowed))}"
        )
        out.append(Diagnostic("XF413", message, unknown[0][1]))
    for nested in block.nested:
        if nested.block_type == "lifecycle":
            out.extend(_lifecycle_problems(address, nested))
        elif nested.block_type not in catalogue.NESTED_ALLOWED:
            what = (
                "a dynamic block generates nested blocks when Terraform plans"
                if nested.block_type == "dynamic"
                else f"verify does not model {nested.block_type} blocks"
            )
            out.append(Diagnostic("XF413", f"{address}: {what}; remove it", nested.span))
    return out


def _lifecycle_problems(address: str, lifecycle: Block) -> list[Diagnostic]:
    out = []
    for name, value, span in lifecycle.attributes:
        if name in catalogue.LIFECYCLE_ALLOWED:
            continue
        if name == "ignore_changes" and _ignores_only_tags(value):
            continue
        what = (
            "Terraform would keep whatever is deployed for the ignored arguments, which verify "
            "cannot see"
            if name == "ignore_changes"
            else "verify does not model it"
        )
        out.append(Diagnostic("XF413", f"{address}: lifecycle {name}: {what}; remove it", span))
    for nested in lifecycle.nested:
        if nested.block_type not in catalogue.LIFECYCLE_NESTED_ALLOWED:
            message = f"{address}: lifecycle {nested.block_type}: verify does not model it"
            out.append(Diagnostic("XF413", message, nested.span))
    return out


def _ignores_only_tags(value: object) -> bool:
    if not isinstance(value, Opaque) or value.kind != "list" or not value.items:
        return False
    return all(
        isinstance(item, Reference) and item.expression in catalogue.IGNORABLE
        for item in value.items
    )
