"""The privacy tables (migration 0008): policies, pseudonymisation keys, retention rules, withdrawals.

Functions over the caller's transaction (:class:`accord.store.repository.Tx`), kept out of ``Tx``'s
mixins so that this capability stays in its own module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import and_, delete, func, or_, select, update

from accord.stix.timestamps import now_micros
from accord.store.tables import (
    lookup_spend,
    objects,
    privacy_policies,
    provenance,
    pseudonym_keys,
    retention_rules,
    sightings_seen,
    withdrawal_outbox,
    withdrawals,
)

if TYPE_CHECKING:
    from accord.store.repository import Tx


# --- policies and keys ---------------------------------------------------------------------------

def get_policy(tx: Tx, collection_id: int) -> dict[str, Any] | None:
    raw = tx.conn.execute(select(privacy_policies.c.policy)
                          .where(privacy_policies.c.collection_id == collection_id)).scalar()
    return None if raw is None else dict(orjson.loads(raw))


def all_policies(tx: Tx) -> dict[int, dict[str, Any]]:
    return {r[0]: dict(orjson.loads(r[1])) for r in tx.conn.execute(
        select(privacy_policies.c.collection_id, privacy_policies.c.policy))}


def set_policy(tx: Tx, collection_id: int, policy: dict[str, Any]) -> None:
    tx.conn.execute(delete(privacy_policies).where(privacy_policies.c.collection_id == collection_id))
    tx.conn.execute(privacy_policies.insert(), {"collection_id": collection_id, "policy": orjson.dumps(policy).decode(),
                                                "updated": now_micros()})


def get_key(tx: Tx, scope: str) -> tuple[str, str] | None:
    """(sealed key, fingerprint) of a pseudonymisation key."""
    row = tx.conn.execute(select(pseudonym_keys.c.sealed, pseudonym_keys.c.fingerprint)
                          .where(pseudonym_keys.c.scope == scope)).first()
    return None if row is None else (row[0], row[1])


def put_key(tx: Tx, scope: str, sealed: str, fingerprint: str) -> None:
    tx.conn.execute(delete(pseudonym_keys).where(pseudonym_keys.c.scope == scope))
    tx.conn.execute(pseudonym_keys.insert(), {"scope": scope, "sealed": sealed, "fingerprint": fingerprint,
                                              "created": now_micros()})


def list_keys(tx: Tx) -> list[tuple[str, str, int]]:
    """(scope, fingerprint, created) of every key; never the key."""
    return [(r[0], r[1], r[2]) for r in tx.conn.execute(
        select(pseudonym_keys.c.scope, pseudonym_keys.c.fingerprint, pseudonym_keys.c.created)
        .order_by(pseudonym_keys.c.scope))]


# --- retention -----------------------------------------------------------------------------------

def retention_rows(tx: Tx) -> list[tuple[int, str, str, int]]:
    """(collection id, 0 for every collection; type; basis; days)."""
    c = retention_rules.c
    return [(r[0], r[1], r[2], r[3]) for r in tx.conn.execute(
        select(c.collection_id, c.type, c.basis, c.days).order_by(c.collection_id, c.type))]


def set_retention(tx: Tx, collection_id: int, obj_type: str, basis: str, days: int) -> None:
    c = retention_rules.c
    tx.conn.execute(delete(retention_rules).where(c.collection_id == collection_id, c.type == obj_type))
    tx.conn.execute(retention_rules.insert(), {"collection_id": collection_id, "type": obj_type, "basis": basis,
                                               "days": days, "updated": now_micros()})


def clear_retention(tx: Tx, collection_id: int, obj_type: str) -> bool:
    c = retention_rules.c
    return bool(tx.conn.execute(delete(retention_rules).where(c.collection_id == collection_id,
                                                              c.type == obj_type)).rowcount)


@dataclass(frozen=True, slots=True)
class Held:
    """A stored version, as retention and withdrawal look at it."""

    date_added: int
    collection_id: int
    id: str
    type: str
    owner_org: int
    body: bytes


def versions_of_types(tx: Tx, collection_id: int, types: Sequence[str], after: int, limit: int,
                      with_body: bool) -> list[Held]:
    o = objects.c
    cols = [o.date_added, o.collection_id, o.id, o.type, o.owner_org]
    stmt = (select(*cols, o.body) if with_body else select(*cols)).where(
        o.collection_id == collection_id, o.type.in_(list(types)), o.date_added > after
    ).order_by(o.date_added).limit(limit)
    return [Held(r[0], r[1], r[2], r[3], r[4], bytes(r[5]) if with_body else b"") for r in tx.conn.execute(stmt)]


def versions_of_object(tx: Tx, object_id: str, owner_org: int | None = None) -> list[Held]:
    """Every version of ``object_id`` in every collection (only ``owner_org``'s, if given)."""
    o = objects.c
    conds = [o.id == object_id] + ([o.owner_org == owner_org] if owner_org is not None else [])
    return [Held(r[0], r[1], r[2], r[3], r[4], bytes(r[5])) for r in tx.conn.execute(
        select(o.date_added, o.collection_id, o.id, o.type, o.owner_org, o.body).where(*conds)
        .order_by(o.date_added))]


def remove_versions(tx: Tx, held: Sequence[Held]) -> None:
    """Delete versions with their provenance and sighting notes, mending first/latest flags of what
    remains of each (collection, id, owner) lineage (:meth:`ObjectsMixin.delete_versions`)."""
    by_lineage: dict[tuple[int, str, int], list[int]] = {}
    for h in held:
        by_lineage.setdefault((h.collection_id, h.id, h.owner_org), []).append(h.date_added)
    for (collection_id, object_id, owner), dates in by_lineage.items():
        for start in range(0, len(dates), 500):
            chunk = dates[start:start + 500]
            tx.conn.execute(delete(provenance).where(provenance.c.date_added.in_(chunk)))
            tx.conn.execute(delete(sightings_seen).where(sightings_seen.c.date_added.in_(chunk)))
        tx.delete_versions(collection_id, object_id, owner, dates)


# --- withdrawals ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WithdrawalRow:
    id: str
    object_id: str
    origin: str
    at: str
    reason: str
    key_id: str
    ed25519: bytes
    ml_dsa_65: bytes
    received: int
    via_peer: int | None


def _withdrawal(r: Any) -> WithdrawalRow:
    return WithdrawalRow(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), bytes(r[7]), r[8], r[9])


