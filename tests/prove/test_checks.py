"""Verify as a sequence of checks: their order, which run for compile's self-check, and a refusal
stopping the checks after it (the findings of each check are tested in test_hand_edits.py and
test_perimeter.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from xflow_perimeter.api import load_spec
from xflow_perimeter.diagnostics import Diagnostic
from xflow_perimeter.prove.checks import CheckContext, structure
from xflow_perimeter.prove.network_paths import topology
from xflow_perimeter.prove.verify import CHECKS, declared_exceptions, verify_perimeter
from xflow_perimeter.spec.model import Spec
from xflow_perimeter.terraform.perimeter import Perimeter, read_perimeter
from xflow_perimeter.terraform.reader import read_tree

REPO = Path(__file__).resolve().parents[2]
DATA_PLATFORM = REPO / "examples" / "data-platform"


def _data_platform() -> tuple[Spec, Perimeter]:
    spec = load_spec(DATA_PLATFORM / "spec.yaml")
    return spec, read_perimeter(read_tree(DATA_PLATFORM / "terraform"))


def test_the_checks_in_order_structural_first() -> None:
    assert [c.name for c in CHECKS] == ["structure", "egress", "exposure", "identity", "assertions"]
    structural = [c.structural for c in CHECKS]
    assert structural == sorted(structural, reverse=True), "structural checks must come first"


def test_every_check_runs_on_an_example_and_lists_its_accepted_exposure() -> None:
    spec, perimeter = _data_platform()
    report = verify_perimeter(spec, perimeter)
    assert report.exit_code == 0
    assert report.requests_evaluated > 0
    # The accepted NAT bypass (from the egress check) follows the spec's declared exceptions.
    declared = declared_exceptions(spec)
    assert report.exceptions[: len(declared)] == declared
    accepted = report.exceptions[len(declared) :]
    assert len(accepted) == 1 and "accepted: collectors call partner APIs" in accepted[0]


def test_the_structure_check_alone_needs_no_verifier() -> None:
    spec, perimeter = _data_platform()
    result = structure.check_alone(spec, perimeter)
    assert result == structure.check(
        CheckContext(spec, perimeter, topology(spec, perimeter, frozenset()), None, 1)
    )
    assert result.findings == () and result.refusals == ()
    moved = dataclasses.replace(perimeter.associations[0], route_table_id="rtb-0fffffffffffffff0")
    edited = dataclasses.replace(perimeter, associations=(moved, *perimeter.associations[1:]))
    assert [f.code for f in structure.check_alone(spec, edited).findings] == ["XF504", "XF507"]


def test_a_refusal_stops_the_checks_after_it() -> None:
    spec, perimeter = _data_platform()
    refused = dataclasses.replace(
        perimeter, refusals=(Diagnostic("XF404", "a construct the verifier does not model"),)
    )
    report = verify_perimeter(spec, refused)
    assert report.exit_code == 2
    assert [d.code for d in report.refusals] == ["XF404"]
    # Neither the egress check (its accepted bypass) nor the exposure check ran.
    assert report.requests_evaluated == 0 and report.exceptions == ()


def test_the_structure_check_finds_a_missing_association_and_an_extra_one() -> None:
    spec, perimeter = _data_platform()
    first = perimeter.associations[0]
    moved = dataclasses.replace(first, route_table_id="rtb-0fffffffffffffff0")
    edited = dataclasses.replace(perimeter, associations=(moved, *perimeter.associations[1:]))
    context = CheckContext(spec, edited, topology(spec, edited, frozenset()), None, 1)
    result = structure.check(context)
    assert result.refusals == ()
    assert [f.code for f in result.findings] == ["XF504", "XF507"]
    assert first.route_table_id in result.findings[0].message
    assert "rtb-0fffffffffffffff0" in result.findings[1].message
