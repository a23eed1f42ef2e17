"""The console's pages in Chromium against real node processes: an address inside a CIDR block a real
peer shared is searched for, its indicator opened with its verified provenance, a consultation
answered, ATT&CK for ICS uploaded with its progress to the end, the pattern checked as you type;
axe-core finds nothing serious or critical on any of these pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accord.bootstrap import open_store
from accord.config import Settings
from accord.coordination import consultations, incidents
from accord.coordination.workspace import Workspace
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import Tlp
from accord.services import admin
from accord.store.repository import Store
from tests.browser.conftest import serious_violations, sign_in_with_key
from tests.conftest import shared_data
from tests.e2e.nodeproc import NodeProcess
from tests.federation.cluster import Node, link, version_of, wait_until
from tests.stixgen import indicator

pytestmark = pytest.mark.e2e


@pytest.fixture
def node_store(served: NodeProcess) -> Iterator[Store]:
    """The served node's own database, configured as the CLI would (the node keeps running)."""
    store = open_store(Settings(served.data_dir))
    try:
        yield store
    finally:
        store.close()


def _partners(store: Store) -> dict[str, str]:
    keys = {}
    for org, sectors in (("energy-co", ("energy",)), ("health-isac", ("health-care",))):
        admin.add_org(store, org, OrgKind.COMPANY, "FR", sectors)
        admin.grant(store, "default", org, read=True, write=True)
        keys[org] = admin.add_account(store, f"{org}-analyst", org, Role.CONTRIBUTOR)[1]
    return keys


def _no_serious(page: Any, what: str) -> None:
    found = serious_violations(page)
    assert found == [], f"{what}: {json.dumps(found, indent=1)}"


