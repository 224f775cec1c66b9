"""What a compile would change under its output root, and what it must refuse to touch.

Reads the root without changing it: each module directory the spec produces, its manifest (who
owns it), the files in the way, module directories this spec owned and no longer produces, and
temporary files an interrupted compile left. Every conflict is an XF302 (all of them at once);
``--check``, ``--diff`` and compile share this one reading.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from xflow_perimeter.diagnostics import Diagnostic, Severity, Span, XflowError
from xflow_perimeter.synth import journal, safefs
from xflow_perimeter.synth.manifest import MANIFEST_NAME, names_spec, parse_manifest
from xflow_perimeter.synth.render import HEADER_MARK, header


@dataclass(frozen=True, slots=True)
class Change:
    """One file compile creates, updates or deletes under the output root."""

    path: str  # relative to the output root
    kind: Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class Survey:
    """What a compile would change under its output root: the changes (with what is there now),
    directories to make and to remove, and leftover temporary files."""

    changes: tuple[Change, ...]
    current: Mapping[str, bytes]  # what is there now, for every updated or deleted file
    missing_directories: tuple[str, ...]  # module directories (and parents) to make, parents first
    stale_directories: tuple[str, ...]  # this spec's module directories it no longer produces
    temporaries: tuple[str, ...]  # temporary files an interrupted compile left behind
    notes: tuple[Diagnostic, ...]


@dataclass(slots=True)
class _Findings:
    """What ``survey`` has found so far while reading; ``problems`` are XF302 conflicts."""

    changes: list[Change] = field(default_factory=list)
    current: dict[str, bytes] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    temporaries: list[str] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)


def survey(root: Path, root_fd: int | None, files: Mapping[str, str], spec_path: Path) -> Survey:
    """Compare ``files`` (manifests included) with ``root``; XflowError (XF302) on conflicts.

    ``root_fd`` is None when the root does not exist yet.
    """
    modules: dict[str, dict[str, str]] = {}
    for relative, text in files.items():
        directory, name = safefs.split(relative)
        modules.setdefault(directory, {})[name] = text
    found = _Findings()
    header_line = header(spec_path.name).split("\n", 1)[0].encode("utf-8")
    for directory, wanted in sorted(modules.items()):
        if root_fd is None:
            _all_new(found, directory, wanted)
            continue
        try:
            _module(found, root, root_fd, directory, wanted, spec_path, header_line)
        except safefs.Blocked as blocked:
            found.problems.append(safefs.blocked_diagnostic(root, blocked))
        except OSError as error:
            failure = safefs.OutputFailure(directory, "read", error)
            found.problems.append(safefs.failure_diagnostic(root, failure, "nothing was written"))
    if root_fd is not None:
        depth = max((len(PurePosixPath(d).parts) for d in modules), default=1)
        try:
            _elsewhere(found, root, root_fd, set(modules), depth, spec_path, header_line)
        except safefs.Blocked as blocked:  # a file replaced by a link while this read it
            found.problems.append(safefs.blocked_diagnostic(root, blocked))
        except OSError as error:
            failure = safefs.OutputFailure("", "read", error)
            found.problems.append(safefs.failure_diagnostic(root, failure, "nothing was written"))
    if found.problems:
        raise XflowError(found.problems)
    return Survey(
        changes=tuple(sorted(found.changes, key=lambda c: c.path)),
        current=found.current,
        missing_directories=tuple(dict.fromkeys(found.missing)),
        stale_directories=tuple(found.stale),
        temporaries=tuple(found.temporaries),
        notes=tuple(found.notes),
    )


def _all_new(found: _Findings, directory: str, wanted: Mapping[str, str]) -> None:
    components = safefs.parts(directory)
    found.missing.extend("/".join(components[: i + 1]) for i in range(len(components)))
    found.changes.extend(Change(f"{directory}/{name}", "create") for name in wanted)


def _module(
    found: _Findings,
    root: Path,
    root_fd: int,
    directory: str,
    wanted: Mapping[str, str],
    spec_path: Path,
    header_line: bytes,
) -> None:
    """One module directory the spec produces: who owns it, and what changes in it."""
    components = safefs.parts(directory)
    for depth in range(1, len(components) + 1):
        with safefs.directory(root_fd, "/".join(components[:depth])) as fd:
            if fd is None:
                found.missing.extend(
                    "/".join(components[:i]) for i in range(depth, 1 + len(components))
                )
                found.changes.extend(Change(f"{directory}/{name}", "create") for name in wanted)
                return
    with safefs.directory(root_fd, directory) as fd:
        assert fd is not None
        listing = safefs.entries(fd)
        owned = _owned(found, root, fd, directory, listing, spec_path, header_line)
        if owned is None:
            return
        for name, text in sorted(wanted.items()):
            relative = f"{directory}/{name}"
            kind = listing.get(name)
            if kind is None:
                found.changes.append(Change(relative, "create"))
            elif name not in owned:
                found.problems.append(_foreign(root, fd, relative, kind, header_line))
            else:
                data = safefs.read_file(fd, name, relative)
                if data != text.encode("utf-8"):
                    found.current[relative] = data
                    found.changes.append(Change(relative, "update"))
        for name in sorted(owned - wanted.keys()):
            if name in listing:
                relative = f"{directory}/{name}"
                found.current[relative] = safefs.read_file(fd, name, relative)
                found.changes.append(Change(relative, "delete"))


def _owned(
    found: _Findings,
    root: Path,
    fd: int,
    directory: str,
    listing: Mapping[str, safefs.Kind],
    spec_path: Path,
    header_line: bytes,
) -> set[str] | None:
    """The files of an existing module directory this spec may rewrite or delete; None (and a
    problem) when the directory belongs to another spec or its manifest is not xflow's."""
    manifest_path = f"{directory}/{MANIFEST_NAME}"
    if MANIFEST_NAME not in listing:
        adopted = {
            name
            for name, kind in listing.items()
            if kind == "file"
            and not name.startswith(".")  # never xflow's output (its temporary files, say)
            and safefs.first_line(fd, name) == header_line
        }
        if adopted:
            found.notes.append(_adoption_note(root, directory, spec_path, len(adopted)))
        return adopted
    manifest = parse_manifest(safefs.read_file(fd, MANIFEST_NAME, manifest_path))
    where = root / manifest_path
    if manifest is None:
        found.problems.append(
            Diagnostic(
                "XF302",
                f"{where} is not a module manifest xflow wrote, so xflow cannot tell which files "
                "in its folder are its own; move it away",
                Span(str(where), 1, 1),
            )
        )
        return None
    if not names_spec(manifest, root / directory, spec_path):
        other = os.path.normpath(os.path.join(root / directory, manifest.spec))
        found.problems.append(
            Diagnostic(
                "XF302",
                f"{root / directory} belongs to {other} (its {MANIFEST_NAME} says so), not to "
                f"{spec_path}: two specs cannot share a module directory, give them different "
                f"output roots (if {other} was renamed to {spec_path}, delete {where})",
                Span(str(where), _spec_line(manifest_path, fd), 3),
            )
        )
        return None
    return {*manifest.files, MANIFEST_NAME}


