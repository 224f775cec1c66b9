"""Stage 6: write generated files, or report how the committed output differs (--check, --diff).

Compile touches only what it owns (see manifest.py and survey.py), never follows a link below the
output root (safefs.py), runs one compile per root at a time (lock.py), and replaces files through
a journal (journal.py): a compile killed at any instant leaves the old tree, the new tree, or a
journalled tree that the next compile finishes and that --check and verify refuse until then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, Severity, Span, XflowError
from xflow_perimeter.synth import journal, safefs
from xflow_perimeter.synth.journal import Journal, pending_journals
from xflow_perimeter.synth.lock import Notify, locked_root
from xflow_perimeter.synth.manifest import with_manifests
from xflow_perimeter.synth.survey import Change, Survey, survey

__all__ = ["Change", "Outcome", "WriteBack", "check", "pending_journals", "write"]


class WriteBack(enum.Enum):
    WRITE = "write"
    CHECK = "check"
    DIFF = "diff"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What writing (or checking) the output came to: files, changes, the diff and notes."""

    files: dict[str, str]  # everything the spec produces, manifests included
    changes: tuple[Change, ...]  # written, or (for check) what is stale
    diff: str  # unified diff, when asked for
    notes: tuple[Diagnostic, ...]


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check(
    root: Path,
    files: Mapping[str, str],
    spec_path: Path,
    *,
    diff: bool,
    notify: Notify = _to_stderr,
) -> Outcome:
    """How ``root`` differs from ``files`` (and their manifests); nothing is written.

    Waits for a compile into ``root`` that is running; XF304 if one was interrupted.
    """
    wanted = with_manifests(files, root, spec_path)
    if not os.path.lexists(root):
        return _outcome(wanted, survey(root, None, wanted, spec_path), diff, [])
    _refuse_non_directory(root)
    try:
        with locked_root(root, exclusive=False, notify=notify) as root_fd:
            pending = pending_journals(root, below=False)  # a root below is another output
            if pending:
                raise XflowError(pending)
            found = survey(root, root_fd, wanted, spec_path)
            return _outcome(wanted, found, diff, [])
    except OSError as error:
        raise XflowError(
            [_root_failure(root, "read", error, "the output was not checked")]
        ) from error


def write(
    root: Path, files: Mapping[str, str], spec_path: Path, *, notify: Notify = _to_stderr
) -> Outcome:
    """Bring ``root`` to exactly ``files`` for the module directories this spec owns.

    Under the root's lock: settle an interrupted compile's journal, remove its leftovers, refuse
    (XF302, nothing written) any conflict, then replace files through a journal. Raises XflowError
    for every problem, an operating-system error included, with the output left as it was.
    """
    wanted = with_manifests(files, root, spec_path)
    _refuse_non_directory(root)
    created: list[Path] = []
    try:
        with locked_root(root, exclusive=True, notify=notify, created=created) as root_fd:
            try:
                notes = _recover(root, root_fd)
                found = survey(root, root_fd, wanted, spec_path)
                notes += _remove_temporaries(root, root_fd, found.temporaries)
                if found.changes:
                    _replace(root, root_fd, spec_path, wanted, found)
            except BaseException:
                for directory in reversed(created):
                    _remove_if_empty(directory)
                raise
    except OSError as error:
        raise XflowError([_root_failure(root, "write", error, "nothing was written")]) from error
    return _outcome(wanted, found, False, notes)


def _outcome(wanted: dict[str, str], found: Survey, diff: bool, notes: list[Diagnostic]) -> Outcome:
    text = _unified_diff(wanted, found) if diff else ""
    return Outcome(wanted, found.changes, text, (*notes, *found.notes))


def _unified_diff(wanted: Mapping[str, str], found: Survey) -> str:
    import difflib  # for --diff only

    chunks: list[str] = []
    for change in found.changes:
        before = found.current.get(change.path, b"").decode("utf-8", "replace")
        after = wanted.get(change.path, "")
        chunks.extend(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"a/{change.path}" if change.kind != "create" else "/dev/null",
                tofile=f"b/{change.path}" if change.kind != "delete" else "/dev/null",
            )
        )
    return "".join(chunks)


def _refuse_non_directory(root: Path) -> None:
    if os.path.lexists(root) and not root.is_dir():
        raise XflowError(
            [
                Diagnostic(
                    "XF302",
                    f"{root} is not a directory, but xflow writes its output there",
                    Span(str(root), 1, 1),
                )
            ]
        )


def _root_failure(root: Path, doing: str, error: OSError, consequence: str) -> Diagnostic:
    return safefs.failure_diagnostic(root, safefs.OutputFailure("", doing, error), consequence)


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (or not ours to remove any more): it stays
        directory.rmdir()


def _recover(root: Path, root_fd: int) -> list[Diagnostic]:
    try:
        return journal.recover(root, root_fd)
    except journal.JournalError as error:
        where = root / journal.JOURNAL_NAME
        message = (
            f"{where} is not a journal xflow wrote ({error}); restore the output from version "
            "control, delete it and compile again"
        )
        raise XflowError([Diagnostic("XF304", message, Span(str(where), 1, 1))]) from error
    except safefs.Blocked as blocked:
        raise XflowError([safefs.blocked_diagnostic(root, blocked)]) from blocked
    except OSError as error:
        raise XflowError(
            [_root_failure(root, "finish the interrupted compile in", error, "nothing was written")]
        ) from error


