"""Coordination in the console: consultations (answer them), incidents (add evidence and
assessments), the norms report (escalate) and the cooperation record, with charts.

Every action goes through the same services as ``accord consult``/``incident`` and the coordination
JSON API (accord.coordination), acting as the signed-in key's organisation: the domain's rules
refuse steps out of order or by the wrong party, and those refusals come back as a message next to
the form. A consultation or incident the key may not read is the same 404 page as an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.coordination import consultations, incidents, reports, summaries, sweep
from accord.coordination.workspace import Workspace
from accord.domain.coordination.attribution import Question, Stance, parse_confidence
from accord.domain.coordination.consultation import TRANSITIONS, Finding, Kind, Party
from accord.domain.coordination.errors import UnknownConsultation
from accord.domain.errors import AccordError, InvalidInput, NotFound
from accord.domain.model import Principal
from accord.stix.validate import is_stix_id
from accord.web.ui import svg
from accord.web.ui.frame import Page, checked_form, current_principal, field, render, sentence, store_of

STEPS = (Kind.ACKNOWLEDGE, Kind.ANSWER, Kind.MESSAGE, Kind.EVIDENCE, Kind.CLOSE, Kind.WITHDRAW)
TEXT_LIMIT = 10_000


def _workspace(request: Request, principal: Principal) -> Workspace:
    return Workspace(store_of(request), principal)


def _gone(request: Request, what: str) -> Response:
    return render(request, "error.html", status_code=404, title=f"No such {what}",
                  message=f"There is no {what} with this id that you may read.")


def _refs(text: str, errors: dict[str, str], name: str) -> list[str]:
    refs = [r for r in text.replace(",", " ").split() if r]
    bad = next((r for r in refs if not is_stix_id(r)), None)
    if bad is not None:
        errors[name] = f"{bad[:80]!r} is not a STIX id (type--UUID)."
    elif len(refs) > 100:
        errors[name] = "At most 100 ids."
    return refs


# --- consultations --------------------------------------------------------------------------------

def allowed_steps(c: dict[str, Any], me: str) -> list[str]:
    """The steps the domain's table lets this party take now (the page offers only these)."""
    mine = {Party.EITHER} | ({Party.OPENER} if c["opener"] == me else set()) | (
        {Party.ADDRESSEE} if c["addressee"] == me else set())
    return [k.value for k in STEPS if TRANSITIONS[k][0] in mine and c["state"] in {s.value for s in TRANSITIONS[k][1]}]


async def consultation_list(request: Request) -> Response:
    principal = await current_principal(request)

    def read() -> tuple[list[dict[str, Any]], str]:
        ws = _workspace(request, principal)
        return [summaries.consultation(ws, v) for v in consultations.list_all(ws)], ws.me.name
    rows, me = await run_in_threadpool(read)
    return render(request, "consultations.html", title="Consultations", rows=rows, me=me)


def _consultation_page(request: Request, ws: Workspace, c: dict[str, Any], status: int = 200,
                       errors: dict[str, str] | None = None, sent: dict[str, str] | None = None) -> Response:
    return render(request, "consultation.html", status_code=status, title=f"Consultation: {c['summary'][:80]}", c=c,
                  steps=allowed_steps(c, ws.me.name), findings=[f.value for f in Finding], errors=errors or {},
                  sent=sent or {}, notice=request.query_params.get("done", "")[:40])


async def consultation_page(request: Request) -> Response:
    principal = await current_principal(request)
    consultation_id = request.path_params["consultation_id"]

    def read() -> tuple[Workspace, dict[str, Any]]:
        ws = _workspace(request, principal)
        return ws, summaries.consultation(ws, consultations.show(ws, consultation_id))
    try:
        ws, c = await run_in_threadpool(read)
    except (UnknownConsultation, NotFound):
        return _gone(request, "consultation")
    return _consultation_page(request, ws, c)