def _spec_line(manifest_path: str, fd: int) -> int:
    text = safefs.read_file(fd, MANIFEST_NAME, manifest_path).decode("utf-8", "replace")
    lines = text.splitlines()
    return next((i for i, line in enumerate(lines, 1) if line.lstrip().startswith('"spec"')), 1)


def _foreign(
    root: Path, fd: int, relative: str, kind: safefs.Kind, header_line: bytes
) -> Diagnostic:
    if kind != "file":
        return safefs.blocked_diagnostic(root, safefs.Blocked(relative, kind, "file"))
    path = root / relative
    first = safefs.first_line(fd, safefs.split(relative)[1])
    if first == header_line:
        origin = f"carries this spec's header but is not listed in its folder's {MANIFEST_NAME}"
    elif first.startswith(HEADER_MARK.encode("utf-8")):
        origin = f"was generated by xflow for another spec ({first.decode('utf-8', 'replace')})"
    else:
        origin = "was not generated by xflow"
    return Diagnostic(
        "XF302",
        f"{path} exists and {origin}; move it away, xflow never overwrites files it did not write",
        Span(str(path), 1, 1),
    )


def _adoption_note(root: Path, directory: str, spec_path: Path, count: int) -> Diagnostic:
    return Diagnostic(
        "XF305",
        f"{root / directory} has {count} files generated from {spec_path.name} but no "
        f"{MANIFEST_NAME} (written by an older xflow): compile adopts them, since they sit "
        "where this spec's module goes and name it in their header",
        Span(str(root / directory), 1, 1),
        Severity.NOTE,
    )


