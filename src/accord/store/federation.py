"""Federation rows: peers, node keys, provenance of object versions, quarantine, subscriptions.

Provenance lives beside ``objects`` keyed by the same ``date_added``, so stored bodies stay exactly
what their origin posted (issue 2: a TAXII client gets back what it sent) while peers receive the
origin's signature with every object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from accord.domain.sharing import Agreement, Visibility
from accord.domain.tlp import Tlp
from accord.federation.model import Peer, PeerKind, levels_of, levels_text
from accord.federation.signing import PublicKeys, Signature
from accord.stix.timestamps import now_micros
from accord.store import fast
from accord.store.objects import latest_visibility
from accord.store.secrets import SecretBox, SecretError, is_sealed
from accord.store.tables import (
    collections,
    node_keys,
    objects,
    peers,
    provenance,
    quarantine,
    sightings_seen,
    signature_blobs,
    subscriptions,
)


@dataclass(frozen=True, slots=True)
class Outbound:
    """A stored version as the pushers see it: enough for the policy, the body and its signature."""

    date_added: int
    collection_id: int
    id: str
    type: str
    version: str
    visibility: Visibility
    body: bytes
    signature: Signature | None
    hops: int
    via_peer: int | None
    covered: frozenset[str]


def _ints(text: str) -> frozenset[int]:
    return frozenset(int(x) for x in text.split(",") if x)


def _text(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


# Built once (see store/admin.py): these run on every request or every commit.
_ALL_PEERS = select(peers).order_by(peers.c.id)
_PEER_OF_ORG = select(peers).where(peers.c.org_id == bindparam("org_id"))
_IS_PEER_ORG = select(peers.c.id).where(peers.c.org_id == bindparam("org_id")).limit(1)
_NODE_KEYS = select(node_keys)
_COLLECTION_IDS = select(collections.c.id)
_HELD_BLOBS = select(signature_blobs.c.digest).where(
    signature_blobs.c.digest.in_(bindparam("digests", expanding=True)))
_O, _P, _B = objects.c, provenance.c, signature_blobs.c
# provenance.ml_dsa_65 holds the signature's SHA-256 when the signature is in signature_blobs
_ML_DSA = func.coalesce(_B.signature, _P.ml_dsa_65)
_WITH_SIGNATURES = objects.outerjoin(provenance, _P.date_added == _O.date_added).outerjoin(
    signature_blobs, _B.digest == _P.ml_dsa_65)
_OUTBOUND_COLUMNS = (_O.date_added, _O.collection_id, _O.id, _O.type, _O.version, _O.owner_org, _O.tlp, _O.groups,
                     _O.body, _P.origin, _P.key_id, _P.ed25519, _ML_DSA, _P.hops, _P.via_peer, _P.covered,
                     _O.is_latest)
_OUTBOUND = (select(*_OUTBOUND_COLUMNS)
             .select_from(_WITH_SIGNATURES)
             .where(_O.date_added > bindparam("after")).order_by(_O.date_added).limit(bindparam("limit")))
_OUTBOUND_IN = _OUTBOUND.where(_O.collection_id.in_(bindparam("collections", expanding=True)))
_OUTBOUND_TYPES = _OUTBOUND.where(_O.type.in_(bindparam("types", expanding=True)),
                                  _O.date_added <= bindparam("until"))


class FederationMixin:
    conn: Connection
    secrets: SecretBox | None

    def _peer(self, r: Any) -> Peer:
        credential = r.credential
        if credential is not None and is_sealed(credential):
            if self.secrets is None:
                raise SecretError("this store was opened without the node's secrets key")
            credential = self.secrets.open(credential)
        return Peer(r.id, r.name, PeerKind(r.kind), r.org_id, r.node_id, r.url, r.api_root, r.remote_collection,
                    credential, _ints(r.collections), Agreement(levels_of(r.levels), _ints(r.groups)),
                    r.push_cursor, r.pull_cursor, r.last_error, r.last_ok)

    # peers -----------------------------------------------------------------------------------
    def add_peer(self, name: str, kind: PeerKind, org_id: int, node_id: str | None, url: str, api_root: str,
                 remote_collection: str, collections: Iterable[int], agreement: Agreement) -> int:
        result = self.conn.execute(peers.insert().values(
            name=name, kind=kind.value, org_id=org_id, node_id=node_id, url=url, api_root=api_root,
            remote_collection=remote_collection, credential=None, collections=_text(collections),
            levels=levels_text(agreement.levels), groups=_text(agreement.groups), push_cursor=0,
            pull_cursor=""))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def list_peers(self) -> list[Peer]:
        return [self._peer(r) for r in self.conn.execute(_ALL_PEERS)]

    def find_peer(self, name: str) -> Peer | None:
        row = self.conn.execute(select(peers).where(peers.c.name == name)).first()
        return None if row is None else self._peer(row)

    def peer_of_org(self, org_id: int) -> Peer | None:
        if not fast.rows(self.conn, _IS_PEER_ORG, {"org_id": org_id}):  # every local user's POST asks
            return None
        row = self.conn.execute(_PEER_OF_ORG, {"org_id": org_id}).first()
        return None if row is None else self._peer(row)

    def update_peer(self, peer_id: int, **values: Any) -> None:
        if "agreement" in values:
            agreement: Agreement = values.pop("agreement")
            values.update(levels=levels_text(agreement.levels), groups=_text(agreement.groups))
        if "collections" in values:
            values["collections"] = _text(values["collections"])
        if values.get("credential") is not None and self.secrets is not None:
            values["credential"] = self.secrets.seal(values["credential"])
        self.conn.execute(update(peers).where(peers.c.id == peer_id).values(**values))

    # keys --------------------------------------------------------------------------------------
    def add_node_keys(self, node_id: str, keys: PublicKeys) -> bool:
        """Register a node's public keys; False when they were registered already."""
        if self.conn.execute(select(node_keys.c.key_id).where(node_keys.c.key_id == keys.key_id)).first():
            return False
        self.conn.execute(node_keys.insert().values(key_id=keys.key_id, node_id=node_id, ed25519=keys.ed25519,
                                                    ml_dsa_65=keys.ml_dsa_65, added=now_micros()))
        return True

    def node_keys(self) -> dict[str, tuple[str, PublicKeys]]:
        """Every registered key, retired ones too: key id -> (node id, keys)."""
        return {r.key_id: (r.node_id, PublicKeys(r.key_id, r.ed25519, r.ml_dsa_65))
                for r in self.conn.execute(_NODE_KEYS)}

    # provenance --------------------------------------------------------------------------------
    def add_provenance(self, rows: Sequence[tuple[int, Signature, int, int | None, frozenset[str]]]) -> None:
        """(date_added, signature, hops, peer it came from, nodes covered by the sender) per version."""
        if not rows:
            return
        # a batch's ML-DSA-65 signature once, however many of its objects arrive (docs/federation.md)
        digests = {s.ml_dsa_65: hashlib.sha256(s.ml_dsa_65).digest() for _, s, _, _, _ in rows}
        held = {r[0] for r in self.conn.execute(_HELD_BLOBS, {"digests": list(digests.values())})}
        fresh = [{"digest": d, "signature": sig} for sig, d in digests.items() if d not in held]
        if fresh:
            self.conn.execute(signature_blobs.insert(), fresh)
        self.conn.execute(provenance.insert(), [
            {"date_added": d, "origin": s.origin, "key_id": s.key_id, "ed25519": s.ed25519,
             "ml_dsa_65": digests[s.ml_dsa_65], "hops": h, "via_peer": v, "covered": ",".join(sorted(c))}
            for d, s, h, v, c in rows])

    def signatures_of(self, date_addeds: Sequence[int]) -> dict[int, Signature]:
        out: dict[int, Signature] = {}
        for start in range(0, len(date_addeds), 500):
            stmt = select(_P.date_added, _P.origin, _P.key_id, _P.ed25519, _ML_DSA).select_from(
                provenance.outerjoin(signature_blobs, _B.digest == _P.ml_dsa_65)).where(
                _P.date_added.in_(list(date_addeds[start:start + 500])))
            out.update({r[0]: Signature(r[1], r[2], r[3], r[4]) for r in self.conn.execute(stmt)})
        return out

    def provenance_of(self, date_addeds: Sequence[int]) -> dict[int, tuple[Signature, int, int | None]]:
        """(signature, hops, peer it came from) per version that arrived signed: the object page's
        provenance, re-verifiable since the signature keeps the batch proof."""
        out: dict[int, tuple[Signature, int, int | None]] = {}
        for start in range(0, len(date_addeds), 500):
            stmt = select(_P.date_added, _P.origin, _P.key_id, _P.ed25519, _ML_DSA, _P.hops, _P.via_peer).select_from(
                provenance.outerjoin(signature_blobs, _B.digest == _P.ml_dsa_65)).where(
                _P.date_added.in_(list(date_addeds[start:start + 500])))
            out.update({r[0]: (Signature(r[1], r[2], r[3], r[4]), r[5], r[6]) for r in self.conn.execute(stmt)})
        return out

    def outbound(self, after: int, limit: int, collection_ids: Iterable[int] | None = None,
                 types: Sequence[str] = (), until: int | None = None) -> list[Outbound]:
        """Versions with date_added > ``after`` in commit order, with their signatures when known;
        with ``types``, only versions of those types added up to ``until``."""
        if types:
            assert collection_ids is None and until is not None
            return self._rows(_OUTBOUND_TYPES, {"after": after, "limit": limit, "types": list(types), "until": until})
        if collection_ids is None:
            return self._rows(_OUTBOUND, {"after": after, "limit": limit})
        return self._rows(_OUTBOUND_IN, {"after": after, "limit": limit, "collections": list(collection_ids)})

    def latest_of(self, object_ids: Sequence[str]) -> dict[str, Outbound]:
        """The latest stored version of each id (in any collection), with provenance."""
        if not object_ids:
            return {}
        stmt = (select(*_OUTBOUND_COLUMNS).select_from(_WITH_SIGNATURES)
                .where(_O.collection_id.in_(self._all_collections()), _O.id.in_(list(object_ids)),
                       _O.is_latest.is_(True)))
        return {r.id: r for r in self._rows(stmt)}

    def _all_collections(self) -> list[int]:
        """Every collection id: "in any collection" lookups name them all, so that the
        (collection_id, id, version) index serves them instead of a scan of every stored version."""
        return [r[0] for r in self.conn.execute(_COLLECTION_IDS)]

    def _rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Outbound]:
        """Outbound versions; one that is not its owner's latest carries the latest's visibility
        (sharing rule 6: an older version never leaves where its newest would not)."""
        out: list[Outbound] = []
        older: dict[int, list[int]] = {}  # collection -> positions in out of versions not the latest
        for r in self.conn.execute(stmt, params or {}):
            sig = None if r[9] is None else Signature(r[9], r[10], r[11], r[12])
            vis = Visibility(r[5], None if r[6] is None else Tlp(r[6]), _ints(r[7]))
            if not r[16]:
                older.setdefault(r[1], []).append(len(out))
            out.append(Outbound(r[0], r[1], r[2], r[3], r[4], vis, r[8], sig, r[13] or 0, r[14],
                                frozenset(x for x in (r[15] or "").split(",") if x)))
        for cid, positions in older.items():
            latest = latest_visibility(self.conn, cid, [out[n].id for n in positions])
            for n in positions:
                row = out[n]
                newest = latest.get((row.id, row.visibility.owner_org))
                if newest is not None:
                    out[n] = replace(row, visibility=replace(row.visibility, latest=newest))
        return out

    def pending_count(self, after: int) -> int:
        return int(self.conn.execute(select(func.count()).select_from(objects)
                                     .where(objects.c.date_added > after)).scalar_one())

    def oldest_after(self, after: int) -> int | None:
        value = self.conn.execute(select(func.min(objects.c.date_added)).where(objects.c.date_added > after)).scalar()
        return None if value is None else int(value)

    def latest_date_added(self) -> int:
        return int(self.conn.execute(select(func.max(objects.c.date_added))).scalar() or 0)

    def bodies_of(self, object_ids: Sequence[str]) -> dict[tuple[str, str], bytes]:
        """Stored bodies by (id, version) for the given ids, in any collection."""
        out: dict[tuple[str, str], bytes] = {}
        ids = sorted(set(object_ids))
        every = self._all_collections() if ids else []
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            stmt = select(objects.c.id, objects.c.version, objects.c.body).where(
                objects.c.collection_id.in_(every), objects.c.id.in_(part))
            out.update({(r[0], r[1]): r[2] for r in self.conn.execute(stmt)})
        return out

    def held_versions(self) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in self.conn.execute(select(objects.c.id, objects.c.version))}

    # quarantine --------------------------------------------------------------------------------
    def add_quarantine(self, peer_id: int | None, object_id: str, version: str, reason: str, body: bytes) -> None:
        self.conn.execute(quarantine.insert().values(at=now_micros(), peer_id=peer_id, object_id=object_id,
                                                     version=version, reason=reason, body=body))

    def list_quarantine(self, limit: int = 100) -> list[tuple[int, int | None, str, str, str]]:
        q = quarantine.c
        stmt = select(q.at, q.peer_id, q.object_id, q.version, q.reason).order_by(q.id.desc()).limit(limit)
        return [(r[0], r[1], r[2], r[3], r[4]) for r in self.conn.execute(stmt)]

    # early warning -----------------------------------------------------------------------------
    def add_subscription(self, org_id: int, name: str, filter_json: str, webhook_url: str | None,
                         secret: str | None, cursor: int) -> None:
        self.conn.execute(subscriptions.insert().values(org_id=org_id, name=name, filter=filter_json,
                                                        webhook_url=webhook_url, webhook_secret=secret,
                                                        webhook_cursor=cursor))

    def list_subscriptions(self) -> list[Any]:
        return list(self.conn.execute(select(subscriptions).order_by(subscriptions.c.id)))

    def update_subscription(self, sub_id: int, **values: Any) -> None:
        self.conn.execute(update(subscriptions).where(subscriptions.c.id == sub_id).values(**values))

    def record_sighting(self, indicator_id: str, org_identity: str, date_added: int) -> bool:
        """Remember which organisation sighted which indicator; False if known already."""
        s = sightings_seen.c
        if self.conn.execute(select(s.date_added).where(s.indicator_id == indicator_id,
                                                        s.org_identity == org_identity)).first():
            return False
        self.conn.execute(sightings_seen.insert().values(indicator_id=indicator_id, org_identity=org_identity,
                                                         date_added=date_added))
        return True

    def sighted_by(self, indicator_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if indicator_ids:
            s = sightings_seen.c
            for r in self.conn.execute(select(s.indicator_id, s.org_identity).where(
                    s.indicator_id.in_(list(indicator_ids)))):
                out.setdefault(r[0], []).append(r[1])
        return out
