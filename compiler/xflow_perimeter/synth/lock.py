"""An advisory lock on the output root, so that compiles into one root run one after another.

The lock is ``flock`` on the root directory itself (no lock file in the committed output):
exclusive for a compile that writes, shared for ``--check`` and ``--diff``. The kernel drops it
when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Notify = Callable[[str], None]


@contextmanager
def locked_root(
    root: Path, *, exclusive: bool, notify: Notify, created: list[Path] | None = None
) -> Iterator[int]:
    """Hold the lock on the directory ``root``; yield a descriptor of it.

    With ``created``, a missing root (and its missing parents) is made first, and each directory
    made is appended to it. If another compile holds the lock, ``notify`` is told, then this
    waits. Raises OSError when the root cannot be made, opened or locked.
    """
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    while True:
        if created is not None:
            _make_directories(root, created)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                notify(f"xflow: waiting for another compile into {root} to finish")
                fcntl.flock(fd, mode)
            if _same_directory(fd, root):
                break
        except BaseException:
            os.close(fd)
            raise
        # The holder removed (or replaced) the root while this waited: lock the new one.
        os.close(fd)
    try:
        yield fd
    finally:
        os.close(fd)


def _make_directories(root: Path, created: list[Path]) -> None:
    missing = [p for p in (root, *root.parents) if not os.path.lexists(p)]
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:
            continue  # another compile made it meanwhile: it is not this one's to remove
        created.append(directory)


def _same_directory(fd: int, root: Path) -> bool:
    try:
        now = os.stat(root)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
