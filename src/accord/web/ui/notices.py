"""Notices and the asset registry in the console (issue 18).

``/notices`` is what ``accord notice list`` shows the covering partner: the notices of the
organisations it covers, each with its items and each message's delivery state, the unacknowledged
ones first to phone. ``/assets`` is the registry (:mod:`accord.services.assets`): an administrator
sees every registration and every dispute; any other account its own organisation's and those of the
organisations it covers, and the disputes that involve them. Registering is open to an
administrator and to the organisation's own contributors, as on the command line, all or nothing,
with an overlap refused (naming the other claim) unless the registrar marks it disputed.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.domain import assets as adom
from accord.domain.errors import AccordError, Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.model import Principal
from accord.domain.sharing import Role
from accord.services import assets as svc
from accord.services import notices
from accord.store.repository import Store
from accord.web.ui.frame import Page, checked_form, current_principal, field, render, sentence, store_of

KIND_LABELS = {adom.NETWORK: "Address ranges", adom.DOMAIN: "Domains", adom.SOFTWARE: "Software",
               adom.CONTACT: "E-mail contacts", adom.WEBHOOK: "Webhooks"}
KIND_HINTS = {adom.NETWORK: "198.51.100.0/24", adom.DOMAIN: "food.example", adom.SOFTWARE: "acme:r1",
              adom.CONTACT: "help@food.example", adom.WEBHOOK: "https://food.example/hooks/security"}
MAX_VALUES = 200
View = tuple[svc.Registered | None, bool, list[str]]  # a registration, may it be changed, the partners to cover it


async def notices_page(request: Request) -> Response:
    principal = await current_principal(request)
    asked = request.query_params.getlist("unacknowledged")
    only_open = bool(asked) and asked[0] in ("1", "true", "on")
    rows = await run_in_threadpool(notices.for_partner, store_of(request), principal, only_open)
    rows.sort(key=lambda n: (n["acknowledged"] is not None, n["created"]), reverse=False)
    waiting = sum(1 for n in rows if n["acknowledged"] is None)
    return render(request, "notices.html", title="Notices", rows=rows, only_open=only_open, waiting=waiting)


# --- the registry ---------------------------------------------------------------------------------

def _registrable(store: Store, principal: Principal) -> list[str]:
    """The organisations whose assets the principal may register (as services.assets allows)."""
    with store.read() as tx:
        if principal.role is Role.ADMINISTRATOR:
            return [o.name for o in tx.list_orgs()]
        return [tx.get_org(principal.org_id).name] if principal.role.can_write else []


async def assets_page(request: Request) -> Response:
    principal = await current_principal(request)
    store = store_of(request)

    def read() -> tuple[list[svc.Registered], list[adom.Dispute], list[str]]:
        return svc.visible_to(store, principal), svc.disputes_for(store, principal), _registrable(store, principal)
    rows, disputes, registrable = await run_in_threadpool(read)
    counts = [{"r": r, "counts": {k: sum(1 for a in r.assets if a.kind == k) for k in adom.KINDS},
               "disputed": sum(1 for a in r.assets if a.disputed)} for r in rows]
    return render(request, "assets.html", title="Asset registry", rows=counts, disputes=disputes,
                  registrable=registrable, kinds=adom.KINDS, labels=KIND_LABELS)


def _org_view(store: Store, principal: Principal, org: str) -> View:
    """The registration the principal may see (None when there is none yet), whether it may change
    it, and the organisations that may cover it; NotFound when it may neither see nor register it."""
    registrable = _registrable(store, principal)
    shown = {r.org: r for r in svc.visible_to(store, principal)}
    may_change = org in registrable
    if org not in shown and not may_change:
        raise NotFound(f"no registration of {org!r} that you may see")
    with store.read() as tx:
        partners = [o.name for o in tx.list_orgs() if o.name != org] if principal.role is Role.ADMINISTRATOR else []
    return shown.get(org), may_change, partners


def _org_page(request: Request, org: str, view: View,
              sent: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    registered, may_change, partners = view
    grouped = {k: [a for a in registered.assets if a.kind == k] for k in adom.KINDS} if registered else {}
    return render(request, "asset_org.html", status_code=status, title=f"Assets of {org}", org=org,
                  registered=registered, grouped=grouped, may_change=may_change, partners=partners,
                  kinds=adom.KINDS, labels=KIND_LABELS, hints=KIND_HINTS,
                  sent=sent or {"kind": adom.NETWORK, "values": "", "language": "", "covered_by": "",
                                "disputed": False},
                  errors=errors or {})


async def asset_org_page(request: Request) -> Response:
    principal = await current_principal(request)
    org = request.path_params["org"]
    try:
        view = await run_in_threadpool(_org_view, store_of(request), principal, org)
    except NotFound:
        return _unknown(request)
    return _org_page(request, org, view)


def _unknown(request: Request) -> Response:
    return render(request, "error.html", status_code=404, title="No such registration",
                  message="There is no organisation by this name whose assets you may see or register.")


async def _changing(request: Request) -> tuple[Principal, FormData, View] | Response:
    """The principal, its CSRF-checked form and the registration it posts to, or the 404 page."""
    principal = await current_principal(request)
    form = await checked_form(request)
    try:
        return principal, form, await run_in_threadpool(_org_view, store_of(request), principal,
                                                        request.path_params["org"])
    except NotFound:
        return _unknown(request)


async def add_assets(request: Request) -> Response:
    found = await _changing(request)
    if isinstance(found, Response):
        return found
    principal, form, view = found
    org, store = request.path_params["org"], store_of(request)
    kind, text = field(form, "kind", 40), field(form, "values", 50_001)
    language, covered_by = field(form, "language", 41).strip(), field(form, "covered_by", 201)
    disputed = field(form, "disputed", 10) == "on"
    sent: dict[str, Any] = {"kind": kind, "values": text, "language": language, "covered_by": covered_by,
                            "disputed": disputed}
    errors: dict[str, str] = {}
    if not view[1]:
        errors["form"] = "You may not change this organisation's assets (an administrator or its own accounts may)."
    if kind not in adom.KINDS:
        errors["kind"] = "Choose what kind of asset these are."
    values = [v.strip() for v in text.splitlines() if v.strip()]
    if "\x00" in text:
        errors["values"] = "NUL characters are not allowed."
    elif len(values) > MAX_VALUES or len(text) > 50_000:
        errors["values"] = f"At most {MAX_VALUES} values at once."
    elif not values and not language and not covered_by:
        errors["values"] = "Enter at least one value, one per line (or only change the language)."
    if language:
        try:
            adom.parse_language(language.replace("\x00", "?"))
        except InvalidInput:
            errors["language"] = "A language tag such as en, fr or pt-BR, or empty to keep it."
    if covered_by and covered_by not in view[2]:
        errors["covered_by"] = "Choose a partner from the list, or keep the one it has."
    if errors:
        return _org_page(request, org, view, sent, errors, 403 if "form" in errors and len(errors) == 1 else 400)
    try:
        await run_in_threadpool(svc.add, store, principal, org, {kind: values} if values else {},
                                language or None, covered_by or None, disputed)
    except NotAllowed as exc:
        return _org_page(request, org, view, sent, {"form": sentence(exc.message)}, 403)
    except (InvalidInput, Conflict) as exc:
        message = sentence(exc.message)
        if isinstance(exc, Conflict):
            message += " Tick 'disputed' to keep both claims as a dispute."
        return _org_page(request, org, view, sent, {"values": message}, 409 if isinstance(exc, Conflict) else 400)
    except AccordError as exc:
        return _org_page(request, org, view, sent, {"form": sentence(exc.message)}, 400)
    return RedirectResponse(f"/assets/{org}?added=1", status_code=303)


async def remove_asset(request: Request) -> Response:
    found = await _changing(request)
    if isinstance(found, Response):
        return found
    principal, form, view = found
    org, store = request.path_params["org"], store_of(request)
    kind, value = field(form, "kind", 40), field(form, "value", 2_000)
    try:
        if kind not in adom.KINDS:
            raise InvalidInput("no such kind of asset")
        await run_in_threadpool(svc.remove, store, principal, org, {kind: [value]})
    except AccordError as exc:
        status = 403 if isinstance(exc, NotAllowed) else 404 if isinstance(exc, NotFound) else 400
        return _org_page(request, org, view, None, {"form": "Not removed: " + sentence(exc.message)}, status)
    return RedirectResponse(f"/assets/{org}?removed=1", status_code=303)


routes = [
    Page("/notices", notices_page, methods=["GET"]),
    Page("/assets", assets_page, methods=["GET"]),
    Page("/assets/{org:str}", asset_org_page, methods=["GET"]),
    Page("/assets/{org:str}", add_assets, methods=["POST"]),
    Page("/assets/{org:str}/remove", remove_asset, methods=["POST"]),
]
