"""Progress on stderr while a proof runs, for a person at a terminal.

Shown only when stderr is a terminal and ``--quiet`` was not given, and only once the command
has run for a second (a small spec finishes before anything is drawn). Driven by the proof's
own tasks (one per bucket and per network, see prove/layers/schedule.py). tqdm draws it: it
is imported only when a bar is drawn, so a run in CI or a pipe never loads it.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, NoReturn, TextIO

if TYPE_CHECKING:
    import threading

    from tqdm import tqdm

SHOWN_AFTER = 1.0  # seconds since the command started
REFRESH = 0.5  # seconds: the bar is redrawn at least this often while tasks finish


class ProgressBar:
    """A ``prove.progress.Progress`` callback drawing a bar on ``stream``; ``close()`` clears it."""

    def __init__(self, label: str, stream: TextIO, started: float) -> None:
        self._label = label
        self._stream = stream
        self._started = started
        self._bar: tqdm[NoReturn] | None = None  # a bar over no iterable
        self._stop: threading.Event | None = None
        self._ticker: threading.Thread | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.monotonic() - self._started < SHOWN_AFTER:
                return
            from tqdm import tqdm

            columns, lines = _size(self._stream)
            self._bar = bar = tqdm(
                total=total,
                desc=self._label,
                unit=" checks",
                file=self._stream,
                mininterval=REFRESH,
                maxinterval=REFRESH,
                leave=False,
                ncols=columns,
                nrows=lines,
            )
            # Redrawn on a clock too, so the elapsed time moves while a large bucket is proved.
            import threading  # like tqdm, only once a bar is drawn

            self._stop = threading.Event()
            self._ticker = threading.Thread(target=self._tick, args=(bar, self._stop), daemon=True)
            self._ticker.start()
        else:
            bar = self._bar
        bar.update(done - bar.n)
        if done >= total:
            bar.refresh()  # the last state is drawn even when it came within REFRESH of the one before

    @staticmethod
    def _tick(bar: tqdm[NoReturn], stop: threading.Event) -> None:
        while not stop.wait(REFRESH):
            bar.refresh()

    def close(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's columns and lines; 80 by 24 where it reports none (a new pseudo-terminal
    reports 0 by 0, and tqdm draws nothing on a terminal with no lines)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return 80, 24
    return size.columns or 80, size.lines or 24


def progress_for(label: str, *, quiet: bool, stream: TextIO | None = None) -> ProgressBar | None:
    """A progress callback for a command that started now, or None when nothing may be drawn
    (``quiet``, or ``stream``, stderr by default, is not a terminal)."""
    target = stream if stream is not None else sys.stderr
    if quiet or not target.isatty():
        return None
    return ProgressBar(label, target, time.monotonic())
