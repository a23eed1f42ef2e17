"""The coordination API: JSON over HTTP for what ``accord consult``, ``incident`` and friends do.

Beside TAXII rather than inside it: these are workflow steps (acknowledge, answer, assess) checked by
the consultation rules before anything is stored, not objects posted as they are. Every handler
authenticates with the same API keys, acts as the key's organisation, and returns the same JSON as
the CLI's ``--json`` (``accord.coordination.summaries``). Errors are the node's usual bodies; a step
refused by the rules is recorded in the audit log by the service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.coordination import constituencies, consultations, incidents, reports, summaries, sweep
from accord.coordination.workspace import Workspace
from accord.domain.coordination.attribution import Question, Stance, parse_confidence
from accord.domain.coordination.consultation import Finding, Kind
from accord.domain.errors import InvalidInput
from accord.domain.tlp import Tlp
from accord.services import auth
from accord.stix.envelope import loads
from accord.store.repository import Store


def _value(cls: Callable[[str], Any], raw: object, name: str) -> Any:
    try:
        return cls(str(raw))
    except ValueError:
        raise InvalidInput(f"{name!r}: {raw!r} is not valid") from None


def _strings(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{name!r} must be a list of strings")
    return value


def _text(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise InvalidInput(f"{name!r} must be a string" + ("" if default is not None else " (required)"))
    return value


async def _run(request: Request, work: Callable[[Workspace, dict[str, Any]], Any], status: int = 200) -> Response:
    """Parse the JSON body (if any), authenticate, and do the work in one trip to the thread pool."""
    raw = await request.body()
    body = loads(raw) if raw else {}
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    store: Store = request.app.state.store
    authorization = request.headers.get("authorization")

    def run() -> Any:
        with store.read() as tx:
            principal = auth.authenticate_in(tx, authorization)
        return work(Workspace(store, principal), body)

    return Response(orjson.dumps(await run_in_threadpool(run)), status_code=status, media_type="application/json")


def _path(request: Request, name: str) -> str:
    return str(request.path_params[name])


async def whois(request: Request) -> Response:
    def work(ws: Workspace, _b: dict[str, Any]) -> Any:
        return summaries.whois(ws, constituencies.whois(ws, _path(request, "query")))

    return await _run(request, work)


async def declare(request: Request) -> Response:
    def work(ws: Workspace, b: dict[str, Any]) -> Any:
        return summaries.declaration(constituencies.declare(
            ws, _strings(b, "networks"), _strings(b, "asns"), _strings(b, "domains"),
            _value(Tlp.parse, b.get("tlp", "green"), "tlp")))

    return await _run(request, work, 201)


async def list_consultations(request: Request) -> Response:
    return await _run(request, lambda ws, _b: [summaries.consultation(ws, v) for v in consultations.list_all(ws)])


async def open_consultation(request: Request) -> Response:
    def work(ws: Workspace, b: dict[str, Any]) -> Any:
        view = consultations.open_consultation(
            ws, _text(b, "addressee"), _text(b, "summary"), _strings(b, "asks") or ["clarify"],
            _strings(b, "observed_refs"), _value(Tlp.parse, b.get("tlp", "amber"), "tlp"),
            _strings(b, "group_markings"), b.get("first_seen"), b.get("last_seen"), send=not b.get("propose", False))
        return summaries.consultation(ws, view)

    return await _run(request, work, 201)


async def consultation(request: Request) -> Response:
    return await _run(request, lambda ws, _b: summaries.consultation(ws, consultations.show(ws, _path(request, "id"))))


async def consultation_step(request: Request) -> Response:
    kind = _value(Kind, _path(request, "step"), "step")

    def work(ws: Workspace, b: dict[str, Any]) -> Any:
        finding = _value(Finding, b["finding"], "finding") if "finding" in b else None
        view = consultations.act(ws, _path(request, "id"), kind, _text(b, "text", ""), finding,
                                 _strings(b, "refs"))
        return summaries.consultation(ws, view)

    return await _run(request, work)


async def list_incidents(request: Request) -> Response:
    return await _run(request, lambda ws, _b: [summaries.incident(ws, i) for i in incidents.list_all(ws)])


async def create_incident(request: Request) -> Response:
    def work(ws: Workspace, b: dict[str, Any]) -> Any:
        victim = b.get("victim")
        view = incidents.create(ws, _text(b, "name"), _text(b, "description", ""),
                                victim if isinstance(victim, str) else None, _strings(b, "invited"),
                                _strings(b, "consultations"), _value(Tlp.parse, b.get("tlp", "amber"), "tlp"),
                                _strings(b, "group_markings"))
        return summaries.incident(ws, view)

    return await _run(request, work, 201)


async def incident(request: Request) -> Response:
    return await _run(request, lambda ws, _b: summaries.incident(ws, incidents.show(ws, _path(request, "id"))))


async def incident_evidence(request: Request) -> Response:
    def work(ws: Workspace, b: dict[str, Any]) -> Any:
        return summaries.incident(ws, incidents.add_evidence(ws, _path(request, "id"), _strings(b, "refs"),
                                                             _text(b, "text", "")))

    return await _run(request, work)


async def incident_assessment(request: Request) -> Response:
    def work(ws: Workspace, b: dict[str, Any]) -> Any:
        view = incidents.assess(ws, _path(request, "id"), _value(Question, b.get("question"), "question"),
                                _text(b, "subject"), Stance.parse(_text(b, "opinion", "agree")),
                                parse_confidence(str(b.get("confidence", ""))), _text(b, "explanation", ""))
        return summaries.incident(ws, view)

    return await _run(request, work)


async def record(request: Request) -> Response:
    return await _run(request, lambda ws, _b: [summaries.record(ws, r) for r in reports.record(ws).values()])


async def norms(request: Request) -> Response:
    since = request.query_params.get("since", "1970-01-01")

    def work(ws: Workspace, _b: dict[str, Any]) -> Any:
        return summaries.norms(ws, reports.norms_report(ws, reports.parse_time(since)), since)

    return await _run(request, work)


async def run_sweep(request: Request) -> Response:
    """What ``accord coordination sweep`` does, for the requester's organisation (schedulers call it)."""
    def work(ws: Workspace, _b: dict[str, Any]) -> Any:
        return summaries.swept(ws, sweep.sweep(ws))

    return await _run(request, work)


