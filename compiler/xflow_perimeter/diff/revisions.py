"""A git revision of the repository that holds a spec, unpacked into a temporary directory with
`git archive` so the user's checkout is never touched."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, XflowError


def _git(directory: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, check=False
        )
    except OSError as error:
        raise XflowError([Diagnostic("XF802", f"cannot run git: {error.strerror}")]) from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise XflowError(
            [Diagnostic("XF802", f"git {' '.join(args)}: {message[-1] if message else 'failed'}")]
        )
    return done.stdout


def checkout(spec_path: Path, revision: str, into: Path) -> Path:
    """Unpack ``revision`` of the repository holding ``spec_path`` under ``into``; the spec's
    path there."""
    directory = spec_path.resolve().parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").decode().strip())
    relative = spec_path.resolve().relative_to(top.resolve())
    commit = _git(top, "rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
    archive = _git(top, "archive", "--format=tar", commit.decode().strip())
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / relative
