"""The console's search page and its JSON twin ``GET /accord/search`` (issue 15), on both backends:
an address inside a shared CIDR, results grouped and correlated, hidden objects neither shown nor
counted, the same answer to the page and to the API for one key, and bad queries said next to the box."""

from __future__ import annotations

import re

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from tests.conftest import Node
from tests.search.helpers import pattern_indicator, post, sdo
from tests.web.pages import HTML, signed_in


def _object_links(html: str) -> list[str]:
    return re.findall(r'<td><a href="/objects/([^"]+)">', html)


def _shared(node: Node) -> dict[str, str]:
    s = node.store
    with s.read() as tx:
        health = tx.get_org("health-isac").identity_id
    block = pattern_indicator("[ipv4-addr:value = '203.0.113.0/24']", name="Scanner block", confidence=60)
    red = pattern_indicator("[ipv4-addr:value = '203.0.113.5']", name="Red secret",
                            object_marking_refs=[TLP2_MARKING_IDS[Tlp.RED]])
    post(s, "energy-co-analyst", [block, red])
    seen = sdo("sighting", sighting_of_ref=block["id"], where_sighted_refs=[health],
               first_seen="2026-03-01T00:00:00Z", last_seen="2026-03-02T00:00:00Z", confidence=90)
    post(s, "health-isac-analyst", [seen])
    return {"block": block["id"], "red": red["id"], "sighting": seen["id"]}


def test_an_address_inside_a_shared_cidr_is_found_and_correlated(node: Node) -> None:
    ids = _shared(node)
    with signed_in(node, "health-isac") as c:
        page = c.get("/search", params={"q": "anything on 203.0.113.5?"}, headers=HTML)
    assert page.status_code == 200
    links = _object_links(page.text)
    assert ids["block"] in links and ids["sighting"] in links
    assert ids["red"] not in page.text and "Red secret" not in page.text
    assert "pattern covers 203.0.113.5 (203.0.113.0/24)" in page.text
    row = page.text[page.text.index(f'/objects/{ids["block"]}'):]
    row = row[:row.index("</tr>")]
    assert "health-isac" in row and "2026-03-02T00:00:00Z" in row and "<td>90</td>" in row
    assert re.search(r"<strong>2</strong> results\s+for address, text, seen by\s+<strong>1</strong> partner", page.text)
    assert '<h2 id="g-indicator">Indicators (1)</h2>' in page.text
    assert '<svg class="chart"' in page.text  # how many results each partner saw
    assert 'aria-current="page"' in page.text and 'href="/search"' in page.text


def test_the_owner_sees_its_red_object_and_an_outsider_sees_nothing(node: Node) -> None:
    ids = _shared(node)
    with signed_in(node, "energy-co") as c:
        mine = c.get("/search", params={"q": "203.0.113.5"}, headers=HTML)
    with signed_in(node, "outsider") as c:
        none = c.get("/search", params={"q": "203.0.113.5"}, headers=HTML)
    assert ids["red"] in _object_links(mine.text)
    assert none.status_code == 200 and _object_links(none.text) == []
    assert "<strong>0</strong> results" in none.text and "neither shown nor counted" in none.text


def test_the_page_and_the_api_answer_alike_for_one_key(node: Node) -> None:
    _shared(node)
    for who in ("energy-co", "health-isac", "outsider"):
        with signed_in(node, who) as c:
            page = c.get("/search", params={"q": "203.0.113.0/24 scanner"}, headers=HTML)
            api = c.get("/accord/search", params={"q": "203.0.113.0/24 scanner"}, headers=node.auth(who))
        assert api.status_code == 200
        body = api.json()
        assert sorted(_object_links(page.text)) == sorted(r["id"] for r in body["results"])
        assert body["count"] == len(body["results"]) and body["kinds"] == ["address", "text"]


def test_the_api_needs_a_key_and_says_what_is_wrong(node: Node) -> None:
    with signed_in(node, "energy-co") as c:
        assert c.get("/accord/search", params={"q": "x.example"}).status_code == 401
        auth = node.auth("energy-co")
        for params, words in (({"q": "a\x00b"}, "NUL"), ({}, "one q"), ({"q": ["a", "b"]}, "one q"),
                              ({"q": "x" * 600}, "longer than"), ({"q": "T0855", "limit": "0"}, "limit"),
                              ({"q": "T0855", "limit": "9" * 5000}, "limit")):
            r = c.get("/accord/search", params=params, headers=auth)
            assert r.status_code == 400 and words in r.json()["description"], (params, r.text[:200])
        assert c.get("/accord/search", params={"q": "T0855", "limit": "3"}, headers=auth).json()["count"] == 0


def test_bad_queries_get_a_message_next_to_the_box(node: Node) -> None:
    with signed_in(node, "energy-co") as c:
        empty = c.get("/search", params={"q": "?!"}, headers=HTML)
        long = c.get("/search", params={"q": "x " * 300}, headers=HTML)
        first = c.get("/search", headers=HTML)
        hostile = c.get("/search", params={"q": '"><script>alert(1)</script>'}, headers=HTML)
    assert empty.status_code == 400 and 'aria-describedby="q-error"' in empty.text
    assert re.search(r'id="q-error">The search is empty', empty.text)
    assert long.status_code == 400 and "longer than 512 characters" in long.text
    assert first.status_code == 200 and "T0855" in first.text and "q-error" not in first.text
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text


def test_signed_out_the_page_sends_to_sign_in(node: Node) -> None:
    from tests.web.test_console_sessions import console

    with console(node) as c:
        r = c.get("/search", params={"q": "203.0.113.5"}, headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=/search")


def test_results_beyond_the_first_hundred_come_in_pages_of_what_the_key_may_read(node: Node) -> None:
    shared = [pattern_indicator(f"[ipv4-addr:value = '198.51.100.{n}']", name=f"Scanner {n}") for n in range(1, 151)]
    hidden = [pattern_indicator(f"[ipv4-addr:value = '198.51.101.{n}']", name=f"Secret {n}",
                                object_marking_refs=[TLP2_MARKING_IDS[Tlp.RED]]) for n in range(1, 41)]
    post(node.store, "energy-co-analyst", shared + hidden)
    with signed_in(node, "health-isac") as c:
        first = c.get("/search", params={"q": "198.51.100.0/23"}, headers=HTML).text
        next_link = re.search(r'href="(/search\?q=[^"]+start=100)" rel="next"', first)
        assert next_link
        second = c.get(next_link.group(1).replace("&amp;", "&"), headers=HTML).text
        api = [c.get("/accord/search", params={"q": "198.51.100.0/23", "offset": o}, headers=node.auth("health-isac"))
               .json() for o in (0, 100)]
        bad = c.get("/accord/search", params={"q": "x.example", "offset": "-1"}, headers=node.auth("health-isac"))
    pages = [_object_links(first), _object_links(second)]
    assert len(pages[0]) == 100 and len(pages[1]) == 50 and not set(pages[0]) & set(pages[1])
    assert set(pages[0] + pages[1]) == {i["id"] for i in shared}
    assert "Results <strong>1</strong> to <strong>100</strong>" in first
    assert "Results <strong>101</strong> to <strong>150</strong>" in second and 'rel="next"' not in second
    assert 'rel="prev"' in second and "Secret" not in first + second
    assert [(b["offset"], b["count"], b["more"], b["next"]) for b in api] == [(0, 100, True, 100),
                                                                              (100, 50, False, None)]
    assert bad.status_code == 400 and "offset" in bad.json()["description"]
