"""Ownership of module directories: the `xflow-module.json` manifest compile writes in each.

A manifest lists the files compile generated in its directory and names the spec they came from,
as a posix path relative to the directory. Compile rewrites or deletes only files listed in a
manifest naming its own spec. Terraform ignores the manifest (it does not end in .tf or .tf.json).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "xflow-module.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Manifest:
    """An ``xflow-module.json``: the files compile generated in its directory, and their spec."""

    files: tuple[str, ...]  # generated file names in the directory, sorted; not the manifest
    spec: str  # posix path of the spec relative to the directory


def render_manifest(manifest: Manifest) -> str:
    document = {"files": list(manifest.files), "spec": manifest.spec, "xflow": MANIFEST_FORMAT}
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def parse_manifest(data: bytes) -> Manifest | None:
    """The manifest in ``data``, or None when it is not one xflow wrote."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict) or set(document) != {"files", "spec", "xflow"}:
        return None
    files, spec = document["files"], document["spec"]
    if document["xflow"] != MANIFEST_FORMAT or not isinstance(spec, str) or not spec:
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) and _plain(f) for f in files):
        return None
    return Manifest(tuple(sorted(set(files))), spec)


def _plain(name: str) -> bool:
    """A file name directly inside the directory, that is not the manifest itself."""
    return (
        name not in ("", ".", "..", MANIFEST_NAME)
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def spec_reference(spec_path: Path, module_directory: Path) -> str:
    """How a manifest in ``module_directory`` names ``spec_path``: a relative posix path.

    Both sides are resolved first, so the reference is the same however the paths were typed
    (relative, absolute, through a linked working directory).
    """
    spec = os.path.join(os.path.realpath(spec_path.parent), spec_path.name)
    relative = os.path.relpath(spec, os.path.realpath(module_directory))
    return PurePosixPath(*Path(relative).parts).as_posix()


def names_spec(manifest: Manifest, module_directory: Path, spec_path: Path) -> bool:
    """Whether ``manifest`` (found in ``module_directory``) was written for ``spec_path``."""
    if manifest.spec == spec_reference(spec_path, module_directory):
        return True
    recorded = Path(os.path.realpath(module_directory)) / manifest.spec
    try:
        return os.path.samefile(recorded, spec_path)
    except OSError:
        return False


def with_manifests(files: Mapping[str, str], root: Path, spec_path: Path) -> dict[str, str]:
    """``files`` (relative path -> text) plus the manifest of every module directory in them."""
    by_directory: dict[str, list[str]] = {}
    for relative in files:
        path = PurePosixPath(relative)
        by_directory.setdefault(path.parent.as_posix(), []).append(path.name)
    out = dict(files)
    for directory, names in by_directory.items():
        manifest = Manifest(tuple(sorted(names)), spec_reference(spec_path, root / directory))
        out[f"{directory}/{MANIFEST_NAME}"] = render_manifest(manifest)
    return dict(sorted(out.items()))
