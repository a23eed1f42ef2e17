"""The analyst console (issue 15): server-rendered pages in one frame, behind a signed-in session.

What a page module needs is here: :func:`render` a template that extends ``base.html`` (blocks
``title`` and ``content``), ``await`` :func:`current_principal` for the signed-in
:class:`~accord.domain.model.Principal` (the browser is sent to ``/signin`` otherwise), and
``await`` :func:`checked_form` for a POSTed form whose CSRF token matches the session. Every page
reads through accord.services with that principal, so through the sharing policy.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from accord.web.ui.frame import (
    FormRefused,
    Page,
    SignInRequired,
    checked_form,
    current_principal,
    environment,
    field,
    form_refused,
    render,
    sign_in_required,
)

__all__ = ["FormRefused", "Page", "SignInRequired", "checked_form", "current_principal", "environment",
           "exception_handlers", "field", "render", "routes"]

exception_handlers = {SignInRequired: sign_in_required, FormRefused: form_refused}


def routes() -> list[BaseRoute]:
    """The console's routes, the static files (CSS, a little JavaScript) among them. Pages are
    :class:`Page` routes; ``/`` is a plain route, since it answers JSON clients too."""
    from accord.web.ui import (
        admin,
        advisories,
        coordination,
        home,
        indicators,
        notices,
        objects,
        search,
        signin,
        transparency,
        upload,
    )

    static = Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return [*home.routes, *signin.routes, *objects.routes, *search.routes, *transparency.routes, *coordination.routes,
            *indicators.routes, *upload.routes, *advisories.routes, *notices.routes, *admin.routes(), static]
