"""Create and edit indicators in the console (issue 15), the pattern checked as you type.

``/console/pattern`` answers JSON with the STIX 2.1 pattern validator's verdict
(:func:`accord.stix.patterns.pattern_errors`, STIX 2.1 section 9) for the page's script; the same
check runs again on submit, and the indicator then goes through TAXII Add Objects
(:func:`accord.services.objects.add_objects`), so what the form stores is what a TAXII client could.
Editing writes a new version (STIX 2.1 section 3.6: same id, later ``modified``) and is open only to
the organisation that produced the indicator; one the key may not read is the 404 of an unknown id.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from accord.domain.errors import AccordError, NotFound
from accord.domain.model import Principal
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp, tlp_of
from accord.services import dossier
from accord.services import objects as svc
from accord.stix.patterns import pattern_errors
from accord.stix.timestamps import BadTimestamp, micros_to_timestamp, now_micros, timestamp_key, to_micros
from accord.store.repository import Store
from accord.web.ui.frame import Page, checked_form, current_principal, field, render, store_of
from accord.web.ui.objects import not_found

PATTERN_LIMIT = 4_000
FIELDS = ("name", "pattern", "description", "tlp", "confidence", "valid_from", "collection", "indicator_types")
TLP_OPTIONS = [(t.label, t.label) for t in Tlp]  # (value, text) of the forms' TLP select


def collection_options(collections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(c, f"{title} ({c})") for c, title in collections]


def writable_collections(store: Store, principal: Principal) -> list[tuple[str, str]]:
    """(alias or id, title) of the collections the key may add objects to."""
    if not principal.role.can_write:
        return []
    with store.read() as tx:
        access = tx.access_of(principal.org_id)
        return [(c.alias or c.uuid, c.title) for c in tx.list_collections()
                if (a := access.get(c.id)) is not None and a.can_write]


def check_pattern(pattern: str) -> list[str]:
    if not pattern.strip():
        return ["Enter a STIX pattern, for example [ipv4-addr:value = '198.51.100.7']."]
    if len(pattern) > PATTERN_LIMIT:
        return [f"At most {PATTERN_LIMIT} characters."]
    if "\x00" in pattern:
        return ["The pattern may not contain NUL characters."]
    return list(pattern_errors(pattern))


async def pattern_check(request: Request) -> Response:
    await current_principal(request)
    pattern = request.query_params.get("pattern", "")
    errors = check_pattern(pattern[:PATTERN_LIMIT + 1])
    return JSONResponse({"valid": not errors, "errors": errors[:5]})


def _checked(sent: dict[str, str], collections: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, text in sent.items():
        if "\x00" in text:
            errors[name] = "NUL characters are not allowed."
    name = sent["name"].strip()
    if not name:
        errors.setdefault("name", "Give the indicator a name.")
    elif len(name) > 300:
        errors.setdefault("name", "At most 300 characters.")
    values["name"] = name
    problems = check_pattern(sent["pattern"])
    if problems:
        errors.setdefault("pattern", "; ".join(problems[:3]))
    values["pattern"] = sent["pattern"].strip()
    if len(sent["description"]) > 10_000:
        errors.setdefault("description", "At most 10,000 characters.")
    try:
        values["tlp"] = Tlp.parse(sent["tlp"])
    except ValueError:
        errors.setdefault("tlp", "Choose a TLP level.")
    confidence = sent["confidence"].strip()
    if confidence and not (confidence.isascii() and confidence.isdigit() and int(confidence) <= 100):
        errors.setdefault("confidence", "A whole number from 0 to 100, or empty.")
    values["confidence"] = int(confidence) if confidence and "confidence" not in errors else None
    valid_from = sent["valid_from"].strip()
    if valid_from:
        try:
            timestamp_key(valid_from)
        except BadTimestamp:
            errors.setdefault("valid_from", "A STIX timestamp such as 2026-12-01T00:00:00Z, or empty for now.")
    values["valid_from"] = valid_from
    if sent["collection"] not in {c for c, _ in collections}:
        errors.setdefault("collection", "Choose a collection you may add to.")
    types = [t.strip() for t in sent["indicator_types"].split(",") if t.strip()]
    if any(len(t) > 100 or not t.replace("-", "").isalnum() or not t.isascii() for t in types):
        errors.setdefault("indicator_types", "Words such as malicious-activity, separated by commas.")
    values["indicator_types"] = types
    return errors, values


def _indicator(values: dict[str, Any], old: dict[str, Any] | None, now: int) -> dict[str, Any]:
    """The STIX 2.1 indicator (section 4.7) the form describes: a new one, or the next version of ``old``."""
    stamp = micros_to_timestamp(now)
    obj: dict[str, Any] = dict(old) if old else {"type": "indicator", "spec_version": "2.1",
                                                 "id": f"indicator--{uuid.uuid4()}", "created": stamp,
                                                 "pattern_type": "stix"}
    # a new version is later than the one it replaces, even if this node's clock is behind its author's
    obj["modified"] = micros_to_timestamp(max(now, to_micros(old["modified"]) + 1000)) if old else stamp
    obj["name"], obj["pattern"] = values["name"], values["pattern"]
    obj["valid_from"] = values["valid_from"] or obj.get("valid_from") or stamp
    kept = [m for m in obj.get("object_marking_refs", []) if tlp_of([m]) is None]
    obj["object_marking_refs"] = [TLP2_MARKING_IDS[values["tlp"]], *kept]
    for name in ("description", "confidence", "indicator_types"):
        obj.pop(name, None)
    if values.get("description"):
        obj["description"] = values["description"]
    if values["confidence"] is not None:
        obj["confidence"] = values["confidence"]
    if values["indicator_types"]:
        obj["indicator_types"] = values["indicator_types"]
    return obj


def _form(request: Request, sent: dict[str, str], errors: dict[str, str], collections: list[tuple[str, str]],
          editing: str | None, status: int = 200) -> Response:
    return render(request, "indicator_form.html", status_code=status,
                  title="Edit indicator" if editing else "New indicator", sent=sent, errors=errors,
                  collection_options=collection_options(collections), tlp_options=TLP_OPTIONS, editing=editing)


async def new_indicator(request: Request) -> Response:
    principal = await current_principal(request)
    collections = await run_in_threadpool(writable_collections, store_of(request), principal)
    sent = dict.fromkeys(FIELDS, "")
    sent.update(tlp=Tlp.AMBER.label, collection=collections[0][0] if collections else "",
                indicator_types="malicious-activity")
    return _form(request, sent, {}, collections, None)


async def _own_latest(request: Request, principal: Principal, object_id: str) -> dossier.Version | None:
    """The latest version the organisation holds of an indicator it may read (through the object
    page's read path); None when it holds none. NotFound when it may read no indicator by that id."""
    d = await run_in_threadpool(dossier.dossier, store_of(request), principal, object_id)
    if d.type != "indicator":
        raise NotFound(f"no indicator {object_id!r}")
    own = [v for v in d.versions if v.owner_org == principal.org_id]
    return own[-1] if own else None


async def edit_indicator(request: Request) -> Response:
    principal = await current_principal(request)
    object_id = request.path_params["object_id"]
    try:
        held = await _own_latest(request, principal, object_id)
    except NotFound:
        return not_found(request)
    collections = await run_in_threadpool(writable_collections, store_of(request), principal)
    if held is None:
        return render(request, "error.html", status_code=403, title="Not yours to edit",
                      message="Only the organisation that produced this indicator adds versions of it "
                              "(STIX 2.1 section 3.6); report it as a sighting or an indicator of your own.")
    latest = held.body
    if latest.get("revoked") is True:
        return _revoked(request)
    sent = {"name": str(latest.get("name", "")), "pattern": str(latest.get("pattern", "")),
            "description": str(latest.get("description", "")),
            "tlp": (tlp_of(latest.get("object_marking_refs", [])) or Tlp.AMBER).label,
            "confidence": str(latest.get("confidence", "")), "valid_from": str(latest.get("valid_from", "")),
            "collection": held.collection,
            "indicator_types": ", ".join(str(t) for t in latest.get("indicator_types", []))}
    return _form(request, sent, {}, collections, object_id)


async def save_indicator(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    editing = request.path_params.get("object_id")
    store = store_of(request)
    collections = await run_in_threadpool(writable_collections, store, principal)
    sent = {name: field(form, name, 20_000) for name in FIELDS}
    old: dict[str, Any] | None = None
    if editing is not None:
        try:
            held = await _own_latest(request, principal, editing)
        except NotFound:
            return not_found(request)
        old = None if held is None else held.body
        if old is None:
            return render(request, "error.html", status_code=403, title="Not yours to edit",
                          message="Only the organisation that produced this indicator adds versions of it.")
        if old.get("revoked") is True:
            return _revoked(request)
    errors, values = _checked(sent, collections)
    if not collections:
        errors["form"] = "Your key may not add objects to any collection."
    if errors:
        return _form(request, sent, errors, collections, editing, 400)
    values["description"] = sent["description"]
    obj = _indicator(values, old, now_micros())

    status = await _add(store, principal, sent["collection"], obj)
    if status["failure_count"]:
        errors["form"] = "Not stored: " + str(status["failures"][0]["message"])
        return _form(request, sent, errors, collections, editing, 400)
    return RedirectResponse(f"/objects/{obj['id']}", status_code=303)


async def _add(store: Store, principal: Principal, chosen: str, obj: dict[str, Any]) -> dict[str, Any]:
    """TAXII Add Objects of one object into a collection (by alias or id): its status resource."""
    def write() -> dict[str, Any]:
        with store.read() as tx:
            collection = tx.find_collection(None, chosen)
            root = next(r for r in tx.list_api_roots() if r.id == collection.api_root_id)
        return svc.add_objects(store, principal, root, collection.uuid, [obj])

    try:
        return await run_in_threadpool(write)
    except AccordError as exc:
        return {"failure_count": 1, "failures": [{"message": exc.message}]}


def _revoked(request: Request) -> Response:
    return render(request, "error.html", status_code=409, title="Revoked",
                  message="This indicator is revoked: a revoked object takes no further versions (STIX 2.1 "
                          "section 3.6). Create a new indicator instead.")


async def revoke_indicator(request: Request) -> Response:
    """Withdraw the organisation's own indicator: its next version says ``revoked: true`` (STIX 2.1
    section 3.6), which every partner that received it receives too; sensors stop matching it."""
    principal = await current_principal(request)
    await checked_form(request)
    object_id = request.path_params["object_id"]
    try:
        held = await _own_latest(request, principal, object_id)
    except NotFound:
        return not_found(request)
    if held is None:
        return render(request, "error.html", status_code=403, title="Not yours to revoke",
                      message="Only the organisation that produced this indicator revokes it.")
    if held.body.get("revoked") is True:
        return _revoked(request)
    obj = dict(held.body)
    obj["modified"] = micros_to_timestamp(max(now_micros(), to_micros(obj["modified"]) + 1000))
    obj["revoked"] = True
    status = await _add(store_of(request), principal, held.collection, obj)
    if status["failure_count"]:
        return render(request, "error.html", status_code=400, title="Not revoked",
                      message="Not revoked: " + str(status["failures"][0]["message"]))
    return RedirectResponse(f"/objects/{object_id}?revoked=1", status_code=303)


routes = [
    Page("/console/pattern", pattern_check, methods=["GET"]),
    Page("/indicators/new", new_indicator, methods=["GET"]),
    Page("/indicators/new", save_indicator, methods=["POST"]),
    Page("/indicators/{object_id:str}/edit", edit_indicator, methods=["GET"]),
    Page("/indicators/{object_id:str}/edit", save_indicator, methods=["POST"]),
    Page("/indicators/{object_id:str}/revoke", revoke_indicator, methods=["POST"]),
]
