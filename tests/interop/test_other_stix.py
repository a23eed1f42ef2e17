"""Other platforms' STIX 2.1: OpenCTI exports and misp-stix's conversion of MISP events.

They load through TAXII Add Objects and ``accord load``, come back unchanged (custom properties,
extensions and OpenCTI's re-serialised marking definitions kept as sent), and are read under the TLP
level their markings mean: never a wider one (docs/sharing.md, "Vendor TLP ids").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from misp_stix_converter import MISPtoSTIX21Parser
from pymisp import MISPEvent
from starlette.testclient import TestClient

from accord.domain.decay import DecayModel
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp, classify_markings
from accord.services import admin
from accord.services import decay as decay_svc
from accord.web.app import create_app
from tests.conftest import Node
from tests.interop import opencti
from tests.stixgen import TAXII, envelope
from tests.unit.test_cli_admin import run
from tests.web.conftest import BASE

OPENCTI_MEANS = {opencti.CLEAR: Tlp.CLEAR, opencti.GREEN: Tlp.GREEN, opencti.AMBER: Tlp.AMBER,
                 opencti.AMBER_STRICT: Tlp.AMBER_STRICT, opencti.RED: Tlp.RED}


def misp_bundle() -> dict[str, Any]:
    """A MISP event built with PyMISP and converted by MISP's own misp-stix (STIX 2.1)."""
    event = MISPEvent()
    event.info = "Phishing wave against water utilities"
    event.distribution, event.threat_level_id, event.analysis = 1, 2, 1
    event.add_tag("tlp:amber")
    event.add_attribute("ip-dst", "198.51.100.7", to_ids=True, comment="C2").add_tag("tlp:red")
    event.add_attribute("domain", "evil.example", to_ids=True)
    event.add_attribute("url", "http://evil.example/gate.php?id='1'", to_ids=True)
    event.add_attribute("md5", "d41d8cd98f00b204e9800998ecf8427e", to_ids=True)
    event.add_attribute("email-src", "phish@evil.example", to_ids=False)
    event.add_attribute("text", "operator handle: h4x", to_ids=False)
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(json.loads(event.to_json()))
    found: dict[str, Any] = json.loads(parser.bundle.serialize())
    return found


def _post(client: TestClient, node: Node, who: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post(BASE + "/objects/", json=envelope(*objects), headers={**node.auth(who), "Content-Type": TAXII})
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    return body


def _read_all(client: TestClient, node: Node, who: str) -> dict[str, dict[str, Any]]:
    r = client.get(BASE + "/objects/", headers={**node.auth(who), "Accept": TAXII})
    assert r.status_code == 200
    return {o["id"]: o for o in r.json().get("objects", [])}


@pytest.mark.parametrize("source", ["opencti", "misp-stix"])
def test_exports_round_trip_unchanged_over_taxii_under_their_markings(node: Node, source: str) -> None:
    objects = opencti.bundle()["objects"] if source == "opencti" else misp_bundle()["objects"]
    with TestClient(create_app(node.store)) as client:
        status = _post(client, node, "health-isac", objects)
        assert status["failure_count"] == 0, status.get("failures")
        back = _read_all(client, node, "health-isac")
        assert [back[o["id"]] for o in objects] == objects  # every property, custom or not, as sent
        other = _read_all(client, node, "energy-co")
    red = {o["id"] for o in objects if set(o.get("object_marking_refs", ())) & {opencti.RED, TLP2_MARKING_IDS[Tlp.RED]}}
    assert red and not red & set(other)  # RED: the owner alone
    assert set(other) == {o["id"] for o in objects} - red  # AMBER+STRICT and AMBER: the collection's audience


@pytest.mark.parametrize("source", ["opencti", "misp-stix"])
def test_exports_load_with_accord_load(tmp_path: Path, source: str) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    data = opencti.bundle() if source == "opencti" else misp_bundle()
    path = tmp_path / f"{source}.json"
    path.write_text(json.dumps(data))
    raw = run("load", str(path), *d)
    assert raw["stored"] == raw["objects"] == len(data["objects"]) and raw["failed"] == 0


@given(st.lists(st.sampled_from(sorted(OPENCTI_MEANS)), min_size=1, max_size=5))
def test_opencti_markings_never_widen(refs: list[str]) -> None:
    """Whatever OpenCTI TLP markings an object carries, the node reads it at least as narrowly."""
    level = classify_markings(refs, (), ())
    assert level is not None and level >= max(OPENCTI_MEANS[r] for r in refs)


def test_opencti_score_is_the_base_of_the_decay(node: Node) -> None:
    """x_opencti_score (top level, or score in OpenCTI's extension) over confidence: the exported
    indicator (score 90, confidence 75) and the connector's (score 80, confidence 15) outlive the one
    scored 20, 25 days after valid_from with a 30-day lifetime, speed 1, threshold 10."""
    from accord.stix.timestamps import micros_to_timestamp, now_micros

    then = micros_to_timestamp(now_micros() - 25 * 86_400_000_000)
    objects = opencti.bundle(created=then, valid_from=then)["objects"]
    with TestClient(create_app(node.store)) as client:
        assert _post(client, node, "health-isac", objects)["failure_count"] == 0
    decay_svc.set_model(node.store, "default", DecayModel(30 * 86_400, 1, 10))
    scores = {s["name"]: s for s in decay_svc.scores(node.store, admin.principal_for(node.store, "health-isac-analyst"),
                                                     "default")}
    assert scores["198.51.100.23"]["score"] == pytest.approx(90 / 6, abs=0.05)  # 90 * (1 - 25/30)
    assert scores["evil.example"]["score"] == pytest.approx(80 / 6, abs=0.05)
    assert scores["d41d8cd98f00b204e9800998ecf8427e"]["score"] == pytest.approx(20 / 6, abs=0.05)
    assert [n for n, s in sorted(scores.items()) if s["kept"]] == ["198.51.100.23", "evil.example"]
