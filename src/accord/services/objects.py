"""TAXII 2.1 collection use cases: add, get objects, manifest, object, versions, delete, status.

Every read goes through :func:`accord.domain.sharing.may_read` in :func:`_visible_page`: it is the
only place where stored versions turn into something a requester receives.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from accord.domain.errors import InvalidInput, InvalidObject, NotAllowed, NotFound
from accord.domain.model import ApiRoot, Collection, Principal
from accord.domain.sharing import CollectionAccess, effective_tlp, may_access_collection, may_read
from accord.domain.tlp import Tlp, tlp_of
from accord.federation import ingest
from accord.services import markings, privacy
from accord.stix.ids import is_deterministic
from accord.stix.timestamps import key_to_display, micros_to_timestamp, now_micros
from accord.stix.validate import CheckedObject, check_object
from accord.store.objects import AddOutcome, NewVersion, ObjectFilter, StoredVersion, VersionFilter
from accord.store.repository import Store, Tx

MAX_PAGE = 10_000
STATUS_KEEP_MICROS = 7 * 24 * 3600 * 1_000_000  # TAXII 2.1 4.3: keep at least 24 hours; we keep a week
_last_prune = [0]  # statuses are pruned at most once a minute per process


@dataclass(frozen=True, slots=True)
class Page:
    versions: list[StoredVersion]
    more: bool
    # For the TAXII list endpoints: starts preparing the following page. The web layer calls it once
    # the response has been sent, so the preparation does not compete with sending this page.
    ahead: Callable[[], None] | None = field(default=None, compare=False)

    @property
    def next(self) -> str | None:
        return str(self.versions[-1].date_added) if self.more and self.versions else None


def resolve_collection(tx: Tx, principal: Principal, root: ApiRoot, key: str) -> tuple[Collection, CollectionAccess]:
    """The collection if the requester's organisation may use it; otherwise it does not exist."""
    collection = tx.find_collection(root.id, key)
    access = tx.access_of(principal.org_id).get(collection.id)
    if access is None or not may_access_collection(access):
        raise NotFound(f"no collection {key!r}")
    return collection, access


def visible_collections(tx: Tx, principal: Principal, root: ApiRoot) -> list[tuple[Collection, CollectionAccess]]:
    access = tx.access_of(principal.org_id)
    return [(c, access[c.id]) for c in tx.list_collections(root.id)
            if c.id in access and may_access_collection(access[c.id])]


def display_version(v: StoredVersion) -> str:
    return key_to_display(v.version) if v.version else micros_to_timestamp(v.date_added)


def parse_next(token: str | None) -> int | None:
    if token is None:
        return None
    if not (token.isascii() and token.isdigit()) or len(token) > 18:  # 18 digits fit a 64-bit integer
        raise InvalidInput(f"invalid 'next' token {token!r}")
    return int(token)


def parse_limit(value: str | None) -> int:
    if value is None:
        return MAX_PAGE
    digits = value.lstrip("0")
    if not (value.isascii() and value.isdigit()) or not digits:
        raise InvalidInput(f"'limit' must be a positive integer, not {value!r}")
    # any positive integer is a valid limit (the page is at most MAX_PAGE); int() of thousands of
    # digits would raise, so a limit longer than MAX_PAGE is never converted
    return MAX_PAGE if len(digits) > len(str(MAX_PAGE)) else min(int(digits), MAX_PAGE)


# --- reads ---------------------------------------------------------------------------------------

def _visible_page(tx: Tx, principal: Principal, collection: Collection, flt: ObjectFilter,
                  after: int | None, limit: int, with_body: bool) -> Page:
    """Up to ``limit`` versions the requester may read, and whether more exist beyond them."""
    reader = principal.reader
    out: list[StoredVersion] = []
    batch = limit + 1
    while True:
        rows = tx.scan(collection.id, flt, after, batch, with_body)
        for row in rows:
            if may_read(reader, row.visibility):
                out.append(row)
                if len(out) > limit:
                    return Page(out[:limit], True)
        if len(rows) < batch:
            return Page(out, False)
        after = rows[-1].date_added


