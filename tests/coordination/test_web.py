"""The coordination API over HTTP, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.web.app import create_app
from tests.conftest import Node


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node.store)) as c:
        yield c


def call(client: TestClient, node: Node, who: str, method: str, path: str, status: int = 200,
         **body: Any) -> Any:
    r = client.request(method, "/coordination" + path, headers=node.auth(who), json=body if body else None)
    assert r.status_code == status, r.text
    return r.json()


def test_consultation_over_http_with_refusals(client: TestClient, node: Node) -> None:
    call(client, node, "energy-co", "POST", "/constituency", 201, networks=["203.0.113.0/24"], asns=["AS64501"])
    who = call(client, node, "health-isac", "GET", "/whois/203.0.113.7")
    assert who["owner"] == "energy-co" and who["claims"][0]["entry"] == "203.0.113.0/24"
    opened = call(client, node, "health-isac", "POST", "/consultations", 201, addressee="energy-co",
                  summary="scan from 203.0.113.7", asks=["clarify", "stop"])
    cid = opened["id"]
    forged = call(client, node, "admin", "POST", f"/consultations/{cid}/answer", 403,
                  finding="benign-or-technical-fault")
    assert "not a party" in forged["description"]
    early = call(client, node, "energy-co", "POST", f"/consultations/{cid}/answer", 409, finding="declined")
    assert "while it is open" in early["description"]
    assert call(client, node, "energy-co", "POST", f"/consultations/{cid}/shout", 400)["http_status"] == "400"
    call(client, node, "energy-co", "GET", "/consultations/x-accord-consultation--unknown", 404)
    call(client, node, "outsider", "GET", f"/consultations/{cid}", 404)
    call(client, node, "energy-co-reader", "POST", f"/consultations/{cid}/acknowledge", 403)  # a reader may not write
    call(client, node, "energy-co", "POST", f"/consultations/{cid}/acknowledge", text="on it")
    answered = call(client, node, "energy-co", "POST", f"/consultations/{cid}/answer",
                    finding="not-in-our-constituency", text="that range was sold")
    assert answered["state"] == "answered" and answered["finding"] == "not-in-our-constituency"
    assert [c["id"] for c in call(client, node, "health-isac", "GET", "/consultations")] == [cid]
    record = {r["partner"]: r for r in call(client, node, "health-isac", "GET", "/record")}
    assert record["energy-co"]["answered"] == 1 and record["health-isac"]["opened"] == 1
    swept = call(client, node, "health-isac", "POST", "/sweep")
    assert swept == {"proposed": [], "disputed": [], "deadline_warnings": 0, "norms_warnings": 0}
    r = client.get("/coordination/consultations", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert client.post("/coordination/consultations", headers=node.auth("health-isac"),
                       content=b"[1]").status_code == 400


def test_incident_over_http(client: TestClient, node: Node) -> None:
    inc = call(client, node, "health-isac", "POST", "/incidents", 201, name="Ransomware", victim="health-isac",
               invited=["energy-co"])
    assert inc["protected_sectors"] == ["healthcare"]
    iid = inc["id"]
    call(client, node, "admin", "POST", f"/incidents/{iid}/evidence",
         refs=["indicator--00000000-0000-4000-8000-000000000001"])
    actor = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
    for who, confidence in (("admin", "85"), ("energy-co", "likely")):
        shown = call(client, node, who, "POST", f"/incidents/{iid}/assessments", question="responsibility",
                     subject=actor, confidence=confidence)
    assert shown["responsibility"]["status"] == "concluded"
    bad = call(client, node, "admin", "POST", f"/incidents/{iid}/assessments", 400, question="blame",
               subject=actor, confidence="85")
    assert "question" in bad["description"]
    assert call(client, node, "energy-co", "GET", f"/incidents/{iid}")["evidence"][0]["partner"] == "host-cert"
    assert [i["id"] for i in call(client, node, "energy-co", "GET", "/norms?since=2000-01-01")["incidents"]] == [iid]
    assert call(client, node, "energy-co", "GET", "/warnings")[0]["priority"] == "top"
