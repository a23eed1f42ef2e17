"""A MISP feed of what the key may read, so a MISP instance adds the node as a feed unchanged.

    GET /misp/feed/manifest.json
    GET /misp/feed/{uuid}.json
    GET /misp/feed/hashes.csv

MISP sends a feed's custom header as given; ``Authorization: <key>`` (MISP's own convention for its
API keys) is accepted beside ``Bearer`` and Basic. Content and errors: :mod:`accord.interop.misp.serve`
through the sharing policy; an event the key may not read is 404, as one that does not exist.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.domain.errors import NotFound
from accord.services import auth
from accord.store.repository import Store


def _authorization(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is not None and " " not in header.strip():
        return f"Bearer {header.strip()}"  # MISP: the key alone
    return header


def _respond(request: Request, body: bytes, media_type: str) -> Response:
    """200 with a strong ETag of the content, or 304 when the client holds it (RFC 9110 13.1.2)."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=media_type, headers={"ETag": etag, "Cache-Control": "private, no-cache"})


async def _feed(request: Request, what: str, event_uuid: str | None = None) -> Response:
    from accord.interop.misp import serve

    store: Store = request.app.state.store
    authorization = _authorization(request)

    def work() -> tuple[bytes, str]:
        principal = auth.authenticate(store, authorization)
        feed = serve.gather(store, principal)
        if what == "manifest":
            return orjson.dumps(serve.manifest(feed)), "application/json"
        if what == "hashes":
            return serve.hashes(feed).encode(), "text/csv"
        event = feed.events.get(str(event_uuid))
        if event is None:
            raise NotFound(f"no event {event_uuid}")
        return orjson.dumps(serve.to_misp(feed, event)), "application/json"

    body, media_type = await run_in_threadpool(work)
    return _respond(request, body, media_type)


async def manifest(request: Request) -> Response:
    return await _feed(request, "manifest")


async def hashes(request: Request) -> Response:
    return await _feed(request, "hashes")


async def event(request: Request) -> Response:
    raw: Any = request.path_params["uuid"]
    try:
        canonical = str(uuid.UUID(raw))
    except ValueError:
        canonical = ""
    if canonical != raw:
        auth.authenticate(request.app.state.store, _authorization(request))  # 401 before 404
        raise NotFound(f"no event {str(raw)[:80]}")
    return await _feed(request, "event", canonical)


routes = [
    Route("/misp/feed/manifest.json", manifest, methods=["GET"]),
    Route("/misp/feed/hashes.csv", hashes, methods=["GET"]),
    Route("/misp/feed/{uuid}.json", event, methods=["GET"]),
]