@dataclass(frozen=True, slots=True)
class _Prepared:
    generation: int
    collection_id: int
    page: Page
    sensitive: list[list[str]]


_AheadKey = tuple[Principal, int, str, ObjectFilter, int | None, int, bool]


class _PagesAhead:
    """The next page of a paginated read, prepared while the client reads the current one.

    TAXII pagination is sequential: each page's ``next`` arrives with the page, so without this the
    server's work and the client's alternate. After serving a page with ``more``, one background
    thread prepares the following page for the same requester and query. It is served only if the
    database's write generation (``Store.write``) is what it was when the page was prepared, so it is
    exactly what the request would read now; otherwise, or if it is not ready to start, the request
    reads afresh. Its audit record is written when it is served, never when prepared.
    """

    KEEP = 4  # prepared pages kept per store: a page is at most MAX_PAGE objects
    MAX_AGE = 60.0  # seconds a prepared page waits for its request before it is dropped

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._waiting: weakref.WeakKeyDictionary[Store, dict[_AheadKey, tuple[float, Future[_Prepared | None]]]] = (
            weakref.WeakKeyDictionary())

    def take(self, store: Store, key: _AheadKey) -> Future[_Prepared | None] | None:
        with self._lock:
            waiting = self._waiting.get(store)
            found = None if waiting is None else waiting.pop(key, None)
        return None if found is None else found[1]

    def start(self, store: Store, key: _AheadKey, prepare: Callable[[], _Prepared | None]) -> None:
        now = time.monotonic()
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="accord-page-ahead")
            waiting = self._waiting.setdefault(store, {})
            for old in [k for k, (at, _) in waiting.items() if now - at > self.MAX_AGE]:
                waiting.pop(old)[1].cancel()
            waiting[key] = (now, self._pool.submit(prepare))
            while len(waiting) > self.KEEP:
                waiting.pop(next(iter(waiting)))[1].cancel()


_AHEAD = _PagesAhead()


def _settle(ahead: Future[_Prepared | None] | None) -> _Prepared | None:
    """The prepared page if the preparation ran to the end; None if it had not started (cancelled)."""
    if ahead is None or ahead.cancel():
        return None
    try:
        return ahead.result()
    except Exception:  # the request reads afresh and meets the same error itself, if any
        return None


def _prepare(store: Store, principal: Principal, root: ApiRoot, key: str, flt: ObjectFilter,
             after: int, limit: int, with_body: bool) -> _Prepared | None:
    with store.read() as tx:
        generation = tx.generation()
        collection, access = resolve_collection(tx, principal, root, key)
        if not access.can_read:
            return None
        page = _visible_page(tx, principal, collection, flt, after, limit, with_body)
        if tx.generation() != generation:  # PostgreSQL reads each statement afresh (read committed)
            return None
    return _Prepared(generation, collection.id, page, _sensitive(page.versions))


def _read(store: Store, principal: Principal, root: ApiRoot, key: str, flt: ObjectFilter,
          next_token: str | None, limit: int, with_body: bool, action: str,
          ahead: bool = False) -> tuple[Collection, Page]:
    """One page of a read. With ``ahead`` (the TAXII list endpoints), the page carries a callable
    that prepares the page after it in the background (:class:`_PagesAhead`)."""
    after = parse_next(next_token)
    waiting = _AHEAD.take(store, (principal, root.id, key, flt, after, limit, with_body)) if ahead else None
    prepared: _Prepared | None = None
    with store.read() as tx:
        collection, access = resolve_collection(tx, principal, root, key)
        if not access.can_read:
            raise NotAllowed(f"your organisation may not read collection {key!r}")
        if waiting is not None:
            prepared = _settle(waiting)
            if prepared is not None and (prepared.collection_id != collection.id
                                         or prepared.generation != tx.generation()):
                prepared = None
        page = prepared.page if prepared is not None else _visible_page(
            tx, principal, collection, flt, after, limit, with_body)
    _audit_read(store, principal, collection, action,
                prepared.sensitive if prepared is not None else _sensitive(page.versions))
    if ahead and page.more:
        following = page.versions[-1].date_added
        page = replace(page, ahead=lambda: _AHEAD.start(
            store, (principal, root.id, key, flt, following, limit, with_body),
            lambda: _prepare(store, principal, root, key, flt, following, limit, with_body)))
    return collection, page


