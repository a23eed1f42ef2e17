"""Storing MISP events and feeds: converted, then added exactly like a TAXII add_objects.

The objects go through :func:`accord.services.admin.load_bundle`, so validation, privacy
minimisation, the audit record and the federation outbox apply as to any TAXII client. Two things
are resolved against the store first:

- MISP sharing groups: the Accord group of the same name (or the one ``group_map`` names for it);
- ATT&CK techniques: when the collection already holds an attack-pattern the importer may read
  with the same id or ATT&CK id (an ATT&CK bundle loaded earlier), the event refers to that one and
  misp-stix's copy is not stored (it would be refused: only its producer versions an object).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.interop.misp import convert as conv
from accord.interop.misp import feed as feeds

if TYPE_CHECKING:
    from accord.domain.model import Principal
    from accord.sensor.warninglists import Benign
    from accord.store.repository import Store


@dataclass(slots=True)
class Loaded:
    """What a load did; every problem names the file and, inside it, the event and attribute."""

    events: int = 0
    attributes: int = 0
    objects: int = 0
    stored: int = 0
    flagged: int = 0
    hashes: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timestamps: dict[str, int] = field(default_factory=dict)  # event uuid -> manifest timestamp loaded
    manifest: dict[str, int] = field(default_factory=dict)  # the feed's, when one was read
    etag: str | None = None  # the manifest's
    unchanged: bool = False  # the manifest had the ETag given: nothing was read

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "attributes": self.attributes, "objects": self.objects,
                "stored": self.stored, "warninglist_flagged": self.flagged, "hashes": self.hashes,
                "failed": len(self.problems), "problems": self.problems, "notes": self.notes}


def group_markings(store: Store, group_map: Mapping[str, str] | None = None) -> dict[str, str]:
    """MISP sharing group (name or uuid) -> Accord group marking id: same name, or as mapped."""
    with store.read() as tx:
        groups = {g.name: g.marking_id for g in tx.list_groups()}
    out = dict(groups)
    for misp_name, accord_name in (group_map or {}).items():
        if accord_name not in groups:
            from accord.domain.errors import NotFound

            raise NotFound(f"no sharing group {accord_name!r} on this node (accord group list)")
        out[misp_name] = groups[accord_name]
    return out


def _attack_ids(obj: Mapping[str, Any]) -> list[str]:
    return [str(r["external_id"]) for r in obj.get("external_references") or []
            if isinstance(r, dict) and str(r.get("source_name", "")).startswith("mitre") and r.get("external_id")]


def _known_techniques(store: Store, principal: Principal, collection: str) -> tuple[set[str], dict[str, str]]:
    """Ids of the attack-patterns the importer may read in the collection, and ATT&CK id -> id."""
    from accord.services import objects as svc
    from accord.store.objects import ObjectFilter

    with store.read() as tx:
        col = tx.find_collection(None, collection)
        root = next(r for r in tx.list_api_roots() if r.id == col.api_root_id)
    found = svc.readable_objects(store, principal, root, col.uuid, ObjectFilter(types=("attack-pattern",)),
                                 "misp.import.attack_patterns")
    by_attack = {tid: o["id"] for o in found for tid in _attack_ids(o)}
    return {o["id"] for o in found}, by_attack


def _refer_to_known(objects: list[dict[str, Any]], known: set[str],
                    by_attack: Mapping[str, str]) -> list[dict[str, Any]]:
    """Drop misp-stix's attack-patterns the collection already has, pointing references at those."""
    rename: dict[str, str] = {}
    kept = []
    for obj in objects:
        if obj.get("type") == "attack-pattern":
            if obj["id"] in known:
                continue
            existing = next((by_attack[t] for t in _attack_ids(obj) if t in by_attack), None)
            if existing is not None:
                rename[obj["id"]] = existing
                continue
        kept.append(obj)
    if not rename:
        return kept
    out = []
    for obj in kept:
        obj = dict(obj)
        for name in ("source_ref", "target_ref", "sighting_of_ref"):
            if obj.get(name) in rename:
                obj[name] = rename[obj[name]]
        if isinstance(obj.get("object_refs"), list):
            obj["object_refs"] = [rename.get(r, r) for r in obj["object_refs"]]
        out.append(obj)
    return out


