"""The application factory. Nothing is created at import time."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp

from accord.config import HttpSettings
from accord.domain.errors import AccordError
from accord.store.repository import Store
from accord.web import coordination, events, exports, federation, misp, openapi, privacy, public, search, taxii, ui
from accord.web.errors import accord_error, http_exception, unexpected_error
from accord.web.middleware import guard
from accord.web.public import notices as public_notices


class _Guarded(Starlette):
    """Starlette with the node's HTTP edge (accord.web.middleware) outside even its own 500 handler,
    so that every response, an unexpected error's too, passes through it."""

    def build_middleware_stack(self) -> ASGIApp:
        return guard(super().build_middleware_stack(), self.state.http)


def create_app(store: Store, http: HttpSettings | None = None) -> Starlette:
    http = http or HttpSettings()
    app = _Guarded(
        routes=[*ui.routes(), *public.routes(http), *taxii.routes, *exports.routes, *federation.routes,
                *events.routes, *coordination.routes, *privacy.routes, *misp.routes, *search.routes,
                Route("/accord/notices", public_notices.for_partner, methods=["GET"]),
                Route("/openapi.json", openapi.document, methods=["GET"])],
        exception_handlers={**ui.exception_handlers, AccordError: accord_error, HTTPException: http_exception,
                            Exception: unexpected_error},
    )
    app.state.store = store
    app.state.http = http
    return app
