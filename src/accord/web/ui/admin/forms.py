"""What every administration page shares: the node-administrator check, checked form fields with a
message per field, and the answer to a form (the page again with its messages, or a redirect).

A page holds several forms; each names itself in a hidden ``action`` field, and the ids of its
fields and of their messages are ``<action>-<field>`` and ``<action>-<field>-error``, so that
``aria-describedby`` links each message to its field (WCAG 2.1 success criterion 3.3.1).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.domain.errors import AccordError, Conflict, NotAllowed
from accord.domain.model import Principal
from accord.services import admin_views
from accord.web.ui.frame import checked_form, current_principal, render, sentence, store_of

T = TypeVar("T")
Handler = Callable[[Request, Principal], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

# Control characters and invisible formatting ones (bidirectional overrides among them, which can
# make a name read as another: CVE-2021-42574) have no place in a name an administrator reads.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def admin_page(handler: Handler) -> Endpoint:
    """A page for the node's administrators: others, signed in, get a 403 page that names no data."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        principal = await current_principal(request)
        if not await run_in_threadpool(admin_views.is_node_admin, store_of(request), principal):
            return render(request, "error.html", status_code=403, title="Administrators only",
                          message="Only the node's administrators see and change its administration.")
        return await handler(request, principal)

    return endpoint


class Form:
    """A submitted form's fields, each checked as it is read; ``errors`` holds a message per field
    that was not right, keyed ``<action>-<field>`` (``<action>-form`` for the form as a whole)."""

    def __init__(self, data: FormData, actions: Iterable[str]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.status = 400
        sent = data.get("action")
        allowed = list(actions)
        self.action = sent if isinstance(sent, str) and sent in allowed else ""
        if not self.action:
            self.errors["form"] = "This form is not one this page knows; reload the page and retry."

    @property
    def ok(self) -> bool:
        return not self.errors

    def key(self, name: str) -> str:
        return f"{self.action}-{name}"

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(self.key(name), message)

    def refuse(self, name: str, exc: AccordError) -> None:
        """A service refused the change: its message goes next to the field it is about."""
        self.status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, NotAllowed) else 400
        self.fail(name, sentence(exc.message))

    def _raw(self, name: str, label: str) -> str:
        raw = self.data.get(name)
        if raw is None:
            return ""
        if not isinstance(raw, str):
            self.fail(name, f"{label} is text, not a file.")
            return ""
        return raw

    def text(self, name: str, label: str, limit: int = 200, required: bool = True, multiline: bool = False,
             secret: bool = False) -> str:
        raw = self._raw(name, label)
        value = raw if secret else raw.strip()
        if not secret:
            self.values[self.key(name)] = value[:limit]
        allowed = {"\n", "\r", "\t"} if multiline else set()
        if required and not value:
            self.fail(name, f"Enter {label.lower()}.")
        elif len(value) > limit:
            self.fail(name, f"{label} has at most {limit} characters (this has {len(value)}).")
        elif any(c not in allowed and unicodedata.category(c) in _REFUSED_CATEGORIES for c in value):
            self.fail(name, f"{label} contains control or invisible formatting characters; remove them.")
        return value

    def choice(self, name: str, label: str, choices: Iterable[str], required: bool = True) -> str:
        raw = self._raw(name, label)
        options = list(choices)
        if raw in options:
            self.values[self.key(name)] = raw
            return raw
        if raw or required:
            self.fail(name, f"Choose {label.lower()} from the list.")
        return ""

    def choices(self, name: str, label: str, choices: Iterable[str]) -> list[str]:
        """Every checked box of a group (none checked is an empty list)."""
        options = list(choices)
        picked = [v for v in self.data.getlist(name)]
        if any(not isinstance(v, str) or v not in options for v in picked):
            self.fail(name, f"Choose {label.lower()} from the list.")
            return []
        return [v for v in options if v in picked]

    def flag(self, name: str, label: str) -> bool:
        raw = self._raw(name, label)
        if raw not in ("", "1"):
            self.fail(name, f"{label}: tick the box or leave it empty.")
        return raw == "1"


async def attempt(form: Form, field: str | Callable[[AccordError], str], call: Callable[..., T],
                  *args: Any, **kwargs: Any) -> T | None:
    """``call(*args)`` in a worker thread (the store blocks), if the form is right so far; a refusal
    goes next to ``field`` (or the field it names for the error)."""
    if not form.ok:
        return None
    try:
        return await run_in_threadpool(functools.partial(call, *args, **kwargs))
    except AccordError as exc:
        form.refuse(field if isinstance(field, str) else field(exc), exc)
        return None


async def read_form(request: Request, actions: Iterable[str]) -> Form:
    return Form(await checked_form(request), actions)


def done(path: str, notice: str, **params: str) -> Response:
    """After a change: back to the page (POST, redirect, GET), which shows ``notice``."""
    return RedirectResponse(f"{path}?{urlencode({'done': notice, **params})}", status_code=303)


def page(request: Request, template: str, title: str, notices: dict[str, str], form: Form | None = None,
         status_code: int = 200, **context: Any) -> Response:
    """The page, with the messages of a refused form, or the notice of the change just made."""
    notice = None
    code = request.query_params.get("done", "")
    if form is None and code in notices:
        notice = notices[code].format(name=request.query_params.get("name", "")[:200])
    return render(request, template, status_code=form.status if form is not None else status_code, title=title,
                  errors=form.errors if form else {}, values=form.values if form else {}, notice=notice,
                  failed=form.action if form else "", **context)
