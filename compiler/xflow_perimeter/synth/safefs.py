"""File system access below the output root that never follows a symbolic link.

Every directory below the root is opened one component at a time with ``O_NOFOLLOW`` and every
file is read, created, renamed or removed relative to its directory's descriptor, so a link planted
anywhere below the root (a module directory, a file, a temporary file's name) is refused instead of
followed out of it. Paths are relative to the root, in posix form.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Literal

from xflow_perimeter.diagnostics import Diagnostic, Span

Kind = Literal["file", "directory", "symlink", "other"]

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted where a file should be must not hang compile.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Blocked(Exception):
    """A path below the root that compile cannot use as it needs to (a link, or the wrong kind)."""

    def __init__(self, relative: str, kind: Kind, wanted: Literal["file", "directory"]):
        self.relative = relative
        self.kind = kind
        self.wanted = wanted
        super().__init__(relative)


class OutputFailure(Exception):
    """An operating-system error at a path below the root."""

    def __init__(self, relative: str, doing: str, error: OSError):
        self.relative = relative
        self.doing = doing  # a verb: "write", "remove", ...
        self.error = error
        super().__init__(f"{doing} {relative}: {error}")


def kind_of(mode: int) -> Kind:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def entries(directory_fd: int) -> dict[str, Kind]:
    """The names in a directory and what each is, links not followed."""
    found: dict[str, Kind] = {}
    for name in os.listdir(directory_fd):
        try:
            mode = os.stat(name, dir_fd=directory_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            continue
        found[name] = kind_of(mode)
    return found


def parts(relative: str) -> tuple[str, ...]:
    """The components of a relative posix path, refusing anything that could leave the root."""
    components = PurePosixPath(relative).parts
    if not components or any(p in ("", ".", "..", "/") or "\0" in p for p in components):
        raise ValueError(f"not a plain relative path: {relative!r}")
    return components


def open_directory(root_fd: int, relative: str, created: list[str] | None = None) -> int | None:
    """A descriptor of ``root/relative``, or None if it does not exist.

    With ``created``, missing directories are made and their relative paths appended to it.
    Raises Blocked when a component is a link or not a directory.
    """
    current = os.dup(root_fd)
    walked: list[str] = []
    try:
        for name in parts(relative) if relative else ():
            walked.append(name)
            try:
                child = os.open(name, _DIRECTORY_FLAGS, dir_fd=current)
            except FileNotFoundError:
                if created is None:
                    os.close(current)
                    return None
                os.mkdir(name, dir_fd=current)
                created.append("/".join(walked))
                child = os.open(name, _DIRECTORY_FLAGS, dir_fd=current)
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                mode = os.stat(name, dir_fd=current, follow_symlinks=False).st_mode
                raise Blocked("/".join(walked), kind_of(mode), "directory") from error
            os.close(current)
            current = child
        return current
    except BaseException:
        os.close(current)
        raise


@contextmanager
def directory(root_fd: int, relative: str) -> Iterator[int | None]:
    """``open_directory`` as a context manager that closes the descriptor."""
    fd = open_directory(root_fd, relative)
    try:
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


def read_file(directory_fd: int, name: str, relative: str) -> bytes:
    """The bytes of a regular file; Blocked if it is a link or anything but a regular file."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=directory_fd)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise Blocked(relative, "symlink", "file") from error
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Blocked(relative, kind_of(mode), "file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def first_line(directory_fd: int, name: str) -> bytes:
    """The first line of a regular file (b"" for links, other kinds and unreadable files)."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=directory_fd)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, 512).split(b"\n", 1)[0]
    except OSError:
        return b""
    finally:
        os.close(fd)


def create_file(directory_fd: int, name: str, data: bytes) -> None:
    """Create a new file exclusively (never through a link or over anything) and fsync it."""
    fd = os.open(name, _CREATE_FLAGS, 0o666, dir_fd=directory_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        remove_file(directory_fd, name)  # a full disk must not leave a half-written file
        raise
    os.close(fd)


def remove_file(directory_fd: int, name: str) -> bool:
    """Unlink a name (a link itself, never its target); False if it was already gone."""
    try:
        os.unlink(name, dir_fd=directory_fd)
    except FileNotFoundError:
        return False
    return True


def remove_directory(parent_fd: int, name: str) -> bool:
    """Remove an empty directory; False if it is gone or not empty (what else is in it stays)."""
    try:
        os.rmdir(name, dir_fd=parent_fd)
    except FileNotFoundError:
        return False
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise
    return True


def sync_directory(directory_fd: int) -> None:
    """Make a directory's new, renamed and removed entries durable."""
    try:
        os.fsync(directory_fd)
    except OSError as error:
        # Some file systems cannot fsync a directory; the entries are still in place.
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise


def split(relative: str) -> tuple[str, str]:
    """(parent directory, name) of a relative posix path; the parent of a top-level name is ""."""
    path = PurePosixPath(relative)
    parent = path.parent.as_posix()
    return ("" if parent == "." else parent), path.name


_ERRNO_HINTS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EXDEV: "it is on another file system than its module directory",
}


def failure_diagnostic(root: Path, failure: OutputFailure, consequence: str) -> Diagnostic:
    """A located XF302 for an operating-system error below ``root``."""
    path = root / failure.relative if failure.relative else root
    reason = (
        _ERRNO_HINTS.get(failure.error.errno or 0) or failure.error.strerror or str(failure.error)
    )
    return Diagnostic(
        "XF302",
        f"cannot {failure.doing} {path}: {reason}; {consequence}",
        Span(str(path), 1, 1),
    )


def blocked_diagnostic(root: Path, blocked: Blocked) -> Diagnostic:
    """A located XF302 for a link or a wrong kind of entry where compile needs a file or folder."""
    path = root / blocked.relative
    if blocked.kind == "symlink":
        message = (
            f"{path} is a symbolic link; xflow never follows links below the output root, "
            f"replace it with a real {blocked.wanted}"
        )
    else:
        what = {"file": "a file", "directory": "a directory", "other": "a special file"}
        message = (
            f"{path} is {what[blocked.kind]}, but xflow needs a {blocked.wanted} there; "
            "move it away"
        )
    return Diagnostic("XF302", message, Span(str(path), 1, 1))