def test_an_object_from_a_real_peer_shows_its_verified_provenance(page: Any, tmp_path: Path) -> None:
    origin, here = Node("origin", tmp_path / "origin"), Node("here", tmp_path / "here")
    try:
        link(origin, here)
        ind = indicator(21, tlp=Tlp.GREEN, name="Relayed C2", pattern="[ipv4-addr:value = '203.0.113.0/24']")
        malware = {"type": "malware", "spec_version": "2.1", "id": "malware--21212121-2121-4121-8121-212121212121",
                   "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                   "name": "Industroyer2", "is_family": True, "object_marking_refs": ind["object_marking_refs"]}
        rel = {"type": "relationship", "spec_version": "2.1",
               "id": "relationship--21212121-2121-4121-8121-000000000021",
               "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
               "relationship_type": "indicates", "source_ref": ind["id"], "target_ref": malware["id"],
               "object_marking_refs": ind["object_marking_refs"]}
        origin.post([ind, malware, rel])
        wait_until(lambda: {version_of(o) for o in (ind, malware, rel)} <= here.held(), 30, "the objects at here")
        sign_in_with_key(page, here.url, here.admin_key)
        page.get_by_role("searchbox", name="Search the shared intelligence").fill("anything on 203.0.113.77?")
        page.get_by_role("searchbox", name="Search the shared intelligence").press("Enter")
        page.wait_for_url(f"{here.url}/search?*")
        expect(page.get_by_role("status")).to_contain_text("2 results")
        found = page.inner_text("main")
        assert "pattern covers 203.0.113.77 (203.0.113.0/24)" in found and "related by a relationship" in found
        _no_serious(page, "search page")
        page.get_by_role("link", name="Relayed C2").click()
        page.wait_for_url(f"{here.url}/objects/{ind['id']}")
        assert page.get_by_role("heading", name="Relayed C2").is_visible()
        verified = page.locator("[data-verified]")
        assert verified.get_attribute("data-verified") == "true"
        assert "Origin signature verified" in verified.inner_text()
        assert page.locator("ol.path li").all_inner_texts() == ["origin", "this node"]
        assert page.locator("svg.graph").is_visible() and "Industroyer2" in page.locator("svg.graph").inner_html()
        _no_serious(page, "object page")
        page.get_by_role("link", name="Industroyer2").click()
        page.wait_for_url(f"{here.url}/objects/{malware['id']}")
        assert "← indicates" in page.inner_text("#relationships")
    finally:
        origin.close()
        here.close()


def test_answer_a_consultation(page: Any, served: NodeProcess, node_store: Store) -> None:
    keys = _partners(node_store)
    ws = Workspace(node_store, admin.principal_for(node_store, "health-isac-analyst"))
    cid = consultations.open_consultation(ws, "energy-co", "Is 198.51.100.7 yours?").consultation.id
    incidents.create(ws, "Grid intrusion", invited=["energy-co"])
    sign_in_with_key(page, served.url, keys["energy-co"])
    _no_serious(page, "dashboard")
    page.get_by_role("link", name="Is 198.51.100.7 yours?").click()
    page.wait_for_url(f"{served.url}/consultations/{cid}")
    _no_serious(page, "consultation page")
    page.get_by_role("radio", name="acknowledge").check()
    page.get_by_label("Text").fill("Looking into it")
    page.get_by_role("button", name="Send").click()
    assert page.locator("#state").inner_text() == "acknowledged"
    page.get_by_role("radio", name="answer").check()
    page.get_by_role("button", name="Send").click()  # no finding chosen: a message next to the field
    finding = page.get_by_label("Finding (for an answer)")
    assert finding.get_attribute("aria-describedby") == "finding-error"
    assert page.locator("#finding-error").is_visible()
    _no_serious(page, "consultation page with an error")
    finding.select_option("compromised-host-being-handled")
    page.get_by_label("Text").fill("A compromised host, being cleaned")
    page.get_by_role("button", name="Send").click()
    assert page.locator("#state").inner_text() == "answered"
    assert consultations.show(ws, cid).consultation.state.value == "answered"
    for path in ("/consultations", "/incidents", "/norms", "/record", "/transparency/sent", "/transparency/received"):
        page.goto(served.url + path)
        _no_serious(page, path)
    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Grid intrusion").click()
    _no_serious(page, "incident page")


def test_upload_attack_for_ics_and_watch_the_progress_reach_the_end(page: Any, served: NodeProcess) -> None:
    bundle = shared_data("attack", "ics-attack-18.0.json")
    total = len(json.loads(bundle.read_bytes())["objects"])
    assert served.admin_key
    sign_in_with_key(page, served.url, served.admin_key)
    page.get_by_role("link", name="Upload").click()
    _no_serious(page, "upload page")
    page.get_by_label("File", exact=True).set_input_files(str(bundle))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"{served.url}/upload/*", timeout=60_000)
    bar = page.locator("#job-progress")
    seen = []
    for _ in range(1200):  # bounded: 2 minutes
        seen.append(int(bar.get_attribute("value") or 0))
        if bar.get_attribute("max") == str(total) and seen[-1] == total \
                and "Done:" in page.locator("#job-status").inner_text():
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"the progress stopped at {bar.get_attribute('value')} of {total}")
    # sent in pieces below the node's body limit, the whole file; the bar only ever moved forward
    size = bundle.stat().st_size
    assert page.locator("#job-received").inner_text() == f"Received {size} bytes in {-(-size // (512 * 1024))} pieces."
    assert seen == sorted(seen)
    assert f"of {total} objects stored" in page.locator("#job-status").inner_text()
    _no_serious(page, "upload job page")
    page.goto(served.url + "/")
    assert int(page.inner_text("#ingested")) >= total - 50


def test_the_pattern_is_checked_as_you_type(page: Any, served: NodeProcess) -> None:
    assert served.admin_key
    sign_in_with_key(page, served.url, served.admin_key)
    page.goto(served.url + "/indicators/new")
    pattern = page.get_by_label("STIX pattern")
    check = page.locator("#pattern-check")
    pattern.fill("[ipv4-addr:value = ")
    expect(check).to_have_class("error")
    expect(pattern).to_have_attribute("aria-invalid", "true")
    pattern.fill("[ipv4-addr:value = '198.51.100.7']")
    expect(check).to_have_text("The pattern is valid STIX 2.1.")
    expect(pattern).not_to_have_attribute("aria-invalid", "true")
    _no_serious(page, "indicator form")
    page.get_by_label("Name").fill("C2 server")
    page.get_by_role("button", name="Create the indicator").click()
    page.wait_for_url(f"{served.url}/objects/indicator--*")
    assert page.get_by_role("heading", name="C2 server").is_visible()
    assert "Originated on this node" in page.inner_text("#provenance")
