"""Colours shared by the renderers, so both formats draw the same picture."""

from __future__ import annotations

from xflow_perimeter.graph.model import Change, Kind

# (fill, stroke) per kind of node
NODE_COLOURS: dict[Kind, tuple[str, str]] = {
    Kind.PRINCIPAL: ("#e8f0fe", "#1a56db"),
    Kind.NETWORK: ("#fff4e0", "#b45309"),
    Kind.BUCKET: ("#e6f4ea", "#1e7e34"),
    Kind.SERVICE: ("#f3e8fd", "#7e22ce"),
    Kind.AWS_OWNED: ("#f1f3f4", "#5f6368"),
    Kind.ACCOUNT: ("#f6f8fa", "#57606a"),
}
GROUP_COLOURS = ("#fbfbfc", "#8c959f")  # (fill, stroke) of an account's box
NOTE_COLOURS = ("#fffbe6", "#d4a72c")
EDGE_COLOURS: dict[Change, str] = {
    Change.SAME: "#57606a",
    Change.GAINED: "#1a7f37",
    Change.LOST: "#cf222e",
}
