"""What the console's object page shows of one object: its versions, markings, provenance, neighbours.

Read exactly like TAXII 2.1 "Get Object Versions" (section 5.8) by the same key, in every collection
the requester's organisation may read: the versions come from
:func:`accord.services.objects.visible_versions` (the TAXII read path, :func:`may_read` on each
version and its owner's latest), and the objects around it (relationships, sightings, the ends of
relationships, marking definitions) are latest versions kept only when :func:`may_read` says so. An
object of which no version is readable raises the same :class:`NotFound` as an id never stored. A
view that shows anything not TLP:CLEAR is recorded in the audit log as a read (``console.object``).

Provenance: a version that arrived signed has a row in ``provenance`` (origin node, key, hop count,
the peer it came from) holding the origin's whole signature, batch proof included, so the page
verifies it again now against the origin's registered key (:class:`~accord.federation.signing.Verifier`)
rather than trusting that it verified on arrival.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.domain.errors import NotFound
from accord.domain.model import Principal
from accord.domain.sharing import effective_tlp, may_read
from accord.domain.tlp import TLP_BY_MARKING, Tlp
from accord.federation.signing import Verifier
from accord.services import objects as reads
from accord.services import transparency
from accord.stix.validate import is_stix_id
from accord.store import search as index
from accord.store.objects import ObjectFilter, StoredVersion, VersionFilter
from accord.store.repository import Store, Tx
from accord.store.search import Candidate

NEIGHBOURS = 200  # relationships and sightings read around an object
_verifier = Verifier(capacity=256)


@dataclass(frozen=True, slots=True)
class Change:
    """One top-level property that differs between a version and the one before it (same owner)."""

    name: str
    before: str | None  # JSON text; None when the property is new
    after: str | None  # None when the property was dropped


@dataclass(frozen=True, slots=True)
class Provenance:
    origin: str  # node id of the origin
    key_id: str
    fingerprint: str  # of the origin's registered key ("" when the key is not registered here)
    verified: bool
    batched: bool
    hops: int
    via: str  # the peer it came from ("" when posted here)
    path: tuple[str, ...]  # origin (its peer name if linked), unnamed relays, the peer it came from, this node


@dataclass(slots=True)
class Version:
    collection: str
    version: str
    date_added: int
    owner: str
    owner_org: int
    tlp: Tlp
    revoked: bool
    body: dict[str, Any]
    text: str  # the object as indented JSON
    changes: list[Change] = field(default_factory=list)
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An object next to this one: through a relationship (``relation``), a sighting, or a reference."""

    id: str
    type: str
    label: str
    relation: str  # relationship_type, "sighting of", "references"
    outgoing: bool  # this object is the source
    via: str  # the relationship's or sighting's id ("" for a plain reference)


@dataclass(frozen=True, slots=True)
class Sighting:
    id: str
    seen_by: list[str]
    first_seen: str
    last_seen: str
    count: int | None
    holder: str


@dataclass(frozen=True, slots=True)
class Marking:
    ref: str
    label: str
    tlp: Tlp | None


@dataclass(slots=True)
class Dossier:
    id: str
    type: str
    label: str
    owner_view: bool  # the requester's organisation holds a version: it sees who received them
    versions: list[Version]
    markings: list[Marking]
    neighbours: list[Neighbour]
    sightings: list[Sighting]
    receipts: list[dict[str, Any]]

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def tlp(self) -> Tlp:
        return self.latest.tlp


def label_of(obj: dict[str, Any]) -> str:
    for name in ("name", "value", "pattern", "relationship_type", "abstract", "summary"):
        value = obj.get(name)
        if isinstance(value, str) and value:
            return value[:120]
    return str(obj.get("id", ""))


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    def text(value: Any) -> str:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    out = []
    for name in sorted(set(before) | set(after)):
        if before.get(name, ...) != after.get(name, ...):
            out.append(Change(name, text(before[name]) if name in before else None,
                              text(after[name]) if name in after else None))
    return out