def _sensitive(versions: Sequence[StoredVersion]) -> list[list[str]]:
    """[id, version] of each version that is not TLP:CLEAR: what a read must record."""
    return [[v.id, display_version(v)] for v in versions if effective_tlp(v.visibility) is not Tlp.CLEAR]


def _audit_read(store: Store, principal: Principal, collection: Collection, action: str,
                sensitive: list[list[str]]) -> None:
    """Who received what: every read that returns something not TLP:CLEAR is recorded."""
    if not sensitive:
        return
    with store.write(audit_only=True) as tx:
        tx.audit(principal.account_id, principal.org_id, action, {"collection": collection.uuid,
                                                                  "objects": sensitive})


def visible_versions(tx: Tx, principal: Principal, collection: Collection, flt: ObjectFilter) -> list[StoredVersion]:
    """The versions matching ``flt`` that the requester may read (bodies included): the TAXII read
    path for the console, which resolves the collection and checks ``can_read`` itself."""
    return _visible_page(tx, principal, collection, flt, None, MAX_PAGE, True).versions


def visible_page(tx: Tx, principal: Principal, collection: Collection, flt: ObjectFilter, after: int | None,
                 with_body: bool) -> Page:
    """One page of :func:`visible_versions` from ``after`` (a date_added), bodies optional."""
    return _visible_page(tx, principal, collection, flt, after, MAX_PAGE, with_body)


def record_read(store: Store, principal: Principal, collection: Collection, action: str,
                versions: Sequence[StoredVersion]) -> None:
    """Record a read of ``versions`` like a TAXII read (only what is not TLP:CLEAR)."""
    _audit_read(store, principal, collection, action, _sensitive(versions))


def readable_objects(store: Store, principal: Principal, root: ApiRoot, key: str, flt: ObjectFilter,
                     action: str) -> list[dict[str, Any]]:
    """Every object version matching ``flt`` that the requester may read, page after page."""
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = _read(store, principal, root, key, flt, token, MAX_PAGE, True, action)[1]
        out.extend(orjson.loads(v.body) for v in page.versions)
        if not page.more:
            return out
        token = page.next


def get_objects(store: Store, principal: Principal, root: ApiRoot, key: str, flt: ObjectFilter,
                next_token: str | None, limit: int) -> Page:
    """TAXII 2.1 section 5.4."""
    return _read(store, principal, root, key, flt, next_token, limit, True, "taxii.get_objects", ahead=True)[1]


def get_manifest(store: Store, principal: Principal, root: ApiRoot, key: str, flt: ObjectFilter,
                 next_token: str | None, limit: int) -> Page:
    """TAXII 2.1 section 5.3 (no bodies are read)."""
    return _read(store, principal, root, key, flt, next_token, limit, False, "taxii.get_manifest", ahead=True)[1]


def get_object(store: Store, principal: Principal, root: ApiRoot, key: str, object_id: str,
               flt: ObjectFilter, next_token: str | None, limit: int) -> Page:
    """TAXII 2.1 section 5.6: 404 when no version of the object is visible to the requester."""
    flt = ObjectFilter((object_id,), flt.types, flt.spec_versions, flt.versions, flt.added_after)
    page = _read(store, principal, root, key, flt, next_token, limit, True, "taxii.get_object")[1]
    if not page.versions and next_token is None:
        raise NotFound(f"no object {object_id!r}")
    return page


