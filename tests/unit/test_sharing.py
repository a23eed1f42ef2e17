"""The sharing policy as docs/sharing.md states it, case by case."""

from __future__ import annotations

import pytest

from accord.domain.sharing import CollectionAccess, Reader, Visibility, may_access_collection, may_read
from accord.domain.tlp import MARKING_TLP, TLP1_MARKING_IDS, TLP2_MARKING_IDS, Tlp, tlp_of

OWNER, OTHER = 1, 2


@pytest.mark.parametrize("tlp,expected", [
    (Tlp.CLEAR, True), (Tlp.GREEN, True), (Tlp.AMBER, True), (Tlp.AMBER_STRICT, True), (Tlp.RED, False),
    (None, True),  # unmarked is AMBER
])
def test_levels_without_groups(tlp: Tlp | None, expected: bool) -> None:
    assert may_read(Reader(OTHER), Visibility(OWNER, tlp)) is expected
    assert may_read(Reader(OWNER), Visibility(OWNER, tlp)) is True


@pytest.mark.parametrize("tlp", list(Tlp))
def test_groups_narrow_every_level_and_name_red_recipients(tlp: Tlp) -> None:
    vis = Visibility(OWNER, tlp, frozenset({7, 8}))
    assert may_read(Reader(OTHER, frozenset({8})), vis)
    assert not may_read(Reader(OTHER, frozenset({9})), vis)
    assert not may_read(Reader(OTHER), vis)
    assert may_read(Reader(OWNER), vis)


def test_collection_access() -> None:
    assert not may_access_collection(None)
    assert not may_access_collection(CollectionAccess(False, False))
    assert may_access_collection(CollectionAccess(True, False))
    assert may_access_collection(CollectionAccess(False, True))


def test_tlp_markings_most_restrictive_wins_and_tlp1_aliases() -> None:
    assert tlp_of([TLP2_MARKING_IDS[Tlp.GREEN], TLP2_MARKING_IDS[Tlp.RED]]) is Tlp.RED
    assert tlp_of([TLP1_MARKING_IDS[Tlp.CLEAR]]) is Tlp.CLEAR
    assert tlp_of(["marking-definition--00000000-0000-4000-8000-000000000000"]) is None
    assert len(MARKING_TLP) == 9
    assert Tlp.parse("amber+strict") is Tlp.AMBER_STRICT and Tlp.parse("TLP:WHITE") is Tlp.CLEAR
    with pytest.raises(ValueError):
        Tlp.parse("purple")
