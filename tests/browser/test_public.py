"""The public advisories in Chromium against a real node process: no sign-in, readable, accessible."""

from __future__ import annotations

from typing import Any

import pytest

from accord.store.repository import Store, sqlite_url
from tests.browser.conftest import serious_violations
from tests.e2e.nodeproc import NodeProcess
from tests.public.helpers import publish

pytestmark = pytest.mark.e2e


def test_a_french_reader_finds_reads_and_switches_language(chromium: Any, served: NodeProcess) -> None:
    store = Store.open(sqlite_url(served.data_dir))
    try:
        advisory = publish(store, "Update your routers")
        publish(store, "Beware of fake invoices", software=(), french=False)
    finally:
        store.close()
    context = chromium.new_context(locale="fr-FR")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        response = page.goto(served.url + "/public/advisories")
        assert response is not None and response.status == 200
        assert response.headers["cache-control"].startswith("public")
        assert page.get_by_role("heading", name="Avis de sécurité").is_visible()
        assert page.locator("#count").inner_text() == "Avis: 2"
        assert serious_violations(page) == []
        page.get_by_label("Rechercher").fill("routeurs")
        page.get_by_role("button", name="Rechercher").click()
        assert page.locator("#count").inner_text() == "Avis: 1"
        page.get_by_role("link", name="Update your routers (fr)").click()
        page.wait_for_url(f"{served.url}/public/advisories/{advisory.id}")
        assert page.get_by_role("heading", name="Que faire maintenant").is_visible()
        assert "Installez le micrologiciel 2.1." in page.inner_text("article")
        assert serious_violations(page) == []
        page.get_by_role("link", name="en", exact=True).click()
        assert page.get_by_role("heading", name="What to do now").is_visible()
        assert page.locator("article").get_attribute("lang") == "en"
        feed = page.request.get(served.url + "/public/advisories.atom", headers={"Accept-Language": "fr"})
        assert feed.status == 200 and b"<title>Update your routers (fr)</title>" in feed.body()
    finally:
        context.close()