def _versions_of(tx: Tx, principal: Principal, object_id: str) -> list[tuple[Any, list[StoredVersion]]]:
    """(collection, readable versions) per collection the organisation may read: the TAXII path."""
    access = tx.access_of(principal.org_id)
    flt = ObjectFilter(ids=(object_id,), versions=VersionFilter(all=True))
    out = []
    for collection in tx.list_collections():
        grant = access.get(collection.id)
        if grant is None or not grant.can_read:
            continue
        found = reads.visible_versions(tx, principal, collection, flt)
        if found:
            out.append((collection, found))
    return out


def _provenance(tx: Tx, stored: list[StoredVersion]) -> dict[int, Provenance]:
    rows = tx.provenance_of([v.date_added for v in stored])
    if not rows:
        return {}
    keys = tx.node_keys()
    listed = tx.list_peers()
    peers = {p.id: p.name for p in listed}
    nodes = {p.node_id: p.name for p in listed if p.node_id}
    bodies = {v.date_added: orjson.loads(v.body) for v in stored}
    out = {}
    for date_added, (signature, hops, via_peer) in rows.items():
        registered = keys.get(signature.key_id)
        verified = (registered is not None and registered[0] == signature.origin
                    and _verifier.verify(registered[1], signature, bodies[date_added]))
        via = peers.get(via_peer, f"peer {via_peer} (removed since)") if via_peer is not None else ""
        origin = nodes.get(signature.origin, signature.origin)
        # hops counts the links travelled: the nodes between the origin and the peer it came from
        # are not recorded, so they are counted, not named
        relayed_by_via = bool(via) and via != origin
        relays = tuple(f"relay {n}" for n in range(1, max(hops - 1 - relayed_by_via, 0) + 1))
        path = (origin, *relays, *((via,) if relayed_by_via else ()), "this node")
        out[date_added] = Provenance(signature.origin, signature.key_id,
                                     registered[1].fingerprint if registered else "", verified,
                                     signature.batched, hops, via, path)
    return out


def _readable(principal: Principal, found: list[Candidate]) -> list[Candidate]:
    return [c for c in found if may_read(principal.reader, c.visibility)]


def _neighbours(tx: Tx, principal: Principal, object_id: str, latest: dict[str, Any], collections: list[int],
                orgs: dict[int, str], by_identity: dict[str, str]) -> tuple[list[Neighbour], list[Sighting]]:
    around = _readable(principal, index.by_refs(tx.conn, [object_id], collections, NEIGHBOURS))
    relations: list[tuple[str, str, bool, str]] = []  # (other end, relation, outgoing, via)
    sightings: list[Sighting] = []
    for c in around:
        obj = orjson.loads(c.body)
        if c.type == "relationship":
            source, target = obj.get("source_ref"), obj.get("target_ref")
            if source == object_id and isinstance(target, str):
                relations.append((target, str(obj.get("relationship_type", "related-to")), True, c.id))
            elif target == object_id and isinstance(source, str):
                relations.append((source, str(obj.get("relationship_type", "related-to")), False, c.id))
        elif c.type == "sighting" and obj.get("sighting_of_ref") == object_id:
            holder = orgs.get(c.visibility.owner_org, "")
            seen_by = [by_identity.get(r, r) for r in obj.get("where_sighted_refs", []) if isinstance(r, str)]
            count = obj.get("count")
            sightings.append(Sighting(c.id, seen_by or [holder], str(obj.get("first_seen", obj.get("created", ""))),
                                      str(obj.get("last_seen", "")), count if isinstance(count, int) else None,
                                      holder))
        elif c.id != object_id:
            relations.append((c.id, "references this", False, ""))
    if latest.get("type") == "relationship":
        for name, outgoing in (("source_ref", False), ("target_ref", True)):
            if isinstance(latest.get(name), str):
                relations.append((latest[name], "source" if name == "source_ref" else "target", outgoing, ""))
    elif latest.get("type") == "sighting" and isinstance(latest.get("sighting_of_ref"), str):
        relations.append((latest["sighting_of_ref"], "sighting of", True, ""))
    ends = {c.id: c for c in _readable(principal, index.latest_by_ids(
        tx.conn, sorted({r[0] for r in relations}), collections, NEIGHBOURS))}
    neighbours = []
    for other, relation, outgoing, via in relations:
        end = ends.get(other)
        if end is None and relation == "references this":
            continue
        if end is None:  # an end we may not read (or do not hold): named by id only, never by content
            neighbours.append(Neighbour(other, other.partition("--")[0], other, relation, outgoing, via))
        else:
            neighbours.append(Neighbour(other, end.type, label_of(orjson.loads(end.body)), relation, outgoing, via))
    return neighbours, sightings


