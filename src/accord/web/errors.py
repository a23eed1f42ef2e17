"""The one place where errors become HTTP: TAXII 2.1 error messages (section 3.6.1)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from accord.domain.errors import (
    AccordError,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    TooLarge,
    Unauthenticated,
)
from accord.web.media import TAXII_MEDIA

log = logging.getLogger("accord.web")

_STATUS: list[tuple[type[AccordError], int, str]] = [
    (Unauthenticated, 401, "Unauthorized"),
    (NotAllowed, 403, "Forbidden"),
    (NotFound, 404, "Not Found"),
    (Conflict, 409, "Conflict"),
    (TooLarge, 413, "Payload Too Large"),
    (InvalidInput, 400, "Bad Request"),
]


class HttpError(AccordError):
    """Errors that only exist at the HTTP boundary: 406, 415, 422."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title


def taxii_error(status: int, title: str, description: str, headers: Mapping[str, str] | None = None) -> Response:
    body = {"title": title, "description": description, "http_status": str(status)}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="accord", Basic realm="accord"'}
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII_MEDIA, headers=headers)


async def accord_error(_request: Request, exc: Exception) -> Response:
    if isinstance(exc, HttpError):
        return taxii_error(exc.status, exc.title, exc.message)
    assert isinstance(exc, AccordError)
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return taxii_error(status, title, exc.message)
    return taxii_error(400, "Bad Request", exc.message)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return taxii_error(500, "Internal Server Error", "the server failed; the error is in its log")


def _allowed(request: Request) -> str:
    """Every method some route takes at this path. Starlette's own ``Allow`` names only the first
    route that matched the path, and several routes may share one (a GET and a POST route)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own answers (no route: 404; a route without the method: 405) as TAXII error
    messages (section 3.6.1); a 405 carries ``Allow`` (RFC 9110 section 15.5.6)."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail or "error"
    if status == 405:
        allow = _allowed(request)
        return taxii_error(405, detail, f"{request.method} is not allowed here; this path takes {allow}",
                           {**(exc.headers or {}), "Allow": allow})
    return taxii_error(status, detail, detail, exc.headers)
