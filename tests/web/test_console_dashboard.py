"""The console's dashboard (issue 15): early warnings and corroborated indicators as the
organisation's stream would carry them, consultations waiting for its answer, incidents, ingest per
day of what it may read, and peers' health for administrators only."""

from __future__ import annotations

from pathlib import Path

from accord.coordination import consultations, incidents
from accord.coordination.workspace import Workspace
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.federation import runtime
from accord.federation.model import WarningFilter
from accord.federation.peers import subscribe
from accord.services import admin
from tests.conftest import Node
from tests.stixgen import indicator
from tests.web.pages import HTML, post_objects, signed_in


def _section(text: str, heading: str) -> str:
    start = text.index(f'id="{heading}-h"')
    return text[start:text.index("</section>", start)]


def _sighting(n: int, of: str) -> dict[str, object]:
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--00000000-0000-4000-8000-{n:012d}",
            "created": "2026-02-02T00:00:00.000Z", "modified": "2026-02-02T00:00:00.000Z", "sighting_of_ref": of,
            "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}


def test_warnings_and_corroboration_as_the_stream_would_carry_them(node: Node, tmp_path: Path) -> None:
    runtime.install(node.store, tmp_path)  # sightings are noted per organisation, as on a serving node
    seen, quiet = indicator(1, tlp=Tlp.GREEN, name="Seen twice"), indicator(2, tlp=Tlp.GREEN, name="Seen once")
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(energy, node, "energy-co", seen, quiet)
        post_objects(health, node, "health-isac", indicator(3, tlp=Tlp.RED, name="Health secret"),
                     _sighting(1, seen["id"]))
        post_objects(energy, node, "energy-co", _sighting(2, seen["id"]), _sighting(3, quiet["id"]))
        page = energy.get("/", headers=HTML)
        theirs = health.get("/", headers=HTML)
    assert page.status_code == 200, page.text
    warnings = _section(page.text, "warnings")
    assert "Seen twice" in warnings and "Seen once" in warnings and "Health secret" not in warnings
    corroborated = _section(page.text, "corroborated")
    assert "Seen twice" in corroborated and "Seen once" not in corroborated
    assert "energy-co, health-isac" in corroborated
    assert "Health secret" in _section(theirs.text, "warnings")  # its owner reads it


def test_a_subscription_filter_decides_what_the_dashboard_warns_of(node: Node) -> None:
    subscribe(node.store, "only-sure", "energy-co", WarningFilter(min_confidence=80), None)
    with signed_in(node, "energy-co") as energy:
        post_objects(energy, node, "energy-co", indicator(1, name="Unsure", confidence=10),
                     indicator(2, name="Sure", confidence=90))
        warnings = _section(energy.get("/", headers=HTML).text, "warnings")
    assert "Sure" in warnings and "Unsure" not in warnings


def test_warnings_shown_are_on_the_egress_record(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(health, node, "health-isac", indicator(4, tlp=Tlp.AMBER, name="Shared amber"))
        assert "Shared amber" in energy.get("/", headers=HTML).text
        sent = health.get("/transparency/sent", headers=HTML).text
    assert "energy-co" in sent and "console dashboard (console.warnings)" in sent


def test_consultations_waiting_for_our_answer_and_incidents(node: Node) -> None:
    ws = Workspace(node.store, admin.principal_for(node.store, "health-isac-analyst"))
    consultations.open_consultation(ws, "energy-co", "Is 198.51.100.7 yours?")
    consultations.open_consultation(ws, "host-cert", "Not for energy-co")
    incidents.create(ws, "Grid intrusion", invited=["energy-co"])
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        page = energy.get("/", headers=HTML).text
        opener = health.get("/", headers=HTML).text
    waiting = _section(page, "waiting")
    assert "Is 198.51.100.7 yours?" in waiting and "health-isac" in waiting and "acknowledge by 20" in waiting
    assert "Not for energy-co" not in page
    assert "Grid intrusion" in _section(page, "incidents")
    assert "Nothing is waiting for your answer." in _section(opener, "waiting")


def test_ingest_counts_only_what_the_key_may_read(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(health, node, "health-isac", *[indicator(n, tlp=Tlp.RED) for n in range(10, 13)])
        post_objects(energy, node, "energy-co", indicator(1, tlp=Tlp.GREEN), indicator(2, tlp=Tlp.GREEN))
        mine, theirs = energy.get("/", headers=HTML).text, health.get("/", headers=HTML).text
    assert '<strong id="ingested">2</strong> in all.' in _section(mine, "ingest")
    assert '<strong id="ingested">5</strong> in all.' in _section(theirs, "ingest")
    assert '<svg class="chart"' in _section(mine, "ingest")


def test_peers_health_is_for_administrators(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "admin") as host:
        assert 'id="peers-h"' not in energy.get("/", headers=HTML).text
        page = host.get("/", headers=HTML).text
    assert "No peer is configured." in _section(page, "peers")
