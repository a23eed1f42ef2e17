"""The advisory editor, the notices and the asset registry in Chromium against a real node process:
an administrator writes an advisory in English and French, sees the public preview, approves it and
reads it on the public page; registers a nonprofit's range, where an invalid domain is refused next
to the field; axe-core finds nothing serious on any of these pages, error states included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.domain.model import OrgKind
from accord.services import admin
from accord.store.repository import Store, sqlite_url
from tests.browser.conftest import serious_violations, sign_in_with_key
from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": ("Update your routers", "A flaw in Acme R1 routers is used in attacks.", "Anyone with an Acme R1 router.",
           "Install firmware 2.1 today.", "Open the router's page and read its version."),
    "fr": ("Mettez vos routeurs à jour", "Une faille des routeurs Acme R1 est exploitée.",
           "Toute personne ayant un routeur Acme R1.", "Installez le micrologiciel 2.1.",
           "Ouvrez la page du routeur et lisez sa version."),
}
PARTS = ("title", "what_happened", "who_is_affected", "what_to_do", "how_to_check")


def _no_serious(page: Any, what: str) -> None:
    found = serious_violations(page)
    assert found == [], f"{what}: {json.dumps(found, indent=1)}"


def test_write_preview_approve_and_read_an_advisory_in_two_languages(page: Any, served: NodeProcess) -> None:
    assert served.admin_key
    url = served.url
    sign_in_with_key(page, url, served.admin_key)
    page.get_by_role("link", name="Advisories").click()
    page.wait_for_url(url + "/advisories")
    _no_serious(page, "/advisories")
    page.get_by_role("link", name="Write a new advisory").click()
    for i, (lang, values) in enumerate(TEXTS.items()):
        page.locator(f"#lang-{i}").fill(lang)
        for part, value in zip(PARTS, values, strict=True):
            page.locator(f"#{part}-{i}").fill(value)
    page.get_by_label("Software it names").fill("acme:r1\nnot software")
    page.get_by_role("button", name="Save the draft").click()
    assert "neither a CPE 2.3 name" in page.locator("#software-error").inner_text()
    assert page.locator("#software").get_attribute("aria-invalid") == "true"
    _no_serious(page, "the form with an error")
    page.get_by_label("Software it names").fill("acme:r1")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(f"{url}/advisories/report--*")
    assert page.locator("#state").inner_text() == "draft"
    preview = page.locator("article[lang=fr]")
    assert preview.get_by_role("heading", name="Que faire maintenant").is_visible()
    assert "Installez le micrologiciel 2.1." in preview.inner_text()
    _no_serious(page, "the review page")
    advisory_url = page.url
    page.get_by_role("button", name="Approve and publish as TLP:CLEAR").click()
    page.wait_for_url(advisory_url + "?approved=1")
    assert page.locator("#state").inner_text() == "published"
    assert "Published" in page.get_by_role("status").inner_text()
    advisory_id = advisory_url.rpartition("/")[2]
    page.locator(f'a[href="/public/advisories/{advisory_id}"]').click()
    page.wait_for_url(f"{url}/public/advisories/{advisory_id}")
    assert page.get_by_role("heading", name="Update your routers").is_visible()


def test_notices_and_the_registry_refuse_a_bad_domain_next_to_the_field(page: Any, served: NodeProcess) -> None:
    assert served.admin_key
    store = Store.open(sqlite_url(served.data_dir))
    try:
        admin.add_org(store, "food-bank", OrgKind.NONPROFIT, "FR", ())
    finally:
        store.close()
    url = served.url
    sign_in_with_key(page, url, served.admin_key)
    page.get_by_role("link", name="Notices").click()
    page.wait_for_url(url + "/notices")
    _no_serious(page, "/notices")
    page.get_by_role("link", name="asset registry").click()
    _no_serious(page, "/assets")
    page.get_by_role("link", name="food-bank").click()
    page.wait_for_url(url + "/assets/food-bank")
    page.get_by_label("Kind").select_option("domain")
    page.get_by_label("Values, one per line").fill("food.example\nnot a domain")
    page.get_by_role("button", name="Register").click()
    assert "not a domain" in page.locator("#values-error").inner_text()
    _no_serious(page, "the registration with an error")
    page.get_by_label("Values, one per line").fill("food.example")
    page.get_by_label("Language of its notices", exact=False).fill("fr")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(url + "/assets/food-bank?added=1")
    assert "food.example" in page.get_by_role("table").inner_text()
    _no_serious(page, "/assets/food-bank")
