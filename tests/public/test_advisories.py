"""Advisories: the domain's parsing and STIX mapping, and the review on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from accord.coordination import incidents
from accord.coordination.workspace import set_setting
from accord.domain import advisories as adv
from accord.domain.coordination.attribution import Question, Stance
from accord.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from accord.services import advisories as svc
from accord.services.uploads import Uploads
from accord.store.repository import Store
from tests.conftest import Node
from tests.coordination.helpers import as_
from tests.public.helpers import content, publish, raw_content


def audit_actions(store: Store) -> list[tuple[str, dict[str, Any]]]:
    with store.read() as tx:
        return [(r.action, r.details) for r, _ in tx.audit_records() if r.action.startswith("advisory.")]


# --- the domain -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("tag", "expected"), [
    ("en", "en"), ("FR", "fr"), (" pt-BR ", "pt-BR"), ("zh-Hant", "zh-Hant"),
])
def test_language_tags(tag: str, expected: str) -> None:
    assert adv.parse_language(tag) == expected


@pytest.mark.parametrize("tag", ["", "e", "english", "en_GB", "en-", "<script>", "en-\x00"])
def test_bad_language_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidInput, match="language tag"):
        adv.parse_language(tag)


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "needs 'texts'"),
    ({"texts": []}, "needs 'texts'"),
    ({"texts": {"en": "text"}}, "expected an object"),
    ({"texts": {"en": {"title": "t"}}}, "what_happened, who_is_affected, what_to_do, how_to_check missing"),
    ({"texts": {"en": {**raw_content()["texts"]["en"], "title": "  "}}}, "'title' must not be empty"),
    ({"texts": {"en": {**raw_content()["texts"]["en"], "what_to_do": 3}}}, "what_to_do missing or not text"),
    ({"texts": {"en": {**raw_content()["texts"]["en"], "how_to_check": "x" * 20_001}}}, "too long"),
    ({"language": "de", "texts": raw_content()["texts"]}, "primary language 'de' has no text"),
    ({"texts": raw_content()["texts"], "software": ["acme"]}, "neither a CPE 2.3 name"),
    ({"texts": raw_content()["texts"], "software": "acme:r1"}, "'software' must be a list"),
    ({"texts": raw_content()["texts"], "sectors": [1]}, "'sectors' must be a list of strings"),
    ({"texts": {"english": raw_content()["texts"]["en"]}}, "language tag"),
])
def test_malformed_content_is_refused_with_the_reason(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        adv.content_from(raw)


def test_software_names_cpe_and_vendor_product() -> None:
    c = adv.content_from({**raw_content(), "software": ["cpe:2.3:a:Acme:R1:2.0:*:*:*:*:*:*:*", "Acme:R1"]})
    assert c.software == ("acme:r1", "cpe:2.3:a:acme:r1:2.0:*:*:*:*:*:*:*")
    assert {adv.software_key(s) for s in c.software} == {"acme:r1"}


def test_stix_round_trip_with_translations_for_the_same_version_only() -> None:
    c = content()
    ext = svc.EXTENSION
    rid = adv.new_report_id()
    objects = adv.to_stix(rid, c, "identity--00000000-0000-4000-8000-000000000001", "2026-12-01T00:00:00.000Z",
                          "2026-12-02T00:00:00.000Z", "2026-12-01T00:00:00.000Z", TLP2_MARKING_IDS[Tlp.CLEAR], ext)
    report, lc = objects
    assert report["type"] == "report" and report["lang"] == "en" and report["labels"] == [adv.LABEL]
    assert report["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.CLEAR]]
    assert "What to do now: Install firmware 2.1 today." in report["description"]
    assert lc["type"] == "language-content" and lc["object_ref"] == rid and set(lc["contents"]) == {"fr"}
    assert lc["object_modified"] == report["modified"] and lc["id"] == adv.language_content_id(rid)
    back = adv.from_stix(report, [lc], ext)
    assert back.content == c and back.published == "2026-12-01T00:00:00.000Z" and back.languages == ["en", "fr"]
    stale = {**lc, "object_modified": "2026-12-01T00:00:00.000Z"}
    broken = {**lc, "contents": {"de": "nicht ein Objekt", "xx yy": {"name": "t"}}}
    assert set(adv.from_stix(report, [stale, broken], ext).content.texts) == {"en"}
    with pytest.raises(InvalidInput, match="not an Accord advisory"):
        adv.from_stix({**report, "extensions": {}}, [], ext)


@pytest.mark.parametrize(("asked", "accept", "expected"), [
    ("fr", None, "fr"), ("FR", "de", "fr"), ("es", None, "en"), (None, "de-AT;q=0.9, fr;q=0.8", "fr"),
    (None, "es, fr-CA;q=0.5", "fr"), (None, "fr;q=0, en;q=0.1", "en"), (None, "fr;q=bad", "en"), (None, "", "en"),
])
def test_language_negotiation(asked: str | None, accept: str | None, expected: str) -> None:
    assert adv.negotiate(["en", "fr"], asked, accept, "en") == expected


def test_generated_drafts_name_sectors_in_three_languages_and_need_one() -> None:
    c = adv.campaign_draft(["retail"], "fr")
    assert c.language == "fr" and set(c.texts) == {"de", "en", "fr"}
    assert "retail" in c.texts["en"].title and "{sectors}" not in " ".join(c.texts["de"].as_dict().values())
    assert adv.norms_draft(["healthcare"], "xx").language == "en"
    with pytest.raises(InvalidInput, match="names the sectors"):
        adv.campaign_draft([])


# --- the review, on both backends --------------------------------------------------------------------

def test_draft_edit_approve_is_audited_and_publishes_a_clear_report(node: Node) -> None:
    store = node.store
    principal = admin.principal_for(store, "admin")
    drafted = svc.draft(store, principal, content())
    assert drafted.state == svc.DRAFT and svc.published(store) == []
    edited = svc.edit(store, principal, drafted.id, content(title="Patch your routers"))
    assert edited.content.texts["en"].title == "Patch your routers"
    approved = svc.approve(store, principal, drafted.id)
    assert approved.state == svc.PUBLISHED and approved.published is not None
    [shown] = svc.published(store)
    assert shown.id == drafted.id and shown.content == edited.content and shown.modified == approved.published
    ws = as_(store, "energy-co-analyst")  # a partner reads the report over the node's own read path
    [report] = ws.read("report", ids=[drafted.id])
    assert report.tlp is Tlp.CLEAR and report.obj["labels"] == [adv.LABEL]
    assert [a for a, _ in audit_actions(store)] == ["advisory.draft", "advisory.edit", "advisory.approve"]
    assert audit_actions(store)[-1][1] == {"id": drafted.id, "version": approved.published, "languages": ["en", "fr"]}
    with pytest.raises(Conflict, match="only a draft"):
        svc.approve(store, principal, drafted.id)


def test_a_revision_stays_private_until_approved_and_a_rejected_one_restores_the_text(node: Node) -> None:
    store = node.store
    principal = admin.principal_for(store, "admin")
    first = publish(store)
    svc.edit(store, principal, first.id, content(title="Revised title"))
    [shown] = svc.published(store)
    assert shown.content.texts["en"].title == "Update your routers"
    rejected = svc.reject(store, principal, first.id, "not yet confirmed")
    assert rejected.state == svc.PUBLISHED and rejected.content.texts["en"].title == "Update your routers"
    svc.edit(store, principal, first.id, content(title="Revised title"))
    second = svc.approve(store, principal, first.id)
    [shown] = svc.published(store)
    assert shown.content.texts["en"].title == "Revised title" and shown.published == first.published
    assert second.published is not None and first.published is not None and second.published > first.published


def test_roles_states_and_unknown_ids(node: Node) -> None:
    store = node.store
    reader = admin.principal_for(store, "energy-co-reader")
    contributor = admin.principal_for(store, "energy-co-analyst")
    with pytest.raises(NotAllowed, match="contributor role"):
        svc.draft(store, reader, content())
    drafted = svc.draft(store, contributor, content())
    with pytest.raises(NotAllowed, match="administrator role"):
        svc.approve(store, contributor, drafted.id)
    with pytest.raises(NotAllowed, match="administrator role"):
        svc.reject(store, contributor, drafted.id, "no")
    principal = admin.principal_for(store, "admin")
    with pytest.raises(InvalidInput, match="say why"):
        svc.reject(store, principal, drafted.id, " ")
    assert svc.reject(store, principal, drafted.id, "duplicate").state == svc.REJECTED
    with pytest.raises(Conflict, match="rejected and cannot be edited"):
        svc.edit(store, contributor, drafted.id, content())
    with pytest.raises(Conflict, match="only a draft"):
        svc.approve(store, principal, drafted.id)
    with pytest.raises(NotFound):
        svc.show(store, "report--00000000-0000-4000-8000-000000000000")
    with pytest.raises(InvalidInput, match="unknown state"):
        svc.list_all(store, "gone")
    assert [a.state for a in svc.list_all(store, "rejected")] == ["rejected"]
    assert svc.published(store) == []


def test_drafts_from_a_norm_violation_and_from_a_corroborated_campaign(node: Node) -> None:
    store = node.store
    set_setting(store, "quorum", "2")
    admin.add_org(store, "corner-shop", OrgKind.COMPANY, "DE", ("retail",))
    admin.grant(store, "default", "corner-shop", read=True, write=True)
    admin.add_account(store, "corner-shop-owner", "corner-shop", Role.CONTRIBUTOR)
    host = as_(store, "admin")
    isac = as_(store, "health-isac-analyst")
    hospital = incidents.create(isac, "Ransomware at hospital", victim="health-isac", tlp=Tlp.AMBER)
    shop = incidents.create(host, "Card skimming at a shop", victim="corner-shop", invited=["health-isac"])
    principal = admin.principal_for(store, "admin")
    norms = svc.draft_from_incident(store, principal, hospital.id, "de")
    assert norms.source == f"incident {hospital.id}" and norms.content.language == "de"
    assert norms.content.sectors == ("healthcare",) and "healthcare" in norms.content.texts["en"].title
    assert "Ransomware" not in orjson.dumps(norms.content.as_dict()).decode()  # nothing of the AMBER incident
    with pytest.raises(Conflict, match="already drafted"):
        svc.draft_from_incident(store, principal, hospital.id)
    with pytest.raises(InvalidInput, match="nothing to warn the public of yet"):
        svc.draft_from_incident(store, principal, shop.id)
    incidents.assess(host, shop.id, Question.ORIGIN, "energy-co", Stance.AGREE, 90)
    incidents.assess(isac, shop.id, Question.ORIGIN, "energy-co", Stance.STRONGLY_AGREE, 90)
    campaign = svc.draft_from_incident(store, principal, shop.id)
    assert campaign.content.sectors == ("retail",) and "Coordinated attacks" in campaign.content.texts["en"].title
    outsider = admin.principal_for(store, "outsider-analyst")  # no access to the collection
    with pytest.raises(NotFound):
        svc.draft_from_incident(store, outsider, hospital.id)


def test_an_account_that_drafted_and_uploaded_can_be_removed_and_the_advisory_stays(node: Node) -> None:
    store = node.store
    contributor = admin.principal_for(store, "energy-co-analyst")
    drafted = svc.draft(store, contributor, content())
    Uploads(store).start(contributor, "iocs.txt", "list", "default", Tlp.GREEN, 10)
    admin.remove_account(store, "energy-co-analyst")
    kept = svc.show(store, drafted.id)
    with store.read() as tx:
        row = tx.advisory(drafted.id)
    assert kept.state == svc.DRAFT and row is not None and row.drafted_by is None
    assert [a.id for a in svc.reviewable(store, admin.principal_for(store, "admin"))] == [drafted.id]
    assert svc.reviewable(store, admin.principal_for(store, "health-isac-analyst")) == []