def get_versions(store: Store, principal: Principal, root: ApiRoot, key: str, object_id: str,
                 flt: ObjectFilter, next_token: str | None, limit: int) -> Page:
    """TAXII 2.1 section 5.8: every version (match[version] does not apply)."""
    flt = ObjectFilter((object_id,), flt.types, flt.spec_versions, VersionFilter(all=True), flt.added_after)
    page = _read(store, principal, root, key, flt, next_token, limit, False, "taxii.get_versions")[1]
    if not page.versions and next_token is None:
        raise NotFound(f"no object {object_id!r}")
    return page


def delete_object(store: Store, principal: Principal, root: ApiRoot, key: str, object_id: str,
                  flt: ObjectFilter) -> int:
    """TAXII 2.1 section 5.7. An organisation deletes the versions it holds of the object (its own
    lineage, docs/sharing.md); other organisations' versions of the same id stay. Deleting what one
    may read but does not hold is refused; what one may not read does not exist (404)."""
    flt = ObjectFilter((object_id,), flt.types, flt.spec_versions, flt.versions, None)
    with store.write() as tx:
        collection, access = resolve_collection(tx, principal, root, key)
        visible = [v for v in tx.scan(collection.id, flt, None, 1_000_000, with_body=False)
                   if may_read(principal.reader, v.visibility)]
        if not visible:
            raise NotFound(f"no object {object_id!r}")
        if not (access.can_write and principal.role.can_write):
            raise NotAllowed("deleting needs write access to the collection")
        versions = [v for v in visible if v.visibility.owner_org == principal.org_id]
        if not versions:
            raise NotAllowed("only the organisation that added an object may delete it")
        tx.delete_versions(collection.id, object_id, principal.org_id, [v.date_added for v in versions])
        tx.audit(principal.account_id, principal.org_id, "taxii.delete_object", {
            "collection": collection.uuid, "objects": [[v.id, display_version(v)] for v in versions]})
    return len(versions)


# --- writes --------------------------------------------------------------------------------------

def _failure(object_id: str | None, version: str, message: str) -> dict[str, str]:
    return {"id": object_id or "", "version": version, "message": message}


def _version_of(obj: Any) -> str:
    if isinstance(obj, dict):
        for name in ("modified", "created"):
            if isinstance(obj.get(name), str):
                return str(obj[name])
    return ""


TAKEN = ("another organisation originated this object here and you can read it: only its producer adds "
         "versions (STIX 2.1 section 3.6); report it as an object of your own, or as a sighting")


def _held_by_others(tx: Tx, principal: Principal, collection_id: int, ids: Sequence[str]) -> frozenset[str]:
    """Ids the requester may not version: another organisation holds the object here and the requester
    may read it (so refusing reveals nothing). Ids chosen by their producer only: an observable's id
    is derived from its value (:func:`accord.stix.ids.is_deterministic`), so a second organisation
    reporting the same address is stored as its own report, which is corroboration. An object the
    requester may not read is never a reason to refuse: the write is taken into the requester's own
    lineage exactly as if the id were unused (docs/sharing.md, "Several organisations, one id")."""
    chosen = [i for i in ids if not is_deterministic(i)]
    if not chosen:
        return frozenset()
    reader = principal.reader
    return frozenset(object_id for (object_id, owner), vis in tx.latest_visibility(collection_id, chosen).items()
                     if owner != principal.org_id and may_read(reader, vis))


