"""Counts a reviewer reads first: flows gained and lost, and widenings or narrowings of one
layer that the other layer still hides."""

from __future__ import annotations

from xflow_perimeter.diff.model import DiffReport, Direction, Entry, Layer


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def summary_line(report: DiffReport) -> str:
    """E.g. "+2 flows, 1 widening of an endpoint policy, -1 flow"; "no change in exposure"."""
    if report.refusals:
        sides = " and ".join(f"the {r.side} side ({r.label})" for r in report.refusals)
        return f"not compared: verify refuses {sides}"
    parts = []
    for direction, sign, change in (
        (Direction.GAINED, "+", "widening"),
        (Direction.LOST, "-", "narrowing"),
    ):
        mine = [e for e in report.entries if e.direction is direction]
        flows = sum(1 for e in mine if e.layer is Layer.COMBINED)
        if flows:
            parts.append(f"{sign}{_plural(flows, 'flow')}")
        for layer, policy in (
            (Layer.ENDPOINT, "an endpoint policy"),
            (Layer.BUCKET, "a bucket policy"),
        ):
            count = sum(1 for e in mine if e.layer is layer)
            if count:
                parts.append(f"{_plural(count, change)} of {policy}")
    declared = len(report.declared)
    if declared:
        parts.append(f"{_plural(declared, 'changed declaration')}")
    return ", ".join(parts) if parts else "no change in exposure"


LAYER_WORDS = {
    Layer.COMBINED: "every layer",
    Layer.ENDPOINT: "endpoint layer only (the bucket policy still decides as before)",
    Layer.BUCKET: "bucket layer only (the endpoint policy still decides as before)",
}
# A bucket in neither spec may allow anyone (an intruder's own does): its endpoint is the only
# control xflow has over it, so a change there is a change of what gets through, not masked.
OUTSIDE_WORDS = "through the endpoint, the only control on a bucket outside both specs"


def layer_words(entry: Entry) -> str:
    return OUTSIDE_WORDS if entry.outside else LAYER_WORDS[entry.layer]
