"""The public pages and feed over HTTP (in-process ASGI): no sign-in, cacheable, rate limited."""

from __future__ import annotations

import orjson
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.coordination.workspace import Workspace
from accord.domain import advisories as adv
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from accord.services import advisories as svc
from accord.web.app import create_app
from tests.conftest import Node
from tests.public.helpers import content, publish
from tests.web.conftest import BASE


def test_pages_feed_languages_search_and_count_without_credentials(node: Node) -> None:
    first = publish(node.store, "Update your routers")
    second = publish(node.store, "Beware of fake invoices", software=(), french=False)
    with TestClient(create_app(node.store, HttpSettings(public_rate=0))) as client:
        index = client.get("/public/advisories")
        assert index.status_code == 200 and index.headers["content-type"] == "text/html; charset=utf-8"
        assert '<p id="count">Advisories: 2</p>' in index.text
        assert index.text.index("Beware of fake invoices") < index.text.index("Update your routers")  # newest first
        french = client.get("/public/advisories", headers={"Accept-Language": "fr-CH, fr;q=0.9"}).text
        assert '<html lang="fr">' in french and "Update your routers (fr)" in french
        assert "Beware of fake invoices" in french  # no French text: its own language
        searched = client.get("/public/advisories", params={"q": "INVOICES fake"}).text
        assert '<p id="count">Advisories: 1</p>' in searched and "Update your routers" not in searched
        page = client.get(f"/public/advisories/{first.id}", params={"lang": "fr"})
        assert page.status_code == 200 and "<h2>Que faire maintenant</h2>" in page.text
        assert "<p>Installez le micrologiciel 2.1.</p>" in page.text and "<code>acme:r1</code>" in page.text
        assert f'href="/public/advisories/{first.id}?lang=en" hreflang="en"' in page.text
        english = client.get(f"/public/advisories/{first.id}").text
        assert "<p>Install firmware 2.1 today.</p>\n<p>Then change the router&#39;s password.</p>" in english
        missing = client.get(f"/public/advisories/{second.id.replace('-', '0', 1)}")
        assert missing.status_code == 404 and orjson.loads(missing.content)["http_status"] == "404"
        feed = client.get("/public/advisories.atom")
        assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert b"<title>Update your routers</title>" in feed.content
        assert b"<title>Update your routers (fr)</title>" in client.get("/public/advisories.atom?lang=fr").content


def test_hostile_input_is_escaped_and_bounded(node: Node) -> None:
    publish(node.store, "<script>alert(1)</script> & co")
    with TestClient(create_app(node.store, HttpSettings(public_rate=0))) as client:
        page = client.get("/public/advisories", params={"q": "<script>", "lang": '"><img src=x>'})
        assert page.status_code == 200 and "<script>" not in page.text and "<img" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page.text
        assert client.get("/public/advisories", params={"q": "x" * 60_000}).status_code == 200
        assert client.get("/public/advisories/%00%ff").status_code == 404
        assert b"&lt;script&gt;" in client.get("/public/advisories.atom").content


def test_cache_headers_etag_and_304(node: Node) -> None:
    publish(node.store)
    with TestClient(create_app(node.store, HttpSettings(public_rate=0))) as client:
        for path in ("/public/advisories", "/public/advisories.atom"):
            first = client.get(path)
            assert first.headers["cache-control"] == "public, max-age=300"
            assert first.headers["vary"] == "Accept-Language"
            etag = first.headers["etag"]
            again = client.get(path, headers={"If-None-Match": f'"other", {etag}'})
            assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
            assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        before = client.get("/public/advisories").headers["etag"]
        publish(node.store, "A second one")
        assert client.get("/public/advisories", headers={"If-None-Match": before}).status_code == 200
        with_cookie = client.get("/public/advisories", headers={"Cookie": "accord_session=x"})
        assert with_cookie.headers["cache-control"] == "no-store"  # a signed-in browser's answers stay private


def test_rate_limited_per_address_whatever_key_is_claimed(node: Node) -> None:
    with TestClient(create_app(node.store, HttpSettings(public_rate=0.01, public_burst=3))) as client:
        codes = [client.get("/public/advisories", headers={"Authorization": f"Bearer acc_k{n}_x"}).status_code
                 for n in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/public/advisories.atom")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert orjson.loads(refused.content)["http_status"] == "429"
        taxii = client.get(f"{BASE}/objects/", headers=node.auth("energy-co"))
        assert taxii.status_code == 200  # the API keeps its own, general limit


def test_a_clear_report_nobody_approved_and_a_narrowed_one_stay_off(node: Node) -> None:
    principal = admin.principal_for(node.store, "admin")
    ws = Workspace(node.store, principal)
    unreviewed = svc.draft(node.store, principal, content(title="Never approved"))
    ws.write(adv.to_stix(unreviewed.id, unreviewed.content, ws.me.identity_id, "2026-12-01T00:00:00.000Z",
                         "2026-12-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", TLP2_MARKING_IDS[Tlp.CLEAR],
                         svc.EXTENSION))
    narrowed = publish(node.store, "Narrowed later")
    [report] = ws.read("report", ids=[narrowed.id])
    ws.write([{**report.obj, "modified": "2099-01-01T00:00:00.000Z",
               "object_marking_refs": [TLP2_MARKING_IDS[Tlp.AMBER]]}])
    kept = publish(node.store, "Still public")
    with TestClient(create_app(node.store, HttpSettings(public_rate=0))) as client:
        text = client.get("/public/advisories").text
        assert "Still public" in text and "Never approved" not in text and "Narrowed later" not in text
        assert client.get(f"/public/advisories/{narrowed.id}").status_code == 404
        assert client.get(f"/public/advisories/{kept.id}").status_code == 200
