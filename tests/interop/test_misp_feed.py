"""The node's own MISP feed, read back by PyMISP, through the sharing policy (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pymisp import MISPEvent
from starlette.testclient import TestClient

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.interop.misp import load
from accord.services import admin
from accord.web.app import create_app
from tests.conftest import Node
from tests.interop.misp_events import as_dict, event
from tests.stixgen import TAXII, envelope
from tests.web.conftest import BASE


def _import(node: Node, account: str, e: MISPEvent) -> None:
    done = load.load_events(node.store, admin.principal_for(node.store, account), "default",
                            [("e.json", json.dumps(as_dict(e)).encode())])
    assert done.problems == []


def _misp(client: TestClient, node: Node, who: str, path: str, **headers: str) -> Any:
    """A request as MISP makes it: the key alone in Authorization."""
    return client.get(f"/misp/feed/{path}", headers={"Authorization": node.keys[who], **headers})


def _loaded(body: bytes) -> MISPEvent:
    found = MISPEvent()
    found.load(body.decode())
    return found


@pytest.fixture
def client(node: Node) -> Any:
    with TestClient(create_app(node.store)) as c:
        yield c


def test_the_feed_is_what_each_key_may_read(node: Node, client: TestClient) -> None:
    e = event(tlp="tlp:green", distribution=3)
    e.add_attribute("ip-dst", "198.51.100.7", to_ids=True, comment="C2")
    e.add_attribute("domain", "evil.example", to_ids=True).add_tag("tlp:red")
    e.add_attribute("email-src", "phish@evil.example", to_ids=False)
    _import(node, "energy-co-analyst", e)
    for who, values in [("energy-co", {"198.51.100.7", "evil.example", "phish@evil.example"}),
                        ("health-isac", {"198.51.100.7", "phish@evil.example"})]:
        r = _misp(client, node, who, "manifest.json")
        assert r.status_code == 200, r.text
        manifest = r.json()
        assert e.uuid in manifest and manifest[e.uuid]["Tag"] == [{"name": "tlp:green"}]
        served = _loaded(_misp(client, node, who, f"{e.uuid}.json").content)
        assert served.uuid == e.uuid and served.info == e.info
        got = {a.value: a for a in served.attributes}
        assert set(got) == values
        assert got["198.51.100.7"].to_ids and not got["phish@evil.example"].to_ids
        assert [t.name for t in got["198.51.100.7"].tags if t.name.startswith("tlp:")] == ["tlp:green"]
        if "evil.example" in got:
            assert [t.name for t in got["evil.example"].tags if t.name.startswith("tlp:")] == ["tlp:red"]
            assert str(got["evil.example"].distribution) == "0"
        hashes = _misp(client, node, who, "hashes.csv").text.splitlines()
        assert sorted(hashes) == sorted(f"{h},{e.uuid}" for h in served.attributes_hashes("md5"))


def test_hidden_events_look_absent_and_keys_are_needed(node: Node, client: TestClient) -> None:
    e = event(tlp="tlp:red")
    e.add_attribute("ip-dst", "198.51.100.9", to_ids=True)
    _import(node, "energy-co-analyst", e)
    assert _misp(client, node, "energy-co", f"{e.uuid}.json").status_code == 200
    hidden = _misp(client, node, "health-isac", f"{e.uuid}.json")
    absent = _misp(client, node, "health-isac", "6f1c0b9e-1d4a-4a8e-9a57-3e2f6d8c0b11.json")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["title"] == absent.json()["title"]
    assert e.uuid not in _misp(client, node, "health-isac", "manifest.json").json()
    assert client.get("/misp/feed/manifest.json").status_code == 401
    assert client.get("/misp/feed/manifest.json", headers={"Authorization": "acc_nope_nope"}).status_code == 401
    bearer = client.get("/misp/feed/manifest.json", headers=node.auth("energy-co"))
    assert bearer.status_code == 200 and e.uuid in bearer.json()
    assert _misp(client, node, "energy-co", "..%2F..%2Fetc%2Fpasswd.json").status_code == 404
    assert _misp(client, node, "outsider", "manifest.json").json() == {}  # no collection it may read


def test_an_unchanged_feed_is_304(node: Node, client: TestClient) -> None:
    e = event()
    e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    _import(node, "energy-co-analyst", e)
    first = _misp(client, node, "energy-co", "manifest.json")
    again = _misp(client, node, "energy-co", "manifest.json", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    e2 = event("another")
    e2.add_attribute("ip-dst", "198.51.100.8", to_ids=True)
    _import(node, "energy-co-analyst", e2)
    changed = _misp(client, node, "energy-co", "manifest.json", **{"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and e2.uuid in changed.json()


def test_taxii_objects_outside_any_report_are_served_by_reach(node: Node, client: TestClient) -> None:
    """Indicators posted over TAXII (no grouping) come as one event per TLP level and sharing group."""
    admin.create_group(node.store, "grid-operators")
    admin.set_group_member(node.store, "grid-operators", "health-isac", True)
    with node.store.read() as tx:
        grid = tx.get_group("grid-operators").marking_id

    def indicator(n: int, refs: list[str]) -> dict[str, Any]:
        return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-00000000000{n}",
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": f"ind {n}",
                "pattern": f"[ipv4-addr:value = '203.0.113.{n}']", "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z", "object_marking_refs": refs}

    objects = [indicator(1, [TLP2_MARKING_IDS[Tlp.CLEAR]]), indicator(2, [TLP2_MARKING_IDS[Tlp.AMBER]]),
               indicator(3, [TLP2_MARKING_IDS[Tlp.RED], grid])]
    r = client.post(BASE + "/objects/", json=envelope(*objects),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII})
    assert r.json()["failure_count"] == 0, r.text
    manifest = _misp(client, node, "health-isac", "manifest.json").json()
    assert sorted(m["Tag"][0]["name"] for m in manifest.values()) == ["tlp:amber", "tlp:clear", "tlp:red"]
    served = {}
    for uuid in manifest:
        e = _loaded(_misp(client, node, "health-isac", f"{uuid}.json").content)
        served.update({a.value: (e, a) for a in e.attributes})
    assert set(served) == {"203.0.113.1", "203.0.113.2", "203.0.113.3"}
    e, a = served["203.0.113.3"]
    assert str(a.distribution) == "4" and str(e.distribution) == "4"
    assert a.SharingGroup["name"] == "grid-operators"
    assert str(served["203.0.113.1"][1].distribution) == "3"
    # the host organisation is in no group: it does not see the group's indicator
    hosts = {a.value for u in _misp(client, node, "admin", "manifest.json").json()
             for a in _loaded(_misp(client, node, "admin", f"{u}.json").content).attributes}
    assert hosts == {"203.0.113.1", "203.0.113.2"}
