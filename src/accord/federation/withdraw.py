"""Withdrawal: the origin of an object takes it back, and every node that received it removes it.

Revoking (STIX 2.1 section 3.6: a new version with ``revoked: true``) keeps the object and tells
consumers to stop using it; it travels as any new version does. Withdrawing removes it: shared by
mistake, or carrying personal data that should never have left. A withdrawal is a notice signed by
the origin node with both its federation keys (Ed25519 and ML-DSA-65, as objects and audit
checkpoints are) over::

    "accord-withdrawal-v1\\n" || origin || "\\n" || key id || "\\n" || object id || "\\n" || at || "\\n" || reason

It goes to every peer node that received the object (the egress record, ``accord.store.audit``)
and every peer entitled to its latest version now (the egress record omits TLP:CLEAR); each receiver
checks the signature against the origin's registered keys, deletes every version of the object that
the origin owns there, remembers the withdrawal (a copy arriving later by another route is refused
at ingest), and passes the same signed notice on to the peers *it* sent the object to. A node that
knows the notice already stops there, so a mesh delivers each notice once per link. Deliveries are
durable (``withdrawal_outbox``): a peer that is down receives it when it is back.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from accord.domain.errors import InvalidInput, NotAllowed, NotFound
from accord.federation.model import PeerKind
from accord.federation.outbound import entitled_rows
from accord.federation.push import auth_headers
from accord.federation.runtime import Runtime, runtime_of
from accord.federation.signing import both_hold
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store import privacy as db
from accord.store.repository import Store, Tx

PATH = "/federation/withdrawals/"
MAX_REASON = 500
POLL_SECONDS = 1.0
log = logging.getLogger("accord.federation")


@dataclass(frozen=True, slots=True)
class Notice:
    origin: str
    key_id: str
    object_id: str
    at: str
    reason: str
    ed25519: bytes
    ml_dsa_65: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.origin}\n{self.object_id}\n{self.at}".encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "key_id": self.key_id, "object_id": self.object_id, "at": self.at,
                "reason": self.reason, "ed25519": base64.b64encode(self.ed25519).decode(),
                "ml_dsa_65": base64.b64encode(self.ml_dsa_65).decode()}

    @classmethod
    def from_json(cls, raw: Any) -> Notice:
        try:
            if not isinstance(raw, dict):
                raise TypeError("not a JSON object")
            texts = [raw[k] for k in ("origin", "key_id", "object_id", "at", "reason", "ed25519", "ml_dsa_65")]
            if not all(isinstance(t, str) for t in texts):
                raise TypeError("every member is a string")
            origin, key_id, object_id, at, reason, ed, ml = texts
            if len(reason) > MAX_REASON or len(object_id) > 300 or len(origin) > 100 or len(at) > 40:
                raise ValueError("a member is too long")
            return cls(origin, key_id, object_id, at, reason, binascii.a2b_base64(ed, strict_mode=True),
                       binascii.a2b_base64(ml, strict_mode=True))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise InvalidInput(f"not a withdrawal notice: {exc}") from None

    def row(self, via_peer: int | None) -> db.WithdrawalRow:
        return db.WithdrawalRow(self.id, self.object_id, self.origin, self.at, self.reason, self.key_id,
                                self.ed25519, self.ml_dsa_65, now_micros(), via_peer)


def message(origin: str, key_id: str, object_id: str, at: str, reason: str) -> bytes:
    return f"accord-withdrawal-v1\n{origin}\n{key_id}\n{object_id}\n{at}\n{reason}".encode()


def _recipients(tx: Tx, rt: Runtime, object_id: str, exclude: set[str]) -> list[int]:
    """Peer nodes that received the object from here (egress record) or are entitled to it now."""
    peers = [p for p in tx.list_peers() if p.kind is PeerKind.NODE and p.node_id and p.node_id not in exclude]
    received = {e.peer for e in tx.egress(object_id=object_id)}
    latest = tx.latest_of([object_id]).get(object_id)
    return [p.id for p in peers
            if p.name in received or (latest is not None and entitled_rows(tx, rt, p, [latest]))]


def withdraw(store: Store, rt: Runtime, object_id: str, reason: str) -> tuple[str, int, list[str]]:
    """Withdraw an object this node originated: (withdrawal id, versions removed here, peers to tell)."""
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason has at most {MAX_REASON} characters")
    at = micros_to_timestamp(now_micros())
    ed, ml = rt.signer.sign_message(message(rt.origin, rt.signer.public.key_id, object_id, at, reason))
    notice = Notice(rt.origin, rt.signer.public.key_id, object_id, at, reason, ed, ml)
    with store.write() as tx:
        held = db.versions_of_object(tx, object_id, rt.host_org)
        if not held:
            raise NotFound(f"this node holds no version of {object_id} of its own to withdraw")
        peers = _recipients(tx, rt, object_id, set())
        db.remove_versions(tx, held)
        db.add_withdrawal(tx, notice.row(None), peers)
        names = [p.name for p in tx.list_peers() if p.id in peers]
        tx.audit(None, rt.host_org, "privacy.withdraw", {"object": object_id, "withdrawal": notice.id,
                                                         "versions": len(held), "peers": names, "reason": reason})
    return notice.id, len(held), names


def receive(store: Store, rt: Runtime, peer_org: int, raw: Any) -> dict[str, Any]:
    """A notice pushed by a peer node: verify, remove, remember, pass on. Idempotent."""
    with store.read() as tx:
        sender = tx.peer_of_org(peer_org)
    if sender is None or sender.kind is not PeerKind.NODE:
        raise NotAllowed("only peer nodes send withdrawals")
    notice = Notice.from_json(raw)
    with store.write() as tx:
        if db.find_withdrawal(tx, notice.id) is not None or notice.origin == rt.origin:
            return {"withdrawal": notice.id, "status": "known"}
        registered = tx.node_keys().get(notice.key_id)
        if registered is None or registered[0] != notice.origin:
            raise InvalidInput(f"unknown signer {notice.origin} key {notice.key_id}")
        if not both_hold(registered[1], notice.ed25519, notice.ml_dsa_65, message(
                notice.origin, notice.key_id, notice.object_id, notice.at, notice.reason)):
            raise InvalidInput("the withdrawal's signature does not verify (tampered or not from its origin)")
        origin_org = next((p.org_id for p in tx.list_peers() if p.node_id == notice.origin), None)
        held = [] if origin_org is None else db.versions_of_object(tx, notice.object_id, origin_org)
        peers = _recipients(tx, rt, notice.object_id, {notice.origin, sender.node_id or ""})
        db.remove_versions(tx, held)
        db.add_withdrawal(tx, notice.row(sender.id), peers)
        tx.audit(None, peer_org, "privacy.withdrawal_received", {
            "object": notice.object_id, "origin": notice.origin, "withdrawal": notice.id, "from": sender.name,
            "versions": len(held), "passed_to": [p.name for p in tx.list_peers() if p.id in peers]})
    return {"withdrawal": notice.id, "status": "withdrawn", "versions": len(held)}


def revoke(store: Store, account: str, object_id: str) -> list[str]:
    """Revoke an object the account's organisation owns: a new version with ``revoked: true`` (STIX
    2.1 section 3.6) in every collection holding it, through Add Objects like any new version, so it
    reaches peers as versions do and sensors stop matching it (exports skip revoked indicators).
    The collections it was revoked in."""
    import orjson

    from accord.services import admin
    from accord.services import objects as svc
    from accord.stix.timestamps import timestamp_key, to_micros

    principal = admin.principal_for(store, account)
    with store.read() as tx:
        held = db.versions_of_object(tx, object_id, principal.org_id)
        collections = {c.id: c for c in tx.list_collections()}
        roots = {r.id: r for r in tx.list_api_roots()}
    latest: dict[int, dict[str, Any]] = {}
    for h in held:
        body = orjson.loads(h.body)
        if not isinstance(body.get("modified"), str):
            raise InvalidInput(f"{object_id} is not a versioned object (STIX 2.1 section 3.6): it cannot be revoked")
        if h.collection_id not in latest or timestamp_key(body["modified"]) > timestamp_key(
                latest[h.collection_id]["modified"]):
            latest[h.collection_id] = body
    if not latest:
        raise NotFound(f"your organisation holds no version of {object_id}")
    done = []
    for cid, body in latest.items():
        if body.get("revoked") is True:
            continue
        modified = max(now_micros(), to_micros(body["modified"]) + 1000)
        new = {**body, "revoked": True, "modified": micros_to_timestamp(modified)[:23] + "Z"}
        col = collections[cid]
        status = svc.add_objects(store, principal, roots[col.api_root_id], col.uuid, [new])
        if status["failure_count"]:
            raise InvalidInput(f"revoking {object_id} in {col.alias or col.uuid}: {status['failures'][0]['message']}")
        done.append(col.alias or col.uuid)
    return done


def status(store: Store) -> list[dict[str, Any]]:
    """Every withdrawal made or received here, with its delivery to each peer."""
    with store.read() as tx:
        names = {p.id: p.name for p in tx.list_peers()}
        return [{"withdrawal": w.id, "object": w.object_id, "origin": w.origin, "at": w.at, "reason": w.reason,
                 "from": names.get(w.via_peer) if w.via_peer else None,
                 "deliveries": [{"peer": names.get(p, str(p)), "delivered": micros_to_timestamp(d) if d else None,
                                 "attempts": n, "error": e} for p, d, n, e in db.deliveries(tx, w.id)]}
                for w in db.list_withdrawals(tx)]


def _notice_of(row: db.WithdrawalRow) -> Notice:
    return Notice(row.origin, row.key_id, row.object_id, row.at, row.reason, row.ed25519, row.ml_dsa_65)


async def deliver_once(store: Store, client: httpx.AsyncClient) -> int:
    """Post every undelivered notice to its peer; the number delivered."""
    def pending() -> list[tuple[Notice, Any]]:
        with store.read() as tx:
            peers = {p.id: p for p in tx.list_peers()}
            out = []
            for wid, peer_id, _ in db.pending_deliveries(tx):
                row = db.find_withdrawal(tx, wid)
                if row is not None and peer_id in peers and peers[peer_id].credential:
                    out.append((_notice_of(row), peers[peer_id]))
            return out

    def mark(wid: str, peer_id: int, error: str | None) -> None:
        with store.write(audit_only=True) as tx:
            db.mark_delivery(tx, wid, peer_id, error)

    delivered = 0
    for notice, peer in await run_in_threadpool(pending):
        try:
            resp = await client.post(peer.url.rstrip("/") + PATH, json=notice.to_json(),
                                     headers={**auth_headers(peer.credential), "Content-Type": "application/json"})
            error = None if resp.status_code == 200 else f"HTTP {resp.status_code}: {resp.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        await run_in_threadpool(mark, notice.id, peer.id, error)
        delivered += error is None
    return delivered


async def run_deliveries(store: Store) -> None:
    """For the server's lifespan: deliver pending withdrawals, every second (errors are retried)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0)) as client:
        while True:
            try:
                if runtime_of(store) is not None:
                    await deliver_once(store, client)
            except Exception:
                log.exception("withdrawal delivery failed")
            await asyncio.sleep(POLL_SECONDS)
