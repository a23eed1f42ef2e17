"""What may leave this node for one peer, with the origin's signature attached.

Push and signed pull both select through :func:`select_for_peer`, so one rule decides what a peer
receives by either route: the peer's organisation must be able to read the version here
(:func:`accord.domain.sharing.may_read`, the rule the TAXII API applies), the agreement must let it
leave (:func:`accord.domain.sharing.may_forward`), the hop limit must allow one more hop, and it is
never sent back to the node it came from or originated at.

Both routes also record what left in the audit log, as every TAXII read does: the versions that are
not TLP:CLEAR (:attr:`Selection.sensitive`), one record per envelope pushed or page served
(:func:`record_egress`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
from sqlalchemy.exc import IntegrityError

from accord.domain.sharing import Reader, effective_tlp, may_forward, may_read
from accord.domain.tlp import Tlp
from accord.federation.model import MAX_HOPS, Peer, PeerKind
from accord.federation.runtime import Runtime
from accord.federation.signing import EXTENSION_ID, Signature, extension
from accord.stix.timestamps import key_to_display, micros_to_timestamp
from accord.store.federation import Outbound
from accord.store.repository import Store, Tx


@dataclass(frozen=True, slots=True)
class Selection:
    bodies: list[bytes]  # objects with the signature extension, ready for an envelope
    sensitive: list[list[str]]  # [id, version] of each version not TLP:CLEAR: what the audit records
    last_scanned: int | None  # the cursor to acknowledge once the peer has them
    more: bool  # the scan window was full or held more than ``limit``: select again after last_scanned
    last_kept: int | None = None  # date_added of the last version selected
    cut: bool = False  # more entitled versions were found than ``limit``


def entitled_rows(tx: Tx, rt: Runtime, peer: Peer, rows: list[Outbound]) -> list[Outbound]:
    if not rows:
        return []
    access = tx.access_of(peer.org_id)
    reader = Reader(peer.org_id, tx.groups_of(peer.org_id))
    readable = {c for c, a in access.items() if a.can_read and c in peer.collections}
    out = []
    for row in rows:
        origin = rt.origin if row.signature is None else row.signature.origin
        if (row.collection_id in readable and row.via_peer != peer.id and origin != peer.node_id
                and peer.node_id not in row.covered
                and row.hops < MAX_HOPS and may_read(reader, row.visibility)
                and may_forward(peer.agreement, row.visibility, origin == rt.origin)):
            out.append(row)
    return out


def select_for_peer(store: Store, rt: Runtime, peer: Peer, after: int, limit: int,
                    scan: int = 2000) -> Selection:
    """Up to ``limit`` entitled versions after ``after``, scanning at most ``scan`` stored versions."""
    with store.read() as tx:
        rows = tx.outbound(after, scan, peer.collections)
        keep = entitled_rows(tx, rt, peer, rows)
        # every node this one pushes a version to is named to all of them: none relays it there
        also: dict[int, set[str]] = {}
        for other in tx.list_peers() if keep else ():
            if other.node_id and other.credential and other.kind is PeerKind.NODE:
                for r in entitled_rows(tx, rt, other, keep):
                    also.setdefault(r.date_added, set()).add(other.node_id)
    cut = len(keep) > limit
    more = len(rows) == scan or cut
    if cut:
        keep = keep[:limit]
        rows = [r for r in rows if r.date_added <= keep[-1].date_added]
    unsigned = [r for r in keep if r.signature is None]
    signed = sign_originals(store, rt, unsigned) if unsigned else {}
    bodies = []
    for r in keep:
        sig = r.signature or signed[r.date_added]
        obj = orjson.loads(r.body)
        extensions = obj.get("extensions")
        obj["extensions"] = {**(extensions if isinstance(extensions, dict) else {}),
                             EXTENSION_ID: extension(sig, r.hops + 1,
                                                     r.covered | also.get(r.date_added, set()))}
        bodies.append(orjson.dumps(obj))
    sensitive = [[r.id, key_to_display(r.version) if r.version else micros_to_timestamp(r.date_added)]
                 for r in keep if effective_tlp(r.visibility) is not Tlp.CLEAR]
    return Selection(bodies, sensitive, rows[-1].date_added if rows else None, more,
                     keep[-1].date_added if keep else None, cut)


def record_egress(tx: Tx, action: str, peer: Peer, sel: Selection, account_id: int | None = None) -> None:
    """Who received what (``action`` is PUSH or PULL of accord.store.audit), as for TAXII reads:
    nothing is recorded when every version sent was TLP:CLEAR."""
    if sel.sensitive:
        tx.audit(account_id, peer.org_id, action, {"peer": peer.name, "objects": sel.sensitive})


def entitled_after(store: Store, rt: Runtime, peer: Peer, after: int, scan: int = 5000) -> bool:
    """Whether any version after ``after`` is one the peer is entitled to (scanning until one is found)."""
    while True:
        with store.read() as tx:
            rows = tx.outbound(after, scan, peer.collections)
            if not rows:
                return False
            if entitled_rows(tx, rt, peer, rows):
                return True
        after = rows[-1].date_added


def sign_originals(store: Store, rt: Runtime, rows: list[Outbound]) -> dict[int, Signature]:
    """Sign versions this node originated, once, as one batch (one root signature for all of them):
    the push loops of several peers may meet the same new version together, so signing is
    serialised in the process and a row another process signed meanwhile is read back instead of
    signed again."""
    wanted = [r.date_added for r in rows]
    with rt.sign_lock:
        with store.read() as tx:
            known = tx.signatures_of(wanted)
        todo = [r for r in rows if r.date_added not in known]
        # one Merkle tree over the batch, its root signed once (format 2, see signing)
        signed = rt.signer.sign_batch([orjson.loads(r.body) for r in todo]) if todo else []
        fresh = {r.date_added: sig for r, sig in zip(todo, signed, strict=True)}
        if fresh:
            try:
                with store.write() as wtx:
                    wtx.add_provenance([(d, s, 0, None, frozenset()) for d, s in fresh.items()])
            except IntegrityError:
                with store.read() as tx:
                    return tx.signatures_of(wanted)
    return {**known, **fresh}


def entitled_digest(store: Store, rt: Runtime, peer: Peer) -> tuple[int, str, list[tuple[str, str]]]:
    """(count, SHA-256, sorted (id, version) pairs) of everything this peer is entitled to from us."""
    pairs: set[tuple[str, str]] = set()
    after = 0
    while True:
        with store.read() as tx:
            rows = tx.outbound(after, 5000, peer.collections)
            pairs.update((r.id, r.version) for r in entitled_rows(tx, rt, peer, rows))
        if len(rows) < 5000:
            break
        after = rows[-1].date_added
    ordered = sorted(pairs)
    return len(ordered), digest(ordered), ordered


def digest(pairs: list[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for object_id, version in pairs:
        h.update(object_id.encode() + b"\x00" + version.encode() + b"\n")
    return h.hexdigest()
