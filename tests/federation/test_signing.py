"""Hybrid signatures over RFC 8785 canonical JSON, key files, rotation; the outbound rule may_forward."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.sharing import Agreement, Visibility, may_forward
from accord.domain.tlp import Tlp
from accord.federation.signing import (
    EXTENSION_ID,
    PublicKeys,
    Signature,
    extension,
    load_or_create,
    read_extension,
    verify,
    without_signature,
)
from tests.stixgen import indicator

ORIGIN = "identity--00000000-0000-4000-8000-000000000001"


def _signed(tmp_path: Path) -> tuple[dict[str, Any], Signature, PublicKeys]:
    signer = load_or_create(tmp_path, ORIGIN)
    obj = indicator(1, extensions={"x-other--1": {"extension_type": "property-extension", "a": 1}})
    sig = signer.sign(obj)
    carried = {**obj, "extensions": {**obj["extensions"], EXTENSION_ID: extension(sig, 1)}}
    return carried, sig, signer.public


def test_signature_survives_reserialisation_and_relaying(tmp_path: Path) -> None:
    carried, _, public = _signed(tmp_path)
    reordered = json.loads(json.dumps(carried, sort_keys=True, indent=3))
    found = read_extension(reordered)
    assert found is not None and found[1] == 1
    assert verify(public, found[0], reordered)
    reordered["extensions"][EXTENSION_ID]["hops"] = 5  # relays change the hop count only
    assert verify(public, found[0], reordered)
    assert without_signature(reordered)["extensions"] == {"x-other--1": {"extension_type": "property-extension",
                                                                         "a": 1}}


@pytest.mark.parametrize("change", ["pattern", "origin", "ed25519", "ml_dsa_65"])
def test_any_change_breaks_the_signature(tmp_path: Path, change: str) -> None:
    carried, sig, public = _signed(tmp_path)
    if change == "pattern":
        carried = {**carried, "pattern": "[ipv4-addr:value = '203.0.113.1']"}
    elif change == "origin":
        sig = Signature("identity--00000000-0000-4000-8000-000000000002", sig.key_id, sig.ed25519, sig.ml_dsa_65)
    else:  # one forged half is enough to refuse: both schemes must hold
        other = load_or_create(tmp_path / "other", ORIGIN).sign(carried)
        sig = Signature(sig.origin, sig.key_id, *((other.ed25519, sig.ml_dsa_65) if change == "ed25519"
                                                  else (sig.ed25519, other.ml_dsa_65)))
    assert not verify(public, sig, carried)


def test_keys_are_private_and_rotation_keeps_old_objects_verifiable(tmp_path: Path) -> None:
    carried, sig, old_public = _signed(tmp_path)
    for f in (tmp_path / "identity").iterdir():
        assert f.stat().st_mode & 0o777 == 0o600
    new = load_or_create(tmp_path, ORIGIN, rotate=True)
    assert new.public.key_id != sig.key_id
    assert load_or_create(tmp_path, ORIGIN).public == new.public  # the rotated pair is now current
    assert verify(old_public, sig, carried)
    assert not verify(new.public, sig, carried)
    assert len([f for f in (tmp_path / "identity").iterdir() if f.name.startswith("retired-")]) == 2


@pytest.mark.parametrize("tlp,levels,originated,expected", [
    (Tlp.CLEAR, {Tlp.CLEAR}, False, True),
    (Tlp.GREEN, {Tlp.CLEAR}, True, False),
    (Tlp.GREEN, {Tlp.CLEAR, Tlp.GREEN}, False, True),
    (Tlp.AMBER, {Tlp.GREEN}, True, False),
    (Tlp.AMBER, {Tlp.AMBER}, True, True),
    (Tlp.AMBER, {Tlp.AMBER}, False, False),  # recipients of AMBER may not pass it on
    (None, {Tlp.AMBER}, True, True),  # unmarked is AMBER
    (Tlp.AMBER_STRICT, set(Tlp), True, False),
    (Tlp.RED, set(Tlp), True, False),
])
def test_may_forward_levels(tlp: Tlp | None, levels: set[Tlp], originated: bool, expected: bool) -> None:
    assert may_forward(Agreement(frozenset(levels)), Visibility(1, tlp), originated) is expected


@given(st.sampled_from(list(Tlp)), st.frozensets(st.integers(1, 5), max_size=3),
       st.frozensets(st.integers(1, 5), max_size=3), st.frozensets(st.sampled_from(list(Tlp))), st.booleans())
def test_red_and_strict_leave_only_to_named_groups(tlp: Tlp, groups: frozenset[int], named: frozenset[int],
                                                   levels: frozenset[Tlp], originated: bool) -> None:
    allowed = may_forward(Agreement(levels, named), Visibility(1, tlp, groups), originated)
    if groups:
        assert allowed == bool(groups & named)
    elif tlp in (Tlp.RED, Tlp.AMBER_STRICT):
        assert not allowed
