"""Trust issue, defect 1: a write reveals nothing that a read would hide (docs/sharing.md, "Several
organisations, one id"). On the code before, posting an id that another organisation held as
TLP:RED or group-only answered "another organisation originated this object here", while an unused
id succeeded: any partner could test an address, domain or hash against hidden data."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.testclient import TestClient

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from tests.conftest import Node
from tests.stixgen import TAXII, indicator
from tests.web.conftest import BASE


def ipv4(value: str, tlp: Tlp | None = None, markings: tuple[str, ...] = ()) -> dict[str, Any]:
    """An ipv4-addr SCO with its deterministic id (STIX 2.1 section 2.9: UUIDv5 of the value)."""
    oid = uuid.uuid5(uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"), f'{{"value":"{value}"}}')
    obj: dict[str, Any] = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{oid}", "value": value}
    refs = list(markings) + ([TLP2_MARKING_IDS[tlp]] if tlp is not None else [])
    if refs:
        obj["object_marking_refs"] = refs
    return obj


def post(client: TestClient, node: Node, who: str, *objects: dict[str, Any]) -> dict[str, Any]:
    r = client.post(BASE + "/objects/", json={"objects": list(objects)},
                    headers={**node.auth(who), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    return body


def read(client: TestClient, node: Node, who: str, path: str = "/objects/", **params: Any) -> Any:
    return client.get(BASE + path, params=params, headers={**node.auth(who), "Accept": TAXII})


def shape(status: dict[str, Any]) -> dict[str, Any]:
    """A status without what differs between any two requests (its id, time and object ids)."""
    out = {k: v for k, v in status.items() if k not in ("id", "request_timestamp")}
    for name in ("successes", "failures", "pendings"):
        if name in out:
            out[name] = [{k: v for k, v in item.items() if k not in ("id", "version")} for item in out[name]]
    return out


def test_posting_a_hidden_red_id_answers_as_an_unused_id(client: TestClient, node: Node) -> None:
    hidden = ipv4("203.0.113.5", Tlp.RED)
    post(client, node, "energy-co", hidden)
    probe = ipv4("203.0.113.5", Tlp.GREEN)
    unused = ipv4("203.0.113.99", Tlp.GREEN)
    assert probe["id"] == hidden["id"]
    assert shape(post(client, node, "health-isac", probe)) == shape(post(client, node, "health-isac", unused))
    # the write was real: health-isac reads back its own report, energy-co's RED copy is untouched
    mine = read(client, node, "health-isac", f"/objects/{probe['id']}/").json()["objects"]
    assert mine == [probe]
    theirs = read(client, node, "energy-co", f"/objects/{probe['id']}/").json()["objects"]
    assert hidden in theirs and probe in theirs


def test_posting_a_group_only_indicator_id_answers_as_an_unused_id(client: TestClient, node: Node) -> None:
    marking = admin.create_group(node.store, "energy-only")
    admin.set_group_member(node.store, "energy-only", "energy-co", True)
    secret = indicator(7, tlp=Tlp.GREEN, markings=(marking,))
    post(client, node, "energy-co", secret)
    same_id = indicator(7, tlp=Tlp.GREEN, name="guessed")
    fresh = indicator(8, tlp=Tlp.GREEN, name="guessed")
    assert shape(post(client, node, "health-isac", same_id)) == shape(post(client, node, "health-isac", fresh))
    assert read(client, node, "health-isac", f"/objects/{secret['id']}/").json()["objects"] == [same_id]
    # the group member still reads the original, and the poster's report beside it
    assert {o["name"] for o in read(client, node, "energy-co", f"/objects/{secret['id']}/").json()["objects"]} == {
        secret["name"], "guessed"}


def test_a_second_organisation_reporting_the_same_value_is_stored_not_refused(client: TestClient,
                                                                              node: Node) -> None:
    first = ipv4("198.51.100.7", Tlp.GREEN)
    post(client, node, "energy-co", first)
    second = {**ipv4("198.51.100.7", Tlp.AMBER), "x_reported_by": "health-isac"}
    status = post(client, node, "health-isac", second)
    assert status["success_count"] == 1 and status["failure_count"] == 0
    assert status["successes"][0].get("message") is None
    # a third reader entitled to both sees both reports of the address: corroboration
    admin.grant(node.store, "default", "outsider", read=True, write=False)
    seen = read(client, node, "outsider", f"/objects/{first['id']}/").json()["objects"]
    assert sorted(seen, key=lambda o: "x_reported_by" in o) == [first, second]
    manifest = read(client, node, "outsider", "/manifest/").json()["objects"]
    assert [m["id"] for m in manifest] == [first["id"], first["id"]]


def test_re_posting_ones_own_report_is_unchanged_not_duplicated(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", ipv4("198.51.100.8", Tlp.RED))
    report = ipv4("198.51.100.8", Tlp.GREEN)
    post(client, node, "health-isac", report)
    again = post(client, node, "health-isac", report)
    assert again["successes"][0]["message"] == "already stored, unchanged"
    assert read(client, node, "health-isac", f"/objects/{report['id']}/").json()["objects"] == [report]


def test_a_visible_object_of_another_producer_is_still_refused(client: TestClient, node: Node) -> None:
    """Refusing reveals nothing when the requester can read the object; only its producer versions an
    object whose id it chose (STIX 2.1 section 3.6)."""
    post(client, node, "energy-co", indicator(3, tlp=Tlp.GREEN))
    status = post(client, node, "health-isac", indicator(3, tlp=Tlp.GREEN, modified="2026-05-01T00:00:00.000Z"))
    assert status["failure_count"] == 1 and "another organisation" in status["failures"][0]["message"]
    assert read(client, node, "health-isac", f"/objects/{indicator(3)['id']}/versions/").json()["versions"] == [
        "2026-01-01T00:00:00.000Z"]


def test_deleting_removes_only_ones_own_lineage(client: TestClient, node: Node) -> None:
    first, second = ipv4("198.51.100.9", Tlp.GREEN), ipv4("198.51.100.9", Tlp.AMBER)
    post(client, node, "energy-co", first)
    post(client, node, "health-isac", second)
    h = {**node.auth("health-isac"), "Accept": TAXII}
    assert client.delete(BASE + f"/objects/{first['id']}/", headers=h).status_code == 200
    assert read(client, node, "health-isac", f"/objects/{first['id']}/").json()["objects"] == [first]
    assert client.delete(BASE + f"/objects/{first['id']}/", headers=h).status_code == 403
    assert read(client, node, "energy-co", f"/objects/{first['id']}/").json()["objects"] == [first]
