"""The write journal that lets a compile killed at any instant be finished or undone.

A compile writes ``.xflow-journal.json`` in the output root before it touches anything: first
*staged* (the directories it will make and the temporary files it will write), then, once every
temporary file is written and synced, *committed* (the same lists, now a promise to rename each
temporary file over its target, delete stale files and remove stale module directories). Only
then does it replace anything. The journal is removed last. So at any instant the output is the
complete old tree, the complete new tree, or a tree with a journal; the next compile (under the
lock) rolls a staged journal back and a committed one forward, and ``pending_journals`` lets
``--check`` and verify refuse a journalled tree (XF304) until then.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, Severity, Span
from xflow_perimeter.synth import safefs

JOURNAL_NAME = ".xflow-journal.json"
_FORMAT = 1
# Temporary files xflow writes: ".NAME.xflow-tmp-<16 hex>" (and ".NAME.xflow-tmp" from releases
# before the journal). Only xflow makes such names, and only while holding the root's lock.
_TEMPORARY = re.compile(r"^\..+\.xflow-tmp(-[0-9a-f]{16})?$")

# Tests set this to stop a compile at a chosen step; see tests/synth/test_output_crash.py.
STEP_HOOK: Callable[[str], None] | None = None


def step(what: str) -> None:
    """Mark the point before a change to the output (and after the last one)."""
    if STEP_HOOK is not None:
        STEP_HOOK(what)


@dataclass(frozen=True, slots=True)
class Journal:
    """One compile's journal: staged or committed, and the directories to make, files to rename or
    delete, probes, and directories to remove."""

    spec: str  # the spec as compile was given it, for messages
    committed: bool
    created_directories: tuple[str, ...]  # made by this compile, parents first
    renames: tuple[tuple[str, str], ...]  # (temporary file, target), in one directory each
    probes: tuple[str, ...]  # temporary files that only prove a directory writable
    deletes: tuple[str, ...]  # generated files the spec no longer produces
    removed_directories: tuple[str, ...]  # stale module directories, removed if left empty


class JournalError(Exception):
    """A journal file that xflow cannot have written."""


def temporary_name(target_name: str) -> str:
    return f".{target_name}.xflow-tmp-{os.urandom(8).hex()}"


def is_temporary(name: str) -> bool:
    return _TEMPORARY.match(name) is not None


def to_json(journal: Journal) -> str:
    document = {
        "created_directories": list(journal.created_directories),
        "deletes": list(journal.deletes),
        "probes": list(journal.probes),
        "removed_directories": list(journal.removed_directories),
        "renames": [list(pair) for pair in journal.renames],
        "spec": journal.spec,
        "state": "committed" if journal.committed else "staged",
        "xflow": _FORMAT,
    }
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def from_json(data: bytes) -> Journal:
    try:
        document = json.loads(data.decode("utf-8"))
        if document.pop("xflow") != _FORMAT or not isinstance(document["spec"], str):
            raise JournalError("unknown journal format")
        journal = Journal(
            spec=document["spec"],
            committed={"staged": False, "committed": True}[document["state"]],
            created_directories=_paths(document["created_directories"]),
            renames=tuple((t, target) for t, target in document["renames"]),
            probes=_paths(document["probes"]),
            deletes=_paths(document["deletes"]),
            removed_directories=_paths(document["removed_directories"]),
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise JournalError(str(error)) from error
    for temporary, target in journal.renames:
        _paths([temporary, target])
        if safefs.split(temporary)[0] != safefs.split(target)[0]:
            raise JournalError(f"{temporary} is not beside {target}")
    for temporary in [*(t for t, _ in journal.renames), *journal.probes]:
        if not is_temporary(safefs.split(temporary)[1]):
            raise JournalError(f"{temporary} is not a temporary file's name")
    return journal


def _paths(values: Iterable[object]) -> tuple[str, ...]:
    out = []
    for value in values:
        if not isinstance(value, str):
            raise JournalError(f"not a path: {value!r}")
        safefs.parts(value)  # ValueError for anything that could leave the root
        out.append(value)
    return tuple(out)


def write_journal(root_fd: int, journal: Journal) -> None:
    """Replace the root's journal with ``journal``, atomically and durably."""
    temporary = temporary_name(JOURNAL_NAME)
    safefs.create_file(root_fd, temporary, to_json(journal).encode("utf-8"))
    try:
        step("journal staged" if not journal.committed else "journal committed")
        os.replace(temporary, JOURNAL_NAME, src_dir_fd=root_fd, dst_dir_fd=root_fd)
    except BaseException:
        safefs.remove_file(root_fd, temporary)
        raise
    safefs.sync_directory(root_fd)


def read_journal(root_fd: int) -> Journal | None:
    """The root's journal, None if there is none; JournalError if it is not xflow's."""
    try:
        data = safefs.read_file(root_fd, JOURNAL_NAME, JOURNAL_NAME)
    except FileNotFoundError:
        return None
    except safefs.Blocked as blocked:
        raise JournalError(f"{JOURNAL_NAME} is not a regular file ({blocked.kind})") from blocked
    return from_json(data)


