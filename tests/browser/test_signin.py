"""Sign in and out in Chromium, with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import serious_violations, sign_in_with_key
from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.e2e


def test_sign_in_with_the_admin_key_then_out(page: Any, served: NodeProcess) -> None:
    assert served.admin_key
    page.goto(served.url + "/")
    assert page.url.startswith(served.url + "/signin")
    assert serious_violations(page) == []
    page.get_by_label("an API key").check()
    assert page.get_by_label("Account name", exact=True).is_hidden()  # the script shows one method's fields
    page.get_by_label("API key", exact=True).fill("acc_nope_nope")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#key-error")
    assert error.inner_text() == "Invalid API key."
    assert page.get_by_label("API key", exact=True).get_attribute("aria-describedby") == "key-error"
    assert serious_violations(page) == []
    sign_in_with_key(page, served.url, served.admin_key)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(served.url + "/signin?reason=signed-out")
    assert "You are signed out." in page.inner_text("main")
    page.goto(served.url + "/")
    assert page.url.startswith(served.url + "/signin")


def test_the_console_works_without_javascript(chromium: Any, served: NodeProcess) -> None:
    assert served.admin_key
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served.url + "/signin")
        page.get_by_label("API key", exact=True).fill(served.admin_key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(served.url + "/")
        assert page.get_by_role("heading", name="Dashboard").is_visible()
    finally:
        context.close()
