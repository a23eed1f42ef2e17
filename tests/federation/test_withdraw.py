"""Withdrawal and revocation across real node processes: a chain A - B - C and a mesh of three."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from accord.domain.tlp import Tlp
from accord.federation.runtime import install
from accord.federation.withdraw import revoke, withdraw
from accord.store import privacy as db
from tests.federation.cluster import Node, link, pull_key, trust, version_of, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def _ids(node: Node) -> set[str]:
    return {i for i, _ in node.held()}


def _zeek(node: Node) -> str:
    resp = httpx.get(f"{node.url}/exports/default/default/zeek-intel.txt", headers=node.headers(), timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.text


def _value(obj: dict[str, object]) -> str:
    return str(obj["pattern"]).split("'")[1]


def test_a_withdrawal_reaches_every_node_of_a_chain(nodes: Callable[[str], Node]) -> None:
    a, b, c = nodes("A"), nodes("B"), nodes("C")
    link(a, b)
    link(b, c)
    trust(c, a)
    green, amber, kept = indicator(1, tlp=Tlp.GREEN), indicator(2, tlp=Tlp.AMBER), indicator(3, tlp=Tlp.CLEAR)
    a.post([green, amber, kept])
    wait_until(lambda: {green["id"], kept["id"]} <= _ids(c) and amber["id"] in _ids(b), 20, "objects at B and C")
    assert _value(green) in _zeek(c)
    signed_copy = next(o for o in httpx.get(
        f"{b.url}/federation/taxii2/default/collections/default/objects/", params={"next": "0"},
        headers=b.headers(pull_key(c, b)), timeout=10).json()["objects"] if o["id"] == green["id"])

    from accord.services import admin, transparency

    receipts = transparency.sent(a.store, admin.principal_for(a.store, "admin"))
    assert {(r["object_id"], r["via"]) for r in receipts} >= {(green["id"], "peer B"), (amber["id"], "peer B")}
    assert all(r["via"] != "peer C" for r in receipts)  # C received A's objects from B, not from A

    wid, versions, told = withdraw(a.store, install(a.store, a.data_dir), green["id"], "shared by mistake")
    assert versions == 1 and told == ["B"]  # A pushed it to B only; B relayed it to C
    wait_until(lambda: green["id"] not in _ids(b) and green["id"] not in _ids(c), 20, "the withdrawal at C")
    assert _value(green) not in _zeek(c) and _value(kept) in _zeek(c)  # exports follow the store
    assert green["id"] not in _ids(a) and {amber["id"], kept["id"]} <= _ids(b)
    with c.store.read() as tx:
        at_c = db.find_withdrawal(tx, wid)
        b_at_c = tx.find_peer("B")
    assert at_c is not None and b_at_c is not None and at_c.via_peer == b_at_c.id
    assert at_c.reason == "shared by mistake"
    with b.store.read() as tx:
        delivered = db.deliveries(tx, wid)
    assert len(delivered) == 1 and delivered[0][1] is not None  # B passed it on to C, delivered

    # the signed copy, replayed to C by B's key, is refused and not even quarantined
    status = c.post([signed_copy], key=pull_key(b, c))
    assert status["failure_count"] == 1 and "withdrawn by its origin" in status["failures"][0]["message"]
    assert green["id"] not in _ids(c)
    with c.store.read() as tx:
        assert all(q[2] != green["id"] for q in tx.list_quarantine())


def test_a_forged_withdrawal_is_refused(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    green = indicator(7, tlp=Tlp.GREEN)
    a.post([green])
    wait_until(lambda: green["id"] in _ids(b), 20, "the object at B")
    with b.store.read() as tx:
        origin = tx.find_peer("A")
    assert origin is not None and origin.node_id
    forged = {"origin": origin.node_id, "key_id": origin.node_id[-16:], "object_id": green["id"],
              "at": "2026-01-01T00:00:00.000Z", "reason": "", "ed25519": "AAAA", "ml_dsa_65": "AAAA"}
    resp = httpx.post(f"{b.url}/federation/withdrawals/", json=forged, headers=b.headers(pull_key(a, b)), timeout=10)
    assert resp.status_code == 400 and "unknown signer" in resp.text
    resp = httpx.post(f"{b.url}/federation/withdrawals/", content=b"[", headers=b.headers(pull_key(a, b)), timeout=10)
    assert resp.status_code == 400
    resp = httpx.post(f"{b.url}/federation/withdrawals/", json=forged, headers=b.headers(), timeout=10)
    assert resp.status_code == 403  # the admin of B is not a peer node
    assert green["id"] in _ids(b)


def test_a_withdrawal_reaches_a_mesh_once_per_node_and_revocation_too(nodes: Callable[[str], Node]) -> None:
    mesh = [nodes(f"M{i}") for i in range(3)]
    for x, y in itertools.combinations(mesh, 2):
        link(x, y)
    gone, revoked = indicator(11, tlp=Tlp.GREEN), indicator(12, tlp=Tlp.GREEN)
    mesh[0].post([gone, revoked])
    for node in mesh[1:]:
        wait_until(lambda node=node: {gone["id"], revoked["id"]} <= _ids(node), 20, f"objects at {node.name}")
    wid, _, told = withdraw(mesh[0].store, install(mesh[0].store, mesh[0].data_dir), gone["id"], "")
    assert sorted(told) == ["M1", "M2"]
    assert revoke(mesh[0].store, "admin", revoked["id"]) == ["default"]
    for node in mesh[1:]:
        wait_until(lambda node=node: gone["id"] not in _ids(node), 20, f"the withdrawal at {node.name}")
        wait_until(lambda node=node: any(i == revoked["id"] and v > version_of(revoked)[1] for i, v in node.held()),
                   20, f"the revocation at {node.name}")
        assert _value(revoked) not in _zeek(node)  # sensors stop matching a revoked indicator
        with node.store.read() as tx:
            assert [w.id for w in db.list_withdrawals(tx)] == [wid]
            assert all(d[1] is not None for d in db.deliveries(tx, wid))
