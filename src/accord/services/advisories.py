"""Public advisories: drafts, a person's review, publication, and the one public read path.

A draft is written by hand (``accord advisory draft --file``) or generated from what the node knows:
a joint incident whose origin partners corroborated (a campaign against the victim's sector) or one
against a protected sector (a norm violation). Generated drafts carry the sectors and nothing else
of the incident, which may well be AMBER. Nothing is published until an administrator approves it;
each step is one transaction with its audit record (``advisory.draft``, ``.edit``, ``.approve``,
``.reject``).

Approval writes the report (and its language-content) through the node's own write path
(``add_objects``) into the coordination collection, marked TLP:CLEAR, so it is versioned, signed and
federated like any object. :func:`published` is the only way out to the public: the approved
version of each approved advisory, each object passing :func:`accord.domain.sharing.may_publish`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from accord.coordination import incidents
from accord.coordination import stix as cstix
from accord.coordination.workspace import Workspace, ensure_definitions, read_settings
from accord.domain import advisories as adv
from accord.domain.coordination.attribution import Status
from accord.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.model import Principal
from accord.domain.sharing import Role, may_publish
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.stix.timestamps import micros_to_timestamp, now_micros, to_micros
from accord.store.advisories import AdvisoryRow
from accord.store.objects import ObjectFilter, VersionFilter
from accord.store.repository import Store, Tx

DRAFT, PUBLISHED, REJECTED = "draft", "published", "rejected"
STATES = (DRAFT, PUBLISHED, REJECTED)
EXTENSION = f"extension-definition--{uuid.uuid5(cstix.NAMESPACE, 'x-accord-advisory')}"
_DEFINED_KEY = "advisories.definition"
_SCHEMA = ("A plain-language public advisory on a report: 'what_happened', 'who_is_affected', 'what_to_do', "
           "'how_to_check' (text, in the report's lang; translations in a language-content object), "
           "'sectors', 'software' (CPE 2.3 names or vendor:product). See docs/advisories.md.")


@dataclass(frozen=True, slots=True)
class Advisory:
    """An advisory as the review sees it: its current text and where it stands."""

    id: str
    state: str
    source: str
    content: adv.Content
    drafted_at: int
    reviewed_at: int | None
    reason: str | None
    published: str | None  # modified of the approved report version, while one is public

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "source": self.source, "content": self.content.as_dict(),
                "drafted_at": micros_to_timestamp(self.drafted_at),
                "reviewed_at": micros_to_timestamp(self.reviewed_at) if self.reviewed_at else None,
                "reason": self.reason, "published": self.published}


def _advisory(row: AdvisoryRow) -> Advisory:
    return Advisory(row.id, row.state, row.source, adv.content_from(orjson.loads(row.content)), row.drafted_at,
                    row.reviewed_at, row.reason, row.published)


def _require(principal: Principal, role: Role, what: str) -> None:
    if principal.role is not role and not (role is Role.CONTRIBUTOR and principal.role is Role.ADMINISTRATOR):
        raise NotAllowed(f"{what} needs the {role.value} role; {principal.account_name} is a {principal.role.value}")


def draft(store: Store, principal: Principal, content: adv.Content, source: str = "manual") -> Advisory:
    """Record a draft for review; nothing leaves the node."""
    _require(principal, Role.CONTRIBUTOR, "drafting an advisory")
    row = AdvisoryRow(adv.new_report_id(), DRAFT, source, orjson.dumps(content.as_dict()).decode(),
                      principal.account_id, now_micros(), None, None, None, None, None)
    with store.write() as tx:
        if source != "manual" and any(r.source == source and r.state != REJECTED for r in tx.list_advisories()):
            raise Conflict(f"an advisory from {source} is already drafted or published")
        tx.add_advisory(row)
        tx.audit(principal.account_id, principal.org_id, "advisory.draft",
                 {"id": row.id, "source": source, "languages": sorted(content.texts)})
    return _advisory(row)


def draft_from_incident(store: Store, principal: Principal, incident_id: str, language: str = "en") -> Advisory:
    """The generated draft for a joint incident the principal may read: a norm violation first (the
    protected sectors), else a campaign whose origin partners corroborated (the victim's sectors)."""
    ws = Workspace(store, principal)
    view = incidents.show(ws, incident_id)
    lang = adv.parse_language(language)
    if view.norms is not None:
        content = adv.norms_draft(view.norms.sectors, lang)
    elif view.origin.status is Status.CONCLUDED:
        victim = ws.by_identity.get(view.victim or "")
        content = adv.campaign_draft(victim.sectors if victim else (), lang)
    else:
        raise InvalidInput(f"{incident_id} is neither against a protected sector nor has a corroborated origin "
                           f"(its origin is {view.origin.status.value}): there is nothing to warn the public of yet")
    return draft(store, principal, content, f"incident {incident_id}")


def _reviewer(tx: Tx, principal: Principal) -> Callable[[AdvisoryRow], bool]:
    """Which drafts the principal may see in the review: an administrator every one, a contributor
    those its organisation's accounts drafted (another partner's unpublished text is not its to
    read), a reader none. Published versions are public anyway (:func:`published`)."""
    if principal.role is Role.ADMINISTRATOR:
        return lambda row: True
    if principal.role is not Role.CONTRIBUTOR:
        return lambda row: False
    me = tx.get_org(principal.org_id).name
    ours = {a.id for a in tx.list_accounts() if a.org == me}
    return lambda row: row.drafted_by in ours


def reviewable(store: Store, principal: Principal, state: str | None = None) -> list[Advisory]:
    """The review list the principal may see (see :func:`_reviewer`), newest draft first."""
    _require(principal, Role.CONTRIBUTOR, "reviewing advisories")
    if state is not None and state not in STATES:
        raise InvalidInput(f"unknown state {state!r} ({', '.join(STATES)})")
    with store.read() as tx:
        may_see = _reviewer(tx, principal)
        rows = [r for r in tx.list_advisories(state) if may_see(r)]
    return sorted((_advisory(r) for r in rows), key=lambda a: (a.drafted_at, a.id), reverse=True)


def review(store: Store, principal: Principal, advisory_id: str) -> Advisory:
    """One advisory of :func:`reviewable`; NotFound, as for an unknown id, when the principal may not see it."""
    _require(principal, Role.CONTRIBUTOR, "reviewing advisories")
    with store.read() as tx:
        row = tx.advisory(advisory_id)
        if row is None or not _reviewer(tx, principal)(row):
            raise NotFound(f"no advisory {advisory_id!r}")
    return _advisory(row)


def list_all(store: Store, state: str | None = None) -> list[Advisory]:
    if state is not None and state not in STATES:
        raise InvalidInput(f"unknown state {state!r} ({', '.join(STATES)})")
    with store.read() as tx:
        return [_advisory(r) for r in tx.list_advisories(state)]


def show(store: Store, advisory_id: str) -> Advisory:
    with store.read() as tx:
        row = tx.advisory(advisory_id)
    if row is None:
        raise NotFound(f"no advisory {advisory_id!r}")
    return _advisory(row)


def edit(store: Store, principal: Principal, advisory_id: str, content: adv.Content) -> Advisory:
    """Replace the text under review. Editing a published advisory drafts a revision: the approved
    version stays public until the revision is approved."""
    _require(principal, Role.CONTRIBUTOR, "editing an advisory")
    with store.write() as tx:
        found = tx.advisory(advisory_id)
        if found is not None and not _reviewer(tx, principal)(found):
            raise NotFound(f"no advisory {advisory_id!r}")
        row = _row(found, advisory_id, (DRAFT, PUBLISHED), "edited")
        tx.update_advisory(advisory_id, state=DRAFT, content=orjson.dumps(content.as_dict()).decode())
        tx.audit(principal.account_id, principal.org_id, "advisory.edit",
                 {"id": advisory_id, "was": row.state, "languages": sorted(content.texts)})
    return show(store, advisory_id)


def reject(store: Store, principal: Principal, advisory_id: str, reason: str) -> Advisory:
    """Turn a draft down, with the reason. A rejected revision of a published advisory leaves the
    approved version public and its text back in the review record."""
    _require(principal, Role.ADMINISTRATOR, "rejecting an advisory")
    if not reason.strip():
        raise InvalidInput("say why the advisory is rejected (--reason)")
    approved = _approved_text(store, advisory_id)
    with store.write() as tx:
        row = _row(tx.advisory(advisory_id), advisory_id, (DRAFT,), "rejected")
        values: dict[str, Any] = {"reviewed_by": principal.account_id, "reviewed_at": now_micros(),
                                  "reason": reason.strip()}
        if row.published and approved is not None:
            values |= {"state": PUBLISHED, "content": orjson.dumps(approved.as_dict()).decode()}
        else:
            values["state"] = REJECTED
        tx.update_advisory(advisory_id, **values)
        tx.audit(principal.account_id, principal.org_id, "advisory.reject", {"id": advisory_id, "reason": reason})
    return show(store, advisory_id)


def approve(store: Store, principal: Principal, advisory_id: str) -> Advisory:
    """Publish a draft: a new TLP:CLEAR version of its report, then the review record says which."""
    _require(principal, Role.ADMINISTRATOR, "approving an advisory")
    current = show(store, advisory_id)
    if current.state != DRAFT:
        raise Conflict(f"{advisory_id} is {current.state}; only a draft can be approved")
    ws = Workspace(store, principal)
    _ensure_definition(ws)
    at = now_micros()
    previous = _latest_report(ws, advisory_id)
    created = str(previous["created"]) if previous else micros_to_timestamp(at)
    if previous:
        at = max(at, to_micros(previous["modified"]) + 1)
    modified = micros_to_timestamp(at)
    ws.write(adv.to_stix(advisory_id, current.content, ws.me.identity_id, created, modified,
                         str(previous["published"]) if previous else modified, TLP2_MARKING_IDS[Tlp.CLEAR],
                         EXTENSION))
    with store.write() as tx:
        row = _row(tx.advisory(advisory_id), advisory_id, (DRAFT,), "approved")
        first_published = row.first_published or modified
        tx.update_advisory(advisory_id, state=PUBLISHED, reviewed_by=principal.account_id, reviewed_at=at,
                           reason=None, published=modified, first_published=first_published)
        tx.audit(principal.account_id, principal.org_id, "advisory.approve",
                 {"id": advisory_id, "version": modified, "languages": sorted(current.content.texts)})
    return show(store, advisory_id)


def _row(row: AdvisoryRow | None, advisory_id: str, states: tuple[str, ...], verb: str) -> AdvisoryRow:
    if row is None:
        raise NotFound(f"no advisory {advisory_id!r}")
    if row.state not in states:
        raise Conflict(f"{advisory_id} is {row.state} and cannot be {verb}")
    return row


def _ensure_definition(ws: Workspace) -> None:
    """The advisory extension's definition (STIX 2.1 section 7.3), stored once, like coordination's."""
    ensure_definitions(ws)
    with ws.store.read() as tx:
        if tx.get_setting(_DEFINED_KEY) == cstix.DEFINED:
            return
    clear = [TLP2_MARKING_IDS[Tlp.CLEAR]]
    status_objects = [{"type": "extension-definition", "spec_version": "2.1", "id": EXTENSION,
                       "created_by_ref": cstix.PROJECT_IDENTITY, "created": cstix.DEFINED,
                       "modified": cstix.DEFINED, "name": "x-accord-advisory", "description": _SCHEMA,
                       "schema": _SCHEMA, "version": "1.0.0", "extension_types": ["property-extension"],
                       "object_marking_refs": clear}]
    try:
        ws.write(status_objects)
    except InvalidInput as exc:
        if "originated" not in exc.message:  # a peer's copy arrived first: as good as ours
            raise
    with ws.store.write() as tx:
        tx.set_setting(_DEFINED_KEY, cstix.DEFINED)


def _latest_report(ws: Workspace, advisory_id: str) -> dict[str, Any] | None:
    found = ws.read("report", ids=[advisory_id])
    return found[0].obj if found else None


def _approved_text(store: Store, advisory_id: str) -> adv.Content | None:
    for p in published(store):
        if p.id == advisory_id:
            return p.content
    return None


def published(store: Store) -> list[adv.Published]:
    """What the public sees, newest first: for each advisory a person approved, the approved report
    version and its translations, each passing may_publish (TLP:CLEAR, no sharing group, not
    narrowed since). Everything public (pages, feed, links, counts, search) is computed from this."""
    collection_key = read_settings(store).collection
    with store.read() as tx:
        approved = {r.id: r.published for r in tx.list_advisories() if r.published}
        if not approved:
            return []
        collection = tx.find_collection(None, collection_key)
        ids = (*approved, *(adv.language_content_id(i) for i in approved))
        flt = ObjectFilter(ids=tuple(ids), types=("report", "language-content"),
                           versions=VersionFilter(last=False, all=True))
        rows, after = [], None
        while True:
            page = tx.scan(collection.id, flt, after, 1000)
            rows += [r for r in page if may_publish(r.visibility)]
            if len(page) < 1000:
                break
            after = page[-1].date_added
    reports: dict[str, dict[str, Any]] = {}
    translations: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        obj = orjson.loads(r.body)
        if r.type == "report" and obj.get("modified") == approved.get(r.id):
            reports[r.id] = obj
        elif r.type == "language-content":
            translations.setdefault(str(obj.get("object_ref")), []).append(obj)
    out = []
    for report_id, report in reports.items():
        try:
            out.append(adv.from_stix(report, translations.get(report_id, []), EXTENSION))
        except (InvalidInput, KeyError, TypeError, AttributeError):
            continue  # not readable as an advisory: not shown rather than shown half
    return sorted(out, key=lambda p: (p.modified, p.id), reverse=True)


def publisher(store: Store) -> str:
    """The name the public pages and feed give as their author: the node's host organisation."""
    with store.read() as tx:
        host = tx.get_setting("host_org")
        return tx.get_org(int(host)).name if host else "Accord node"
