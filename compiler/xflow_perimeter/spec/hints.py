"""The fix a spec diagnostic suggests: the closest known name, the fields a flow must add or
remove, and the ``principals:`` entry that an IAM ARN written in place of a name needs."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from xflow_perimeter.spec.actions import ACCESS_LEVELS, all_actions, lookup

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
# The IAM ARNs a spec accepts for a principal (the schema's iam_arn, without its anchors).
_IAM_ARN = re.compile(
    r"arn:aws:iam::(?P<account>[0-9]{12}):"
    r"(?P<resource>root|(?P<kind>user|role)/(?:[A-Za-z0-9+=,.@_-]+/)*(?P<last>[A-Za-z0-9+=,.@_-]{1,128}))"
)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (ignoring case), or None if none is close.

    >>> closest("s3:GetObjectTags", ["s3:GetObject", "s3:GetObjectTagging"])
    's3:GetObjectTagging'
    >>> closest("zzz", ["logs"]) is None
    True
    """
    import difflib  # only when there is an error to hint at

    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return by_lower[found[0]] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""``."""
    found = closest(word, candidates)
    return f" (did you mean {found!r}?)" if found is not None and found != word else ""


def unknown_action(name: str) -> str:
    """The message for an ``s3:`` name that is not in the catalogue, with the closest action."""
    return f"unknown S3 action {name!r}" + did_you_mean(name, (a.name for a in all_actions()))


def access_hint(value: str) -> str:
    """A hint for an ``access`` item the schema refuses: a level in capitals, a near-miss, or an
    action without its ``s3:`` prefix (``GetObject`` -> ``s3:GetObject``)."""
    if value.lower() in ACCESS_LEVELS:
        return f" (levels are lower-case: {value.lower()!r})"
    action = lookup(f"s3:{value}")
    if action is not None:
        return f" (did you mean {action.name!r}?)"
    return did_you_mean(value, ACCESS_LEVELS)


def action_hint(value: str) -> str:
    """A hint for an assertion ``action`` the schema refuses: the ``s3:`` prefix it lacks."""
    action = lookup(f"s3:{value}")
    return f" (did you mean {action.name!r}?)" if action is not None else ""


def flow_shape_problem(fields: Collection[str]) -> str | None:
    """What a flow with ``fields`` must add or remove to name either a principal and a network,
    or a service; None if it already does.

    >>> flow_shape_problem({"service", "network", "bucket", "access"})
    "a service flow has no network (AWS services reach S3 from AWS's own network): remove 'network'"
    """
    principal, network, service = ("principal" in fields, "network" in fields, "service" in fields)
    if service:
        extra = [
            field for field, present in (("principal", principal), ("network", network)) if present
        ]
        if not extra:
            return None
        if len(extra) == 2:
            return (
                "a flow names either a principal and a network, or a service: remove 'service', "
                "or remove 'principal' and 'network'"
            )
        if network:
            return (
                "a service flow has no network (AWS services reach S3 from AWS's own network): "
                "remove 'network'"
            )
        return (
            "a flow names either a principal and a network, or a service: remove 'principal' "
            "for a service flow, or replace 'service' with 'network'"
        )
    if principal and network:
        return None
    if principal:
        return "a principal's flow names the network it comes from: add 'network'"
    if network:
        return "a flow from a network names the principal that signs the requests: add 'principal'"
    return "a flow names a principal and a network, or a service: add 'principal' and 'network', or 'service'"


def principal_for_arn(arn: str, principals: Mapping[str, str]) -> str | None:
    """The fix for an IAM ARN written where a flow names a principal.

    ``principals`` maps each declared principal's name to its ARN. The fix is the declared name
    if one has that ARN, else a ``principals:`` entry to add, named after the ARN's last part.
    None if ``arn`` is not an IAM ARN a spec accepts.

    >>> principal_for_arn("arn:aws:iam::999999999999:role/app", {})
    'declare it under principals: (app: {arn: "arn:aws:iam::999999999999:role/app"}) and write principal: app'
    """
    if _IAM_ARN.fullmatch(arn) is None:
        return None
    for name, declared in sorted(principals.items()):
        if declared == arn:
            return f"write principal: {name} (principals.{name} has this ARN)"
    name = name_for_arn(arn, principals)
    return f'declare it under principals: ({name}: {{arn: "{arn}"}}) and write principal: {name}'


def name_for_arn(arn: str, taken: Collection[str] = ()) -> str:
    """A spec name for an IAM ARN, not in ``taken``: its user or role name as a slug.

    >>> name_for_arn("arn:aws:iam::999999999999:role/jobs/Batch_Loader")
    'batch_loader'
    >>> name_for_arn("arn:aws:iam::999999999999:root")
    'root-999999999999'
    """
    match = _IAM_ARN.fullmatch(arn)
    if match is None:
        raise ValueError(f"not an IAM ARN a spec accepts: {arn}")
    if match.group("kind") is None:
        base = f"root-{match.group('account')}"
    else:
        slug = re.sub(r"[^a-z0-9_-]+", "-", match.group("last").lower()).strip("-_")
        base = slug if _NAME.fullmatch(slug[:63]) else f"{match.group('kind')}-{slug}"
        base = base[:63].rstrip("-_") or match.group("kind")
    name, number = base, 1
    while name in taken:
        number += 1
        suffix = f"-{number}"
        name = base[: 63 - len(suffix)] + suffix
    return name
