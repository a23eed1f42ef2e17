"""Markings the node understands (docs/sharing.md): the pure classification and the definition checks.

STIX 2.1 section 7.2.1.4 fixes the TLP 1.0 marking definitions and their ids, the TLP 2.0 extension
the TLP 2.0 ones; section 7.2.1.3 defines statement markings; section 7.2.3 granular markings.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import stix2.v21
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.errors import InvalidObject
from accord.domain.tlp import (
    NON_RESTRICTING_MARKING_IDS,
    TLP1_MARKING_IDS,
    TLP2_MARKING_IDS,
    TLP_BY_MARKING,
    VENDOR_MARKING_IDS,
    Tlp,
    classify_markings,
    is_statement_marking,
    tlp2_marking_definition,
)
from accord.stix.validate import check_object

OPENCTI_AMBER_STRICT = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
ATTACK_COPYRIGHT = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
GROUPS = frozenset({f"marking-definition--{uuid.UUID(int=1, version=4)}"})
STATEMENTS = frozenset({f"marking-definition--{uuid.UUID(int=2, version=4)}"})

tlp_ref = st.sampled_from(sorted(TLP_BY_MARKING))
unknown_ref = st.uuids(version=4).map(lambda u: f"marking-definition--{u}").filter(
    lambda r: r not in TLP_BY_MARKING and r not in GROUPS | STATEMENTS)
harmless_ref = st.sampled_from(sorted(GROUPS | STATEMENTS | NON_RESTRICTING_MARKING_IDS))
any_ref = st.one_of(tlp_ref, unknown_ref, harmless_ref)


def classify(refs: list[str]) -> Tlp | None:
    return classify_markings(refs, STATEMENTS, GROUPS)


def one(ref: str) -> Tlp | None:
    """docs/sharing.md restated per reference: a TLP id its level, a known harmless marking none,
    anything else RED."""
    if ref in TLP_BY_MARKING:
        return TLP_BY_MARKING[ref]
    return None if ref in GROUPS | STATEMENTS | NON_RESTRICTING_MARKING_IDS else Tlp.RED


@given(st.lists(any_ref, max_size=6))
def test_most_restrictive_reference_wins(refs: list[str]) -> None:
    levels = [level for level in map(one, refs) if level is not None]
    assert classify(refs) == (max(levels) if levels else None)


@given(st.lists(any_ref, max_size=6), unknown_ref, st.randoms())
def test_a_marking_the_node_does_not_understand_is_red(refs: list[str], unknown: str, rnd: Any) -> None:
    refs = [*refs, unknown]
    rnd.shuffle(refs)
    assert classify(refs) is Tlp.RED


@given(st.lists(any_ref, min_size=1, max_size=6), any_ref)
def test_adding_a_reference_never_widens(refs: list[str], extra: str) -> None:
    before = classify(refs)
    after = classify([*refs, extra])
    if before is not None:  # None is "no TLP marking": an explicit TLP label then decides
        assert after is not None and after >= before
    assert classify([*refs, extra, *refs]) == after  # order and repetition do not matter


def test_vendor_ids_read_as_their_level_and_statements_restrict_nothing() -> None:
    assert classify([OPENCTI_AMBER_STRICT]) is Tlp.AMBER_STRICT  # was None (unmarked: AMBER)
    assert classify([OPENCTI_AMBER_STRICT, TLP1_MARKING_IDS[Tlp.AMBER]]) is Tlp.AMBER_STRICT
    assert classify([ATTACK_COPYRIGHT]) is None
    assert classify([*GROUPS, TLP2_MARKING_IDS[Tlp.GREEN]]) is Tlp.GREEN
    assert classify([*STATEMENTS]) is None
    assert classify_markings([*STATEMENTS], (), ()) is Tlp.RED  # a statement nobody defined
    assert set(VENDOR_MARKING_IDS) == {OPENCTI_AMBER_STRICT}


def _definition(marking_id: str, **props: Any) -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": marking_id,
            "created": "2024-01-01T00:00:00.000Z", **props}


def _refused(obj: dict[str, Any]) -> str:
    with pytest.raises(InvalidObject) as exc:
        check_object(obj)
    return exc.value.reason


def test_tlp_definitions_under_other_ids_are_refused() -> None:
    """Section 7.2.1.4: a TLP marking definition has the fixed id of its level."""
    custom = f"marking-definition--{uuid.uuid4()}"
    assert "7.2.1.4" in _refused(_definition(custom, definition_type="tlp", definition={"tlp": "amber"}))
    tlp2 = tlp2_marking_definition(Tlp.RED) | {"id": custom}
    assert "7.2.1.4" in _refused(tlp2)
    assert "7.2.1.4" in _refused(_definition(custom, name="TLP:AMBER+STRICT", definition_type="statement",
                                             definition={"statement": "for the recipient's organisation only"}))
    statement = _definition(custom, definition_type="statement", definition={"statement": "Copyright Example"})
    assert check_object(statement).id == custom and is_statement_marking(statement)


def test_standard_ids_hold_only_definitions_of_their_level() -> None:
    for level in Tlp:
        check_object(tlp2_marking_definition(level))
    # OpenCTI's re-serialisation of the standard objects names the same level: accepted
    check_object(json.loads(stix2.v21.TLP_GREEN.serialize()) | {"definition_type": "TLP", "definition": {
        "TLP": "TLP:GREEN"}, "x_opencti_definition_type": "TLP", "x_opencti_definition": "TLP:GREEN"})
    for standard in (stix2.v21.TLP_WHITE, stix2.v21.TLP_GREEN, stix2.v21.TLP_AMBER, stix2.v21.TLP_RED):
        # a producer's own property changes no meaning
        check_object(json.loads(standard.serialize()) | {"x_producer_color": "#fff"})
    green = json.loads(stix2.v21.TLP_GREEN.serialize())
    assert "7.2.1.4" in _refused(green | {"definition": {"tlp": "clear"}})
    assert "7.2.1.4" in _refused(green | {"name": "TLP:CLEAR"})
    red2 = tlp2_marking_definition(Tlp.RED)
    wrong = red2 | {"extensions": {k: v | {"tlp_2_0": "clear"} for k, v in red2["extensions"].items()}}
    assert "7.2.1.4" in _refused(wrong)
    assert "7.2.1.4" in _refused(green | {"x_opencti_definition_type": "TLP", "x_opencti_definition": "TLP:RED"})


def test_vendor_definitions_name_no_other_level_than_their_id() -> None:
    # OpenCTI's platform export (definition_type "TLP", name) and its connectors' statement form
    check_object(_definition(OPENCTI_AMBER_STRICT, name="TLP:AMBER+STRICT", definition_type="TLP",
                             definition={"tlp": "AMBER+STRICT"}))
    check_object(_definition(OPENCTI_AMBER_STRICT, definition_type="statement", definition={"statement": "custom"},
                             x_opencti_definition_type="TLP", x_opencti_definition="TLP:AMBER+STRICT"))
    assert "TLP:AMBER+STRICT" in _refused(_definition(OPENCTI_AMBER_STRICT, name="TLP:CLEAR", definition_type="tlp",
                                                      definition={"tlp": "clear"}))
    # a definition that names no level changes nothing: references are classified by the id
    check_object(_definition(OPENCTI_AMBER_STRICT, definition_type="statement", definition={"statement": "custom"}))