def _markings(tx: Tx, principal: Principal, latest: dict[str, Any], collections: list[int]) -> list[Marking]:
    refs = [r for r in latest.get("object_marking_refs", []) if isinstance(r, str)]
    groups = {g.marking_id: g.name for g in tx.list_groups()}
    unknown = [r for r in refs if r not in TLP_BY_MARKING and r not in groups]
    defined = {c.id: orjson.loads(c.body) for c in _readable(principal, index.latest_by_ids(
        tx.conn, unknown, collections, len(unknown)))} if unknown else {}
    out = []
    for ref in refs:
        if ref in TLP_BY_MARKING:
            out.append(Marking(ref, TLP_BY_MARKING[ref].label, TLP_BY_MARKING[ref]))
        elif ref in groups:
            out.append(Marking(ref, f"sharing group {groups[ref]}", None))
        else:
            body = defined.get(ref, {})
            statement = body.get("definition", {}).get("statement") if isinstance(body.get("definition"), dict) \
                else None
            out.append(Marking(ref, str(body.get("name") or statement or ref), None))
    return out


def dossier(store: Store, principal: Principal, object_id: str) -> Dossier:
    """Everything the object page shows; NotFound when the requester may read no version of it."""
    if not is_stix_id(object_id):
        raise NotFound(f"no object {object_id!r}")
    with store.read() as tx:
        found = _versions_of(tx, principal, object_id)
        if not found:
            raise NotFound(f"no object {object_id!r}")
        organisations = tx.list_orgs()
        orgs = {o.id: o.name for o in organisations}
        by_identity = {o.identity_id: o.name for o in organisations}
        stored = [v for _, vs in found for v in vs]
        proofs = _provenance(tx, stored)
        versions: list[Version] = []
        for collection, vs in found:
            for v in vs:
                body = orjson.loads(v.body)
                versions.append(Version(collection.alias or collection.uuid, reads.display_version(v), v.date_added,
                                        orgs.get(v.visibility.owner_org, ""), v.visibility.owner_org,
                                        effective_tlp(v.visibility),
                                        bool(body.get("revoked")), body,
                                        orjson.dumps(body, option=orjson.OPT_INDENT_2).decode(),
                                        provenance=proofs.get(v.date_added)))
        versions.sort(key=lambda x: (x.version, x.date_added))
        previous: dict[tuple[str, str], Version] = {}
        for version in versions:
            before = previous.get((version.collection, version.owner))
            if before is not None:
                version.changes = _changes(before.body, version.body)
            previous[(version.collection, version.owner)] = version
        collections = sorted({c.id for c, _ in found})
        latest = versions[-1].body
        neighbours, sightings = _neighbours(tx, principal, object_id, latest, collections, orgs, by_identity)
        markings = _markings(tx, principal, latest, collections)
        own = any(v.visibility.owner_org == principal.org_id for v in stored)
    for collection, vs in found:
        reads.record_read(store, principal, collection, "console.object", vs)
    receipts = [r for r in transparency.sent(store, principal) if r["object_id"] == object_id] if own else []
    return Dossier(object_id, object_id.partition("--")[0], label_of(latest), own, versions, markings, neighbours,
                   sightings, receipts)
