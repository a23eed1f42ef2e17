"""Markings the node understands (docs/sharing.md), end to end: TAXII reads, sensor exports, what
may leave for a peer, and the Add Objects status (TAXII 2.1 section 5.5).

STIX 2.1 section 7.2.1.4 fixes the TLP marking definitions; 7.2.1.3 defines statement markings;
7.2.3 granular markings.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
from starlette.testclient import TestClient

from accord.coordination.workspace import Workspace
from accord.domain.sharing import Agreement
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.federation.model import Peer, PeerKind
from accord.federation.outbound import entitled_rows
from accord.federation.runtime import install
from accord.services import admin
from tests.conftest import Node, shared_data
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE

OPENCTI_AMBER_STRICT = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
EXPORTS = "/exports/default/default"


def _marking_id() -> str:
    return f"marking-definition--{uuid.uuid4()}"


def _statement(marking_id: str, text: str = "Copyright 2026, Health ISAC.") -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": marking_id,
            "created": "2026-01-01T00:00:00.000Z", "definition_type": "statement",
            "definition": {"statement": text}}


def _post(client: TestClient, node: Node, who: str, *objects: dict[str, Any]) -> dict[str, Any]:
    r = client.post(BASE + "/objects/", json=envelope(*objects), headers={**node.auth(who), "Content-Type": TAXII})
    assert r.status_code == 202
    body: dict[str, Any] = r.json()
    return body


def _readable(client: TestClient, node: Node, who: str, object_id: str) -> bool:
    r = client.get(f"{BASE}/objects/{object_id}/", headers={**node.auth(who), "Accept": TAXII})
    assert r.status_code in (200, 404)
    return r.status_code == 200


def test_a_marking_the_node_does_not_understand_is_red(client: TestClient, node: Node) -> None:
    """An unknown id in object_marking_refs or in a granular marking_ref: the owner's alone, in TAXII
    reads and in sensor exports; a statement marking defined in the same envelope restricts nothing."""
    copyright_ = _marking_id()
    unknown = indicator(1, markings=(_marking_id(),), pattern="[ipv4-addr:value = '203.0.113.10']")
    granular = indicator(2, tlp=Tlp.GREEN, pattern="[ipv4-addr:value = '203.0.113.11']",
                         granular_markings=[{"marking_ref": _marking_id(), "selectors": ["pattern"]}])
    stated = indicator(3, markings=(copyright_,), pattern="[ipv4-addr:value = '203.0.113.12']")
    status = _post(client, node, "health-isac", unknown, granular, stated, _statement(copyright_))
    assert status["success_count"] == 4
    assert not _readable(client, node, "energy-co", unknown["id"])
    assert not _readable(client, node, "energy-co", granular["id"])
    assert _readable(client, node, "energy-co", stated["id"])
    assert _readable(client, node, "health-isac", unknown["id"])
    energy = client.get(EXPORTS + "/zeek-intel.txt", headers=node.auth("energy-co")).text
    assert "203.0.113.12" in energy and "203.0.113.10" not in energy and "203.0.113.11" not in energy
    owner = client.get(EXPORTS + "/zeek-intel.txt", headers=node.auth("health-isac")).text
    assert "203.0.113.10" in owner and "203.0.113.11" in owner
    assert client.get(EXPORTS + "/suricata/ipv4.lst", headers=node.auth("energy-co")).text.split() == ["203.0.113.12"]


def test_a_statement_counts_only_from_the_organisation_that_marks(client: TestClient, node: Node) -> None:
    """A statement marking stored earlier by the posting organisation restricts nothing; one another
    organisation defined cannot make an unknown marking harmless."""
    own, foreign = _marking_id(), _marking_id()
    assert _post(client, node, "health-isac", _statement(own))["success_count"] == 1
    assert _post(client, node, "energy-co", _statement(foreign, "Copyright 2026, Energy Co."))["success_count"] == 1
    first, second = indicator(1, markings=(own,)), indicator(2, markings=(foreign,))
    assert _post(client, node, "health-isac", first, second)["success_count"] == 2
    assert _readable(client, node, "energy-co", first["id"])
    assert not _readable(client, node, "energy-co", second["id"])


def test_opencti_amber_strict_is_read_here_and_never_leaves(client: TestClient, node: Node, tmp_path: Path) -> None:
    """docs/sharing.md rule 4: AMBER+STRICT is read by the collection's audience, and never forwarded
    to a peer, even one whose agreement names AMBER; OpenCTI's own id for it counts the same."""
    rt = install(node.store, tmp_path)
    strict = indicator(1, markings=(OPENCTI_AMBER_STRICT,))
    amber = indicator(2, tlp=Tlp.AMBER)
    assert _post(client, node, "health-isac", strict, amber)["success_count"] == 2
    assert _readable(client, node, "energy-co", strict["id"])
    with node.store.read() as tx:
        col = tx.find_collection(None, "default")
        peer_org = next(o for o in tx.list_orgs() if o.name == "energy-co")
        peer = Peer(1, "energy-node", PeerKind.NODE, peer_org.id, "identity--" + str(uuid.uuid4()),
                    "https://energy.example", "default", "default", None, frozenset({col.id}),
                    Agreement(frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})), 0, "", None, None)
        leaving = entitled_rows(tx, rt, peer, tx.outbound(0, 100, [col.id]))
    assert [orjson.loads(r.body)["id"] for r in leaving] == [amber["id"]]


