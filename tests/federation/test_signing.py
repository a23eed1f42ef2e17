"""Hybrid signatures over RFC 8785 canonical JSON (batch format 2 and per-object format 1), the RFC
9162 Merkle tree, key files, rotation; the outbound rule may_forward."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.errors import InvalidInput
from accord.domain.sharing import Agreement, Visibility, may_forward
from accord.domain.tlp import Tlp
from accord.federation import merkle
from accord.federation.signing import (
    EXTENSION_ID,
    Proof,
    PublicKeys,
    Signature,
    Verifier,
    extension,
    load_or_create,
    read_extension,
    without_signature,
)
from tests.federation.legacy import V1Signer
from tests.stixgen import indicator

ORIGIN = "identity--00000000-0000-4000-8000-000000000001"
OTHER_ORIGIN = "identity--00000000-0000-4000-8000-000000000002"


def _carry(obj: dict[str, Any], sig: Signature, hops: int = 1) -> dict[str, Any]:
    """The object as a peer receives it, re-parsed from JSON."""
    carried = {**obj, "extensions": {**obj.get("extensions", {}), EXTENSION_ID: extension(sig, hops)}}
    return dict(json.loads(json.dumps(carried)))


def _batch(tmp_path: Path, n: int = 5) -> tuple[list[dict[str, Any]], PublicKeys]:
    signer = load_or_create(tmp_path, ORIGIN)
    objects = [indicator(i, extensions={"x-other--1": {"extension_type": "property-extension", "a": i}})
               for i in range(n)]
    return [_carry(o, s) for o, s in zip(objects, signer.sign_batch(objects), strict=True)], signer.public


def _check(public: PublicKeys, obj: dict[str, Any]) -> bool:
    found = read_extension(obj)
    assert found is not None
    return Verifier().verify(public, found[0], obj)


# --- the Merkle tree is RFC 9162's --------------------------------------------------------------

def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, transcribed without sharing code with accord.federation.merkle."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


@pytest.mark.parametrize("size", [*range(1, 18), 31, 32, 33, 1000])
def test_tree_root_and_every_audit_path(size: int) -> None:
    leaves = [merkle.leaf_hash(b"leaf %d" % i) for i in range(size)]
    root, paths = merkle.tree(leaves)
    assert root == _mth(leaves)
    for m, path in enumerate(paths):
        assert merkle.root_from_path(leaves[m], m, size, path) == root
        if size > 1:  # another index, a shorter or longer path: never this root (the size is bound by
            # the signed message: the left part of a tree of n leaves has the same paths at n + 1)
            assert merkle.root_from_path(leaves[m], (m + 1) % size, size, path) != root
            assert merkle.root_from_path(leaves[m], m, size, path[:-1]) != root
            assert merkle.root_from_path(leaves[m], m, size, [*path, root]) is None


def test_rfc9162_leaf_and_node_prefixes() -> None:
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert a == hashlib.sha256(b"\x00a").digest()
    root, _ = merkle.tree([a, b])
    assert root == hashlib.sha256(b"\x01" + a + b).digest()
    # an interior node presented as a leaf of a smaller tree does not reproduce the root
    assert merkle.root_from_path(merkle.leaf_hash(a + b), 0, 1, []) != root
    assert merkle.root_from_path(a, 2, 2, [b]) is None and merkle.root_from_path(a, 0, 0, []) is None


# --- format 2: batch signatures -------------------------------------------------------------------

def test_each_object_of_a_batch_verifies_alone_after_reserialisation_and_relaying(tmp_path: Path) -> None:
    carried, public = _batch(tmp_path)
    for obj in carried:
        reordered = json.loads(json.dumps(obj, sort_keys=True, indent=3))
        found = read_extension(reordered)
        assert found is not None and found[1] == 1 and found[0].batched
        reordered["extensions"][EXTENSION_ID]["hops"] = 5  # relays change the hop count only
        assert Verifier().verify(public, found[0], reordered)
        assert list(without_signature(reordered)["extensions"]) == ["x-other--1"]
    ext = carried[3]["extensions"][EXTENSION_ID]
    assert (ext["format"], ext["leaf"], ext["size"], len(ext["path"])) == (2, 3, 5, 3)


def test_leaves_are_salted_so_paths_tell_nothing_of_siblings(tmp_path: Path) -> None:
    """The same objects signed twice give other leaf hashes: a sibling hash cannot be confirmed by guessing."""
    signer = load_or_create(tmp_path, ORIGIN)
    objects = [indicator(1), indicator(2)]
    first, second = signer.sign_batch(objects), signer.sign_batch(objects)
    assert first[0].proof is not None and second[0].proof is not None
    assert first[0].proof.path != second[0].proof.path and first[0].proof.salt != second[0].proof.salt


def test_a_batch_of_one_has_an_empty_path(tmp_path: Path) -> None:
    carried, public = _batch(tmp_path, 1)
    assert carried[0]["extensions"][EXTENSION_ID]["path"] == [] and _check(public, carried[0])


def _tamper(carried: list[dict[str, Any]], change: str, tmp_path: Path) -> dict[str, Any]:
    obj = copy.deepcopy(carried[2])
    ext = obj["extensions"][EXTENSION_ID]
    if change == "object":
        obj["pattern"] = "[ipv4-addr:value = '203.0.113.1']"
    elif change == "path":
        first = bytearray(base64.b64decode(ext["path"][0]))
        first[0] ^= 1
        ext["path"][0] = base64.b64encode(bytes(first)).decode()
    elif change == "salt":
        ext["salt"] = carried[1]["extensions"][EXTENSION_ID]["salt"]
    elif change == "swapped leaf index":
        ext["leaf"] = 3
    elif change == "size":
        ext["size"] = 6
    elif change == "another object's path":
        ext["path"] = carried[1]["extensions"][EXTENSION_ID]["path"]
    elif change == "origin":
        ext["origin"] = OTHER_ORIGIN
    elif change in ("ed25519", "ml_dsa_65"):  # one half from another batch: both schemes must hold
        ext[change] = _batch(tmp_path, 5)[0][2]["extensions"][EXTENSION_ID][change]
    elif change == "forged root":  # a tree the forger built, signed with keys it holds, named as ours
        forger = load_or_create(tmp_path / "forger", ORIGIN)
        objects = [without_signature(o) for o in carried]
        objects[2]["pattern"] = "[ipv4-addr:value = '203.0.113.1']"
        forged = extension(forger.sign_batch(objects)[2], 1)
        obj = {**objects[2], "extensions": {**objects[2]["extensions"], EXTENSION_ID: {**forged, "key": ext["key"]}}}
    return obj


@pytest.mark.parametrize("change", ["object", "salt", "path", "swapped leaf index", "size", "another object's path",
                                    "origin", "ed25519", "ml_dsa_65", "forged root"])
def test_any_change_breaks_a_batch_signature(tmp_path: Path, change: str) -> None:
    carried, public = _batch(tmp_path / "origin")
    assert _check(public, carried[2])
    assert not _check(public, _tamper(carried, change, tmp_path))


def test_each_distinct_root_is_checked_once(tmp_path: Path) -> None:
    carried, public = _batch(tmp_path, 40)
    verifier = Verifier()
    items = [(public, read_extension(o)[0], o) for o in carried]  # type: ignore[index]
    assert all(verifier.verify_many(items)) and verifier.root_checks == 1
    forged = [(public, Signature(s.origin, s.key_id, s.ed25519, s.ml_dsa_65[:-1] + b"\x00"), o) for _, s, o in items]
    assert not any(verifier.verify_many(forged)) and verifier.root_checks == 2  # refused once, remembered
    tampered = [(k, s, {**o, "name": "changed"}) for k, s, o in items]
    assert not any(verifier.verify_many(tampered))  # a leaf that is not in the tree reaches another root
    small = Verifier(capacity=2)
    for batch in range(3):
        b_carried, b_public = _batch(tmp_path / str(batch), 2)
        assert all(small.verify_many([(b_public, read_extension(o)[0], o) for o in b_carried]))  # type: ignore[index]
    assert len(small._known) == 2 and small.root_checks == 3


@pytest.mark.parametrize("field,value", [("leaf", 5), ("leaf", -1), ("leaf", "0"), ("size", 0), ("format", 3),
                                         ("path", ["AAAA"]), ("path", "x"), ("ed25519", "AAAA"), ("ml_dsa_65", 7),
                                         ("salt", "AAAA"), ("salt", None)])
def test_malformed_extensions_are_clear_errors(tmp_path: Path, field: str, value: Any) -> None:
    carried, _ = _batch(tmp_path)
    carried[0]["extensions"][EXTENSION_ID][field] = value
    with pytest.raises(InvalidInput, match="malformed origin-signature extension"):
        read_extension(carried[0])


def test_a_packed_proof_round_trips_and_is_never_a_bare_signature() -> None:
    proof = Proof(b"s" * 16, 3, 7, (b"\x01" * 32, b"\x02" * 32))
    sig = Signature.batch(ORIGIN, "k", proof, b"e" * 64, b"m")
    assert sig.batched and sig.proof == proof and sig.ed25519_signature == b"e" * 64
    assert Signature.batch(ORIGIN, "k", Proof(b"s" * 16, 0, 1, ()), b"e" * 64, b"m").proof == Proof(b"s" * 16, 0, 1, ())
    with pytest.raises(InvalidInput):
        _ = Signature(ORIGIN, "k", b"\x02" + b"e" * 70, b"m").proof


# --- format 1: per-object signatures keep verifying ---------------------------------------------------

def test_format_1_signatures_still_verify_and_still_break(tmp_path: Path) -> None:
    legacy = V1Signer(tmp_path, ORIGIN)
    public = load_or_create(tmp_path, ORIGIN).public
    obj = indicator(1)
    carried = _carry(obj, legacy.sign(obj))
    assert "format" not in carried["extensions"][EXTENSION_ID] and _check(public, carried)
    found = read_extension(carried)
    assert found is not None and not found[0].batched
    assert not _check(public, {**carried, "name": "changed"})


def test_keys_are_private_and_rotation_keeps_old_objects_verifiable(tmp_path: Path) -> None:
    old_v1 = _carry(indicator(7), V1Signer(tmp_path, ORIGIN).sign(indicator(7)))
    carried, old_public = _batch(tmp_path)
    for f in (tmp_path / "identity").iterdir():
        assert f.stat().st_mode & 0o777 == 0o600
    new = load_or_create(tmp_path, ORIGIN, rotate=True)
    assert new.public.key_id != old_public.key_id
    assert load_or_create(tmp_path, ORIGIN).public == new.public  # the rotated pair is now current
    assert _check(old_public, carried[0]) and _check(old_public, old_v1)
    assert not _check(new.public, carried[0]) and not _check(new.public, old_v1)
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
