"""Sign-in and sign-out pages of the console.

The sign-in form is protected against login CSRF (an attacker signing a victim into the
attacker's account) by a double-submit token: a random value in a short-lived cookie, repeated in
the form. Once signed in, every form carries the session's own token (frame.checked_form).
"""

from __future__ import annotations

import hmac
import secrets
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.domain.errors import Unauthenticated
from accord.services import sessions
from accord.services.sessions import ENDED, SignInThrottle
from accord.web.ui.frame import (
    Page,
    checked_form,
    current_principal,
    field,
    render,
    secure,
    session_cookie,
    store_of,
)

_SIGNIN_COOKIE = "accord_signin"


def safe_next(target: str) -> str:
    """Only a path on this node: never ``//host``, a scheme, or a backslash that browsers read as ``/``."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def _throttle(request: Request) -> SignInThrottle:
    found: SignInThrottle | None = getattr(request.app.state, "signin_throttle", None)
    if found is None:
        found = request.app.state.signin_throttle = SignInThrottle()
    return found


def _form(request: Request, status: int = 200, errors: dict[str, str] | None = None, method: str = "key",
          name: str = "", next_path: str = "/", notice: str | None = None) -> Response:
    token = request.cookies.get(_SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "signin.html", status_code=status, title="Sign in", errors=errors or {},
                      method=method, name=name, next=next_path, notice=notice, signin_token=token)
    response.set_cookie(_SIGNIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=secure(request.app.state.http), path="/signin")
    return response


async def signin_page(request: Request) -> Response:
    reason = request.query_params.get("reason", "")
    return _form(request, next_path=safe_next(request.query_params.get("next", "/")), notice=ENDED.get(reason))


async def signin(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    method = "password" if field(form, "method") == "password" else "key"
    name = field(form, "name", 200).strip()
    next_path = safe_next(field(form, "next", 2000))
    sent, cookie = field(form, "signin_token", 100), request.cookies.get(_SIGNIN_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        return _form(request, 403, {"form": "This sign-in form expired or came from elsewhere. Please try again."},
                     method, name, next_path)
    key = field(form, "key", 500).strip()
    password = field(form, "password", 2000)
    errors: dict[str, str] = {}
    if method == "key" and not key:
        errors["key"] = "Enter your API key (it starts with acc_)."
    if method == "password" and not name:
        errors["name"] = "Enter your account name."
    if method == "password" and not password:
        errors["password"] = "Enter your password."
    if errors:
        return _form(request, 400, errors, method, name, next_path)
    who = name if method == "password" else key.removeprefix("acc_").partition("_")[0]
    address = request.client.host if request.client else ""
    throttle = _throttle(request)
    wait = throttle.wait(who, address, time.monotonic())
    if wait:
        response = _form(request, 429, {"form": f"Too many failed sign-ins. Try again in {int(wait) // 60 + 1} "
                                               f"minute(s)."}, method, name, next_path)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    store = store_of(request)
    try:
        if method == "key":
            signed = await run_in_threadpool(sessions.sign_in_with_key, store, key)
        else:
            signed = await run_in_threadpool(sessions.sign_in_with_password, store, name, password)
    except Unauthenticated as exc:
        throttle.failed(who, address, time.monotonic())
        target = "key" if method == "key" else "password"
        return _form(request, 401, {target: exc.message[:1].upper() + exc.message[1:] + "."}, method, name,
                     next_path)
    throttle.succeeded(who)
    response = RedirectResponse(next_path, status_code=303)
    http = request.app.state.http
    response.set_cookie(session_cookie(http), signed.token, httponly=True, samesite="strict", secure=secure(http),
                        path="/")
    response.delete_cookie(_SIGNIN_COOKIE, path="/signin")
    return response


async def signout(request: Request) -> Response:
    token = request.cookies.get(session_cookie(request.app.state.http))
    await current_principal(request)
    await checked_form(request)
    assert token is not None  # current_principal found the session by it
    await run_in_threadpool(sessions.sign_out, store_of(request), token)
    response = RedirectResponse("/signin?reason=signed-out", status_code=303)
    response.delete_cookie(session_cookie(request.app.state.http), path="/")
    return response


routes = [
    Page("/signin", signin_page, methods=["GET"]),
    Page("/signin", signin, methods=["POST"]),
    Page("/signout", signout, methods=["POST"]),
]
