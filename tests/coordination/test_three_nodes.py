"""The issue's end-to-end story across three real nodes linked by federation (signed push over TAXII).

A is a hospital whose sensor sees traffic from B's constituency; A consults B, B acknowledges and
answers on its own node; C, a CERT, joins the incident with evidence; attribution goes from contested
to concluded; the hospital being a protected sector, the warning reaches every entitled partner; the
cooperation record shows B's response times; a forged answer from C is refused and recorded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.coordination.test_cli import run
from tests.federation.cluster import Node, link, wait_until

pytestmark = pytest.mark.e2e


class Partner(Node):
    """A node whose host organisation is the partner, created with its name and sectors."""

    def __init__(self, name: str, data_dir: Path, sectors: str) -> None:
        created = run("init", "--org", name, "--country", "NL", "--sectors", sectors, "--data-dir", str(data_dir),
                      "--json")
        self._created_key = str(created["api_key"])
        super().__init__(name, data_dir)

    def start(self) -> None:
        self.admin_key = self.admin_key or self._created_key  # the node exists: serve prints no key
        super().start()

    def api(self, method: str, path: str, status: int = 200, **body: Any) -> Any:
        r = httpx.request(method, f"{self.url}/coordination{path}", json=body or None, timeout=30,
                          headers={"Authorization": f"Bearer {self.admin_key}"})
        assert r.status_code == status, r.text
        return r.json()

    def sees(self, path: str) -> bool:
        return httpx.get(f"{self.url}/coordination{path}", timeout=30,
                         headers={"Authorization": f"Bearer {self.admin_key}"}).status_code == 200


@pytest.fixture
def partners(tmp_path: Path) -> Iterator[tuple[Partner, Partner, Partner]]:
    started: list[Partner] = []
    try:
        for name, sectors in (("hospital-a", "healthcare"), ("grid-b", "energy"), ("cert-c", "")):
            started.append(Partner(name, tmp_path / name, sectors))
        for x, y in itertools.combinations(started, 2):
            link(x, y)  # CLEAR, GREEN and AMBER both ways
        yield started[0], started[1], started[2]
    finally:
        for node in started:
            node.close()


def sensor_report(address: str) -> list[dict[str, Any]]:
    stamp = "2026-11-26T22:10:00.000Z"
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--5d0f3e1a-0000-4000-8000-000000000001",
           "value": address}
    observed = {"type": "observed-data", "spec_version": "2.1",
                "id": "observed-data--5d0f3e1a-0000-4000-8000-000000000002", "created": stamp, "modified": stamp,
                "first_observed": stamp, "last_observed": stamp, "number_observed": 12, "object_refs": [sco["id"]],
                "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--5d0f3e1a-0000-4000-8000-000000000003",
                "created": stamp, "modified": stamp, "count": 12, "observed_data_refs": [observed["id"]],
                "sighting_of_ref": "indicator--5d0f3e1a-0000-4000-8000-000000000004",
                "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}
    return [sco, observed, sighting]


def test_consultation_incident_attribution_norms_and_record_across_three_nodes(
        partners: tuple[Partner, Partner, Partner]) -> None:
    a, b, c = partners
    b.api("POST", "/constituency", 201, networks=["203.0.113.0/24"], domains=["grid-b.example"])
    wait_until(lambda: a.api("GET", "/whois/203.0.113.7")["owner"] == "grid-b", 30, "B's constituency at A")

    a.post(sensor_report("203.0.113.7"))
    swept = a.api("POST", "/sweep")
    proposed = swept["proposed"]
    assert [(p["addressee"], p["state"]) for p in proposed] == [("grid-b", "proposed")]
    assert swept["norms_warnings"] == 1  # the sighting at a hospital: protected sector
    cid = proposed[0]["id"]
    a.api("POST", f"/consultations/{cid}/send")
    wait_until(lambda: b.sees(f"/consultations/{cid}") and c.sees(f"/consultations/{cid}"), 30,
               "the consultation at B and C")

    forged = c.api("POST", f"/consultations/{cid}/answer", 403, finding="benign-or-technical-fault")
    assert "not a party" in forged["description"]
    with c.store.read() as tx:
        assert any(r.action == "coordination.refused" and r.details["subject"] == cid for r, _ in tx.audit_records())

    b.api("POST", f"/consultations/{cid}/acknowledge", text="looking into it")
    b.api("POST", f"/consultations/{cid}/answer", finding="compromised-host-being-handled",
          text="a customer's server, isolated")
    wait_until(lambda: a.api("GET", f"/consultations/{cid}")["state"] == "answered", 30, "B's answer at A")
    seen_at_a, seen_at_b = a.api("GET", f"/consultations/{cid}"), b.api("GET", f"/consultations/{cid}")
    assert [e["kind"] for e in seen_at_a["events"]] == ["send", "acknowledge", "answer"]
    assert [(e["id"], e["at"]) for e in seen_at_a["events"]] == [(e["id"], e["at"]) for e in seen_at_b["events"]]

    incident = a.api("POST", "/incidents", 201, name="Ransomware at hospital-a", victim="hospital-a",
                     consultations=[cid])
    iid = incident["id"]
    assert incident["protected_sectors"] == ["healthcare"]
    wait_until(lambda: any(w["subject_ref"] == iid and w["priority"] == "top" for w in c.api("GET", "/warnings")),
               30, "the protected-sector warning at C")
    wait_until(lambda: c.sees(f"/incidents/{iid}"), 30, "the incident at C")
    c.api("POST", f"/incidents/{iid}/evidence", refs=["sighting--5d0f3e1a-0000-4000-8000-000000000003"],
          text="the same host scanned us")

    actor = "intrusion-set--5d0f3e1a-0000-4000-8000-0000000000aa"
    first = a.api("POST", f"/incidents/{iid}/assessments", question="responsibility", subject=actor,
                  confidence="80")
    assert first["responsibility"]["status"] == "contested"
    c.api("POST", f"/incidents/{iid}/assessments", question="responsibility", subject=actor,
          opinion="strongly-agree", confidence="highly-likely")
    wait_until(lambda: a.api("GET", f"/incidents/{iid}")["responsibility"]["status"] == "concluded", 30,
               "the concluded attribution at A")
    shown = a.api("GET", f"/incidents/{iid}")
    assert shown["responsibility"]["subject"] == actor
    assert [e["partner"] for e in shown["evidence"]] == ["cert-c"]

    record = {r["partner"]: r for r in a.api("GET", "/record")}
    assert (record["grid-b"]["received"], record["grid-b"]["acknowledged"], record["grid-b"]["answered"]) == (1, 1, 1)
    assert record["grid-b"]["median_ack_hours"] is not None and record["grid-b"]["deadlines_missed"] == 0
    assert record["cert-c"]["evidence"] == 1
    wait_until(lambda: {r["partner"]: r["answered"] for r in c.api("GET", "/record")}.get("grid-b") == 1, 30,
               "the same record at C")
    norms = c.api("GET", "/norms?since=2026-01-01")
    assert [i["id"] for i in norms["incidents"]] == [iid]
    assert norms["incidents"][0]["consultation_states"][0]["finding"] == "compromised-host-being-handled"
