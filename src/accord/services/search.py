"""The console's search: one box, results correlated across partners, read like a TAXII read.

Each candidate the index yields is a latest, unrevoked version in a collection the requester's
organisation may read (TAXII 2.1 collections with ``can_read``), and is kept only if
:func:`accord.domain.sharing.may_read` says so, exactly as ``services.objects`` does for a TAXII read
by the same key: a hidden object is never shown, counted, or used to correlate (its sightings,
partners, dates and confidence count only when the sighting itself is readable). What a search shows
that is not TLP:CLEAR is recorded in the audit log like a read (``search``).

Related objects are those that reference a direct match (sightings, reports, notes, incidents,
relationships) and, through a relationship, the object at its other end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.domain.model import Principal
from accord.domain.search import Kind, Query, Term, parse
from accord.domain.sharing import effective_tlp, may_read
from accord.domain.tlp import Tlp
from accord.stix.terms import extract
from accord.store import search as index
from accord.store.repository import Store, Tx
from accord.store.search import Candidate

PER_TERM = 200  # candidates read per term, newest first
LIMIT = 100  # results shown at once
MAX_OFFSET = 10_000  # how far the pages go (each term yields PER_TERM candidates at most anyway)
GROUPS = ("indicator", "observable", "sighting", "incident", "report", "other")
_OBSERVABLES = {"ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr", "network-traffic"}
_GROUP_OF = {"indicator": "indicator", "sighting": "sighting", "incident": "incident", "report": "report"}


@dataclass(slots=True)
class Hit:
    """One object in the results: why it matched and what the readable objects around it say."""

    id: str
    type: str
    label: str
    reasons: list[str]
    origin: list[str]  # organisations holding the versions found
    partners: list[str] = field(default_factory=list)  # organisations that saw it (sightings)
    first_seen: str | None = None
    last_seen: str | None = None
    confidence: int | None = None
    sightings: int = 0
    tlp: str = ""

    @property
    def group(self) -> str:
        if self.type in _OBSERVABLES:
            return "observable"
        return _GROUP_OF.get(self.type, "other")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "group": self.group, "label": self.label, "reasons": self.reasons,
                "origin": self.origin, "partners": self.partners, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "confidence": self.confidence, "sightings": self.sightings,
                "tlp": self.tlp}


@dataclass(frozen=True, slots=True)
class Results:
    query: Query
    hits: list[Hit]  # the page asked for: from ``offset``, at most the limit
    offset: int = 0
    more: bool = False  # readable results follow this page

    def grouped(self) -> list[tuple[str, list[Hit]]]:
        return [(g, [h for h in self.hits if h.group == g]) for g in GROUPS if any(h.group == g for h in self.hits)]

    def to_json(self) -> dict[str, Any]:
        return {"kinds": self.query.kinds, "count": len(self.hits), "offset": self.offset, "more": self.more,
                "next": self.offset + len(self.hits) if self.more else None,
                "results": [h.to_json() for h in self.hits]}


def _readable_collections(tx: Tx, principal: Principal) -> list[int]:
    return sorted(cid for cid, access in tx.access_of(principal.org_id).items() if access.can_read)


def _visible(principal: Principal, found: Sequence[Candidate]) -> list[Candidate]:
    reader = principal.reader
    return [c for c in found if may_read(reader, c.visibility)]


def _reason(term: Term, obj: dict[str, Any]) -> str:
    """Why the object matched ``term``, from its own keys (so the reason names the block, the parent)."""
    terms = extract(obj)
    if term.kind is Kind.ADDRESS and term.address is not None:
        for block in terms.addresses:
            if block.family == term.address.family and block.low <= term.address.low \
                    and block.high >= term.address.high:
                return f"{'pattern' if obj.get('type') == 'indicator' else 'value'} covers {term.value} ({block.text})"
        return f"inside {term.value}"
    if term.kind is Kind.DOMAIN:
        for name in terms.domains:
            if name == term.value:
                return f"domain {name}"
            if term.value.endswith("." + name):
                return f"parent domain {name} of {term.value}"
        return f"subdomain of {term.value}"
    if term.kind is Kind.HASH:
        algo = next((a for a, v in terms.hashes if v == term.value), "hash")
        return f"{algo} {term.value}"
    if term.kind is Kind.ATTACK:
        return f"ATT&CK {term.value} in external references"
    return "text"


def _lookup(tx: Tx, term: Term, collections: list[int]) -> list[Candidate]:
    if term.kind is Kind.ADDRESS and term.address is not None:
        return index.by_address(tx.conn, term.address, collections, PER_TERM)
    if term.kind is Kind.DOMAIN:
        return index.by_domain(tx.conn, term.value, collections, PER_TERM)
    if term.kind is Kind.HASH:
        return index.by_hash(tx.conn, term.value, collections, PER_TERM)
    return index.by_attack(tx.conn, term.value, collections, PER_TERM)


def _label(obj: dict[str, Any]) -> str:
    for name in ("name", "value", "pattern", "abstract", "summary"):
        value = obj.get(name)
        if isinstance(value, str) and value:
            return value[:200]
    return str(obj.get("id", ""))


def _merge(hits: dict[str, Hit], orgs: dict[int, str], c: Candidate, obj: dict[str, Any], reason: str) -> Hit:
    hit = hits.get(c.id)
    if hit is None:
        hit = hits[c.id] = Hit(c.id, c.type, _label(obj), [], [], tlp=effective_tlp(c.visibility).name)
        conf = obj.get("confidence")
        hit.confidence = conf if isinstance(conf, int) and not isinstance(conf, bool) else None
    if reason not in hit.reasons:
        hit.reasons.append(reason)
    owner = orgs.get(c.visibility.owner_org, str(c.visibility.owner_org))
    if owner not in hit.origin:
        hit.origin.append(owner)
    return hit


def _seen(hit: Hit, first: Any, last: Any) -> None:
    if isinstance(first, str) and (hit.first_seen is None or first < hit.first_seen):
        hit.first_seen = first
    if isinstance(last, str) and (hit.last_seen is None or last > hit.last_seen):
        hit.last_seen = last


def _correlate(hit: Hit, sighting: dict[str, Any], owner: str, by_identity: dict[str, str]) -> None:
    """A readable sighting of the hit: who saw it (where_sighted_refs, else the sighting's holder), when."""
    hit.sightings += 1
    seen_by = [by_identity.get(r, r) for r in sighting.get("where_sighted_refs", []) if isinstance(r, str)]
    for name in seen_by or [owner]:
        if name not in hit.partners:
            hit.partners.append(name)
    _seen(hit, sighting.get("first_seen") or sighting.get("created"), sighting.get("last_seen")
          or sighting.get("modified"))
    conf = sighting.get("confidence")
    if isinstance(conf, int) and not isinstance(conf, bool) and (hit.confidence is None or conf > hit.confidence):
        hit.confidence = conf


def search(store: Store, principal: Principal, text: str, limit: int = LIMIT, offset: int = 0) -> Results:
    """Everything the requester may read that the box's ``text`` names (see the module docstring):
    ``limit`` results from ``offset`` (direct matches first, then what references them), and
    whether more follow. The pages are computed from the same readable results, so they count
    nothing hidden either."""
    query = parse(text)
    hits: dict[str, Hit] = {}
    with store.read() as tx:
        index.begin_search(tx.conn)
        collections = _readable_collections(tx, principal)
        organisations = tx.list_orgs()
        orgs = {o.id: o.name for o in organisations}
        by_identity = {o.identity_id: o.name for o in organisations}
        direct: list[tuple[Candidate, dict[str, Any], str]] = []
        for term in query.terms:
            for c in _visible(principal, _lookup(tx, term, collections)):
                obj = orjson.loads(c.body)
                direct.append((c, obj, _reason(term, obj)))
        if query.words:
            reason = "text: " + " ".join(query.words)
            direct.extend((c, orjson.loads(c.body), reason)
                          for c in _visible(principal, index.by_text(tx.conn, query.words, collections, PER_TERM)))
        for c, obj, reason in direct:
            hit = _merge(hits, orgs, c, obj, reason)
            _seen(hit, obj.get("first_seen") or obj.get("valid_from") or obj.get("first_observed"),
                  obj.get("last_seen") or obj.get("last_observed"))
        matched = list(hits)
        other_ends: list[str] = []
        for c in _visible(principal, index.by_refs(tx.conn, matched, collections, PER_TERM * 4)):
            obj = orjson.loads(c.body)
            refs = [r for r in extract(obj).refs if r in hits]
            if c.type == "sighting":
                owner = orgs.get(c.visibility.owner_org, str(c.visibility.owner_org))
                for ref in refs:
                    _correlate(hits[ref], obj, owner, by_identity)
            if c.type == "relationship":
                other_ends.extend(r for r in (obj.get("source_ref"), obj.get("target_ref"))
                                  if isinstance(r, str) and r not in hits)
                continue
            if c.id not in matched:
                _merge(hits, orgs, c, obj, "references " + ", ".join(refs[:3]))
        for c in _visible(principal, index.latest_by_ids(tx.conn, sorted(set(other_ends)), collections, PER_TERM)):
            if c.id not in hits:
                _merge(hits, orgs, c, orjson.loads(c.body), "related by a relationship")
        ordered = list(hits.values())
        shown = ordered[offset:offset + limit]
    _audit(store, principal, query, [h for h in shown if h.tlp != Tlp.CLEAR.name])
    return Results(query, shown, offset, len(ordered) > offset + limit)


def _audit(store: Store, principal: Principal, query: Query, sensitive: list[Hit]) -> None:
    """A search that shows anything not TLP:CLEAR is recorded like a read (the objects, not the words)."""
    if not sensitive:
        return
    with store.write(audit_only=True) as tx:
        tx.audit(principal.account_id, principal.org_id, "search", {
            "kinds": query.kinds, "objects": [h.id for h in sensitive]})


def stored_versions(store: Store) -> int:
    """How many stored versions :func:`reindex` walks."""
    with store.read() as tx:
        return index.count_versions(tx.conn)


def reindex(store: Store, progress: Any = None, batch: int = 2_000) -> int:
    """Rebuild the whole index from the stored versions (``accord search reindex``); how many versions
    have keys. ``progress(done)`` is called after each batch. One transaction per batch: searches
meanwhile find what is indexed so far, never an object they may not read."""
    with store.write() as tx:
        index.clear(tx.conn)
    after, kept = -1, 0
    while True:
        with store.write() as tx:
            rows = index.stored_bodies(tx.conn, after, batch)
            kept += index.index_bodies(tx.conn, rows)  # revoked versions have no keys (stix.terms)
        if progress is not None:
            progress(len(rows))
        if len(rows) < batch:
            return kept
        after = rows[-1][0]

