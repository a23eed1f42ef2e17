"""Transparency of recipients: the owner sees who received its objects; a partner what it received."""

from __future__ import annotations

from starlette.testclient import TestClient

from accord.domain.tlp import Tlp
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, indicator
from tests.web.conftest import BASE, post


def test_reports_over_the_api(node: Node) -> None:
    amber, clear = indicator(1, tlp=Tlp.AMBER), indicator(2, tlp=Tlp.CLEAR)
    with TestClient(create_app(node.store)) as client:
        post(client, node, amber, clear)  # as energy-co
        got = client.get(BASE + "/objects/", headers={**node.auth("health-isac"), "Accept": TAXII})
        assert {o["id"] for o in got.json()["objects"]} == {amber["id"], clear["id"]}
        client.get(BASE + "/objects/", headers={**node.auth("energy-co"), "Accept": TAXII})  # its own: not a receipt

        sent = client.get("/accord/transparency/sent", headers=node.auth("energy-co"))
        assert sent.status_code == 200
        rows = sent.json()["receipts"]
        assert [(r["recipient"], r["object_id"], r["via"], r["action"]) for r in rows] == [
            ("health-isac", amber["id"], "collection default", "taxii.get_objects")]  # CLEAR is not recorded
        assert rows[0]["agreement"] == "grant read=True write=True" and rows[0]["owner"] == "energy-co"

        received = client.get("/accord/transparency/received", headers=node.auth("health-isac")).json()
        assert [(r["owner"], r["object_id"]) for r in received["receipts"]] == [("energy-co", amber["id"])]
        assert client.get("/accord/transparency/received", headers=node.auth("energy-co")).json()["count"] == 0

        other = client.get("/accord/transparency/sent?org=energy-co", headers=node.auth("health-isac"))
        assert other.status_code == 403
        by_admin = client.get("/accord/transparency/sent?org=energy-co", headers={
            "Authorization": f"Bearer {node.admin_key}"})
        assert by_admin.status_code == 200 and by_admin.json()["count"] == 1
        assert client.get("/accord/transparency/sent?org=nobody", headers={
            "Authorization": f"Bearer {node.admin_key}"}).status_code == 404
        assert client.get("/accord/transparency/sent").status_code == 401
