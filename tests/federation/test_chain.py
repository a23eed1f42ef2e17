"""A chain A - B - C of real node processes: propagation, TLP limits, refusals, replay, agreement digests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from accord.domain.tlp import Tlp
from accord.federation import peers as fed
from accord.federation.signing import EXTENSION_ID
from accord.stix.timestamps import timestamp_key
from tests.federation.cluster import Node, link, trust, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def _objects(node: Node) -> list[dict[str, Any]]:
    resp = httpx.get(f"{node.url}/taxii2/default/collections/default/objects/?match[version]=all",
                     headers=node.headers(), timeout=10)
    return list(resp.json().get("objects", []))


def _signed_copy(source: Node, peer_key: str, object_id: str) -> dict[str, Any]:
    """The object as ``source`` serves it to a peer node: with the origin signature extension."""
    resp = httpx.get(f"{source.url}/federation/taxii2/default/collections/default/objects/",
                     params={"next": "0"}, headers=source.headers(peer_key), timeout=10)
    found = [o for o in resp.json()["objects"] if o["id"] == object_id]
    assert found, f"{object_id} not in the signed view"
    return dict(found[-1])


def test_chain_propagates_signed_objects_within_policy(nodes: Callable[[str], Node]) -> None:
    a, b, c = nodes("A"), nodes("B"), nodes("C")
    link(a, b)
    link(b, c)
    trust(c, a)

    green = indicator(1, tlp=Tlp.GREEN)
    red = indicator(2, tlp=Tlp.RED)
    amber = indicator(3, tlp=Tlp.AMBER)
    clear = indicator(4, tlp=Tlp.CLEAR)
    status = a.post([green, red, amber])
    assert status["success_count"] == 3
    a.post([clear])  # a sentinel stored after the others: once it is at C, so is all that may be
    wait_until(lambda: (clear["id"], _key(clear)) in c.held(), 15, "the sentinel at C")
    wait_until(lambda: (amber["id"], _key(amber)) in b.held(), 15, "AMBER at B")

    at_b, at_c = {o["id"]: o for o in _objects(b)}, {o["id"]: o for o in _objects(c)}
    assert at_c[green["id"]] == green and at_b[green["id"]] == green  # JSON-equal, no extension added
    assert red["id"] not in at_b and red["id"] not in at_c  # TLP:RED never leaves A
    assert amber["id"] in at_b and amber["id"] not in at_c  # AMBER: B may not pass it on

    with c.store.read() as tx:  # C knows the object comes from A, relayed once by B
        rows = [r for r in tx.outbound(0, 100) if r.id == green["id"]]
        origin_a = tx.find_peer("A")
    assert rows and rows[0].signature is not None and origin_a is not None
    assert rows[0].signature.origin == origin_a.node_id and rows[0].hops == 2

    status_rows = {r["peer"]: r for r in fed.sync_status(b.store, check=True)}
    assert status_rows["A"]["agree"] is True and status_rows["A"]["missing"] == 0
    assert status_rows["C"]["agree"] is True


def test_tampered_unsigned_and_replayed_objects_are_refused(nodes: Callable[[str], Node]) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    with a.store.read() as tx:
        b_seen_from_a = tx.find_peer("B")
    with b.store.read() as tx:
        a_seen_from_b = tx.find_peer("A")
    assert b_seen_from_a is not None and a_seen_from_b is not None
    a_key_at_b = b_seen_from_a.credential  # what A's node uses to push to B
    b_key_at_a = a_seen_from_b.credential
    assert a_key_at_b and b_key_at_a

    v1 = indicator(10, tlp=Tlp.GREEN)
    v2 = indicator(10, tlp=Tlp.GREEN, modified="2026-02-01T00:00:00.000Z", name="second")
    a.post([v1])
    wait_until(lambda: (v1["id"], _key(v1)) in b.held(), 15, "v1 at B")
    signed_v1 = _signed_copy(a, b_key_at_a, v1["id"])
    assert EXTENSION_ID in signed_v1["extensions"]
    a.post([v2])
    wait_until(lambda: (v2["id"], _key(v2)) in b.held(), 15, "v2 at B")
    before = b.count()

    tampered = copy.deepcopy(signed_v1)
    tampered["pattern"] = "[ipv4-addr:value = '203.0.113.66']"
    unsigned = indicator(11, tlp=Tlp.GREEN)
    forged_origin = copy.deepcopy(signed_v1)
    forged_origin["extensions"][EXTENSION_ID]["key"] = "0" * 16
    status = b.post([tampered, unsigned, forged_origin], key=a_key_at_b)
    reasons = [f["message"] for f in status["failures"]]
    assert status["success_count"] == 0 and len(reasons) == 3
    assert "does not verify" in reasons[0] and "unsigned" in reasons[1] and "unknown signer" in reasons[2]
    with b.store.read() as tx:
        assert len(tx.list_quarantine()) == 3

    replay = b.post([signed_v1], key=a_key_at_b)  # an authentic old version, sent again after v2
    assert replay["success_count"] == 0 and replay["failure_count"] == 1
    assert replay["failures"][0]["message"].startswith("refused: replay of version 2026-01-01T00:00:00.000Z, "
                                                       "superseded by 2026-02-01T00:00:00.000Z")
    assert b.count() == before  # nothing stored twice, nothing relayed again
    with b.store.read() as tx:
        assert len(tx.list_quarantine()) == 3  # authentic: refused, not quarantined
    latest = httpx.get(f"{b.url}/taxii2/default/collections/default/objects/{v1['id']}/",
                       headers=b.headers(), timeout=10).json()["objects"]
    assert latest == [v2]


def _key(obj: dict[str, Any]) -> str:
    return timestamp_key(obj["modified"])


def test_the_identity_document_serves_keys_and_the_extension_definition(nodes: Callable[[str], Node]) -> None:
    a = nodes("A")
    doc = orjson.loads(httpx.get(a.url + "/federation/identity/", timeout=5).content)
    assert doc["extension_definition"]["id"] == EXTENSION_ID
    assert doc["identity"]["type"] == "identity" and doc["fingerprint"] == a.fingerprint()
    key_files = sorted(p.name for p in (a.data_dir / "identity").iterdir())
    assert key_files == ["ed25519.key", "ml-dsa-65.key", "secrets.key"]  # secrets.key seals peer credentials
    assert all((a.data_dir / "identity" / f).stat().st_mode & 0o777 == 0o600 for f in key_files)
