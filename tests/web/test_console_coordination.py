"""Coordination in the console (issue 15): answer a consultation, add evidence and assessments to an
incident, escalate, and the norms report and cooperation record as pages; bad input gets a message
next to its field, a hidden consultation is the 404 of an unknown one."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from accord.coordination import consultations, incidents
from accord.coordination.workspace import Workspace
from accord.services import admin
from tests.conftest import Node
from tests.stixgen import indicator
from tests.web.pages import HTML, csrf, post_objects, signed_in

HOSTILE = ["<script>alert(1)</script>", "x" * 20_000, "nul\x00byte", "ｅｖｉｌ\u202e", "' OR 1=1 --", "[]", "{}"]


def _ws(node: Node, account: str) -> Workspace:
    return Workspace(node.store, admin.principal_for(node.store, account))


def _consultation(node: Node) -> str:
    view = consultations.open_consultation(_ws(node, "health-isac-analyst"), "energy-co", "Is 198.51.100.7 yours?")
    return view.consultation.id


def test_the_addressee_acknowledges_then_answers(node: Node) -> None:
    cid = _consultation(node)
    with signed_in(node, "energy-co") as energy:
        page = energy.get(f"/consultations/{cid}", headers=HTML)
        assert page.status_code == 200 and 'value="acknowledge"' in page.text and 'value="close"' not in page.text
        token = csrf(energy, f"/consultations/{cid}")
        r = energy.post(f"/consultations/{cid}", data={"csrf": token, "step": "acknowledge", "text": "On it"},
                        headers=HTML)
        assert r.status_code == 303
        assert '<strong id="state">acknowledged</strong>' in energy.get(r.headers["location"], headers=HTML).text
        r = energy.post(f"/consultations/{cid}", data={"csrf": token, "step": "answer",
                                                       "finding": "compromised-host-being-handled",
                                                       "text": "Cleaning it"}, headers=HTML)
        assert r.status_code == 303
        page = energy.get(f"/consultations/{cid}", headers=HTML).text
    assert '<strong id="state">answered</strong>' in page and "Cleaning it" in page
    view = consultations.show(_ws(node, "health-isac-analyst"), cid)
    assert view.consultation.state.value == "answered"


def test_a_step_out_of_order_or_by_the_wrong_party_gets_a_message(node: Node) -> None:
    cid = _consultation(node)
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        token = csrf(energy, f"/consultations/{cid}")
        r = energy.post(f"/consultations/{cid}", data={"csrf": token, "step": "answer", "finding": "declined"},
                        headers=HTML)
        assert r.status_code == 400 and 'id="form-error"' in r.text and 'aria-describedby="form-error"' in r.text
        token = csrf(health, f"/consultations/{cid}")
        r = health.post(f"/consultations/{cid}", data={"csrf": token, "step": "acknowledge"}, headers=HTML)
        assert r.status_code == 400 and 'id="form-error"' in r.text
    assert consultations.show(_ws(node, "health-isac-analyst"), cid).consultation.state.value == "open"


def test_an_answer_needs_a_finding_next_to_its_field(node: Node) -> None:
    cid = _consultation(node)
    consultations.act(_ws(node, "energy-co-analyst"), cid, consultations.Kind.ACKNOWLEDGE)
    with signed_in(node, "energy-co") as energy:
        token = csrf(energy, f"/consultations/{cid}")
        r = energy.post(f"/consultations/{cid}", data={"csrf": token, "step": "answer", "finding": "maybe"},
                        headers=HTML)
    assert r.status_code == 400 and 'aria-describedby="finding-error"' in r.text and 'id="finding-error"' in r.text


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_never_500_nor_reflect_markup(node: Node, value: str) -> None:
    cid = _consultation(node)
    iid = incidents.create(_ws(node, "health-isac-analyst"), "Grid intrusion", invited=["energy-co"]).id
    with signed_in(node, "energy-co") as energy:
        token = csrf(energy, f"/consultations/{cid}")
        posts = [(f"/consultations/{cid}", {"step": value, "text": value, "finding": value, "refs": value}),
                 (f"/consultations/{cid}", {"step": "evidence", "text": value, "refs": value}),
                 (f"/incidents/{iid}/evidence", {"evidence_refs": value, "evidence_text": value}),
                 (f"/incidents/{iid}/assessments", {"question": value, "subject": value, "opinion": value,
                                                    "confidence": value, "explanation": value})]
        for path, data in posts:
            r = energy.post(path, data={"csrf": token, **data}, headers=HTML)
            assert r.status_code in (303, 400), (path, r.status_code, r.text[:300])
            assert "<script>alert(1)" not in r.text
        quoted = quote(value[:1000], safe="")
        for path in (f"/norms?since={quoted}", f"/consultations/{quoted}", f"/incidents/{quoted}"):
            r = energy.get(path, headers=HTML)
            assert r.status_code in (200, 400, 404), path
            assert "<script>alert(1)" not in r.text


def test_a_consultation_between_others_is_the_404_of_an_unknown_one(node: Node) -> None:
    view = consultations.open_consultation(_ws(node, "health-isac-analyst"), "host-cert", "Between us")
    with signed_in(node, "outsider") as outsider:
        hidden = outsider.get(f"/consultations/{view.consultation.id}", headers=HTML)
        unknown = outsider.get("/consultations/x-accord-consultation--00000000-0000-4000-8000-000000000000",
                               headers=HTML)
        token = csrf(outsider)
        step = outsider.post(f"/consultations/{view.consultation.id}", data={"csrf": token, "step": "acknowledge"},
                             headers=HTML)
    assert hidden.status_code == unknown.status_code == step.status_code == 404
    assert hidden.content == unknown.content


def test_forms_need_the_csrf_token(node: Node) -> None:
    cid = _consultation(node)
    with signed_in(node, "energy-co") as energy:
        r = energy.post(f"/consultations/{cid}", data={"step": "acknowledge"}, headers=HTML)
    assert r.status_code == 403
    assert consultations.show(_ws(node, "health-isac-analyst"), cid).consultation.state.value == "open"


def test_evidence_and_an_assessment_on_an_incident(node: Node) -> None:
    iid = incidents.create(_ws(node, "health-isac-analyst"), "Grid intrusion", invited=["energy-co"]).id
    with signed_in(node, "energy-co") as energy:
        post_objects(energy, node, "energy-co", indicator(5))
        token = csrf(energy, f"/incidents/{iid}")
        r = energy.post(f"/incidents/{iid}/evidence", data={"csrf": token, "evidence_refs": indicator(5)["id"],
                                                           "evidence_text": "Beaconing to it"}, headers=HTML)
        assert r.status_code == 303
        bad = energy.post(f"/incidents/{iid}/assessments", data={"csrf": token, "question": "origin",
                                                                "subject": "health-isac", "opinion": "agree",
                                                                "confidence": "very much"}, headers=HTML)
        assert bad.status_code == 400 and 'id="confidence-error"' in bad.text
        assert 'aria-describedby="confidence-error"' in bad.text and 'value="health-isac"' in bad.text
        unknown = energy.post(f"/incidents/{iid}/assessments", data={"csrf": token, "question": "responsibility",
                                                                    "subject": "Sandworm", "opinion": "agree",
                                                                    "confidence": "80"}, headers=HTML)
        assert unknown.status_code == 400 and "no intrusion set or threat actor named" in unknown.text.lower()
        r = energy.post(f"/incidents/{iid}/assessments", data={"csrf": token, "question": "origin",
                                                              "subject": "health-isac", "opinion": "agree",
                                                              "confidence": "likely", "explanation": "Seen"},
                        headers=HTML)
        assert r.status_code == 303
        page = energy.get(f"/incidents/{iid}", headers=HTML).text
    assert "Beaconing to it" in page and f'href="/objects/{indicator(5)["id"]}"' in page
    origin = page[page.index("<h3>Origin"):page.index("<h3>Responsibility")]
    assert re.search(r"<td>energy-co</td><td>health-isac</td><td>agree</td>", origin)


def test_norms_report_escalation_and_record(node: Node) -> None:
    admin.add_org(node.store, "water-works", admin.OrgKind.COMPANY, "DE", ("water",))
    ws = _ws(node, "health-isac-analyst")
    incidents.create(ws, "Water attack", victim="water-works", invited=["energy-co"])
    cid = _consultation(node)
    consultations.act(_ws(node, "energy-co-analyst"), cid, consultations.Kind.ACKNOWLEDGE)
    with signed_in(node, "health-isac") as health:
        page = health.get("/norms", headers=HTML)
        assert page.status_code == 200 and "Water attack" in page.text and '<svg class="chart"' in page.text
        bad = health.get("/norms", params={"since": "soon"}, headers=HTML)
        assert bad.status_code == 400 and 'id="since-error"' in bad.text
        r = health.post("/norms/escalate", data={"csrf": csrf(health, "/norms")}, headers=HTML)
        assert r.status_code == 303 and r.headers["location"].startswith("/norms?escalated=")
        assert "Escalated:" in health.get(r.headers["location"], headers=HTML).text
        record = health.get("/record", headers=HTML).text
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>\d+</td>", record))
    assert rows["energy-co"] == "1"
    assert record.count('<svg class="chart"') == 2
