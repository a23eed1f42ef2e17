"""Transparency pages of the console (issue 17): who received our data, what we received from whom."""

from __future__ import annotations

import re

from accord.domain.tlp import Tlp
from tests.conftest import Node
from tests.stixgen import indicator
from tests.web.pages import HTML, post_objects, signed_in, taxii_get


def _recipients(text: str) -> list[str]:
    return re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td><a href=\"/objects/", text)


def _shared(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        post_objects(energy, node, "energy-co", indicator(0, tlp=Tlp.AMBER), indicator(1, tlp=Tlp.GREEN),
                     indicator(2, tlp=Tlp.CLEAR))
        assert taxii_get(energy, node, "health-isac", "/objects/").status_code == 200


def test_who_received_our_data_lists_each_receipt_but_never_clear(node: Node) -> None:
    _shared(node)
    with signed_in(node, "energy-co") as energy:
        page = energy.get("/transparency/sent", headers=HTML)
    assert page.status_code == 200
    assert _recipients(page.text) == ["health-isac", "health-isac"]
    assert indicator(2)["id"] not in page.text  # TLP:CLEAR is not recorded
    assert "<strong>2</strong> receipts of <strong>2</strong> objects" in page.text
    assert '<svg class="chart"' in page.text


def test_what_we_received_from_whom(node: Node) -> None:
    _shared(node)
    with signed_in(node, "health-isac") as health:
        page = health.get("/transparency/received", headers=HTML)
        sent = health.get("/transparency/sent", headers=HTML)
    assert _recipients(page.text) == ["energy-co", "energy-co"]
    assert _recipients(sent.text) == []


def test_the_filters_narrow_the_rows(node: Node) -> None:
    _shared(node)
    oid = indicator(0)["id"]
    with signed_in(node, "energy-co") as energy:
        by_object = energy.get("/transparency/sent", params={"object": oid}, headers=HTML)
        by_other = energy.get("/transparency/sent", params={"recipient": "outsider"}, headers=HTML)
        by_date = energy.get("/transparency/sent", params={"from": "2000-01-01", "to": "2000-12-31"}, headers=HTML)
    assert _recipients(by_object.text) == ["health-isac"] and indicator(1)["id"] not in by_object.text
    assert _recipients(by_other.text) == [] and _recipients(by_date.text) == []


def test_bad_dates_get_a_message_next_to_the_field(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        for value in ("yesterday", "2026-13-01", "<script>x</script>", "2026-12-01\x00", "２０２６-01-01"):
            r = energy.get("/transparency/sent", params={"from": value}, headers=HTML)
            assert r.status_code == 400, value
            assert 'aria-describedby="from-error"' in r.text and 'id="from-error"' in r.text
            assert "<script>x" not in r.text
        r = energy.get("/transparency/sent", params={"from": "2026-12-02", "to": "2026-12-01"}, headers=HTML)
    assert r.status_code == 400 and 'id="to-error"' in r.text


def test_only_host_administrators_see_another_organisations_report(node: Node) -> None:
    _shared(node)
    with signed_in(node, "health-isac") as health, signed_in(node, "admin") as admin:
        refused = health.get("/transparency/sent", params={"org": "energy-co"}, headers=HTML)
        allowed = admin.get("/transparency/sent", params={"org": "energy-co"}, headers=HTML)
        unknown = admin.get("/transparency/sent", params={"org": "nobody"}, headers=HTML)
    assert refused.status_code == 400 and "only the node&#39;s administrators" in refused.text.lower()
    assert _recipients(refused.text) == []
    assert allowed.status_code == 200 and _recipients(allowed.text) == ["health-isac", "health-isac"]
    assert unknown.status_code == 400 and 'id="org-error"' in unknown.text


def test_the_nav_links_the_transparency_pages(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        page = energy.get("/transparency/received", headers=HTML)
    assert '<a href="/transparency/sent" aria-current="page">Transparency</a>' in page.text
