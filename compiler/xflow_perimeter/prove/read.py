"""The perimeter that verify and explain prove things about: ``read_perimeter``'s, with a
refusal for each resource defined twice in one module.

Terraform merges a block of an override file into the block with the same address (and refuses
two such blocks in ordinary files). The reader takes every block as written, so a resource
defined twice would be proved as one of its two halves: the verifier refuses it instead.
"""

from __future__ import annotations

import dataclasses
import posixpath

from xflow_perimeter.diagnostics import Diagnostic, Span
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import TfTree


def perimeter_of(tree: TfTree) -> Perimeter:
    """``read_perimeter(tree)``, refusing every resource defined twice."""
    perimeter = read_perimeter(tree)
    twice = defined_twice(tree)
    if not twice:
        return perimeter
    return dataclasses.replace(perimeter, refusals=perimeter.refusals + twice)


def defined_twice(tree: TfTree) -> tuple[Diagnostic, ...]:
    """An XF404 refusal at each resource block whose address an earlier block of the same
    module already has."""
    first: dict[str, Span] = {}
    out = []
    for tf_file in tree.files:
        module = posixpath.dirname(tf_file.path)
        for block in tf_file.blocks:
            if block.block_type != "resource" or len(block.labels) != 2:
                continue
            address = f"{module + '/' if module else ''}{block.labels[0]}.{block.labels[1]}"
            if address not in first:
                first[address] = block.span
                continue
            out.append(
                Diagnostic(
                    "XF404",
                    f"{address} is defined twice (also at {first[address]}): Terraform merges "
                    "an override file's block into the other, which the verifier does not "
                    "model; make the change in one block",
                    block.span,
                )
            )
    return tuple(out)