def add_objects(store: Store, principal: Principal, root: ApiRoot, key: str,
                envelope_objects: Sequence[Any]) -> dict[str, Any]:
    """TAXII 2.1 section 5.5: validate each object, store the valid ones, return a status resource.

    Invalid objects are listed in the status failures with the reason; the valid objects of the same
    envelope are stored. The request completes before the response, so the status is "complete".
    """
    request_ts = now_micros()
    checked: list[tuple[int, CheckedObject]] = []
    # minimised before anything is validated, stored or forwarded (issue 17, docs/privacy.md)
    minimised = privacy.minimise_request(store, root.id, key, envelope_objects)
    failures = [_failure(object_id, _version_of(envelope_objects[n]), f"object {n}: {why}")
                for n, object_id, why in minimised.dropped]
    dropped_at = {n for n, _, _ in minimised.dropped}
    for position, obj in enumerate(minimised.objects):
        if position in dropped_at:  # an object sent as null is still checked (and refused) below
            continue
        try:
            checked.append((position, check_object(obj)))
        except InvalidObject as exc:
            failures.append(_failure(exc.object_id, _version_of(obj), f"object {position}: {exc.reason}"))
    successes: list[dict[str, str]] = []
    plan = ingest.prepare(store, principal, [c for _, c in checked])
    status_id = str(uuid.uuid4())
    # prepared before the write lock is taken (other API workers wait for it); only markings that are
    # not TLP ids (sharing groups, statements, unknown ones), which the transaction resolves, change them
    prepared = [NewVersion(c.id, c.type, c.spec_version, c.version_key, c.revoked, tlp_of(c.marking_refs),
                           frozenset(), orjson.dumps(c.obj)) for _, c in checked]
    shown = [key_to_display(c.version_key) if c.version_key else "" for _, c in checked]
    with store.write() as tx:
        collection, access = resolve_collection(tx, principal, root, key)
        if not (access.can_write and principal.role.can_write):
            raise NotAllowed(f"you may not write to collection {key!r}")
        items = markings.settle(tx, collection.id, principal.org_id, plan, [c for _, c in checked], prepared)
        taken = _held_by_others(tx, principal, collection.id, [c.id for _, c in checked])
        outcomes, refused = ingest.store_versions(tx, plan, principal, collection.id, [c for _, c in checked], items,
                                                  taken)
        added: list[list[str]] = []
        replaced: list[list[str]] = []
        for n, ((_, c), (outcome, date_added)) in enumerate(zip(checked, outcomes, strict=True)):
            version = shown[n] or (micros_to_timestamp(date_added) if date_added else "")
            if outcome is AddOutcome.ADDED:
                successes.append({"id": c.id, "version": version})
                added.append([c.id, version])
            elif outcome is AddOutcome.UNCHANGED:
                successes.append({"id": c.id, "version": version, "message": "already stored, unchanged"})
            elif outcome is AddOutcome.REPLACED:
                successes.append({"id": c.id, "version": version,
                                  "message": "replaced different content stored under the same version"})
                replaced.append([c.id, version])
            else:
                failures.append(_failure(c.id, version, refused.get(n, TAKEN)))
        status = {
            "id": status_id, "status": "complete", "request_timestamp": micros_to_timestamp(request_ts),
            "total_count": len(envelope_objects), "success_count": len(successes), "successes": successes,
            "failure_count": len(failures), "failures": failures, "pending_count": 0, "pendings": [],
        }
        tx.save_status(status_id, root.id, principal.org_id, request_ts, orjson.dumps(status))
        if request_ts - _last_prune[0] > 60_000_000:
            tx.prune_statuses(request_ts - STATUS_KEEP_MICROS)
            _last_prune[0] = request_ts
        tx.audit(principal.account_id, principal.org_id, "taxii.add_objects", {
            "collection": collection.uuid, "status": status_id, "added": added, "replaced": replaced,
            "unchanged": sum(1 for o, _ in outcomes if o is AddOutcome.UNCHANGED), "failed": len(failures),
            **({"privacy": dict(minimised.counts)} if minimised.counts else {})})
    return status


def status_resource(status: dict[str, Any]) -> dict[str, Any]:
    """The TAXII 2.1 status resource (section 4.3.1) of a status: ``successes``, ``failures`` and
    ``pendings`` with no entries are omitted, since TAXII prohibits empty lists (section 2, list)."""
    return {name: value for name, value in status.items() if value != []}


def get_status(store: Store, principal: Principal, root: ApiRoot, status_id: str) -> bytes:
    """TAXII 2.1 section 4.3: a status is visible to the organisation that made the request only."""
    with store.read() as tx:
        found = tx.get_status(status_id)
    if found is None or found[0] != root.id or found[1] != principal.org_id:
        raise NotFound(f"no status {status_id!r}")
    return orjson.dumps(status_resource(orjson.loads(found[2])))
