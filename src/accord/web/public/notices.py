"""Acknowledging a notice from its link (no sign-in: the link's token is the proof of receipt).

    GET  /public/notices/{notice}?t=TOKEN   a page that asks to confirm (a link checker or a mail
                                            scanner following the link records nothing)
    POST /public/notices/{notice}           t=TOKEN in the form: records the receipt, once
    GET  /accord/notices[?unacknowledged=true|false]   the covering partner's notices, as JSON (API key)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from accord.domain.errors import InvalidInput
from accord.services import auth, notices
from accord.store.repository import Store

_ACK = {
    "en": {"title": "Confirm receipt", "confirm": "I received this notice",
           "done": "Thank you: your receipt is recorded."},
    "fr": {"title": "Confirmer la réception", "confirm": "J'ai reçu cet avis",
           "done": "Merci : votre réception est enregistrée."},
    "de": {"title": "Empfang bestätigen", "confirm": "Ich habe diesen Hinweis erhalten",
           "done": "Danke: Ihr Empfang ist vermerkt."},
}
MAX_FORM = 4096


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _page(request: Request, notice: Any, token: str, acknowledged: bool) -> Response:
    from accord.web.public import WORDS, _context, environment

    lang = notice.language.split("-")[0] if notice.language.split("-")[0] in WORDS else "en"
    context = _context(request, _store(request), lang, None)
    html = environment().get_template("ack.html").render(
        **context, ack=_ACK[lang], notice_id=notice.id, notice_subject=notice.subject, token=token,
        acknowledged=acknowledged)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def confirm_page(request: Request) -> Response:
    token = request.query_params.get("t", "")[:128]
    notice = await run_in_threadpool(notices.check_link, _store(request), request.path_params["notice"], token)
    return _page(request, notice, token, notice.acknowledged_at is not None)


async def acknowledge(request: Request) -> Response:
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raw = b""
    token = parse_qs(raw.decode("latin-1")).get("t", [""])[0][:128]
    notice = await run_in_threadpool(notices.acknowledge, _store(request), request.path_params["notice"], token)
    return _page(request, notice, token, True)


async def for_partner(request: Request) -> Response:
    store = _store(request)
    authorization = request.headers.get("authorization")
    asked = request.query_params.getlist("unacknowledged") or ["false"]

    def work() -> list[dict[str, Any]]:
        principal = auth.authenticate(store, authorization)
        if len(asked) != 1 or asked[0] not in ("true", "false"):
            raise InvalidInput("unacknowledged is true or false")
        return notices.for_partner(store, principal, asked[0] == "true")

    return Response(orjson.dumps(await run_in_threadpool(work)), media_type="application/json")