def _remove_temporaries(root: Path, root_fd: int, temporaries: tuple[str, ...]) -> list[Diagnostic]:
    for relative in temporaries:
        parent, name = safefs.split(relative)
        try:
            with safefs.directory(root_fd, parent) as fd:
                if fd is not None:
                    safefs.remove_file(fd, name)
        except OSError as error:
            failure = safefs.OutputFailure(relative, "remove", error)
            raise XflowError(
                [safefs.failure_diagnostic(root, failure, "nothing was written")]
            ) from error
    if not temporaries:
        return []
    return [
        Diagnostic(
            "XF306",
            f"removed {len(temporaries)} temporary file{'s' if len(temporaries) != 1 else ''} "
            f"an interrupted compile left in {root}",
            Span(str(root), 1, 1),
            Severity.NOTE,
        )
    ]


def _replace(
    root: Path, root_fd: int, spec_path: Path, wanted: Mapping[str, str], found: Survey
) -> None:
    """Stage every new file, commit the journal, then replace: see journal.py."""
    renames = tuple(
        (f"{parent}/{journal.temporary_name(name)}", change.path)
        for change in found.changes
        if change.kind != "delete"
        for parent, name in [safefs.split(change.path)]
    )
    deletes = tuple(c.path for c in found.changes if c.kind == "delete")
    # A folder where files are only removed is proved writable first, with a file made and
    # removed there: so a read-only folder is refused before anything changes, not half-way.
    written = {safefs.split(target)[0] for _, target in renames}
    emptied = {safefs.split(p)[0] for p in (*deletes, *found.stale_directories)}
    probes = tuple(
        f"{directory}/{journal.temporary_name('xflow-probe')}"
        for directory in sorted(emptied - written - {""})
    )
    staged = Journal(
        spec=str(spec_path),
        committed=False,
        created_directories=found.missing_directories,
        renames=renames,
        probes=probes,
        deletes=deletes,
        removed_directories=found.stale_directories,
    )
    journal.step("write journal")
    try:
        journal.write_journal(root_fd, staged)
    except OSError as error:
        raise XflowError(
            [_root_failure(root, "write the journal in", error, "nothing was changed")]
        ) from error
    try:
        _stage(root_fd, staged, wanted)
        journal.step("commit")
        journal.write_journal(root_fd, dataclasses.replace(staged, committed=True))
    except BaseException as error:
        _roll_back(root, root_fd, staged, error)
        if isinstance(error, safefs.Blocked):
            raise XflowError([safefs.blocked_diagnostic(root, error)]) from error
        if isinstance(error, safefs.OutputFailure):
            diagnostic = safefs.failure_diagnostic(root, error, "nothing was changed")
            raise XflowError([diagnostic]) from error
        if isinstance(error, OSError):
            diagnostic = _root_failure(root, "write the journal in", error, "nothing was changed")
            raise XflowError([diagnostic]) from error
        raise
    try:
        journal.settle(root_fd, dataclasses.replace(staged, committed=True))
    except (OSError, safefs.Blocked) as error:
        where = root / journal.JOURNAL_NAME
        raise XflowError(
            [
                Diagnostic(
                    "XF302",
                    f"could not finish replacing the output in {root} ({error}); {where} records "
                    "what is left: fix the problem and compile again, which finishes it (until "
                    "then --check and verify refuse the output, XF304)",
                    Span(str(where), 1, 1),
                )
            ]
        ) from error


def _roll_back(root: Path, root_fd: int, staged: Journal, cause: BaseException) -> None:
    """Undo a staged compile (nothing was replaced yet); if even that fails, say so."""
    try:
        journal.settle(root_fd, staged)
    except (OSError, safefs.Blocked) as error:
        where = root / journal.JOURNAL_NAME
        message = (
            f"could not roll back the staged files ({error}) after an earlier error ({cause}); "
            f"the output is unchanged, and the next compile removes what {where} lists"
        )
        raise XflowError([Diagnostic("XF302", message, Span(str(where), 1, 1))]) from cause


def _stage(root_fd: int, staged: Journal, wanted: Mapping[str, str]) -> None:
    """Make the new folders and write every temporary file, synced; raise OutputFailure."""
    for directory in staged.created_directories:
        parent, name = safefs.split(directory)
        with _failing_as(directory, "create the folder"), _existing(root_fd, parent) as fd:
            journal.step(f"make directory {directory}")
            os.mkdir(name, dir_fd=fd)
    for temporary, target in staged.renames:
        parent, name = safefs.split(temporary)
        with _failing_as(target, "write"), _existing(root_fd, parent) as fd:
            journal.step(f"stage {target}")
            safefs.create_file(fd, name, wanted[target].encode("utf-8"))
    for probe in staged.probes:
        parent, name = safefs.split(probe)
        with _failing_as(parent, "remove files from"), _existing(root_fd, parent) as fd:
            journal.step(f"probe {parent}")
            safefs.create_file(fd, name, b"")
            safefs.remove_file(fd, name)
    for parent in sorted({safefs.split(t)[0] for t, _ in staged.renames}):
        with _failing_as(parent, "sync"), _existing(root_fd, parent) as fd:
            safefs.sync_directory(fd)


@contextmanager
def _failing_as(relative: str, doing: str) -> Iterator[None]:
    """Turn an OSError into an OutputFailure naming the path and what compile was doing."""
    try:
        yield
    except OSError as error:
        raise safefs.OutputFailure(relative, doing, error) from error


@contextmanager
def _existing(root_fd: int, relative: str) -> Iterator[int]:
    with safefs.directory(root_fd, relative) as fd:
        if fd is None:
            raise FileNotFoundError(f"{relative} disappeared")
        yield fd
