"""The administration overview, and the audit log: a searchable table, newest first, paged by
sequence number, with a button that recomputes the hash chain (``accord audit verify``)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.domain.model import Principal
from accord.services import admin, admin_views
from accord.web.ui.admin.forms import admin_page, read_form
from accord.web.ui.frame import Page, render, store_of

SEARCH_LIMIT = 200


@admin_page
async def overview(request: Request, principal: Principal) -> Response:
    status = await run_in_threadpool(admin.node_status, store_of(request))
    return render(request, "admin/overview.html", title="Administration", status=status)


def _before(request: Request) -> tuple[int | None, str | None]:
    """The ``before`` query parameter: a positive record number, or a message saying what it must be."""
    raw = request.query_params.get("before", "")
    if not raw:
        return None, None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        return None, "“Older than” is a record number (1 or more)."
    return int(raw), None


async def _audit(request: Request, verified: tuple[int, int | None, str] | None = None,
                 refused: dict[str, str] | None = None) -> Response:
    text = request.query_params.get("q", "")
    before, bad_before = _before(request)
    errors: dict[str, str] = dict(refused or {})
    if len(text) > SEARCH_LIMIT:
        errors["audit-q"] = f"Search for at most {SEARCH_LIMIT} characters (this has {len(text)})."
    if bad_before:
        errors["audit-before"] = bad_before
    view: dict[str, Any] = {"rows": [], "total": 0, "older": None}
    if not errors:
        view = await run_in_threadpool(admin_views.audit_page, store_of(request), text, before)
    return render(request, "admin/audit.html", status_code=400 if errors else 200, title="Audit log",
                  errors=errors, values={"audit-q": text[:SEARCH_LIMIT]}, failed="audit", notice=None,
                  q=text[:SEARCH_LIMIT], before=before, verified=verified, **view)


@admin_page
async def audit_page(request: Request, principal: Principal) -> Response:
    return await _audit(request)


@admin_page
async def audit_verify(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("verify",))
    if not form.ok:
        return await _audit(request, refused=form.errors)
    result = await run_in_threadpool(admin.verify_audit, store_of(request))
    return await _audit(request, verified=result)


routes = [
    Page("/admin", overview, methods=["GET"]),
    Page("/admin/audit", audit_page, methods=["GET"]),
    Page("/admin/audit/verify", audit_verify, methods=["POST"]),
]