def load_events(store: Store, principal: Principal, collection: str, items: Iterable[tuple[str, bytes]],
                group_map: Mapping[str, str] | None = None, benign: Benign | None = None,
                done: Loaded | None = None, progress: Callable[[int], None] | None = None) -> Loaded:
    """Convert and store each (name, bytes) event; an event that cannot be read is reported whole."""
    from accord.services import admin

    result = done if done is not None else Loaded()
    markings = group_markings(store, group_map)
    techniques: tuple[set[str], dict[str, str]] | None = None
    for name, raw in items:
        try:
            converted = conv.convert(raw, name, markings, benign)
        except conv.BadEvent as exc:
            result.problems.append(str(exc))
            continue
        result.problems.extend(converted.problems)
        result.notes.extend(converted.notes)
        for group in sorted(converted.groups - set(markings)):
            result.notes.append(f"{name}: event {converted.event_uuid}: sharing group {group!r} is not a group "
                                "here: what it restricts is stored TLP:RED for your organisation only")
        objects = converted.objects
        if any(o.get("type") == "attack-pattern" for o in objects):
            techniques = techniques or _known_techniques(store, principal, collection)
            objects = _refer_to_known(objects, *techniques)
        stored, failures = admin.load_bundle(store, principal, collection, objects)
        result.events += 1
        result.attributes += converted.attributes
        result.objects += len(objects)
        result.stored += stored
        result.flagged += converted.flagged
        result.problems.extend(f"{name}: event {converted.event_uuid}: {f['id'] or '(no id)'}: {f['message']}"
                               for f in failures)
        if progress is not None:
            progress(1)
    return result


def load_feed(store: Store, principal: Principal, collection: str, location: str,
              group_map: Mapping[str, str] | None = None, benign: Benign | None = None,
              since: Mapping[str, int] | None = None, progress: Callable[[int], None] | None = None,
              source: feeds.FeedSource | None = None, etag: str | None = None) -> Loaded:
    """Import a MISP feed. With ``since`` (event uuid -> manifest timestamp already loaded), only the
    events whose manifest timestamp is newer, as MISP itself pulls a feed; with ``etag`` (the
    manifest's, from the last pull), nothing at all when the manifest has not changed (HTTP 304)."""
    own = source is None
    source = source or feeds.FeedSource(location)
    result = Loaded()
    try:
        fetched = source.fetch("manifest.json", feeds.MAX_MANIFEST_BYTES, etag)
        result.etag = fetched.etag
        if fetched.body is None:
            result.unchanged = True
            return result
        manifest = feeds.parse_manifest(fetched.body, source.name_of("manifest.json"))
        result.manifest = manifest
        wanted = [u for u, ts in manifest.items() if since is None or ts == 0 or ts > since.get(u, -1)]
        if since is None:  # a one-off load reports what hashes.csv lists; a peer's pull does not need it
            try:
                result.hashes = feeds.count_hashes(source.fetch("hashes.csv", feeds.MAX_MANIFEST_BYTES).body or b"")
            except feeds.FeedError as exc:
                result.notes.append(f"{exc} (hashes.csv is optional)")

        def failed(_event_uuid: str, why: str) -> None:
            result.problems.append(why)

        for event_uuid, body in feeds.events(source, wanted, failed):
            count = len(result.problems)
            load_events(store, principal, collection, [(source.name_of(f"{event_uuid}.json"), body)],
                        group_map, benign, result, progress)
            if len(result.problems) == count:
                result.timestamps[event_uuid] = manifest[event_uuid]
    finally:
        if own:
            source.close()
    return result
