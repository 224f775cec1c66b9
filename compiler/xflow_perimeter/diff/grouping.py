"""Differences grouped for reading: one entry per direction, layer, caller, network path and
bucket, with the actions and key scopes it covers and one concrete request."""

from __future__ import annotations

from collections.abc import Iterable

from xflow_perimeter.diff.exposure import Difference
from xflow_perimeter.diff.model import ConcreteRequest, Direction, Entry, Layer
from xflow_perimeter.iam.request import NetworkPath, Request

_DIRECTIONS = list(Direction)
_LAYERS = list(Layer)


def entries(found: Iterable[Difference], bucket_label: str, outside: bool = False) -> list[Entry]:
    groups: dict[tuple[Direction, Layer, str, str], list[Difference]] = {}
    for difference in found:
        key = (
            difference.direction,
            difference.layer,
            difference.caller.label,
            difference.origin.label,
        )
        groups.setdefault(key, []).append(difference)
    out = []
    for (direction, layer, caller, network), members in groups.items():
        with_tls = [m for m in members if m.secure_transport]
        example = (with_tls or members)[0]
        out.append(
            Entry(
                direction,
                layer,
                caller,
                network,
                bucket_label,
                tuple(sorted({m.target.action for m in members})),
                tuple(sorted({scope(m.request) for m in members})),
                not with_tls,
                concrete(example.request),
                outside,
            )
        )
    return out


def sort_key(entry: Entry) -> tuple[int, int, str, str, str]:
    return (
        _DIRECTIONS.index(entry.direction),
        _LAYERS.index(entry.layer),
        entry.caller,
        entry.network,
        entry.bucket,
    )


def scope(request: Request) -> str:
    if request.key is not None:
        return f"key {request.key}"
    if request.list_prefix is not None:
        return f"listing prefix {request.list_prefix!r}"
    return "the bucket itself"


def source(path: NetworkPath) -> str:
    if path.vpce is not None:
        return f"endpoint {path.vpce} in {path.vpc} from {path.vpc_source_ip}"
    return f"internet address {path.source_ip}"


def concrete(request: Request) -> ConcreteRequest:
    return ConcreteRequest(
        caller=request.caller.arn or request.caller.service or "anonymous",
        action=request.action,
        bucket=request.bucket,
        bucket_account=request.bucket_account,
        key=request.key,
        list_prefix=request.list_prefix,
        source=source(request.path),
        secure_transport=request.secure_transport,
        source_account=request.source_account,
        source_arn=request.source_arn,
    )
