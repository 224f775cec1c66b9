"""Find what Terraform reads under a Terraform root: its module directories and their files.

Every directory under the root that holds configuration files is a module directory, read the
way Terraform reads a module: its own ``*.tf`` and ``*.tf.json`` files (not its subdirectories,
which are module directories of their own), override files (``override.tf``, ``*_override.tf``
and their ``.tf.json`` forms) after the others. Like Terraform, names starting with ``.`` are not
configuration. What ``terraform init`` and ``plan`` leave behind (``.terraform/``,
``.terraform.lock.hcl``, state and plan files) is not configuration either, nor is ``.git/``.
OpenTofu's own ``*.tofu`` files, which OpenTofu reads in place of ``*.tf`` ones, are refused.

A module directory that compile generated for another spec carries an ``xflow-module.json``
naming that spec (see :mod:`xflow_perimeter.synth.manifest`); it is left to that spec and
reported. One naming this spec, or a file that does not exist (a tree copied without its
spec), or none, is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.synth.manifest import MANIFEST_NAME, names_spec, parse_manifest
from xflow_perimeter.terraform.records import SkippedModule

_NOT_CONFIGURATION = frozenset((".terraform", ".git"))
_SUFFIXES = (".tf", ".tf.json")
_OPENTOFU = (".tofu", ".tofu.json")


@dataclass(frozen=True, slots=True)
class ModuleDir:
    """One module directory: its files relative to the root, posix style, in Terraform's order."""

    directory: str  # "" for the root itself
    files: tuple[str, ...]
    overrides: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """The module directories under a root, those left to other specs, and the problems found."""

    modules: tuple[ModuleDir, ...]
    skipped: tuple[SkippedModule, ...]
    problems: tuple[Diagnostic, ...]


def is_configuration(name: str) -> bool:
    """Whether Terraform reads a file of this name in a module directory."""
    return name.endswith(_SUFFIXES) and not name.startswith(".")


def is_override(name: str) -> bool:
    """Whether Terraform merges a file of this name into the module's other files."""
    stem = name.removesuffix(".json").removesuffix(".tf")
    return stem == "override" or stem.endswith("_override")


def find_modules(root: Path, spec_path: Path | None = None) -> Layout:
    """The module directories under ``root`` (the root included).

    Args:
        root: the Terraform root.
        spec_path: the spec being verified; module directories whose manifest names another
            spec are skipped. None reads every module directory.
    """
    modules: list[ModuleDir] = []
    skipped: list[SkippedModule] = []
    problems: list[Diagnostic] = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        directory = here.relative_to(root).as_posix()
        directory = "" if directory == "." else directory
        for name in sorted(dirs):
            if name not in _NOT_CONFIGURATION and (here / name).is_symlink():
                rel = f"{directory}/{name}" if directory else name
                message = f"{rel} is a symbolic link to a folder; xflow does not follow it"
                problems.append(Diagnostic("XF418", message, Span(rel, 1, 1)))
        dirs[:] = sorted(
            d for d in dirs if d not in _NOT_CONFIGURATION and not (here / d).is_symlink()
        )
        config = sorted(n for n in names if is_configuration(n) and not (here / n).is_dir())
        for name in sorted(n for n in names if n.endswith(_OPENTOFU) and not n.startswith(".")):
            rel = f"{directory}/{name}" if directory else name
            message = (
                f"{name} is an OpenTofu file, which OpenTofu reads in place of the .tf file of "
                "its name; xflow reads what Terraform reads, so rename it or remove it"
            )
            problems.append(Diagnostic("XF418", message, Span(rel, 1, 1)))
        if not config:
            continue
        if MANIFEST_NAME in names:
            owner = _manifest_owner(here, directory, spec_path, problems)
            if owner is not None:
                skipped.append(owner)
                continue
        prefix = f"{directory}/" if directory else ""
        modules.append(
            ModuleDir(
                directory,
                tuple(prefix + n for n in config if not is_override(n)),
                tuple(prefix + n for n in config if is_override(n)),
            )
        )
    modules.sort(key=lambda m: m.directory)
    return Layout(
        tuple(modules), tuple(sorted(skipped, key=lambda s: s.directory)), tuple(problems)
    )


def _manifest_owner(
    folder: Path, directory: str, spec: Path | None, problems: list[Diagnostic]
) -> SkippedModule | None:
    """The skip record when the folder's manifest names a spec other than ``spec``."""
    rel = f"{directory}/{MANIFEST_NAME}" if directory else MANIFEST_NAME
    where = Span(rel, 1, 1)
    try:
        manifest = parse_manifest((folder / MANIFEST_NAME).read_bytes())
    except OSError as error:
        problems.append(Diagnostic("XF418", f"cannot read the module manifest: {error}", where))
        return None
    if manifest is None:
        problems.append(
            Diagnostic(
                "XF418",
                'the module manifest must be {"files": [...], "spec": "PATH", "xflow": 1}, as '
                "compile writes it",
                where,
            )
        )
        return None
    if spec is None or names_spec(manifest, folder, spec) or not (folder / manifest.spec).is_file():
        return None  # this spec's, or no spec's at all (a copied tree): read, never hidden
    return SkippedModule(directory, manifest.spec, where)