def settle(root_fd: int, journal: Journal) -> None:
    """Roll a committed journal forward or a staged one back, then remove it.

    Every step can be repeated, so a compile killed while settling is settled by the next one.
    """
    touched: set[str] = set()
    if journal.committed:
        _roll_forward(root_fd, journal, touched)
    else:
        _roll_back(root_fd, journal, touched)
    for relative in sorted(touched, key=lambda p: -p.count("/")):
        with safefs.directory(root_fd, relative) as fd:
            if fd is not None:
                safefs.sync_directory(fd)
    step("remove journal")
    safefs.remove_file(root_fd, JOURNAL_NAME)
    safefs.sync_directory(root_fd)
    step("settled")


def _roll_forward(root_fd: int, journal: Journal, touched: set[str]) -> None:
    for temporary, target in journal.renames:
        parent, name = safefs.split(target)
        step(f"rename {target}")
        with safefs.directory(root_fd, parent) as fd:
            if fd is None:
                continue
            try:
                os.replace(safefs.split(temporary)[1], name, src_dir_fd=fd, dst_dir_fd=fd)
            except FileNotFoundError:
                continue  # renamed before the interruption
        touched.add(parent)
    _remove_files(root_fd, [*journal.probes, *journal.deletes], touched)
    for relative in sorted(journal.removed_directories, key=lambda p: -p.count("/")):
        step(f"remove directory {relative}")
        _remove_empty_directory(root_fd, relative, touched)


def _roll_back(root_fd: int, journal: Journal, touched: set[str]) -> None:
    _remove_files(root_fd, [*(t for t, _ in journal.renames), *journal.probes], touched)
    for relative in reversed(journal.created_directories):
        step(f"remove directory {relative}")
        _remove_empty_directory(root_fd, relative, touched)


def _remove_files(root_fd: int, paths: Iterable[str], touched: set[str]) -> None:
    for relative in paths:
        parent, name = safefs.split(relative)
        step(f"remove {relative}")
        with safefs.directory(root_fd, parent) as fd:
            if fd is not None and safefs.remove_file(fd, name):
                touched.add(parent)


def _remove_empty_directory(root_fd: int, relative: str, touched: set[str]) -> None:
    parent, name = safefs.split(relative)
    with safefs.directory(root_fd, parent) as fd:
        if fd is not None and safefs.remove_directory(fd, name):
            touched.add(parent)


def recover(root: Path, root_fd: int) -> list[Diagnostic]:
    """Settle an interrupted compile's journal in ``root``; a note saying what was done."""
    journal = read_journal(root_fd)
    if journal is None:
        return []
    settle(root_fd, journal)
    done = (
        "finished the interrupted compile of"
        if journal.committed
        else "rolled back the interrupted compile (it had replaced nothing) of"
    )
    where = root / JOURNAL_NAME
    return [Diagnostic("XF306", f"{done} {journal.spec}", Span(str(where), 1, 1), Severity.NOTE)]


def pending_journals(directory: Path, *, below: bool = True) -> tuple[Diagnostic, ...]:
    """XF304 for every interrupted (or running) compile whose output overlaps ``directory``.

    Looks in ``directory``, every folder above it whose journal lists a path inside it and, with
    ``below``, every folder below it (hidden ones and links aside). Empty when ``directory`` is
    not in mid-write. Whatever reads Terraform that compile writes (``--check``, verify) should
    refuse on these.
    """
    found = []
    directory = Path(os.path.abspath(directory))
    for ancestor in directory.parents:
        journal_path = ancestor / JOURNAL_NAME
        if os.path.lexists(journal_path):
            inside = directory.relative_to(ancestor).as_posix()
            journal = _read_quietly(journal_path)
            if journal is None or any(
                p == inside or p.startswith(inside + "/") for p in _listed(journal)
            ):
                found.append(_pending(journal_path, journal))
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".")) if below else []
        if JOURNAL_NAME in names:
            journal_path = Path(folder) / JOURNAL_NAME
            found.append(_pending(journal_path, _read_quietly(journal_path)))
    return tuple(found)


def _listed(journal: Journal) -> list[str]:
    return [
        *journal.created_directories,
        *(target for _, target in journal.renames),
        *journal.deletes,
        *journal.removed_directories,
    ]


def _read_quietly(path: Path) -> Journal | None:
    try:
        return from_json(path.read_bytes())
    except (OSError, JournalError):
        return None


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is inside it (the location convention)."""
    relative = os.path.relpath(path)
    return Path(relative) if not relative.startswith("..") else path


def _pending(path: Path, journal: Journal | None) -> Diagnostic:
    path = _shown(path)
    root = path.parent
    spec = journal.spec if journal is not None else "SPEC"
    return Diagnostic(
        "XF304",
        f"a compile into {root} was interrupted (or is still running): its files may mix the old "
        f"and the new output until the next compile finishes it; run: xflow compile {spec} "
        f"-o {root}",
        Span(str(path), 1, 1),
    )
