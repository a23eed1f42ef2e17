"""Object versions in a collection: add, scan with TAXII filters, delete.

Every method runs inside the caller's transaction (:class:`accord.store.repository.Tx`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, NamedTuple

import orjson
from sqlalchemy import BigInteger, Connection, String, and_, bindparam, cast, delete, func, or_, select, update

from accord.domain.sharing import Visibility
from accord.domain.tlp import Tlp
from accord.stix.timestamps import now_micros
from accord.store import fast, search
from accord.store.tables import objects, settings

_CLOCK_KEY = "last_date_added"


@dataclass(slots=True)
class _Known:
    """A version already stored or added earlier in the same call, with its flags as they must end."""

    version: str
    date_added: int
    owner_org: int
    is_first: bool
    is_latest: bool
    stored_flags: tuple[bool, bool] | None = None


class AddOutcome(Enum):
    ADDED = "added"
    UNCHANGED = "unchanged"  # the same object was already stored: not an error (TAXII 2.1 5.5)
    REPLACED = "replaced"  # the owner sent different content under a stored id and version
    REFUSED = "refused"  # not stored: the ingest rules refused it (federation: signature, replay)


class NewVersion(NamedTuple):
    """A version to store (a named tuple: ingest builds one per object, and a frozen dataclass's
    initialiser cost several times as much)."""

    id: str
    type: str
    spec_version: str
    version: str
    revoked: bool
    tlp: Tlp | None
    groups: frozenset[int]
    body: bytes


class StoredVersion(NamedTuple):
    """One stored version (a named tuple: a page builds a thousand of them, and a frozen dataclass's
    ``__init__`` cost more than reading the row)."""

    date_added: int
    id: str
    type: str
    spec_version: str
    version: str
    visibility: Visibility
    body: bytes


@dataclass(frozen=True, slots=True)
class VersionFilter:
    """TAXII 2.1 section 3.5.1 match[version]: first, last, all, or explicit versions; default last."""

    first: bool = False
    last: bool = True
    all: bool = False
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()
    versions: VersionFilter = field(default_factory=VersionFilter)
    added_after: int | None = None


def _groups_text(groups: frozenset[int]) -> str:
    return ",".join(str(g) for g in sorted(groups)) if groups else ""


def _groups_set(text: str) -> frozenset[int]:
    return frozenset(int(g) for g in text.split(",")) if text else frozenset()


def _advance(larger: Any) -> Any:
    value = cast(settings.c.value, BigInteger)
    return (update(settings).where(settings.c.key == _CLOCK_KEY)
            .values(value=cast(larger(value + bindparam("count"), bindparam("floor")), String))
            .returning(settings.c.value))


# Hot-path statements are built once: SQLAlchemy derives a cache key for every statement object it
# executes, and building them per call cost more than the SQL itself.
_ADVANCE_SQLITE = _advance(func.max)  # SQLite's two-argument max() is a scalar function
_ADVANCE_OTHER = _advance(func.greatest)
_KNOWN_COLUMNS = (objects.c.id, objects.c.version, objects.c.date_added, objects.c.owner_org, objects.c.is_first,
                  objects.c.is_latest)
_KNOWN_SIZES = (1, 4, 16, 64, 128, 256, 500)
_KNOWN_BY_SIZE: dict[tuple[int, bool], Any] = {}


def _known_in(size: int, one_owner: bool) -> Any:
    """What is stored of up to ``size`` ids (held by one owner, or by any), for the driver's cursor
    (``fast`` does not expand lists): lists are padded to the next of a few sizes by repeating an id,
    which changes nothing in IN."""
    stmt = _KNOWN_BY_SIZE.get((size, one_owner))
    if stmt is None:
        conds = [objects.c.collection_id == bindparam("collection"),
                 objects.c.id.in_([bindparam(f"id{n}") for n in range(size)])]
        if one_owner:
            conds.append(objects.c.owner_org == bindparam("owner"))
        stmt = _KNOWN_BY_SIZE[(size, one_owner)] = select(*_KNOWN_COLUMNS).where(*conds)
    return stmt

_ANALYZE = {"since": 0, "next": 2_000}  # rows inserted by this process since its last ANALYZE, and when next

_INSERT_COLUMNS = ("date_added", "collection_id", "id", "type", "spec_version", "version", "is_latest",
                   "is_first", "revoked", "tlp", "groups", "owner_org", "body")


def _insert_sql(paramstyle: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    return (f"INSERT INTO objects ({', '.join(_INSERT_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_INSERT_COLUMNS))})")


_COLUMNS = (objects.c.date_added, objects.c.id, objects.c.type, objects.c.spec_version, objects.c.version,
            objects.c.owner_org, objects.c.tlp, objects.c.groups, objects.c.is_latest)
_LINEAGE_SIZES = (1, 16, 128, 500)
_LINEAGE_BY_SIZE: dict[int, Any] = {}


def _latest_in(size: int) -> Any:
    """The visibility of the latest version of up to ``size`` ids in one collection, for every owner."""
    stmt = _LINEAGE_BY_SIZE.get(size)
    if stmt is None:
        stmt = _LINEAGE_BY_SIZE[size] = (
            select(objects.c.id, objects.c.owner_org, objects.c.tlp, objects.c.groups)
            .where(objects.c.collection_id == bindparam("collection"), objects.c.is_latest.is_(True),
                   objects.c.id.in_([bindparam(f"id{n}") for n in range(size)])))
    return stmt


def _padded(ids: Sequence[str], sizes: Sequence[int]) -> dict[str, Any]:
    """Bind parameters id0..idN for a statement of the next size up, padded by repeating an id."""
    size = next(s for s in sizes if s >= len(ids))
    return {f"id{n}": ids[min(n, len(ids) - 1)] for n in range(size)}


def latest_visibility(conn: Connection, collection_id: int, ids: Sequence[str]) -> dict[tuple[str, int], Visibility]:
    """(id, owner) -> visibility of the latest version that owner holds, for :attr:`Visibility.latest`."""
    found: dict[tuple[str, int], Visibility] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), _LINEAGE_SIZES[-1]):
        chunk = unique[start:start + _LINEAGE_SIZES[-1]]
        params = _padded(chunk, _LINEAGE_SIZES)
        params["collection"] = collection_id
        for r in fast.rows(conn, _latest_in(len(params) - 1), params):
            found[(r[0], r[1])] = Visibility(r[1], None if r[2] is None else Tlp(r[2]), _groups_set(r[3]))
    return found


def with_lineage(conn: Connection, collection_id: int, versions: list[StoredVersion],
                 latest_flags: Sequence[bool]) -> list[StoredVersion]:
    """Give each version that is not its owner's latest the visibility of that latest version
    (sharing rule 6), in one query per 500 such ids; the latest versions, which most reads return
    alone, cost nothing."""
    older = [v.id for v, is_latest in zip(versions, latest_flags, strict=True) if not is_latest]
    if not older:
        return versions
    latest = latest_visibility(conn, collection_id, older)
    out: list[StoredVersion] = []
    for v, is_latest in zip(versions, latest_flags, strict=True):
        newest = None if is_latest else latest.get((v.id, v.visibility.owner_org))
        out.append(v if newest is None else v._replace(visibility=replace(v.visibility, latest=newest)))
    return out


class ObjectsMixin:
    conn: Connection

    def _next_date_added(self, count: int) -> int:
        """Reserve ``count`` consecutive date_added values, strictly after every earlier one.

        The clock row survives deletions, so a value is never handed out twice; one statement
        reads and advances it under the write lock.
        """
        now = now_micros()
        stmt = _ADVANCE_SQLITE if self.conn.dialect.name == "sqlite" else _ADVANCE_OTHER
        found = fast.rows(self.conn, stmt, {"count": count, "floor": now + count - 1})
        advanced = found[0][0] if found else None
        if advanced is None:
            self.conn.execute(settings.insert(), {"key": _CLOCK_KEY, "value": str(now + count - 1)})
            return now
        return int(advanced) - count + 1

    def add_versions(self, collection_id: int, owner_org: int, items: Sequence[NewVersion],
                     refuse: frozenset[str] = frozenset()) -> list[tuple[AddOutcome, int | None]]:
        """Store new versions in ``owner_org``'s lineages; returns each item's outcome and its
        date_added when it was added. Items whose id is in ``refuse`` are refused (the caller decides
        which: services.objects refuses ids that another organisation holds and the writer may read).

        Keeps ``is_first``/``is_latest`` right whatever order versions arrive in (STIX 2.1 3.6:
        versions are ordered by ``modified``), including several versions in one envelope.

        The same content under a stored (id, version) is not an error and changes nothing. Different
        content under a stored (id, version) from the same owner replaces it with a new date_added, so
        incremental readers see the correction: producers do this (MITRE ATT&CK 18.0 revokes and edits
        70 ICS objects of 17.1 without a new ``modified``), and keeping the stale copy would hide a
        revocation. The status message and the audit log say so.
        """
        known = self._known_versions(collection_id, owner_org, sorted({item.id for item in items}))
        outcomes: list[tuple[AddOutcome, int | None]] = []
        inserts: dict[int, tuple[NewVersion, _Known]] = {}
        replaced: list[int] = []
        first_added = self._next_date_added(len(items))
        stored_bodies = self._bodies_of_versions(items, known)
        for n, item in enumerate(items):
            if item.id in refuse:
                outcomes.append((AddOutcome.REFUSED, None))
                continue
            versions = known.setdefault(item.id, [])
            same = next((v for v in versions if v.version == item.version), None)
            if same is not None:
                if _same_content(item, same.date_added, inserts, stored_bodies):
                    outcomes.append((AddOutcome.UNCHANGED, None))
                    continue
                versions.remove(same)
                if inserts.pop(same.date_added, None) is None:
                    replaced.append(same.date_added)
            if versions:
                new = _Known(item.version, first_added + n, owner_org,
                             all(item.version < v.version for v in versions),
                             all(item.version > v.version for v in versions))
                for v in versions:
                    v.is_first = v.is_first and not new.is_first
                    v.is_latest = v.is_latest and not new.is_latest
            else:  # an id not held yet, the usual case of a bulk load
                new = _Known(item.version, first_added + n, owner_org, True, True)
            versions.append(new)
            inserts[new.date_added] = (item, new)  # its flags may still change: rows are built last
            outcomes.append((AddOutcome.ADDED if same is None else AddOutcome.REPLACED, new.date_added))
        for versions in known.values():
            for v in versions:
                if v.date_added not in inserts and (v.is_first, v.is_latest) != v.stored_flags:
                    self.conn.execute(update(objects).where(objects.c.date_added == v.date_added)
                                      .values(is_first=v.is_first, is_latest=v.is_latest))
        if replaced:
            self.conn.execute(delete(objects).where(objects.c.date_added.in_(replaced)))
            search.unindex(self.conn, replaced)
        if inserts:
            # Straight to the driver's executemany: SQLAlchemy's per-row parameter handling cost
            # as much as SQLite's own insert work.
            self.conn.exec_driver_sql(_insert_sql(self.conn.dialect.paramstyle), [
                (k.date_added, collection_id, it.id, it.type, it.spec_version, it.version, k.is_latest, k.is_first,
                 it.revoked, None if it.tlp is None else int(it.tlp), _groups_text(it.groups), owner_org, it.body)
                for it, k in inserts.values()])  # in the order of _INSERT_COLUMNS
            self._keep_statistics_fresh(len(inserts))
            # the search index is kept in the same transaction: a version is found exactly while stored
            search.index_bodies(self.conn, ((k.date_added, it.body) for it, k in inserts.values() if not it.revoked))
        return outcomes

    def latest_visibility(self, collection_id: int, ids: Sequence[str]) -> dict[tuple[str, int], Visibility]:
        """(id, owner) -> visibility of each owner's latest version of ``ids`` in the collection."""
        return latest_visibility(self.conn, collection_id, ids)

    def _keep_statistics_fresh(self, inserted: int) -> None:
        """PostgreSQL only: ANALYZE the objects table each time this process has inserted as many rows
        again as at the last ANALYZE. Autovacuum analyses at most once a minute; during a bulk load
        the planner, believing the collection still tiny, chose the collection index and filtered
        every row for each version lookup (3,600 objects/s at 10,000 rows, 600/s at 50,000; with
        fresh statistics about 8,500/s throughout). Doubling keeps the ANALYZE calls logarithmic."""
        if self.conn.dialect.name != "postgresql":
            return
        _ANALYZE["since"] += inserted
        if _ANALYZE["since"] >= _ANALYZE["next"]:
            self.conn.exec_driver_sql("ANALYZE objects")
            _ANALYZE["next"] = max(5_000, 2 * _ANALYZE["next"])
            _ANALYZE["since"] = 0

    def _known_versions(self, collection_id: int, owner_org: int | None, ids: list[str]) -> dict[str, list[_Known]]:
        """The versions ``owner_org`` (None: any owner) holds of ``ids``. Writes ask for the writer's
        own: what other organisations hold never decides the outcome of a write (a write must reveal
        nothing that a read would hide)."""
        known: dict[str, list[_Known]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            params = _padded(chunk, _KNOWN_SIZES)
            size = len(params)
            params["collection"] = collection_id
            if owner_org is not None:
                params["owner"] = owner_org
            for r in fast.rows(self.conn, _known_in(size, owner_org is not None), params):
                k = _Known(r[1], r[2], r[3], bool(r[4]), bool(r[5]))
                k.stored_flags = (k.is_first, k.is_latest)
                known.setdefault(r[0], []).append(k)
        return known

    def latest_versions(self, collection_id: int, owner_org: int | None, ids: Sequence[str]) -> dict[str, str]:
        """The latest version (its sortable key) that ``owner_org`` (None: any owner) holds of each id."""
        return {object_id: max(k.version for k in held if k.is_latest)
                for object_id, held in self._known_versions(collection_id, owner_org, list(ids)).items()
                if any(k.is_latest for k in held)}

    def _bodies_of_versions(self, items: Sequence[NewVersion], known: dict[str, list[_Known]]) -> dict[int, bytes]:
        """The stored bodies of the versions that ``items`` send again, in one query per 500: a feed
        re-sending what it sent before (a bundle reloaded, a MISP feed polled) cost one query per object."""
        wanted = sorted({v.date_added for item in items for v in known.get(item.id, ()) if v.version == item.version})
        bodies: dict[int, bytes] = {}
        for start in range(0, len(wanted), 500):
            rows = self.conn.execute(select(objects.c.date_added, objects.c.body)
                                     .where(objects.c.date_added.in_(wanted[start:start + 500])))
            bodies.update((int(r[0]), bytes(r[1])) for r in rows)
        return bodies

    def _where(self, collection_id: int, flt: ObjectFilter) -> list[object]:
        conds: list[object] = [objects.c.collection_id == collection_id]
        if flt.ids:
            conds.append(objects.c.id.in_(flt.ids))
        if flt.types:
            conds.append(objects.c.type.in_(flt.types))
        if flt.spec_versions:
            conds.append(objects.c.spec_version.in_(flt.spec_versions))
        if flt.added_after is not None:
            conds.append((objects.c.date_added + 0 if flt.ids else objects.c.date_added) > flt.added_after)
        v = flt.versions
        if not v.all:
            alternatives = _first_or_last(v.first, v.last)
            if v.keys:
                alternatives.append(objects.c.version.in_(v.keys))
            conds.append(or_(*alternatives))
        return conds

    def scan(self, collection_id: int, flt: ObjectFilter, after: int | None, limit: int,
             with_body: bool = True) -> list[StoredVersion]:
        """Versions matching ``flt`` with date_added > ``after``, in date_added order."""
        v = flt.versions
        if not (flt.ids or flt.types or flt.spec_versions or v.keys) and (v.all or v.first or v.last):
            return self._walk(collection_id, flt.versions, max(after or -1, flt.added_after or -1), limit, with_body)
        conds = self._where(collection_id, flt)
        # With match[id], "date_added + 0" keeps the planner on the (collection, id, version) index:
        # left to itself, SQLite walks the whole collection in date_added order to avoid a sort.
        added = objects.c.date_added + 0 if flt.ids else objects.c.date_added
        if after is not None:
            conds.append(added > after)
        cols = (*_COLUMNS, objects.c.body) if with_body else _COLUMNS
        stmt = select(*cols).where(and_(*conds)).order_by(added).limit(limit)  # type: ignore[arg-type]
        return self._stored(collection_id, self.conn.execute(stmt).all(), with_body)

    def _walk(self, collection_id: int, versions: VersionFilter, after: int, limit: int,
              with_body: bool) -> list[StoredVersion]:
        """The hot path of every full pull: a collection in date_added order, first/last/all versions.

        One statement per shape, run on the driver's cursor (``fast``): building SQLAlchemy rows and
        statement cache keys had cost more per object than SQLite's own work."""
        stmt = _walk_statement(versions.first, versions.last, versions.all, with_body)
        return self._stored(collection_id, fast.rows(self.conn, stmt, {"collection": collection_id, "after": after,
                                                                       "limit": limit}), with_body)

    def _stored(self, collection_id: int, rows: Sequence[Any], with_body: bool) -> list[StoredVersion]:
        seen: dict[tuple[int, int | None, str], Visibility] = {}  # few distinct ones: share them
        result: list[StoredVersion] = []
        for r in rows:
            key = (r[5], r[6], r[7])
            vis = seen.get(key)
            if vis is None:
                vis = seen[key] = Visibility(r[5], None if r[6] is None else Tlp(r[6]), _groups_set(r[7]))
            result.append(StoredVersion(r[0], r[1], r[2], r[3], r[4], vis, bytes(r[9]) if with_body else b""))
        if all(r[8] for r in rows):
            return result
        return with_lineage(self.conn, collection_id, result, [bool(r[8]) for r in rows])

    def delete_versions(self, collection_id: int, object_id: str, owner_org: int, date_addeds: Sequence[int]) -> None:
        """Delete the given versions of one object and mend the first/latest flags of the owner's rest."""
        self.conn.execute(delete(objects).where(objects.c.date_added.in_(date_addeds)))
        search.unindex(self.conn, date_addeds)
        rest = self.conn.execute(
            select(objects.c.date_added, objects.c.version)
            .where(objects.c.collection_id == collection_id, objects.c.id == object_id,
                   objects.c.owner_org == owner_org)
            .order_by(objects.c.version)
        ).all()
        if rest:
            self.conn.execute(update(objects).where(objects.c.date_added.in_([r[0] for r in rest]))
                              .values(is_first=False, is_latest=False))
            self.conn.execute(update(objects).where(objects.c.date_added == rest[0][0]).values(is_first=True))
            self.conn.execute(update(objects).where(objects.c.date_added == rest[-1][0]).values(is_latest=True))

    def count_objects(self, collection_id: int | None = None) -> int:
        stmt = select(func.count()).select_from(objects)
        if collection_id is not None:
            stmt = stmt.where(objects.c.collection_id == collection_id)
        return int(self.conn.execute(stmt).scalar_one())


def _first_or_last(first: bool, last: bool) -> list[Any]:
    """match[version] first and last as conditions on the stored flags (TAXII 2.1 section 3.5.1)."""
    return ([objects.c.is_first.is_(True)] if first else []) + ([objects.c.is_latest.is_(True)] if last else [])


_WALKS: dict[tuple[bool, bool, bool, bool], Any] = {}


def _walk_statement(first: bool, last: bool, every: bool, with_body: bool) -> Any:
    """The statement of :meth:`ObjectsMixin._walk` for one shape, built once."""
    key = (first, last, every, with_body)
    stmt = _WALKS.get(key)
    if stmt is None:
        conds: list[Any] = [objects.c.collection_id == bindparam("collection"),
                            objects.c.date_added > bindparam("after")]
        if not every:
            conds.append(or_(*_first_or_last(first, last)))
        cols = (*_COLUMNS, objects.c.body) if with_body else _COLUMNS
        stmt = _WALKS[key] = (select(*cols).where(and_(*conds)).order_by(objects.c.date_added)
                              .limit(bindparam("limit")))
    return stmt


def _same_content(item: NewVersion, date_added: int, pending: dict[int, tuple[NewVersion, _Known]],
                  stored_bodies: dict[int, bytes]) -> bool:
    stored = pending[date_added][0].body if date_added in pending else stored_bodies[date_added]
    return stored == item.body or bool(orjson.loads(stored) == orjson.loads(item.body))
