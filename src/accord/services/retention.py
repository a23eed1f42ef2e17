"""Retention use cases: set and show rules, say what goes when, and purge what expired.

The purge removes expired versions from the store with their provenance and sighting notes, in
write transactions that advance the write generation, so a page prepared ahead
(``accord.services.objects._PagesAhead``) is never served stale; sensor exports (Zeek intel,
Suricata sets) are built from the store on each request and so lose the expired indicators at once.
Each purge that removed anything writes one audit record ``retention.purge`` with counts per
collection and type. ``accord serve`` runs it every :data:`PURGE_SECONDS` (:func:`run_purges`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from accord.domain.errors import InvalidInput
from accord.domain.retention import (
    EVERY_COLLECTION,
    Basis,
    Rule,
    expires_at,
    index,
    parse_rule,
    rule_for,
)
from accord.stix.timestamps import now_micros
from accord.store import privacy as db
from accord.store.repository import Store, Tx

PURGE_SECONDS = 3600.0
SCAN = 2000
log = logging.getLogger("accord.retention")


def _collection_id(tx: Tx, collection: str | None) -> int:
    return EVERY_COLLECTION if collection is None else tx.find_collection(None, collection).id


def rules(tx: Tx) -> list[Rule]:
    """The stored rules, each validated again: InvalidInput naming the rule at fault."""
    out = []
    for cid, obj_type, basis, days in db.retention_rows(tx):
        try:
            out.append(parse_rule(cid, obj_type, basis, days))
        except InvalidInput as exc:
            where = "every collection" if cid == EVERY_COLLECTION else f"collection #{cid}"
            raise InvalidInput(f"retention rule for {obj_type} in {where}: {exc.message}") from None
    return out


def check_config(store: Store) -> None:
    """At server start: every stored rule is valid (else the server does not start, and purges nothing)."""
    with store.read() as tx:
        rules(tx)


def set_rule(store: Store, obj_type: str, days: int | str, basis: str = Basis.ADDED.value,
             collection: str | None = None) -> Rule:
    with store.write() as tx:
        cid = _collection_id(tx, collection)
        rule = parse_rule(cid, obj_type, basis, days)
        db.set_retention(tx, cid, rule.type, rule.basis.value, rule.days)
        tx.audit(None, None, "retention.set", {"collection": collection, "type": rule.type,
                                               "basis": rule.basis.value, "days": rule.days})
    return rule


def clear_rule(store: Store, obj_type: str, collection: str | None = None) -> bool:
    with store.write() as tx:
        removed = db.clear_retention(tx, _collection_id(tx, collection), obj_type)
        if removed:
            tx.audit(None, None, "retention.clear", {"collection": collection, "type": obj_type})
    return removed


@dataclass(frozen=True, slots=True)
class Due:
    """What one rule removes in one collection: held versions, expired now, within 30 days, next."""

    collection: str
    rule: Rule
    held: int
    expired: int
    within_30_days: int
    next_expiry: int | None


def _expired_in(store: Store, collection_id: int, rule: Rule, now: int, horizon: int = 0,
                ) -> tuple[list[db.Held], int, int, int | None]:
    """(versions expired at ``now``, versions held, expiring before now + horizon, next expiry after now)."""
    expired: list[db.Held] = []
    held = soon = 0
    upcoming: int | None = None
    after = -1
    with_body = rule.basis is Basis.VALID_UNTIL
    while True:
        with store.read() as tx:
            batch = db.versions_of_types(tx, collection_id, [rule.type], after, SCAN, with_body)
        for h in batch:
            held += 1
            when = expires_at(rule, h.date_added, orjson.loads(h.body) if with_body else None)
            if when is None:
                continue
            if when <= now:
                expired.append(h)
            else:
                soon += when <= now + horizon
                upcoming = when if upcoming is None else min(upcoming, when)
        if len(batch) < SCAN:
            return expired, held, soon, upcoming
        after = batch[-1].date_added


def _plan(store: Store) -> list[tuple[str, int, Rule]]:
    """(collection label, collection id, the rule that applies) for every collection and ruled type."""
    with store.read() as tx:
        found = index(rules(tx))
        collections = tx.list_collections()
    types = sorted({t for _, t in found})
    out = []
    for c in collections:
        for obj_type in types:
            rule = rule_for(found, c.id, obj_type)
            if rule is not None:
                out.append((c.alias or c.uuid, c.id, rule))
    return out


def status(store: Store, now: int | None = None) -> list[Due]:
    """What goes when, per collection and rule (``accord retention status``); nothing is removed."""
    now = now_micros() if now is None else now
    out = []
    for label, cid, rule in _plan(store):
        expired, held, soon, upcoming = _expired_in(store, cid, rule, now, 30 * 24 * 3600 * 1_000_000)
        out.append(Due(label, rule, held, len(expired), soon, upcoming))
    return out


def purge(store: Store, now: int | None = None) -> dict[str, dict[str, int]]:
    """Remove every version expired at ``now``; counts by collection and type. Each transaction
    that removes versions writes its audit record (``retention.purge``, with the counts and the rule)."""
    now = now_micros() if now is None else now
    removed: dict[str, dict[str, int]] = {}
    for label, cid, rule in _plan(store):
        expired, _, _, _ = _expired_in(store, cid, rule, now)
        for start in range(0, len(expired), 500):
            chunk = expired[start:start + 500]
            with store.write() as tx:
                db.remove_versions(tx, chunk)
                tx.audit(None, None, "retention.purge", {
                    "collection": label, "type": rule.type, "rule": rule.describe(), "removed": len(chunk)})
        if expired:
            removed.setdefault(label, {})[rule.type] = len(expired)
    return removed


async def run_purges(store: Store, every: float = PURGE_SECONDS, clock: Callable[[], int] = now_micros) -> None:
    """Purge, then wait, for the server's lifespan; a failed purge is logged and retried on time."""
    from accord.services.periodic import run_periodically

    await run_periodically("retention purge", purge, store, every, clock, log)
