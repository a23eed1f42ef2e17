"""Batch signatures between real nodes: forged batch proofs refused and quarantined; objects signed
one by one (format 1, before batches) still verified, stored and relayed unchanged."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from accord.domain.tlp import Tlp
from accord.federation.runtime import install
from accord.federation.signing import EXTENSION_ID, extension, load_or_create, without_signature
from accord.services import admin
from tests.federation.cluster import Node, link, trust, version_of, wait_until
from tests.federation.legacy import V1Signer
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


def _credential(at: Node, peer: str) -> str:
    with at.store.read() as tx:
        found = tx.find_peer(peer)
    assert found is not None and found.credential
    return found.credential


def test_forged_batch_proofs_are_refused_and_quarantined(nodes: Callable[[str], Node], tmp_path: Any) -> None:
    a, b = nodes("A"), nodes("B")
    link(a, b)
    batch = [indicator(n, tlp=Tlp.GREEN) for n in range(3)]
    a.post(batch)  # one envelope, one commit: the first push signs the three as one batch
    wait_until(lambda: {version_of(o) for o in batch} <= b.held(), 15, "the batch at B")
    resp = httpx.get(f"{a.url}/federation/taxii2/default/collections/default/objects/", params={"next": "0"},
                     headers=a.headers(_credential(b, "A")), timeout=10)
    signed = {o["id"]: o for o in resp.json()["objects"]}
    original = signed[batch[1]["id"]]
    ext = original["extensions"][EXTENSION_ID]
    assert (ext["format"], ext["leaf"], ext["size"], len(ext["path"])) == (2, 1, 3, 2)

    bad_path = copy.deepcopy(original)
    hashed = bytearray(base64.b64decode(bad_path["extensions"][EXTENSION_ID]["path"][0]))
    hashed[5] ^= 0x40
    bad_path["extensions"][EXTENSION_ID]["path"][0] = base64.b64encode(bytes(hashed)).decode()
    swapped = copy.deepcopy(original)
    swapped["extensions"][EXTENSION_ID]["leaf"] = 0
    tampered = copy.deepcopy(original)
    tampered["name"] = "changed on the way"
    # a forger's own batch over a changed object, signed with its keys and labelled with A's key id
    forger = load_or_create(tmp_path / "forger", ext["origin"])
    changed = {**without_signature(original), "pattern": "[ipv4-addr:value = '203.0.113.9']"}
    forged_ext = {**extension(forger.sign_batch([batch[0], changed])[1], 1), "key": ext["key"]}
    forged = {**changed, "extensions": {EXTENSION_ID: forged_ext}}

    before = b.count()
    status = b.post([bad_path, swapped, tampered, forged], key=_credential(a, "B"))
    assert status["success_count"] == 0 and status["failure_count"] == 4
    assert all("does not verify" in f["message"] for f in status["failures"])
    with b.store.read() as tx:
        assert len(tx.list_quarantine()) == 4
    assert b.count() == before
    replay = b.post([original], key=_credential(a, "B"))  # the authentic copy, sent again: unchanged
    assert replay["success_count"] == 1 and replay["successes"][0]["message"] == "already stored, unchanged"


def _preload_format_1(node: Node, objects: list[dict[str, Any]]) -> None:
    """Objects stored and signed one by one, as a node did before batch signatures (node stopped)."""
    install(node.store, node.data_dir)
    admin.load_bundle(node.store, admin.principal_for(node.store, admin.ADMIN_ACCOUNT), "default", objects)
    with node.store.read() as tx:
        rows = tx.outbound(0, 1000)
        origin = tx.get_org(int(tx.get_setting("host_org") or 0)).identity_id
    legacy = V1Signer(node.data_dir, origin)
    with node.store.write() as tx:
        tx.add_provenance([(r.date_added, legacy.sign(orjson.loads(r.body)), 0, None, frozenset()) for r in rows])


def test_objects_signed_one_by_one_still_flow_and_relay(nodes: Callable[[str], Node]) -> None:
    a = nodes("A")
    a.stop()
    old = [indicator(n, tlp=Tlp.GREEN) for n in range(300)]  # enough for the parallel verification path
    _preload_format_1(a, old)
    a.start()
    b, c = nodes("B"), nodes("C")
    link(a, b)
    link(b, c)
    trust(c, a)
    fresh = indicator(1000, tlp=Tlp.GREEN)
    a.post([fresh])
    wanted = {version_of(o) for o in [*old, fresh]}
    wait_until(lambda: wanted <= c.held(), 60, "old and new objects at C, through B")
    with c.store.read() as tx:
        rows = {r.id: r for r in tx.outbound(0, 1000)}
    assert rows[old[0]["id"]].signature is not None and not rows[old[0]["id"]].signature.batched
    assert rows[fresh["id"]].signature is not None and rows[fresh["id"]].signature.batched
    assert all(r.hops == 2 for r in rows.values())
    with c.store.read() as tx:
        assert tx.list_quarantine() == []
