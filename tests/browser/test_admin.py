"""Administration in Chromium against a real node: an administrator adds an account, revokes its key
in the browser, and the browser signed in with that key is sent to sign-in at its next request;
axe-core finds nothing serious on any administration page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import serious_violations, sign_in_with_key
from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.e2e

PAGES = ["/admin", "/admin/orgs", "/admin/accounts", "/admin/keys", "/admin/collections", "/admin/groups",
         "/admin/peers", "/admin/audit"]


def test_an_administrator_revokes_a_key_and_its_session_ends(chromium: Any, page: Any, served: NodeProcess) -> None:
    assert served.admin_key
    url = served.url
    sign_in_with_key(page, url, served.admin_key)
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Organisations").click()
    page.get_by_label("Name", exact=True).fill("energy-co")
    page.get_by_label("Kind").select_option("company")
    page.get_by_label("Country (ISO 3166 two-letter code)").fill("FR")
    page.get_by_role("button", name="Add the organisation").click()
    assert "Organisation energy-co added." in page.get_by_role("status").inner_text()
    page.goto(url + "/admin/accounts")
    page.get_by_label("Account name").fill("energy-co-analyst")
    page.get_by_label("Organisation").select_option("energy-co")
    page.get_by_label("Role").select_option("contributor")
    page.get_by_role("button", name="Add the account and show its key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("acc_")
    key_id = key.removeprefix("acc_").partition("_")[0]

    other = chromium.new_context()
    try:
        analyst = other.new_page()
        sign_in_with_key(analyst, url, key)
        assert analyst.get_by_role("heading", name="Dashboard").is_visible()
        assert analyst.get_by_role("link", name="Administration").count() == 0
        analyst.goto(url + "/admin/keys")
        assert analyst.get_by_role("heading", name="Administrators only").is_visible()

        page.goto(url + "/admin/keys")
        row = page.get_by_role("row").filter(has_text=key_id)
        row.get_by_role("button", name=f"Revoke {key_id}").click()
        assert f"Key {key_id} revoked" in page.get_by_role("status").inner_text()
        assert "revoked" in page.get_by_role("row").filter(has_text=key_id).inner_text()

        analyst.goto(url + "/")
        analyst.wait_for_url(f"{url}/signin**")
        assert "reason=revoked" in analyst.url
        assert analyst.get_by_role("heading", name="Sign in").is_visible()
    finally:
        other.close()
    page.goto(url + "/admin/audit")
    page.get_by_label("Search actions and details", exact=False).fill(key_id)
    page.get_by_role("button", name="Search", exact=True).last.click()
    assert "admin.revoke_key" in page.locator("table.audit").inner_text()
    page.get_by_role("button", name="Verify chain").click()
    assert "Chain intact" in page.get_by_role("status").inner_text()


def test_axe_finds_nothing_serious_on_the_administration_pages(page: Any, served: NodeProcess) -> None:
    assert served.admin_key
    sign_in_with_key(page, served.url, served.admin_key)
    for path in PAGES:
        page.goto(served.url + path)
        assert serious_violations(page) == [], path
    page.goto(served.url + "/admin/orgs")
    page.get_by_role("button", name="Add the organisation").click()  # required fields: the browser stops it
    page.get_by_label("Name", exact=True).fill("x")
    page.get_by_label("Country (ISO 3166 two-letter code)").fill("1")
    page.get_by_role("button", name="Add the organisation").click()
    country = page.get_by_label("Country (ISO 3166 two-letter code)")
    assert country.get_attribute("aria-describedby") == "add-country-error"
    assert "two-letter" in page.locator("#add-country-error").inner_text()
    assert serious_violations(page) == []
