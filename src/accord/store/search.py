"""The search index: written beside each stored version, removed with it, looked up by key.

Every lookup returns date_added values of *latest*, unrevoked versions in the given collections; the
service then asks the sharing policy about each (``accord.services.search``). Rows are written with
the driver's executemany (as ``objects`` rows are): at ingest of a million objects the per-row cost of
SQLAlchemy's parameter handling would match the database's own work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, and_, delete, func, literal_column, or_, select, text

from accord.domain.search import AddressRange, covering_starts, parent_keys, reversed_domain
from accord.domain.sharing import Visibility
from accord.domain.tlp import Tlp
from accord.stix.terms import Terms, extract
from accord.store.tables import (
    objects,
    search_addresses,
    search_attack,
    search_domains,
    search_hashes,
    search_refs,
    search_text,
)

_INDEX_TABLES = (search_addresses, search_domains, search_hashes, search_attack, search_refs, search_text)
CHUNK = 500


class Candidate(NamedTuple):
    """A latest version found by a lookup, with what the sharing policy needs."""

    date_added: int
    collection_id: int
    id: str
    type: str
    visibility: Visibility
    body: bytes


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def index_rows(conn: Connection, rows: Iterable[tuple[int, Terms]]) -> None:
    """Write the keys of each (date_added, terms), in one executemany per table."""
    addresses: list[tuple[Any, ...]] = []
    domains: list[tuple[Any, ...]] = []
    hashes: list[tuple[Any, ...]] = []
    attack: list[tuple[Any, ...]] = []
    refs: list[tuple[Any, ...]] = []
    texts: list[tuple[Any, ...]] = []
    for date_added, t in rows:
        addresses.extend((date_added, a.family, a.low, a.high) for a in t.addresses)
        domains.extend((date_added, reversed_domain(d)) for d in t.domains)
        hashes.extend((date_added, algo, value) for algo, value in t.hashes)
        attack.extend((date_added, a) for a in t.attack)
        refs.extend((date_added, r) for r in t.refs)
        if t.text:
            texts.append((date_added, t.text))
    m = _mark(conn)
    for table, values in ((search_addresses, addresses), (search_domains, domains), (search_hashes, hashes),
                          (search_attack, attack), (search_refs, refs), (search_text, texts)):
        if values:
            names = ", ".join(c.name for c in table.columns)
            marks = ", ".join([m] * len(table.columns))
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)


def index_bodies(conn: Connection, rows: Iterable[tuple[int, bytes]]) -> int:
    """Extract and write the keys of stored versions (date_added, JSON body); how many had any."""
    extracted = [(date_added, extract(orjson.loads(body))) for date_added, body in rows]
    kept = [(d, t) for d, t in extracted if not t.empty]
    index_rows(conn, kept)
    return len(kept)


def unindex(conn: Connection, date_addeds: Sequence[int]) -> None:
    """Remove the keys of deleted versions (deletion, replacement, retention and privacy purges)."""
    for start in range(0, len(date_addeds), CHUNK):
        chunk = list(date_addeds[start:start + CHUNK])
        for table in _INDEX_TABLES:
            conn.execute(delete(table).where(table.c.date_added.in_(chunk)))


def clear(conn: Connection) -> None:
    for table in _INDEX_TABLES:
        conn.execute(delete(table))


def begin_search(conn: Connection) -> None:
    """On PostgreSQL, plan this transaction's lookups for their values. psycopg prepares a statement
    run five times, and PostgreSQL then plans it once for any value: a generic plan that, not knowing
    the words of ``plainto_tsquery`` or how many rows a key has, scans ``search_text`` computing every
    tsvector (93 ms at 5,000 objects in bench/search.py, instead of 7 ms through the GIN index).
    ``SET LOCAL`` ends with the transaction, so TAXII reads keep their generic plans."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def _groups(text_value: str) -> frozenset[int]:
    return frozenset(int(g) for g in text_value.split(",")) if text_value else frozenset()


def _candidates(conn: Connection, keyed: Any, collections: Sequence[int], limit: int) -> list[Candidate]:
    """Latest unrevoked versions whose date_added the subquery ``keyed`` yields, in readable collections."""
    if not collections:
        return []
    o = objects.c
    stmt = (select(o.date_added, o.collection_id, o.id, o.type, o.owner_org, o.tlp, o.groups, o.body)
            .where(o.date_added.in_(keyed), o.is_latest.is_(True), o.revoked.is_(False),
                   o.collection_id.in_(list(collections)))
            .order_by(o.date_added.desc()).limit(limit))
    return [Candidate(int(r[0]), int(r[1]), r[2], r[3],
                      Visibility(int(r[4]), None if r[5] is None else Tlp(r[5]), _groups(r[6])), bytes(r[7]))
            for r in conn.execute(stmt)]