async def consultation_step(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    consultation_id = request.path_params["consultation_id"]
    errors: dict[str, str] = {}
    sent = {"step": field(form, "step", 40), "text": field(form, "text", TEXT_LIMIT + 1),
            "finding": field(form, "finding", 80), "refs": field(form, "refs", 20_000)}
    try:
        kind = Kind(sent["step"])
    except ValueError:
        kind = None
        errors["step"] = "Choose a step."
    finding = None
    if kind is Kind.ANSWER:
        try:
            finding = Finding(sent["finding"])
        except ValueError:
            errors["finding"] = "Choose the finding of your answer."
    if len(sent["text"]) > TEXT_LIMIT:
        errors["text"] = f"At most {TEXT_LIMIT} characters."
    if "\x00" in sent["text"]:
        errors["text"] = "The text may not contain NUL characters."
    refs = _refs(sent["refs"], errors, "refs")
    if kind is Kind.EVIDENCE and not refs and "refs" not in errors:
        errors["refs"] = "Name at least one evidence object by its id."

    def work() -> tuple[Workspace, dict[str, Any], str | None]:
        ws = _workspace(request, principal)
        if errors or kind is None:
            return ws, summaries.consultation(ws, consultations.show(ws, consultation_id)), None
        try:
            view = consultations.act(ws, consultation_id, kind, sent["text"], finding, refs)
        except (UnknownConsultation, NotFound):
            raise
        except AccordError as exc:
            return ws, summaries.consultation(ws, consultations.show(ws, consultation_id)), sentence(exc.message)
        return ws, summaries.consultation(ws, view), None
    try:
        ws, c, refused = await run_in_threadpool(work)
    except (UnknownConsultation, NotFound):
        return _gone(request, "consultation")
    if refused:
        errors["form"] = refused
    if errors:
        return _consultation_page(request, ws, c, 400, errors, sent)
    return RedirectResponse(f"/consultations/{consultation_id}?done={kind.value if kind else ''}", status_code=303)


# --- incidents ------------------------------------------------------------------------------------

async def incident_list(request: Request) -> Response:
    principal = await current_principal(request)

    def read() -> list[dict[str, Any]]:
        ws = _workspace(request, principal)
        return [summaries.incident(ws, i) for i in incidents.list_all(ws)]
    return render(request, "incidents.html", title="Incidents", rows=await run_in_threadpool(read))


def _incident_page(request: Request, i: dict[str, Any], status: int = 200, errors: dict[str, str] | None = None,
                   sent: dict[str, str] | None = None) -> Response:
    return render(request, "incident.html", status_code=status, title=f"Incident: {i['name'][:80]}", i=i,
                  errors=errors or {}, sent=sent or {}, stances=[s.stix for s in Stance],
                  questions=[q.value for q in Question], notice=request.query_params.get("done", "")[:40])


async def incident_page(request: Request) -> Response:
    principal = await current_principal(request)
    incident_id = request.path_params["incident_id"]

    def read() -> dict[str, Any]:
        ws = _workspace(request, principal)
        return summaries.incident(ws, incidents.show(ws, incident_id))
    try:
        i = await run_in_threadpool(read)
    except NotFound:
        return _gone(request, "incident")
    return _incident_page(request, i)


async def _incident_form(request: Request, check: Callable[[dict[str, str], dict[str, str]], Any],
                         act: Callable[[Workspace, str, Any], Any], fields: tuple[str, ...], done: str) -> Response:
    """Check a form's fields (errors by field), then act; a refusal by the service is a form error."""
    principal = await current_principal(request)
    form = await checked_form(request)
    incident_id = request.path_params["incident_id"]
    sent = {name: field(form, name, TEXT_LIMIT + 1) for name in fields}
    errors: dict[str, str] = {}
    for name in fields:
        if len(sent[name]) > TEXT_LIMIT:
            errors[name] = f"At most {TEXT_LIMIT} characters."
        elif "\x00" in sent[name]:
            errors[name] = "NUL characters are not allowed."
    checked = check(sent, errors)

    def work() -> tuple[dict[str, Any], str | None]:
        ws = _workspace(request, principal)
        if errors:
            return summaries.incident(ws, incidents.show(ws, incident_id)), None
        try:
            return summaries.incident(ws, act(ws, incident_id, checked)), None
        except NotFound as exc:
            if "incident" in exc.message:
                raise
            return summaries.incident(ws, incidents.show(ws, incident_id)), sentence(exc.message)
        except AccordError as exc:
            return summaries.incident(ws, incidents.show(ws, incident_id)), sentence(exc.message)
    try:
        i, refused = await run_in_threadpool(work)
    except NotFound:
        return _gone(request, "incident")
    if refused:
        errors[f"{done}-form"] = refused
    if errors:
        return _incident_page(request, i, 400, errors, sent)
    return RedirectResponse(f"/incidents/{incident_id}?done={done}", status_code=303)


async def incident_evidence(request: Request) -> Response:
    def check(sent: dict[str, str], errors: dict[str, str]) -> tuple[list[str], str]:
        refs = _refs(sent["evidence_refs"], errors, "evidence_refs")
        if not refs and "evidence_refs" not in errors:
            errors["evidence_refs"] = "Name at least one evidence object by its id."
        return refs, sent["evidence_text"]

    return await _incident_form(request, check, lambda ws, iid, e: incidents.add_evidence(ws, iid, *e),
                                ("evidence_refs", "evidence_text"), "evidence")


async def incident_assessment(request: Request) -> Response:
    def check(sent: dict[str, str], errors: dict[str, str]) -> tuple[Question, str, Stance, int, str] | None:
        question = stance = confidence = None
        try:
            question = Question(sent["question"])
        except ValueError:
            errors["question"] = "Choose the question you assess."
        try:
            stance = Stance.parse(sent["opinion"] or "-")
        except InvalidInput:
            errors["opinion"] = "Choose your opinion."
        try:
            confidence = parse_confidence(sent["confidence"])
        except InvalidInput:
            errors["confidence"] = "Give a confidence from 0 to 100, or a word such as likely."
        if not sent["subject"].strip():
            errors["subject"] = "Name the subject: a partner (origin) or an intrusion set or threat actor."
        if question is None or stance is None or confidence is None or errors:
            return None
        return question, sent["subject"].strip()[:300], stance, confidence, sent["explanation"]

    return await _incident_form(request, check, lambda ws, iid, a: incidents.assess(ws, iid, *a),
                                ("question", "subject", "opinion", "confidence", "explanation"), "assessment")


# --- norms and record -----------------------------------------------------------------------------

async def norms_page(request: Request) -> Response:
    principal = await current_principal(request)
    since = request.query_params.get("since", "").strip()[:40] or "1970-01-01"
    errors: dict[str, str] = {}
    try:
        start = reports.parse_time(since)
    except InvalidInput:
        errors["since"] = "Enter a date as YYYY-MM-DD or a STIX timestamp."
        start = 0

    def read() -> dict[str, Any]:
        ws = _workspace(request, principal)
        return summaries.norms(ws, reports.norms_report(ws, start), since)
    report = await run_in_threadpool(read)
    per_sector: dict[str, int] = {}
    for i in report["incidents"]:
        for sector in i["protected_sectors"]:
            per_sector[sector] = per_sector.get(sector, 0) + 1
    chart = svg.bars(sorted(per_sector.items())) if per_sector else None
    swept = request.query_params.get("escalated")
    return render(request, "norms.html", status_code=400 if errors else 200, title="Norms report", report=report,
                  since=since, errors=errors, chart=chart, escalated=swept[:80] if swept else None)


async def escalate(request: Request) -> Response:
    """What ``accord coordination sweep`` does for the organisation: warn every entitled partner of
    missed deadlines and of sightings whose victim is in a protected sector."""
    principal = await current_principal(request)
    await checked_form(request)

    def work() -> str:
        ws = _workspace(request, principal)
        r = sweep.sweep(ws)
        return f"{r.norms_warnings} protected-sector, {r.deadline_warnings} deadline"
    try:
        done = await run_in_threadpool(work)
    except AccordError as exc:
        return render(request, "error.html", status_code=400, title="Not escalated", message=sentence(exc.message))
    return RedirectResponse("/norms?escalated=" + done.replace(" ", "+").replace(",", "%2C"), status_code=303)


async def record_page(request: Request) -> Response:
    principal = await current_principal(request)

    def read() -> list[dict[str, Any]]:
        ws = _workspace(request, principal)
        return [summaries.record(ws, r) for r in reports.record(ws).values()]
    rows = await run_in_threadpool(read)
    rows.sort(key=lambda r: r["partner"])
    answered = svg.bars([(r["partner"][:12], r["answered"]) for r in rows]) if rows else None
    missed = svg.bars([(r["partner"][:12], r["deadlines_missed"]) for r in rows]) if rows else None
    return render(request, "record.html", title="Cooperation record", rows=rows, answered=answered, missed=missed)


routes = [
    Page("/consultations", consultation_list, methods=["GET"]),
    Page("/consultations/{consultation_id:str}", consultation_page, methods=["GET"]),
    Page("/consultations/{consultation_id:str}", consultation_step, methods=["POST"]),
    Page("/incidents", incident_list, methods=["GET"]),
    Page("/incidents/{incident_id:str}", incident_page, methods=["GET"]),
    Page("/incidents/{incident_id:str}/evidence", incident_evidence, methods=["POST"]),
    Page("/incidents/{incident_id:str}/assessments", incident_assessment, methods=["POST"]),
    Page("/norms", norms_page, methods=["GET"]),
    Page("/norms/escalate", escalate, methods=["POST"]),
    Page("/record", record_page, methods=["GET"]),
]
