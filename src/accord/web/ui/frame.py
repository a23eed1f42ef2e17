"""The console's frame: templates, the signed-in principal, CSRF-checked forms, HTML answers.

Pages are server-rendered with Jinja2 (autoescaping on for every template) and readable without
JavaScript. A page handler reads like this::

    async def page(request: Request) -> Response:
        principal = await current_principal(request)   # or a redirect to /signin
        ... read through accord.services with principal ...
        return render(request, "page.html", title="...", rows=rows)

and a form handler calls ``form = await checked_form(request)`` after ``current_principal``: it
refuses (403) a form without the session's CSRF token.
"""

from __future__ import annotations

import functools
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from accord.config import HttpSettings
from accord.domain.errors import AccordError
from accord.domain.model import Principal
from accord.services import sessions
from accord.services.sessions import SessionEnded, SessionPolicy
from accord.store.repository import Store

HERE = Path(__file__).parent
MAX_FIELDS = 200


@functools.cache
def environment() -> Environment:
    """The console's Jinja2 environment: templates in ``ui/templates``, every value escaped."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


class Page(Route):
    """A route of the console (HTML for browsers), as opposed to the JSON and TAXII API described in
    openapi.json: tests/web/test_openapi.py leaves these out of its comparison."""


def session_cookie(http: HttpSettings) -> str:
    """``__Host-`` when the node is reached over TLS: the browser then keeps the cookie only if it is
    Secure, for the whole host and set by it (RFC 6265bis section 4.1.3.2)."""
    return "__Host-accord_session" if secure(http) else "accord_session"


def secure(http: HttpSettings) -> bool:
    return http.public_url.startswith("https:")


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def policy_of(request: Request) -> SessionPolicy:
    policy: SessionPolicy = getattr(request.app.state, "sessions", None) or SessionPolicy()
    return policy


class SignInRequired(AccordError):
    """No session that holds: the exception handler sends the browser to the sign-in page."""

    def __init__(self, path: str, reason: str | None) -> None:
        super().__init__("sign in first")
        self.path = path
        self.reason = reason


class FormRefused(AccordError):
    """A form without the session's CSRF token (forged, or from a session that has since changed)."""


async def current_principal(request: Request) -> Principal:
    """The signed-in principal (cached on the request), or SignInRequired, which the app answers
    with a redirect to ``/signin`` that comes back here afterwards."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is not None:
        return found
    token = request.cookies.get(session_cookie(request.app.state.http))
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise SignInRequired(back, None)
    try:
        principal = await run_in_threadpool(sessions.resolve, store_of(request), token, policy_of(request))
    except SessionEnded as exc:
        raise SignInRequired(back, exc.code) from None
    request.state.principal = principal
    request.state.csrf = sessions.csrf_token(token)
    return principal


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token matches the session's (call current_principal first)."""
    form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    sent = form.get("csrf")
    expected: str = getattr(request.state, "csrf", "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise FormRefused("this form was not sent from this session's page (or the page is old); reload and retry")
    return form


def sentence(message: str) -> str:
    """An error's message as a sentence for a page: a capital first, a full stop last."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def field(form: FormData, name: str, limit: int = 10_000) -> str:
    """A text field of a form ("" when absent or a file), cut to ``limit`` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the frame: ``template`` extends base.html; the principal, the CSRF token and the
    current path are in its context (as ``principal``, ``csrf`` and ``path``)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    page = environment().get_template(template).render(
        request=request, principal=principal, csrf=getattr(request.state, "csrf", ""), path=request.url.path,
        **context)
    return HTMLResponse(page, status_code=status_code)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = "/signin?next=" + quote(exc.path, safe="/")
    if exc.reason:
        target += "&reason=" + exc.reason
    response = RedirectResponse(target, status_code=303)
    if exc.reason:
        response.delete_cookie(session_cookie(request.app.state.http), path="/")
    return response


async def form_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FormRefused)
    return render(request, "error.html", status_code=403, title="Form refused", message=exc.message)
