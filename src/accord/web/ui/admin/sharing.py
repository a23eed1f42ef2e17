"""Administration of what is shared with whom: collections and their grants, sharing groups and
their members, peers with their agreements and key fingerprints.

Changes go through accord.services.admin and accord.federation.peers (``accord collection|group|
peer ...`` call the same functions), audited there naming the administrator. Registering a peer
stays on the command line (``accord peer add``): it fetches the peer's identity and has its
fingerprint confirmed out of band, and hands over a key for the peer's node.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.domain.model import Principal
from accord.domain.tlp import Tlp
from accord.federation import peers as federation_peers
from accord.services import admin, admin_views
from accord.web.ui.admin.forms import Form, admin_page, attempt, done, page, read_form
from accord.web.ui.frame import Page, store_of

COLLECTION_NOTICES = {"created": "Collection {name} created.", "granted": "Access of {name} changed."}
GROUP_NOTICES = {"created": "Sharing group {name} created: mark objects with its marking id to restrict them "
                            "to its members.", "member": "Members of {name} changed."}
PEER_NOTICES = {"agreement": "Agreement with {name} changed.", "disabled": "Peer {name} disabled: nothing is "
                "exchanged with it.", "enabled": "Peer {name} enabled again."}


async def _collections(request: Request, form: Form | None = None) -> Response:
    store = store_of(request)
    rows = await run_in_threadpool(admin_views.collections, store)
    orgs = await run_in_threadpool(admin_views.organisations, store)
    return page(request, "admin/collections.html", "Collections", COLLECTION_NOTICES, form, rows=rows,
                collections=[(c["alias"] or c["id"], c["title"] + (f" ({c['alias']})" if c["alias"] else ""))
                             for c in rows],
                orgs=[(o["name"], o["name"]) for o in orgs])


@admin_page
async def collections_post(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("create", "grant"))
    store = store_of(request)
    name = ""
    if form.action == "create":
        name = form.text("title", "Title")
        alias = form.text("alias", "Alias", limit=64, required=False)
        description = form.text("description", "Description", limit=2000, required=False, multiline=True)
        await attempt(form, lambda exc: "alias" if "alias" in exc.message else "title", admin.create_collection,
                      store, name, alias or None, description, actor=principal)
    elif form.action == "grant":
        name = form.text("collection", "Collection", limit=100)
        org = form.text("org", "Organisation")
        read = form.flag("read", "Read")
        write = form.flag("write", "Write")
        await attempt(form, lambda exc: "org" if "organisation" in exc.message else "collection", admin.grant,
                      store, name, org, read, write, principal)
        name = org
    if not form.ok:
        return await _collections(request, form)
    return done("/admin/collections", {"create": "created", "grant": "granted"}[form.action], name=name)


async def _groups(request: Request, form: Form | None = None) -> Response:
    store = store_of(request)
    rows = await run_in_threadpool(admin_views.groups, store)
    orgs = await run_in_threadpool(admin_views.organisations, store)
    return page(request, "admin/groups.html", "Sharing groups", GROUP_NOTICES, form, rows=rows,
                groups=[(g["name"], g["name"]) for g in rows], orgs=[(o["name"], o["name"]) for o in orgs])


@admin_page
async def groups_post(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("create", "member"))
    store = store_of(request)
    name = form.text("name", "Group name")
    if form.action == "create":
        description = form.text("description", "Description", limit=2000, required=False, multiline=True)
        await attempt(form, "name", admin.create_group, store, name, description, principal)
    elif form.action == "member":
        org = form.text("org", "Organisation")
        change = form.choice("change", "Add or remove", ["add", "remove"])
        await attempt(form, lambda exc: "name" if "group" in exc.message and "member" not in exc.message else "org",
                      admin.set_group_member, store, name, org, change == "add", principal)
    if not form.ok:
        return await _groups(request, form)
    return done("/admin/groups", {"create": "created", "member": "member"}[form.action], name=name)


async def _peers(request: Request, form: Form | None = None) -> Response:
    """``?peer=NAME`` (a peer's "Change" link) fills the agreement form with that peer's agreement."""
    view = await run_in_threadpool(admin_views.peers, store_of(request))
    wanted = request.query_params.get("peer", "")
    chosen = next((p for p in view["peers"] if p["name"] == wanted), None)
    return page(request, "admin/peers.html", "Peers", PEER_NOTICES, form, chosen=chosen,
                names=[(p["name"], p["name"]) for p in view["peers"]],
                group_pairs=[(g, g) for g in view["groups"]], row_actions=("disable", "enable"), **view)


@admin_page
async def peers_post(request: Request, principal: Principal) -> Response:
    form = await read_form(request, ("agreement", "disable", "enable"))
    store = store_of(request)
    name = form.text("name", "Peer", limit=100)
    if form.action == "agreement":
        levels = form.choices("levels", "TLP levels", [str(int(t)) for t in Tlp])
        known = await run_in_threadpool(admin_views.groups, store)
        groups = form.choices("groups", "Sharing groups", [g["name"] for g in known])
        await attempt(form, "name", federation_peers.set_peer, store, name,
                      levels=frozenset(Tlp(int(v)) for v in levels), groups=groups, actor=principal)
    elif form.action in ("disable", "enable"):
        await attempt(form, "name", admin.set_peer_enabled, store, name, form.action == "enable", principal)
    if not form.ok:
        return await _peers(request, form)
    return done("/admin/peers", {"agreement": "agreement", "disable": "disabled", "enable": "enabled"}[form.action],
                name=name)


routes = [
    Page("/admin/collections", admin_page(lambda request, _: _collections(request)), methods=["GET"]),
    Page("/admin/collections", collections_post, methods=["POST"]),
    Page("/admin/groups", admin_page(lambda request, _: _groups(request)), methods=["GET"]),
    Page("/admin/groups", groups_post, methods=["POST"]),
    Page("/admin/peers", admin_page(lambda request, _: _peers(request)), methods=["GET"]),
    Page("/admin/peers", peers_post, methods=["POST"]),
]
