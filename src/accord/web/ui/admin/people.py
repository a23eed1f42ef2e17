"""Administration of who uses the node: organisations, accounts (passwords), API keys.

Each change goes through accord.services.admin, as ``accord org|account|key ...`` does, and is
audited there naming the administrator. A new key's secret is shown once, on the page that answers
the form (never in a URL, never stored: only its hash is).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.domain.errors import InvalidInput
from accord.domain.model import OrgKind, Principal
from accord.domain.sharing import Role
from accord.services import admin, admin_views
from accord.web.ui.admin.forms import Form, admin_page, attempt, done, page, read_form
from accord.web.ui.frame import Page, store_of

KINDS = [(k.value, k.value.replace("-", " ")) for k in OrgKind]
ROLES = [(r.value, r.value) for r in Role]
ORG_NOTICES = {"added": "Organisation {name} added.", "disabled": "Organisation {name} disabled: its accounts "
               "no longer authenticate and it reads nothing.", "enabled": "Organisation {name} enabled again."}
ACCOUNT_NOTICES = {"disabled": "Account {name} disabled: its keys and sessions no longer work.",
                   "enabled": "Account {name} enabled again.",
                   "password": "Password of {name} set; its open console sessions ended."}
KEY_NOTICES = {"revoked": "Key {name} revoked: it no longer authenticates, and its console sessions end."}


async def _orgs(request: Request, form: Form | None = None) -> Response:
    rows = await run_in_threadpool(admin_views.organisations, store_of(request))
    return page(request, "admin/orgs.html", "Organisations", ORG_NOTICES, form, rows=rows, kinds=KINDS,
                row_actions=("disable", "enable"))


@admin_page
async def orgs_post(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("add", "disable", "enable"))
    store = store_of(request)
    if form.action == "add":
        name = form.text("name", "Name")
        kind = form.choice("kind", "A kind", [k for k, _ in KINDS])
        country = form.text("country", "Country", limit=2)
        if form.ok and not (len(country) == 2 and country.isascii() and country.isalpha()):
            form.fail("country", "Country is a two-letter ISO 3166 code, such as DE or FR.")
        sectors_text = form.text("sectors", "Sectors", limit=1000, required=False)
        sectors = tuple(s.strip() for s in sectors_text.split(",") if s.strip())
        await attempt(form, "name", admin.add_org, store, name, OrgKind(kind or "company"), country, sectors,
                      principal)
    elif form.action in ("disable", "enable"):
        name = form.text("name", "Organisation")
        await attempt(form, "name", admin.set_org_enabled, store, name, form.action == "enable", principal)
    if not form.ok:
        return await _orgs(request, form)
    return done("/admin/orgs", {"add": "added", "disable": "disabled", "enable": "enabled"}[form.action], name=name)


async def _accounts(request: Request, form: Form | None = None, new_key: str | None = None,
                    new_account: str = "") -> Response:
    store = store_of(request)
    rows = await run_in_threadpool(admin_views.accounts, store)
    orgs = await run_in_threadpool(admin_views.organisations, store)
    return page(request, "admin/accounts.html", "Accounts", ACCOUNT_NOTICES, form, rows=rows, roles=ROLES,
                orgs=[(o["name"], o["name"]) for o in orgs], names=[(a["name"], a["name"]) for a in rows],
                new_key=new_key, new_account=new_account, row_actions=("disable", "enable"))


@admin_page
async def accounts_post(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("add", "disable", "enable", "password"))
    store = store_of(request)
    name = form.text("name", "Account name")
    if form.action == "add":
        org = form.text("org", "Organisation")
        role = form.choice("role", "A role", [r for r, _ in ROLES])
        added = await attempt(form, lambda exc: "org" if "organisation" in exc.message else "name",
                              admin.add_account, store, name, org, Role(role or "reader"), principal)
        if added is not None:
            return await _accounts(request, new_key=added[1], new_account=name)
    elif form.action in ("disable", "enable"):
        await attempt(form, "name", admin.set_account_enabled, store, name, form.action == "enable", principal)
    elif form.action == "password":
        password = form.text("password", "New password", limit=10_000, secret=True)
        again = form.text("again", "The password again", limit=10_000, secret=True)
        if form.ok and password != again:
            form.fail("again", "The two passwords differ; type the same one twice.")
        await attempt(form, lambda exc: "password" if isinstance(exc, InvalidInput) else "name",
                      admin.set_password, store, name, password, principal)
    if not form.ok:
        return await _accounts(request, form)
    return done("/admin/accounts", {"disable": "disabled", "enable": "enabled", "password": "password"}[form.action],
                name=name)


async def _keys(request: Request, form: Form | None = None, new_key: str | None = None,
                new_account: str = "") -> Response:
    store = store_of(request)
    rows = await run_in_threadpool(admin.list_keys, store)
    accounts = await run_in_threadpool(admin_views.accounts, store)
    return page(request, "admin/keys.html", "API keys", KEY_NOTICES, form, rows=rows,
                accounts=[(a["name"], a["name"]) for a in accounts], new_key=new_key, new_account=new_account,
                row_actions=("revoke",))


@admin_page
async def keys_post(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("issue", "revoke"))
    store = store_of(request)
    if form.action == "issue":
        account = form.text("account", "Account")
        expires_text = form.text("expires", "Expiry", limit=40, required=False)
        expires = None
        if form.ok and expires_text:
            try:
                expires = admin.parse_expiry(expires_text)
            except InvalidInput as exc:
                form.refuse("expires", InvalidInput(exc.message.replace("--expires", "expiry")))
        issued = await attempt(form, "account", admin.issue_key, store, account, expires, principal)
        if issued is not None:
            return await _keys(request, new_key=issued[1], new_account=account)
    elif form.action == "revoke":
        key_id = form.text("name", "Key id", limit=100)
        await attempt(form, "name", admin.revoke_key, store, key_id, principal)
    if not form.ok:
        return await _keys(request, form)
    return done("/admin/keys", "revoked", name=key_id)


routes = [
    Page("/admin/orgs", admin_page(lambda request, _: _orgs(request)), methods=["GET"]),
    Page("/admin/orgs", orgs_post, methods=["POST"]),
    Page("/admin/accounts", admin_page(lambda request, _: _accounts(request)), methods=["GET"]),
    Page("/admin/accounts", accounts_post, methods=["POST"]),
    Page("/admin/keys", admin_page(lambda request, _: _keys(request)), methods=["GET"]),
    Page("/admin/keys", keys_post, methods=["POST"]),
]
