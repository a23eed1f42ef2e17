"""Decayed indicators leave the sensor exports and ``accord match``'s local indicator set."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from accord.config import Settings
from accord.domain.decay import DecayModel
from accord.services import decay as svc
from accord.services.exports import LocalIndicators
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store.repository import Store
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.unit.test_cli_admin import run
from tests.web.conftest import BASE

DAY = 86_400_000_000
EXPORT = "/exports/default/default/zeek-intel.txt"


def _ago(days: float) -> str:
    return micros_to_timestamp(now_micros() - int(days * DAY))


def _sighting(of: str, days_ago: float) -> dict[str, Any]:
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": _ago(0),
            "modified": _ago(0), "sighting_of_ref": of, "first_seen": _ago(days_ago), "last_seen": _ago(days_ago)}


def _seed(client: TestClient, node: Node, *objects: dict[str, Any]) -> None:
    r = client.post(BASE + "/objects/", json=envelope(*objects),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII})
    assert r.json()["success_count"] == len(objects), r.text


def _values(client: TestClient, node: Node) -> set[str]:
    text = client.get(EXPORT, headers=node.auth("energy-co")).text
    return {line.split("\t")[0] for line in text.splitlines()[1:]}


def test_old_unsighted_and_expired_indicators_leave_the_exports(node: Node) -> None:
    old = indicator(1, created=_ago(40), modified=_ago(40), valid_from=_ago(40), confidence=90)
    resighted = indicator(2, created=_ago(40), modified=_ago(40), valid_from=_ago(40), confidence=90)
    young = indicator(3, created=_ago(1), modified=_ago(1), valid_from=_ago(1))
    expired = indicator(4, created=_ago(1), modified=_ago(1), valid_from=_ago(1), valid_until=_ago(0.5))
    scored = indicator(5, created=_ago(10), modified=_ago(10), valid_from=_ago(10), confidence=10,
                       x_opencti_score=95)
    with TestClient(create_app(node.store)) as client:
        _seed(client, node, old, resighted, young, expired, scored, _sighting(resighted["id"], 1))
        everything = {"198.51.0.1", "198.51.0.2", "198.51.0.3", "198.51.0.5"}
        assert _values(client, node) == everything  # no model: valid_until alone
        svc.set_model(node.store, "default", DecayModel(30 * 86_400, 2, 30))
        # old: 40 days > lifetime; young: base 50 after a day; x_opencti_score 95 counts, not confidence 10
        assert _values(client, node) == {"198.51.0.2", "198.51.0.3", "198.51.0.5"}
        assert client.get("/exports/default/default/suricata/ipv4.lst",
                          headers=node.auth("energy-co")).text.split() == ["198.51.0.2", "198.51.0.3", "198.51.0.5"]
        svc.set_model(node.store, "default", None)
        assert _values(client, node) == everything
    local = LocalIndicators(node.store, "energy-co-analyst", "default")
    svc.set_model(node.store, "default", DecayModel(30 * 86_400, 2, 30))
    assert {o["id"] for o in local.objects()} == {resighted["id"], indicator(3)["id"], indicator(5)["id"]}


def test_a_sighting_the_reader_may_not_read_does_not_refresh(node: Node) -> None:
    from accord.domain.tlp import TLP2_MARKING_IDS, Tlp

    old = indicator(1, created=_ago(40), modified=_ago(40), valid_from=_ago(40))
    hidden = {**_sighting(old["id"], 1), "object_marking_refs": [TLP2_MARKING_IDS[Tlp.RED]]}
    svc.set_model(node.store, "default", DecayModel(30 * 86_400, 2, 30))
    with TestClient(create_app(node.store)) as client:
        _seed(client, node, old, hidden)
        assert _values(client, node) == {"198.51.0.1"}  # energy-co wrote the sighting and reads it
        text = client.get(EXPORT, headers=node.auth("health-isac")).text
        assert "198.51.0.1" not in text  # health-isac cannot read the RED sighting: decayed for it


def test_decay_commands_set_show_score_and_remove(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    lst = tmp_path / "l.txt"
    lst.write_text("198.51.100.7\n")
    run("load", str(lst), "--confidence", "80", *d)
    assert run("decay", "set", "default", "--lifetime", "4w", "--speed", "2", "--threshold", "30", *d)["model"] == {
        "lifetime": "4w", "lifetime_seconds": 28 * 86_400, "speed": 2.0, "threshold": 30.0, "base": 50}
    [row] = run("decay", "show", *d)
    assert row["alias"] == "default" and row["model"]["lifetime"] == "4w"
    [scored] = run("decay", "scores", "default", *d)
    assert scored["name"] == "198.51.100.7" and 79 < scored["score"] <= 80 and scored["kept"]
    assert "speed must be between" in run("decay", "set", "default", "--lifetime", "4w", "--speed", "0",
                                          "--threshold", "30", *d, ok=False)
    assert "duration" in run("decay", "set", "default", "--lifetime", "4 weeks", "--speed", "1",
                             "--threshold", "30", *d, ok=False)
    assert "no collection" in run("decay", "set", "nope", "--lifetime", "4w", "--speed", "1", "--threshold", "3",
                                  *d, ok=False).lower()
    assert run("decay", "remove", "default", *d)["model"] is None
    assert run("decay", "show", *d)[0]["model"] is None
    assert run("decay", "scores", "default", *d)[0]["score"] is None
    store = Store.open(f"sqlite:///{Settings.from_env(d[1]).db_path}")
    with store.read() as tx:
        changes = [r.details["model"] for r, _ in tx.audit_records() if r.action == "decay.set_model"]
    store.close()
    assert [m and m["lifetime"] for m in changes] == ["4w", None]
