"""Round trips through MISP: ATT&CK for ICS (data no one here wrote) and markings that never widen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent
from starlette.testclient import TestClient

from accord.domain.model import OrgKind
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp, tlp_of
from accord.interop.misp import convert as conv
from accord.interop.misp import load, serve
from accord.services import admin
from accord.store.migrate import upgrade
from accord.store.repository import Store
from accord.web.app import create_app
from tests.conftest import Node, shared_data
from tests.interop.test_misp_import import _read


def _attack_ids(objects: list[dict[str, Any]], kind: str = "attack-pattern") -> dict[str, dict[str, Any]]:
    return {r["external_id"]: o for o in objects if o.get("type") == kind
            for r in o.get("external_references", []) if str(r.get("source_name", "")).startswith("mitre")}


def _served(client: TestClient, key: str) -> list[dict[str, Any]]:
    """Every event of the node's MISP feed, each checked to load as a PyMISP MISPEvent."""
    headers = {"Authorization": key}
    out = []
    for event_uuid in client.get("/misp/feed/manifest.json", headers=headers).json():
        body = client.get(f"/misp/feed/{event_uuid}.json", headers=headers)
        assert body.status_code == 200
        MISPEvent().load(body.text)
        out.append(body.json())
    return out


def test_attack_for_ics_through_misp_and_back(node: Node, tmp_path: Path) -> None:
    """ATT&CK for ICS loaded on one node, read as its MISP feed, imported on a second node: every
    technique, mitigation, software, group and campaign arrives with its name, ATT&CK id and kill
    chain phases, never wider than it left; imported back on the first node, the techniques refer
    to the ATT&CK objects held there instead of being stored twice."""
    bundle = json.loads(shared_data("attack", "ics-attack-18.0.json").read_text())
    stored, failures = admin.load_bundle(node.store, admin.principal_for(node.store, "admin"), "default",
                                         bundle["objects"])
    assert not failures
    with TestClient(create_app(node.store)) as client:
        events = _served(client, node.keys["energy-co"])
    assert events
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        upgrade(other.engine)
        admin.init_node(other, "cert-b", OrgKind.GOVERNMENT_CERT, "NL")
        done = load.load_events(other, admin.principal_for(other, "admin"), "default",
                                [(f"{e['Event']['uuid']}.json", json.dumps(e).encode()) for e in events])
        assert done.problems == []
        back = list(_read(other, "admin").values())
    finally:
        other.close()
    for kind in ("attack-pattern", "course-of-action", "malware", "intrusion-set", "campaign"):
        sent, got = _attack_ids(bundle["objects"], kind), _attack_ids(back, kind)
        assert sent, kind
        assert sorted(set(sent) - set(got)) == [] and sorted(set(got) - set(sent)) == [], kind
        for attack_id, obj in sent.items():
            assert got[attack_id]["name"] == obj["name"]
            assert got[attack_id].get("kill_chain_phases", []) == obj.get("kill_chain_phases", [])
            assert tlp_of(got[attack_id]["object_marking_refs"]) is Tlp.AMBER  # unmarked here: AMBER
    # and back into the node that holds ATT&CK: no second copy of any technique
    techniques = set(_attack_ids(bundle["objects"]))
    again = load.load_events(node.store, admin.principal_for(node.store, "energy-co-analyst"), "default",
                             [(f"{e['Event']['uuid']}.json", json.dumps(e).encode()) for e in events])
    assert again.problems == []
    mine = [o for o in _read(node.store, "energy-co-analyst").values()]
    held = _attack_ids([o for o in mine if o["id"] in {p["id"] for p in bundle["objects"]}])
    assert set(held) == techniques
    assert len(_attack_ids(mine)) == len(techniques)  # not two attack-patterns for one ATT&CK id
    grouping_refs = {r for o in mine if o["type"] == "grouping" for r in o["object_refs"]}
    assert {o["id"] for o in held.values()} <= grouping_refs


GRID = "marking-definition--6b1d6c3e-2a4b-4a3f-9b1e-0c2d4e6f8a10"
WATER = "marking-definition--7c1d6c3e-2a4b-4a3f-9b1e-0c2d4e6f8a10"
_LEVELS = st.sampled_from(list(Tlp))


def _indicator(n: int, level: Tlp, grouped: bool) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": f"i{n}",
            "pattern": f"[ipv4-addr:value = '203.0.113.{n + 1}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z",
            "object_marking_refs": [TLP2_MARKING_IDS[level], *([GRID] if grouped else [])]}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(container=st.one_of(st.none(), _LEVELS), container_group=st.sampled_from([None, GRID, WATER]),
       members=st.lists(st.tuples(_LEVELS, st.booleans()), min_size=1, max_size=5))
def test_markings_never_widen_through_misp_and_back(container: Tlp | None, container_group: str | None,
                                                    members: list[tuple[Tlp, bool]]) -> None:
    """Served as a MISP event and imported again, no object is readable by anyone who could not read
    it before: its TLP is at least as restrictive, and a group's object stays the group's (or the
    importer's alone)."""
    groups = {GRID: serve.Group(7, "grid-operators"), WATER: serve.Group(8, "water-utilities")}
    objects = [_indicator(n, level, grouped) for n, (level, grouped) in enumerate(members)]
    feed = serve.Feed({}, ("host-cert", "8b9f5b0e-0000-4000-8000-000000000001"), groups)
    if container is None:  # loose objects are served one event per reach: all of one reach here
        objects = [o for o in objects if o["object_marking_refs"] == objects[0]["object_marking_refs"]]
        reach = serve._reach(objects[0], groups)
    else:
        grouping = {"type": "grouping", "spec_version": "2.1", "id": "grouping--9b9f5b0e-0000-4000-8000-000000000001",
                    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                    "name": "report", "context": "suspicious-activity", "object_refs": [o["id"] for o in objects],
                    "object_marking_refs": [TLP2_MARKING_IDS[container],
                                            *([container_group] if container_group else [])]}
        objects = [grouping, *objects]
        reach = serve._reach(grouping, groups)
    event = serve.FeedEvent("9b9f5b0e-0000-4000-8000-000000000001", "event", objects, reach, 1_700_000_000)
    served = serve.to_misp(feed, event)
    MISPEvent().load(json.dumps(served))
    marks = {"grid-operators": GRID, "water-utilities": WATER}
    back = {o["id"].partition("--")[2]: o for o in conv.convert(served, "rt", marks).objects}
    for obj in objects:
        found = back.get(obj["id"].partition("--")[2])
        assert found is not None, obj["id"]
        before, after = obj["object_marking_refs"], found["object_marking_refs"]
        level_before, level_after = tlp_of(before), tlp_of(after)
        assert level_before is not None and level_after is not None and level_after >= level_before
        for group in (GRID, WATER):
            if group in before:  # the group's members (or the importer alone), never anyone else
                assert (group in after and len(after) == 2) or (level_after is Tlp.RED and len(after) == 1)
        if not {GRID, WATER} & set(before):
            assert not {GRID, WATER} & set(after) or level_after is Tlp.RED
