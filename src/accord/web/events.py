"""Early warnings as a Server-Sent Events stream (HTML Living Standard, "Server-sent events").

``GET /federation/events/`` with an API key streams one ``event: warning`` per warning the caller's
organisation may read, as JSON, with the warning's date_added as the event id. The filter is a
stored subscription (``?subscription=NAME``, one of the caller's organisation) or given inline:
``types``, ``max_tlp``, ``sectors``, ``min_confidence``, ``only_corroborated``. A comment line every
15 seconds keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from accord.domain.errors import InvalidInput, NotFound
from accord.domain.tlp import Tlp
from accord.federation.early_warning import Listener, Warnings, warning_json
from accord.federation.model import WarningFilter, filter_from_json
from accord.services import auth
from accord.store.repository import Store

HEARTBEAT_SECONDS = 15.0


def _filter(store: Store, org_id: int, params: dict[str, str]) -> WarningFilter:
    name = params.get("subscription")
    if name:
        with store.read() as tx:
            for sub in tx.list_subscriptions():
                if sub.name == name and sub.org_id == org_id:
                    return filter_from_json(orjson.loads(sub.filter))
        raise NotFound(f"no subscription {name!r} for your organisation")
    try:
        return WarningFilter(
            frozenset(t for t in params.get("types", "indicator").split(",") if t),
            Tlp.parse(params.get("max_tlp", "red")),
            frozenset(s for s in params.get("sectors", "").split(",") if s),
            int(params.get("min_confidence", "0")),
            params.get("only_corroborated", "") in ("1", "true", "yes"))
    except ValueError as exc:
        raise InvalidInput(f"bad warning filter: {exc}") from None


async def events(request: Request) -> StreamingResponse:
    store: Store = request.app.state.store
    warnings: Warnings | None = getattr(request.app.state, "warnings", None)
    if warnings is None:
        raise NotFound("this node does not run early warning")
    authorization = request.headers.get("authorization")
    params = dict(request.query_params)

    def setup() -> Listener:
        principal = auth.authenticate(store, authorization)
        with store.read() as tx:
            org_name = tx.get_org(principal.org_id).name
        return Listener(principal.org_id, principal.groups, _filter(store, principal.org_id, params),
                        principal.account_id, org_name)

    listener = await run_in_threadpool(setup)
    warnings.listen(listener)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b": accord early warning\n\n"
            while True:
                try:
                    w = await asyncio.wait_for(listener.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield (b"id: " + str(w.date_added).encode() + b"\nevent: warning\ndata: "
                       + orjson.dumps(warning_json(w)) + b"\n\n")
        finally:
            with contextlib.suppress(ValueError):
                warnings.listeners.remove(listener)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


routes = [Route("/federation/events/", events, methods=["GET"])]
