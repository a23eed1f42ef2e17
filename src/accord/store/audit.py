"""The append-only, hash-chained audit log.

Each record's hash is SHA-256 over the previous record's hash and the record's canonical JSON
(sorted keys), so editing, inserting or deleting any record breaks every hash after it.
``accord audit verify`` recomputes the chain and names the first record that does not fit. Deleting
the *last* records leaves a shorter chain that still fits, and whoever can rewrite the table can
rewrite every hash: only a head published off the node (``accord.federation.checkpoint``) shows that.

What left the node for a peer node is recorded as :data:`EGRESS_ACTIONS`, one record per envelope
pushed or page served, details ``{"peer": name, "objects": [[id, version], ...]}``; so is what an
early warning told an organisation (id, type and name of a version it may read) by webhook or
Server-Sent Events, details ``{"to": "webhook NAME (ORG)" or "stream (ORG)", "objects": ...}``.
:meth:`AuditMixin.egress` reads them back by recipient and by object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, func, select

from accord.stix.timestamps import now_micros
from accord.store import fast
from accord.store.tables import audit_log

GENESIS = "0" * 64
PUSH, PULL = "federation.push", "federation.pull"
WARNING_WEBHOOK, WARNING_STREAM = "early_warning.webhook", "early_warning.stream"
EGRESS_ACTIONS = (PUSH, PULL, WARNING_WEBHOOK, WARNING_STREAM)
_LAST = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
_APPEND = audit_log.insert().values({c: bindparam(c.name) for c in audit_log.c})


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: int
    account_id: int | None
    org_id: int | None
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Egress:
    """Versions (not TLP:CLEAR) that left for one recipient at once: a peer node in one push or
    signed-pull page, or an organisation's early-warning webhook or stream (``peer`` names it)."""

    seq: int
    at: int
    action: str
    peer: str
    objects: list[tuple[str, str]]


def record_hash(prev_hash: str, seq: int, at: int, account_id: int | None, org_id: int | None,
                action: str, details_json: bytes) -> str:
    body = orjson.dumps({"seq": seq, "at": at, "account_id": account_id, "org_id": org_id,
                         "action": action, "details": orjson.Fragment(details_json)},
                        option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


class AuditMixin:
    conn: Connection

    def audit(self, account_id: int | None, org_id: int | None, action: str, details: dict[str, Any]) -> None:
        """Append one record; the caller's write transaction serialises appends."""
        last = fast.rows(self.conn, _LAST)
        seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
        at = now_micros()
        details_json = orjson.dumps(details, option=orjson.OPT_SORT_KEYS)
        fast.execute(self.conn, _APPEND, {
            "seq": seq, "at": at, "account_id": account_id, "org_id": org_id, "action": action,
            "details": details_json, "prev_hash": prev,
            "hash": record_hash(prev, seq, at, account_id, org_id, action, details_json)})

    def audit_head(self) -> tuple[int, str]:
        """(seq, hash) of the last record; (0, GENESIS) for an empty log."""
        last = fast.rows(self.conn, _LAST)
        return (int(last[0][0]), str(last[0][1])) if last else (0, GENESIS)

    def audit_hash(self, seq: int) -> str | None:
        """The stored hash of record ``seq`` (GENESIS for 0), None if there is no such record."""
        if seq == 0:
            return GENESIS
        found = self.conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar()
        return None if found is None else str(found)

    def egress(self, peer: str | None = None, object_id: str | None = None) -> list[Egress]:
        """What left, oldest first: for one recipient (a peer's name, or an early-warning channel as
        listed), and/or only the versions of one object."""
        c = audit_log.c
        stmt = select(c.seq, c.at, c.action, c.details).where(c.action.in_(EGRESS_ACTIONS)).order_by(c.seq)
        out = []
        for seq, at, action, raw in self.conn.execute(stmt):
            details = orjson.loads(raw)
            to = details["peer"] if "peer" in details else details["to"]
            if peer is not None and to != peer:
                continue
            objects = [(i, v) for i, v in details["objects"] if object_id is None or i == object_id]
            if objects:
                out.append(Egress(seq, at, action, to, objects))
        return out

    def audit_count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(audit_log)).scalar() or 0)

    def audit_search(self, text: str, before: int | None, limit: int, batch: int = 2000) -> list[AuditRecord]:
        """Up to ``limit`` records, newest first and older than ``before`` (a seq), whose action or
        details contain ``text`` (case-folded). Details are stored as canonical JSON bytes, which SQL
        cannot search alike on every backend, so the filter runs here, a batch at a time."""
        needle = text.casefold()
        c = audit_log.c
        found: list[AuditRecord] = []
        upper = before
        while len(found) < limit:
            stmt = select(c.seq, c.at, c.account_id, c.org_id, c.action, c.details, c.prev_hash, c.hash)
            if upper is not None:
                stmt = stmt.where(c.seq < upper)
            rows = self.conn.execute(stmt.order_by(c.seq.desc()).limit(batch)).all()
            for r in rows:
                raw = bytes(r[5])
                if needle and needle not in (r[4] + " " + raw.decode()).casefold():
                    continue
                found.append(AuditRecord(r[0], r[1], r[2], r[3], r[4], orjson.loads(raw), r[6], r[7]))
                if len(found) == limit:
                    break
            if len(rows) < batch:
                break
            upper = rows[-1][0]
        return found

    def audit_records(self, batch: int = 5000) -> Iterator[tuple[AuditRecord, bytes]]:
        after = 0
        c = audit_log.c
        while True:
            rows = self.conn.execute(select(c.seq, c.at, c.account_id, c.org_id, c.action, c.details,
                                            c.prev_hash, c.hash).where(c.seq > after)
                                     .order_by(c.seq).limit(batch)).all()
            if not rows:
                return
            for r in rows:
                yield AuditRecord(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5]), r[6], r[7]), r[5]
            after = rows[-1][0]


def verify_chain(records: Iterator[tuple[AuditRecord, bytes]]) -> tuple[int, AuditRecord | None, str]:
    """(records checked, first bad record or None, why it is bad)."""
    prev, expected_seq, count = GENESIS, 1, 0
    for record, details_json in records:
        count += 1
        if record.seq != expected_seq:
            return count, record, f"sequence {record.seq} where {expected_seq} was expected (a record is missing)"
        if record.prev_hash != prev:
            return count, record, "its prev_hash does not match the previous record's hash"
        want = record_hash(prev, record.seq, record.at, record.account_id, record.org_id, record.action,
                           details_json)
        if want != record.hash:
            return count, record, "its content does not match its hash (it was changed)"
        prev, expected_seq = record.hash, expected_seq + 1
    return count, None, ""
