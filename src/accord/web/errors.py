"""The one place where errors become HTTP: TAXII 2.1 error messages (section 3.6.1)."""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

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


def taxii_error(status: int, title: str, description: str) -> Response:
    body = {"title": title, "description": description, "http_status": str(status)}
    headers = {"WWW-Authenticate": 'Bearer realm="accord", Basic realm="accord"'} if status == 401 else None
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


async def http_exception(_request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = str(getattr(exc, "detail", "")) or "error"
    return taxii_error(status, detail, detail)