def _elsewhere(
    found: _Findings,
    root: Path,
    root_fd: int,
    modules: set[str],
    depth: int,
    spec_path: Path,
    header_line: bytes,
) -> None:
    """Folders the spec does not produce: its own stale modules, and leftover temporary files."""
    for relative, fd, listing in _walk(found, root, root_fd, modules, depth):
        found.temporaries.extend(
            f"{relative}/{name}" if relative else name
            for name, kind in sorted(listing.items())
            if journal.is_temporary(name) and kind != "directory"
        )
        if not relative or relative in modules:
            continue
        if listing.get(MANIFEST_NAME) == "file":
            manifest_path = f"{relative}/{MANIFEST_NAME}"
            manifest = parse_manifest(safefs.read_file(fd, MANIFEST_NAME, manifest_path))
            if manifest is not None and names_spec(manifest, root / relative, spec_path):
                _stale_module(found, root, fd, relative, listing, manifest.files)
        elif MANIFEST_NAME not in listing and any(
            kind == "file"
            and not name.startswith(".")
            and safefs.first_line(fd, name) == header_line
            for name, kind in listing.items()
        ):
            found.notes.append(
                Diagnostic(
                    "XF305",
                    f"{root / relative} holds files generated from {spec_path.name} but no "
                    f"{MANIFEST_NAME} (written by an older xflow), and the spec no longer puts a "
                    "module there: xflow left them alone; delete the folder if it is stale",
                    Span(str(root / relative), 1, 1),
                    Severity.NOTE,
                )
            )


def _stale_module(
    found: _Findings,
    root: Path,
    fd: int,
    directory: str,
    listing: Mapping[str, safefs.Kind],
    listed: tuple[str, ...],
) -> None:
    for name in sorted({*listed, MANIFEST_NAME}):
        kind = listing.get(name)
        relative = f"{directory}/{name}"
        if kind is None:
            continue
        if kind != "file":
            found.problems.append(
                safefs.blocked_diagnostic(root, safefs.Blocked(relative, kind, "file"))
            )
            continue
        found.current[relative] = safefs.read_file(fd, name, relative)
        found.changes.append(Change(relative, "delete"))
    found.stale.append(directory)


def _walk(
    found: _Findings, root: Path, root_fd: int, modules: set[str], depth: int
) -> Iterator[tuple[str, int, dict[str, safefs.Kind]]]:
    """(relative path, descriptor, entries) of the root and of every folder down to ``depth``
    levels, hidden folders (.terraform/, .git/) and links aside.

    A folder that cannot be read is an error at the root or in a module folder (reported there
    already), else a warning: anything of this spec's in it stays where it is.
    """
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            with safefs.directory(root_fd, relative) as fd:
                if fd is None:
                    continue
                listing = safefs.entries(fd)
                yield relative, fd, listing
        except (OSError, safefs.Blocked) as error:
            if relative in modules:
                continue
            where = root / relative if relative else root
            reason = error.strerror if isinstance(error, OSError) else "it changed meanwhile"
            if relative:
                found.notes.append(
                    Diagnostic(
                        "XF302",
                        f"cannot read {where} ({reason}): if it holds a module this spec no "
                        "longer produces, that module was left as it is",
                        Span(str(where), 1, 1),
                        Severity.WARNING,
                    )
                )
            else:
                found.problems.append(
                    Diagnostic(
                        "XF302",
                        f"cannot read {where}: {reason}; nothing was written",
                        Span(str(where), 1, 1),
                    )
                )
            continue
        level = len(PurePosixPath(relative).parts) if relative else 0
        if level < depth:
            pending.extend(
                f"{relative}/{name}" if relative else name
                for name, kind in sorted(listing.items(), reverse=True)
                if kind == "directory" and not name.startswith(".")
            )
