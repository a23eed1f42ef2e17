"""The console's object page (issue 15): versions and their differences, markings, relationships as
SVG, sightings, who received it; hidden objects answer like unknown ones. Both backends."""

from __future__ import annotations

import re

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from tests.conftest import Node
from tests.stixgen import indicator
from tests.web.pages import HTML, post_objects, signed_in, taxii_get

IND = "indicator--00000000-0000-4000-8000-000000000001"
MALWARE = "malware--11111111-1111-4111-8111-111111111111"
REL = "relationship--22222222-2222-4222-8222-222222222222"
SIGHTING = "sighting--33333333-3333-4333-8333-333333333333"
SECRET = "indicator--44444444-4444-4444-8444-444444444444"


def _objects() -> list[dict[str, object]]:
    first = indicator(0, tlp=Tlp.AMBER)
    second = indicator(0, tlp=Tlp.AMBER, modified="2026-02-01T00:00:00.000Z", name="C2 address, confirmed",
                       confidence=80)
    malware = {"type": "malware", "spec_version": "2.1", "id": MALWARE, "created": "2026-01-01T00:00:00.000Z",
               "modified": "2026-01-01T00:00:00.000Z", "name": "Industroyer2", "is_family": True,
               "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}
    rel = {"type": "relationship", "spec_version": "2.1", "id": REL, "created": "2026-01-01T00:00:00.000Z",
           "modified": "2026-01-01T00:00:00.000Z", "relationship_type": "indicates", "source_ref": IND,
           "target_ref": MALWARE, "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}
    return [first, second, malware, rel]


def _sighting() -> dict[str, object]:
    return {"type": "sighting", "spec_version": "2.1", "id": SIGHTING, "created": "2026-02-02T00:00:00.000Z",
            "modified": "2026-02-02T00:00:00.000Z", "sighting_of_ref": IND, "count": 3,
            "first_seen": "2026-02-01T10:00:00Z", "last_seen": "2026-02-02T10:00:00Z",
            "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}


def test_the_object_page_shows_versions_diff_markings_graph_and_sightings(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(energy, node, "energy-co", *_objects())
        post_objects(health, node, "health-isac", _sighting())
        page = health.get(f"/objects/{IND}", headers=HTML)
    assert page.status_code == 200, page.text
    text = page.text
    assert "C2 address, confirmed" in text and text.count('class="version"') == 2
    # the diff names what changed between the two versions, and only that
    diff = text[text.index("Changes from the version before"):]
    diff = diff[:diff.index("</table>")]
    assert "<code>name</code>" in diff and "<code>confidence</code>" in diff and "<code>modified</code>" in diff
    assert "<code>pattern</code>" not in diff
    assert '<span class="tlp tlp-amber">TLP:AMBER</span>' in text
    # the relationship is drawn (an SVG picture with a title) and listed with a link to its other end
    svg = text[text.index("<svg class=\"graph\""):text.index("</svg>")]
    assert "indicates" in svg and "Industroyer2" in svg and "<title" in svg
    assert f'href="/objects/{MALWARE}"' in text
    assert "health-isac" in text[text.index('id="sightings"'):] and "2026-02-01T10:00:00Z" in text
    assert "Originated on this node by energy-co" in text
    # health-isac does not own it: no recipients section
    assert 'id="recipients"' not in text


def test_the_other_end_of_a_relationship_shows_it_too(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        post_objects(energy, node, "energy-co", *_objects())
        page = energy.get(f"/objects/{MALWARE}", headers=HTML)
    assert page.status_code == 200
    table = page.text[page.text.index('id="relationships"'):]
    assert "← indicates" in table and f'href="/objects/{IND}"' in table


def test_a_hidden_object_answers_exactly_like_an_unknown_one(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(health, node, "health-isac", indicator(7, tlp=Tlp.RED, object_id=SECRET))
        # the relationship by energy-co points at the hidden object: its end is named by id only
        rel = {"type": "relationship", "spec_version": "2.1", "id": REL, "created": "2026-01-01T00:00:00.000Z",
               "modified": "2026-01-01T00:00:00.000Z", "relationship_type": "related-to", "source_ref": IND,
               "target_ref": SECRET}
        post_objects(energy, node, "energy-co", indicator(0), rel)
        assert health.get(f"/objects/{SECRET}", headers=HTML).status_code == 200
        hidden = energy.get(f"/objects/{SECRET}", headers=HTML)
        unknown = energy.get("/objects/indicator--55555555-5555-4555-8555-555555555555", headers=HTML)
        assert taxii_get(energy, node, "energy-co", f"/objects/{SECRET}/").status_code == 404
        neighbour = energy.get(f"/objects/{IND}", headers=HTML)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.content == unknown.content
    assert "C2 address 7" not in neighbour.text and "198.51.0.7" not in neighbour.text


def test_a_tlp_red_version_of_the_owners_own_is_shown_to_the_owner_only(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(energy, node, "energy-co", indicator(3, tlp=Tlp.GREEN),
                     indicator(3, tlp=Tlp.RED, modified="2026-03-01T00:00:00.000Z"))
        oid = indicator(3)["id"]
        # sharing rule 6: the latest version's TLP:RED hides the older TLP:GREEN one too
        assert health.get(f"/objects/{oid}", headers=HTML).status_code == 404
        assert energy.get(f"/objects/{oid}", headers=HTML).status_code == 200


def test_the_owner_sees_who_received_it(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        post_objects(energy, node, "energy-co", indicator(0, tlp=Tlp.AMBER))
        assert taxii_get(energy, node, "health-isac", f"/objects/{IND}/").status_code == 200
        page = energy.get(f"/objects/{IND}", headers=HTML)
    section = page.text[page.text.index('id="recipients"'):]
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td>", section)
    assert rows == ["health-isac"]
    assert "collection default (taxii.get_object)" in section and "grant read=True write=True" in section
    assert 'href="/transparency/sent?object=' in section


def test_viewing_the_page_is_recorded_as_a_read(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(energy, node, "energy-co", indicator(0, tlp=Tlp.AMBER))
        assert health.get(f"/objects/{IND}", headers=HTML).status_code == 200
        page = energy.get(f"/objects/{IND}", headers=HTML)
    section = page.text[page.text.index('id="recipients"'):]
    assert "health-isac" in section and "console.object" in section


def test_hostile_ids_get_the_not_found_page(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        for bad in ("<script>alert(1)</script>", "indicator--" + "a" * 5000, "%00", "..%2f..%2fetc",
                    "indicator--00000000-0000-4000-8000-00000000000%C3%A9"):
            r = energy.get("/objects/" + bad, headers=HTML)
            assert r.status_code == 404, bad
            assert "<script>alert" not in r.text


def test_the_page_needs_a_session(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        energy.cookies.clear()
        r = energy.get(f"/objects/{IND}", headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=/objects/")
