"""Merge a module's override files into its other files, by Terraform's override rules.

Terraform reads ``override.tf``, ``*_override.tf`` (and their ``.tf.json`` forms) after the
module's other files, in file-name order, and merges each of their blocks into the block with the
same header: an attribute replaces the attribute of the same name, a nested block replaces every
nested block of its type, ``lifecycle`` merges attribute by attribute, and ``count`` and
``for_each`` replace each other. Local values merge one by one. A block with no base, or of a kind
Terraform does not merge (``moved``, ``import``, ``removed``, ``check``), is refused (XF414).
An override file comes back holding only its ``terraform`` blocks, which are kept beside the
others rather than merged: every one of them is checked.

Two blocks with the same address in one module are refused too (XF415), as Terraform refuses them.
"""

from __future__ import annotations

from dataclasses import replace

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.terraform.records import Block, Literal, TfFile, Value

_UNIQUE = frozenset(("resource", "data", "module", "variable", "output", "check", "provider"))
_RESOURCE_LIKE = frozenset(("resource", "data"))
_NOT_IN_OVERRIDES = frozenset(("moved", "import", "removed", "check"))
_REPETITION = frozenset(("count", "for_each"))

_Key = tuple[str, ...]


def block_key(block: Block) -> _Key:
    """What identifies a block in its module: type and labels (and alias, for a provider)."""
    if block.block_type == "provider":
        found = block.attribute("alias")
        alias = found[0].value if found and isinstance(found[0], Literal) else None
        return ("provider", *block.labels, str(alias) if alias is not None else "")
    return (block.block_type, *block.labels)


def merge_module(
    files: list[TfFile], overrides: list[TfFile]
) -> tuple[list[TfFile], list[Diagnostic]]:
    """The module's files with its override files merged in, and the problems found."""
    problems: list[Diagnostic] = []
    blocks = [list(f.blocks) for f in files]
    where: dict[_Key, tuple[int, int]] = {}
    local_values: dict[str, tuple[int, int]] = {}
    for file_index, file in enumerate(files):
        for block_index, block in enumerate(file.blocks):
            position = (file_index, block_index)
            if block.block_type == "locals":
                for name, _, span in block.attributes:
                    if local_values.setdefault(name, position) != position:
                        message = f"local value {name!r} is defined twice in this module"
                        problems.append(Diagnostic("XF415", message, span))
                continue
            if block.block_type not in _UNIQUE:
                continue
            key = block_key(block)
            first = where.setdefault(key, position)
            if first != position:
                earlier = files[first[0]].blocks[first[1]].span
                message = f"{' '.join(key)} is defined twice in this module (first at {earlier})"
                problems.append(Diagnostic("XF415", message, block.span))
    kept: list[TfFile] = []
    for override in overrides:
        remaining: list[Block] = []
        for block in override.blocks:
            kind = block.block_type
            if kind == "terraform":
                remaining.append(block)
            elif kind == "locals":
                for name, value, span in block.attributes:
                    if name not in local_values:
                        message = (
                            f"override of local value {name!r}, which the module does not define"
                        )
                        problems.append(Diagnostic("XF414", message, span))
                        continue
                    file_index, block_index = local_values[name]
                    base = blocks[file_index][block_index]
                    blocks[file_index][block_index] = _set_attributes(base, [(name, value, span)])
            elif kind in _NOT_IN_OVERRIDES or kind not in _UNIQUE:
                message = f"Terraform does not merge {kind} blocks from override files"
                problems.append(Diagnostic("XF414", message, block.span))
            elif block_key(block) not in where:
                name = " ".join(block_key(block)).rstrip()
                message = f"override of {name}, which the module's other files do not define"
                problems.append(Diagnostic("XF414", message, block.span))
            else:
                file_index, block_index = where[block_key(block)]
                base = blocks[file_index][block_index]
                merged, problem = _merge(base, block)
                if problem is not None:
                    problems.append(problem)
                blocks[file_index][block_index] = merged
        kept.append(replace(override, blocks=tuple(remaining)))
    merged_files = [replace(f, blocks=tuple(b)) for f, b in zip(files, blocks, strict=True)]
    return merged_files + kept, problems


def _merge(base: Block, override: Block) -> tuple[Block, Diagnostic | None]:
    problem = None
    if override.attribute("depends_on") is not None:
        _, _, span = next(a for a in override.attributes if a[0] == "depends_on")
        problem = Diagnostic("XF414", "Terraform refuses depends_on in an override block", span)
    merged = base
    resource_like = base.block_type in _RESOURCE_LIKE
    if resource_like and any(name in _REPETITION for name, _, _ in override.attributes):
        kept = tuple(a for a in base.attributes if a[0] not in _REPETITION)
        merged = replace(merged, attributes=kept)
    merged = _set_attributes(merged, list(override.attributes))
    for kind in dict.fromkeys(n.block_type for n in override.nested):
        replacing = [n for n in override.nested if n.block_type == kind]
        existing = [n for n in merged.nested if n.block_type == kind]
        if resource_like and kind == "lifecycle" and existing:
            combined = existing[0]
            for part in replacing:
                combined = _set_attributes(combined, list(part.attributes))
                combined = _replace_nested(combined, part)
            replacing = [combined]
        others = tuple(n for n in merged.nested if n.block_type != kind)
        merged = replace(merged, nested=others + tuple(replacing))
    return merged, problem


def _set_attributes(block: Block, attributes: list[tuple[str, Value, Span]]) -> Block:
    """``block`` with each of ``attributes`` replacing the one of its name, or added."""
    new = {name: (name, value, span) for name, value, span in attributes}
    out = [new.pop(name, (name, value, span)) for name, value, span in block.attributes]
    out.extend(new.values())
    return replace(block, attributes=tuple(out))


def _replace_nested(block: Block, override: Block) -> Block:
    """``block`` with each nested block type of ``override`` replacing its own blocks of that type."""
    kinds = {n.block_type for n in override.nested}
    others = tuple(n for n in block.nested if n.block_type not in kinds)
    return replace(block, nested=others + override.nested)