def find_withdrawal(tx: Tx, withdrawal_id: str) -> WithdrawalRow | None:
    row = tx.conn.execute(select(*withdrawals.c).where(withdrawals.c.id == withdrawal_id)).first()
    return None if row is None else _withdrawal(row)


def list_withdrawals(tx: Tx) -> list[WithdrawalRow]:
    return [_withdrawal(r) for r in tx.conn.execute(select(*withdrawals.c).order_by(withdrawals.c.received))]


def withdrawn(tx: Tx, pairs: Sequence[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """Which (object id, origin node) pairs were withdrawn by their origin."""
    if not pairs:
        return frozenset()
    w = withdrawals.c
    found: set[tuple[str, str]] = set()
    unique = sorted(set(pairs))
    for start in range(0, len(unique), 200):
        chunk = unique[start:start + 200]
        found.update((r[0], r[1]) for r in tx.conn.execute(select(w.object_id, w.origin).where(
            or_(*[and_(w.object_id == i, w.origin == o) for i, o in chunk]))))
    return frozenset(found)


def add_withdrawal(tx: Tx, row: WithdrawalRow, peers: Sequence[int]) -> None:
    tx.conn.execute(withdrawals.insert(), {
        "id": row.id, "object_id": row.object_id, "origin": row.origin, "at": row.at, "reason": row.reason,
        "key_id": row.key_id, "ed25519": row.ed25519, "ml_dsa_65": row.ml_dsa_65, "received": row.received,
        "via_peer": row.via_peer})
    if peers:
        tx.conn.execute(withdrawal_outbox.insert(), [
            {"withdrawal_id": row.id, "peer_id": p, "delivered": None, "attempts": 0, "last_error": None}
            for p in sorted(set(peers))])


def pending_deliveries(tx: Tx, limit: int = 100) -> list[tuple[str, int, int]]:
    """(withdrawal id, peer id, attempts) not delivered yet, oldest first."""
    q = withdrawal_outbox.c
    return [(r[0], r[1], r[2]) for r in tx.conn.execute(
        select(q.withdrawal_id, q.peer_id, q.attempts).where(q.delivered.is_(None))
        .order_by(q.withdrawal_id).limit(limit))]


def deliveries(tx: Tx, withdrawal_id: str) -> list[tuple[int, int | None, int, str | None]]:
    """(peer id, delivered at or None, attempts, last error) of one withdrawal."""
    q = withdrawal_outbox.c
    return [(r[0], r[1], r[2], r[3]) for r in tx.conn.execute(
        select(q.peer_id, q.delivered, q.attempts, q.last_error).where(q.withdrawal_id == withdrawal_id)
        .order_by(q.peer_id))]


def mark_delivery(tx: Tx, withdrawal_id: str, peer_id: int, error: str | None) -> None:
    q = withdrawal_outbox.c
    tx.conn.execute(update(withdrawal_outbox).where(q.withdrawal_id == withdrawal_id, q.peer_id == peer_id).values(
        delivered=None if error else now_micros(), attempts=q.attempts + 1, last_error=error))


def count_withdrawals(tx: Tx) -> int:
    return int(tx.conn.execute(select(func.count()).select_from(withdrawals)).scalar_one())


# --- the sighting lookup's budget ------------------------------------------------------------------

def charge_lookup(tx: Tx, org_id: int, points: int, budget: int, window: int, now: int) -> tuple[int, int | None]:
    """Charge ``points`` to ``org_id`` in the sliding ``window`` (microseconds) ending at ``now``,
    unless that would pass ``budget``. Returns (points used before this charge, the microsecond at
    which the oldest charge in the window leaves it, or None when nothing is spent) and charges only
    when the budget allows; the caller's write transaction holds the write lock, so two workers
    never both see room for the same points."""
    tx.conn.execute(delete(lookup_spend).where(and_(lookup_spend.c.org_id == org_id,
                                                    lookup_spend.c.at <= now - window)))
    used, oldest = tx.conn.execute(select(func.coalesce(func.sum(lookup_spend.c.points), 0),
                                          func.min(lookup_spend.c.at))
                                   .where(lookup_spend.c.org_id == org_id)).one()
    if int(used) + points <= budget:
        tx.conn.execute(lookup_spend.insert().values(org_id=org_id, at=now, points=points))
    return int(used), None if oldest is None else int(oldest) + window
