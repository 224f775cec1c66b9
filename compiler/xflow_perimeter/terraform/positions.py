"""Line and column of offsets in one file's text, for the readers' spans.

Offsets usually come in increasing order, so each lookup counts only the text since the last
one: linear time over a whole file, however long its lines.
"""

from __future__ import annotations

from xflow_perimeter.diagnostics import Span


class Positions:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.at = 0  # the last offset looked up...
        self.line = 1  # ...its line...
        self.line_start = 0  # ...and where that line starts

    def span(self, pos: int) -> Span:
        """Line and column (1-based, counting code points, as lark does) of offset ``pos``."""
        text = self.text
        if pos < self.at:
            self.at, self.line, self.line_start = 0, 1, 0
        newlines = text.count("\n", self.at, pos)
        if newlines:
            self.line += newlines
            self.line_start = text.rfind("\n", self.at, pos) + 1
        self.at = pos
        return Span(self.path, self.line, pos - self.line_start + 1)