async def warnings(request: Request) -> Response:
    return await _run(request, lambda ws, _b: reports.warnings(ws))


_BASE = "/coordination"
routes = [
    Route(_BASE + "/whois/{query}", whois, methods=["GET"]),
    Route(_BASE + "/constituency", declare, methods=["POST"]),
    Route(_BASE + "/consultations", list_consultations, methods=["GET"]),
    Route(_BASE + "/consultations", open_consultation, methods=["POST"]),
    Route(_BASE + "/consultations/{id}", consultation, methods=["GET"]),
    Route(_BASE + "/consultations/{id}/{step}", consultation_step, methods=["POST"]),
    Route(_BASE + "/incidents", list_incidents, methods=["GET"]),
    Route(_BASE + "/incidents", create_incident, methods=["POST"]),
    Route(_BASE + "/incidents/{id}", incident, methods=["GET"]),
    Route(_BASE + "/incidents/{id}/evidence", incident_evidence, methods=["POST"]),
    Route(_BASE + "/incidents/{id}/assessments", incident_assessment, methods=["POST"]),
    Route(_BASE + "/record", record, methods=["GET"]),
    Route(_BASE + "/norms", norms, methods=["GET"]),
    Route(_BASE + "/warnings", warnings, methods=["GET"]),
    Route(_BASE + "/sweep", run_sweep, methods=["POST"]),
]
