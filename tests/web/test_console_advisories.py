"""The advisory editor and review in the console (issue 18), in process on both backends: a
contributor drafts in two languages, an administrator approves and the public page and feed show
it; drafts stay with their organisation; bad input is refused next to the field; a revision of a
published advisory leaves the approved text public until it is approved; drafts from an incident."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from accord.coordination import incidents
from accord.domain.tlp import Tlp
from accord.services import advisories as svc
from tests.conftest import Node
from tests.coordination.helpers import as_
from tests.web.console_pages import linked_messages
from tests.web.pages import HTML, csrf, signed_in

EN = {"lang-0": "en", "title-0": "Update your routers", "what_happened-0": "A flaw in Acme R1 routers is used.",
      "who_is_affected-0": "Anyone with an Acme R1 router.", "what_to_do-0": "Install firmware 2.1 today.",
      "how_to_check-0": "Open the router's page and read its version."}
FR = {"lang-1": "fr", "title-1": "Mettez vos routeurs à jour", "what_happened-1": "Une faille est exploitée.",
      "who_is_affected-1": "Toute personne ayant un routeur Acme R1.", "what_to_do-1": "Installez la version 2.1.",
      "how_to_check-1": "Ouvrez la page du routeur."}
FORM = {**EN, **FR, "sectors": "retail", "software": "acme:r1"}


def draft(c: TestClient, **changes: str) -> Any:
    return c.post("/advisories/new", data={"csrf": csrf(c, "/advisories/new"), **FORM, **changes}, headers=HTML)


def drafted_id(r: Any) -> str:
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/advisories/(report--[0-9a-f-]{36})", r.headers["location"])
    assert found
    return found.group(1)


def test_a_contributor_drafts_in_two_languages_and_an_administrator_publishes(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "admin") as admin:
        advisory_id = drafted_id(draft(energy))
        page = energy.get(f"/advisories/{advisory_id}", headers=HTML)
        assert page.status_code == 200
        assert 'id="state" class="warn">draft<' in page.text
        assert 'lang="fr"' in page.text and "Mettez vos routeurs à jour" in page.text
        assert "/approve" not in page.text  # a contributor cannot approve
        assert energy.get(f"/public/advisories/{advisory_id}").status_code == 404  # nothing public yet
        refused = energy.post(f"/advisories/{advisory_id}/approve", data={"csrf": csrf(energy)}, headers=HTML)
        assert refused.status_code == 403 and "administrator role" in refused.text

        listed = admin.get("/advisories", headers=HTML).text
        assert f'href="/advisories/{advisory_id}"' in listed and "en, fr" in listed
        r = admin.post(f"/advisories/{advisory_id}/approve", data={"csrf": csrf(admin)}, headers=HTML)
        assert r.status_code == 303 and r.headers["location"] == f"/advisories/{advisory_id}?approved=1"
        after = admin.get(r.headers["location"], headers=HTML).text
        public = energy.get(f"/public/advisories/{advisory_id}?lang=fr")
        feed = energy.get("/public/advisories.atom")
    assert 'class="ok">published<' in after and "Published: the public page" in after
    assert public.status_code == 200 and "Mettez vos routeurs à jour" in public.text
    assert advisory_id.removeprefix("report--") in feed.text
    [published] = svc.published(node.store)
    assert published.id == advisory_id and set(published.content.texts) == {"en", "fr"}
    assert published.content.software == ("acme:r1",) and published.content.sectors == ("retail",)


def test_drafts_stay_with_their_organisation_and_readers_have_no_editor(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health, \
            signed_in(node, "energy-co-reader") as reader:
        advisory_id = drafted_id(draft(energy, **{"title-0": "Energy's own draft"}))
        listed = health.get("/advisories", headers=HTML).text
        hidden = health.get(f"/advisories/{advisory_id}", headers=HTML)
        unknown = health.get("/advisories/report--00000000-0000-4000-8000-000000000000", headers=HTML)
        edit = health.post(f"/advisories/{advisory_id}/edit", data={"csrf": csrf(health), **FORM}, headers=HTML)
        home = reader.get("/", headers=HTML).text
        refused = reader.get("/advisories", headers=HTML)
    assert "Energy's own draft" not in listed and advisory_id not in listed
    assert hidden.status_code == unknown.status_code == 404 and hidden.text == unknown.text
    assert edit.status_code == 404
    assert svc.show(node.store, advisory_id).content.texts["en"].title == "Energy's own draft"
    assert 'href="/advisories"' not in home
    assert refused.status_code == 403 and "contributor role" in refused.text


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_drafted(node: Node) -> None:
    cases = {
        "title-0": ({"title-0": "  "}, "title"),
        "what_to_do-0": ({"what_to_do-0": "x" * 20_001}, "20,000"),
        "lang-0": ({"lang-0": "english"}, "language tag"),
        "lang-1": ({"lang-1": "EN"}, "given twice"),
        "how_to_check-1": ({"how_to_check-1": ""}, "how to check"),
        "software": ({"software": "acme\ncpe:2.3:a:bad"}, "neither a CPE 2.3 name"),
        "sectors": ({"sectors": "nul\x00"}, "Sector names"),
        "who_is_affected-0": ({"who_is_affected-0": "nul\x00byte"}, "NUL"),
    }
    with signed_in(node, "energy-co") as energy:
        for name, (changes, message) in cases.items():
            r = draft(energy, **changes)
            assert r.status_code == 400, name
            assert re.search(rf'aria-describedby="[^"]*{name}-error"', r.text), name
            assert any(message.lower() in m.lower() for m in linked_messages(r.text)), (name, linked_messages(r.text))
            assert "A flaw in Acme R1 routers is used." in r.text  # what was typed comes back
    assert svc.list_all(node.store) == []


def test_an_empty_translation_is_dropped_and_the_form_offers_one_more(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        blank = {k: "" for k in FR} | {"lang-1": "de"}
        advisory_id = drafted_id(draft(energy, **blank))
        form = energy.get(f"/advisories/{advisory_id}/edit", headers=HTML).text
    assert set(svc.show(node.store, advisory_id).content.texts) == {"en"}
    assert 'name="title-1"' in form and 'name="title-2"' not in form  # the one empty block to add a language


def test_a_revision_leaves_the_approved_text_public_until_approved_and_a_rejection_needs_a_reason(
        node: Node) -> None:
    with signed_in(node, "admin") as admin:
        advisory_id = drafted_id(draft(admin))
        assert admin.post(f"/advisories/{advisory_id}/approve", data={"csrf": csrf(admin)},
                          headers=HTML).status_code == 303
        edit = admin.get(f"/advisories/{advisory_id}/edit", headers=HTML).text
        assert "drafts a revision" in edit and 'value="Mettez vos routeurs à jour"' in edit
        r = admin.post(f"/advisories/{advisory_id}/edit",
                       data={"csrf": csrf(admin), **FORM, "title-0": "Update your routers now"}, headers=HTML)
        assert r.status_code == 303
        assert "Update your routers now" not in admin.get(f"/public/advisories/{advisory_id}").text
        no_reason = admin.post(f"/advisories/{advisory_id}/reject", data={"csrf": csrf(admin), "reason": " "},
                               headers=HTML)
        assert no_reason.status_code == 400 and 'aria-describedby="reason-error"' in no_reason.text
        r = admin.post(f"/advisories/{advisory_id}/reject", data={"csrf": csrf(admin), "reason": "wording"},
                       headers=HTML)
        assert r.status_code == 303
        page = admin.get(f"/advisories/{advisory_id}", headers=HTML).text
        public = admin.get(f"/public/advisories/{advisory_id}").text
    assert "rejected because wording" in page and 'class="ok">published<' in page  # the approved one stands
    assert "Update your routers" in public and "Update your routers now" not in public
    assert svc.show(node.store, advisory_id).content.texts["en"].title == "Update your routers"


def test_a_draft_from_a_norm_violation_and_refusals_next_to_the_incident_field(node: Node) -> None:
    hospital = incidents.create(as_(node.store, "health-isac-analyst"), "Ransomware at hospital",
                                victim="health-isac", tlp=Tlp.AMBER)
    with signed_in(node, "health-isac") as health:
        page = health.get(f"/incidents/{hospital.id}", headers=HTML).text
        assert "Draft a public advisory" in page
        token = csrf(health, "/advisories")
        bad = health.post("/advisories/from-incident", data={"csrf": token, "incident": "hospital"}, headers=HTML)
        unknown = health.post("/advisories/from-incident", headers=HTML, data={
            "csrf": token, "incident": "incident--00000000-0000-4000-8000-000000000000", "language": "en"})
        r = health.post("/advisories/from-incident", headers=HTML,
                        data={"csrf": token, "incident": hospital.id, "language": "fr"})
        advisory_id = drafted_id(r)
        again = health.post("/advisories/from-incident", headers=HTML,
                            data={"csrf": token, "incident": hospital.id, "language": "fr"})
        shown = health.get(f"/advisories/{advisory_id}", headers=HTML).text
    assert bad.status_code == 400 and 'aria-describedby="incident-error"' in bad.text
    assert unknown.status_code == 404 and "no joint incident with this id" in unknown.text
    assert again.status_code == 400 and "already drafted" in again.text
    assert "Attaques contre des services essentiels" in shown and "Ransomware" not in shown
    assert f"incident {hospital.id}" in shown
