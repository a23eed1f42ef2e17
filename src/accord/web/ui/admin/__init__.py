"""The console's administration pages (issue 15), for the node's own administrators only."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    from accord.web.ui.admin import audit, people, sharing

    return [*audit.routes, *people.routes, *sharing.routes]