def test_tlp_definitions_outside_the_fixed_ids_are_refused(client: TestClient, node: Node) -> None:
    """STIX 2.1 section 7.2.1.4: a `tlp` marking definition under its own id, or a standard id whose
    definition names another level, is listed in the status failures; the rest of the envelope is
    stored."""
    custom = {"type": "marking-definition", "spec_version": "2.1", "id": _marking_id(),
              "created": "2026-01-01T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "amber"}}
    forged = {"type": "marking-definition", "spec_version": "2.1", "id": TLP2_MARKING_IDS[Tlp.RED],
              "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED", "extensions": {
                  "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                      "extension_type": "property-extension", "tlp_2_0": "clear"}}}
    status = _post(client, node, "health-isac", custom, forged, indicator(1))
    assert status["success_count"] == 1
    failures = {f["id"]: f["message"] for f in status["failures"]}
    assert "7.2.1.4" in failures[custom["id"]] and "not a TLP id" in failures[custom["id"]]
    assert "7.2.1.4" in failures[forged["id"]] and "names TLP:CLEAR" in failures[forged["id"]]


def test_attack_bundles_stay_readable_beside_an_unknown_marking(client: TestClient, node: Node) -> None:
    """MITRE ATT&CK references its copyright statement from every object and sends the definition
    last, in a later envelope: the objects are read by the whole collection; one object of the same
    bundle under a marking nobody defined is not."""
    objects: list[dict[str, Any]] = orjson.loads(shared_data("attack", "ics-attack-18.0.json").read_bytes())["objects"]
    hidden = dict(objects[0], object_marking_refs=[_marking_id()])
    principal = admin.principal_for(node.store, "health-isac-analyst")
    stored, failures = admin.load_bundle(node.store, principal, "default", [hidden, *objects[1:]])
    assert failures == [] and stored == len(objects)
    assert not _readable(client, node, "energy-co", hidden["id"])
    assert all(_readable(client, node, "energy-co", o["id"]) for o in objects[1:2000:150])


def test_early_warnings_name_only_who_may_read_an_unknown_marking(node: Node) -> None:
    """Coordination's recipients (Workspace.entitled) follow the same rule: a marking that is
    neither TLP nor a sharing group of this node leaves the owner alone."""
    ws = Workspace(node.store, admin.principal_for(node.store, "health-isac-analyst"))
    amber = ws.entitled([TLP2_MARKING_IDS[Tlp.AMBER]])
    assert ws.me.identity_id in amber and len(amber) > 1
    assert ws.entitled([TLP2_MARKING_IDS[Tlp.AMBER], _marking_id()]) == [ws.me.identity_id]
