"""Coordination against a real ``accord serve`` process: three partners on one node, over HTTP.

Partners on separate nodes need federation's transport; until it is integrated, this runs the same
story with the three partners as organisations of one node (docs/coordination.md, "Not yet").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.coordination.test_cli import run
from tests.e2e.nodeproc import NodeProcess
from tests.stixgen import TAXII

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[NodeProcess, list[str], dict[str, str]]]:
    node = NodeProcess(tmp_path / "node")  # creates the node; its host organisation is "local", the CERT
    try:
        d = ["--data-dir", str(tmp_path / "node"), "--json"]
        keys = {"cert": run("account", "add", "cert-analyst", "--org", "local", "--role", "contributor", *d)
                ["api_key"]}
        for name, sectors in (("hospital-a", "healthcare"), ("grid-b", "energy")):
            run("org", "add", name, "--kind", "company", "--country", "NL", "--sectors", sectors, *d)
            run("collection", "grant", "default", name, "--write", *d)
            keys[name] = run("account", "add", f"{name}-analyst", "--org", name, "--role", "contributor",
                             *d)["api_key"]
        yield node, d, keys
    finally:
        node.stop()


def test_sensor_to_consultation_to_concluded_attribution(served: tuple[NodeProcess, list[str], dict[str, str]]
                                                         ) -> None:
    node, d, keys = served

    def api(who: str, method: str, path: str, status: int = 200, **body: Any) -> Any:
        r = httpx.request(method, f"{node.url}/coordination{path}", json=body or None, timeout=30,
                          headers={"Authorization": f"Bearer {keys[who]}"})
        assert r.status_code == status, r.text
        return r.json()

    api("grid-b", "POST", "/constituency", 201, networks=["203.0.113.0/24"])
    first = "2026-11-20T03:00:00.000Z"
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--7f4d3e1a-0000-4000-8000-000000000001",
           "value": "203.0.113.7"}
    observed = {"type": "observed-data", "spec_version": "2.1",
                "id": "observed-data--7f4d3e1a-0000-4000-8000-000000000002", "created": first, "modified": first,
                "first_observed": first, "last_observed": first, "number_observed": 40, "object_refs": [sco["id"]]}
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--7f4d3e1a-0000-4000-8000-000000000003",
                "created": first, "modified": first,
                "sighting_of_ref": "indicator--7f4d3e1a-0000-4000-8000-000000000004",
                "observed_data_refs": [observed["id"]], "count": 40}
    posted = httpx.post(f"{node.url}/taxii2/default/collections/default/objects/", timeout=30,
                        json={"objects": [sco, observed, sighting]},
                        headers={"Authorization": f"Bearer {keys['hospital-a']}", "Content-Type": TAXII,
                                 "Accept": TAXII})
    assert posted.json()["success_count"] == 3
    swept = run("coordination", "sweep", "--as", "hospital-a-analyst", *d)
    assert [(p["addressee"], p["state"]) for p in swept["proposed"]] == [("grid-b", "proposed")]
    cid = swept["proposed"][0]["id"]
    api("grid-b", "GET", f"/consultations/{cid}", 404)  # a proposal is not sent yet
    api("hospital-a", "POST", f"/consultations/{cid}/send")
    forged = api("cert", "POST", f"/consultations/{cid}/answer", 403, finding="declined")
    assert "not a party" in forged["description"]
    api("grid-b", "POST", f"/consultations/{cid}/acknowledge", text="checking")
    answered = api("grid-b", "POST", f"/consultations/{cid}/answer", finding="compromised-host-being-handled",
                   text="botnet node, cleaned")
    assert answered["state"] == "answered" and [d_["status"] for d_ in answered["deadlines"]] == ["met", "met"]

    incident = api("hospital-a", "POST", "/incidents", 201, name="Ransomware at hospital-a", victim="hospital-a",
                   consultations=[cid])
    iid = incident["id"]
    assert api("cert", "GET", "/warnings")[0]["subject_ref"] == iid  # top priority, to every entitled partner
    api("cert", "POST", f"/incidents/{iid}/evidence", refs=[sighting["id"]], text="same traffic here")
    actor = "intrusion-set--7f4d3e1a-0000-4000-8000-0000000000aa"
    one = api("hospital-a", "POST", f"/incidents/{iid}/assessments", question="responsibility", subject=actor,
              confidence="80")
    assert one["responsibility"]["status"] == "contested"
    two = api("cert", "POST", f"/incidents/{iid}/assessments", question="responsibility", subject=actor,
              opinion="strongly-agree", confidence="highly-likely")
    assert two["responsibility"]["status"] == "concluded" and two["responsibility"]["subject"] == actor

    norms = run("report", "norms", "--since", "2020-01-01", "--as", "grid-b-analyst", *d)
    assert norms["incidents"][0]["consultation_states"][0]["finding"] == "compromised-host-being-handled"
    record = {r["partner"]: r for r in api("cert", "GET", "/record")}
    assert record["grid-b"]["answered"] == 1 and record["grid-b"]["median_answer_hours"] is not None
    assert record["local"]["evidence"] == 1
    assert run("audit", "verify", *d)["ok"] is True