def by_address(conn: Connection, block: AddressRange, collections: Sequence[int], limit: int) -> list[Candidate]:
    """Blocks that hold ``block`` (one of its prefix networks starts them and they end at or after it),
    and blocks or addresses inside it."""
    a = search_addresses.c
    holding = and_(a.family == block.family, a.low.in_(covering_starts(block)), a.high >= block.high)
    inside = and_(a.family == block.family, a.low >= block.low, a.low <= block.high, a.high <= block.high)
    keyed = select(a.date_added).where(or_(holding, inside) if not block.is_point else holding)
    return _candidates(conn, keyed, collections, limit)


def by_domain(conn: Connection, name: str, collections: Sequence[int], limit: int) -> list[Candidate]:
    """The name, its parents (exact keys) and its subdomains (a prefix range of the reversed key)."""
    d = search_domains.c
    key = reversed_domain(name)
    below = key[:-1] + "/"  # "/" follows "." in ASCII: every "com.example.*." key sorts before it
    keyed = select(d.date_added).where(or_(d.reversed.in_(parent_keys(name)),
                                           and_(d.reversed > key, d.reversed < below)))
    return _candidates(conn, keyed, collections, limit)


def by_hash(conn: Connection, value: str, collections: Sequence[int], limit: int) -> list[Candidate]:
    keyed = select(search_hashes.c.date_added).where(search_hashes.c.value == value)
    return _candidates(conn, keyed, collections, limit)


def by_attack(conn: Connection, attack_id: str, collections: Sequence[int], limit: int) -> list[Candidate]:
    keyed = select(search_attack.c.date_added).where(search_attack.c.attack_id == attack_id)
    return _candidates(conn, keyed, collections, limit)


def by_refs(conn: Connection, ids: Sequence[str], collections: Sequence[int], limit: int) -> list[Candidate]:
    """Versions that reference any of ``ids`` (sightings, reports, incidents, notes, relationships)."""
    found: list[Candidate] = []
    for start in range(0, len(ids), CHUNK):
        keyed = select(search_refs.c.date_added).where(search_refs.c.ref_id.in_(list(ids[start:start + CHUNK])))
        found.extend(_candidates(conn, keyed, collections, limit))
    return found


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query of every word as a quoted string (``"a""b"`` for a quote): no operator, column
    filter or prefix syntax of the user's reaches FTS5."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def by_text(conn: Connection, words: Sequence[str], collections: Sequence[int], limit: int) -> list[Candidate]:
    """Versions whose names and descriptions hold every word (stemmed: FTS5 porter, PostgreSQL english)."""
    if conn.dialect.name == "sqlite":
        keyed: Any = select(literal_column("rowid")).select_from(text("search_fts")).where(
            text("search_fts MATCH :q").bindparams(q=fts_query(words)))
    else:
        t = search_text.c
        keyed = select(t.date_added).where(func.to_tsvector(literal_column("'english'"), t.body).op("@@")(
            func.plainto_tsquery(literal_column("'english'"), " ".join(words))))
    return _candidates(conn, keyed, collections, limit)


def latest_by_ids(conn: Connection, ids: Sequence[str], collections: Sequence[int], limit: int) -> list[Candidate]:
    """The latest versions of ``ids`` (the other end of a relationship)."""
    found: list[Candidate] = []
    for start in range(0, len(ids), CHUNK):
        keyed = select(objects.c.date_added).where(objects.c.id.in_(list(ids[start:start + CHUNK])),
                                                   objects.c.is_latest.is_(True))
        found.extend(_candidates(conn, keyed, collections, limit))
    return found


def stored_bodies(conn: Connection, after: int, limit: int) -> list[tuple[int, bytes]]:
    """Versions in date_added order after ``after``: what a reindex walks."""
    o = objects.c
    return [(int(r[0]), bytes(r[1])) for r in conn.execute(
        select(o.date_added, o.body).where(o.date_added > after).order_by(o.date_added).limit(limit))]



def count_versions(conn: Connection) -> int:
    """How many stored versions a reindex walks (its progress bar's total)."""
    return int(conn.execute(select(func.count()).select_from(objects)).scalar_one())
