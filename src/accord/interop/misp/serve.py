"""A MISP feed of what one key may read: ``manifest.json``, ``<uuid>.json`` events, ``hashes.csv``.

Every object comes from :func:`accord.services.objects.readable_objects`, the TAXII read path, so
:func:`accord.domain.sharing.may_read` decides and the read is audited; an event with nothing the
key may read does not exist (404, as an unknown uuid).

Events: each ``grouping`` or ``report`` the key may read is one event (its uuid), holding the
readable objects it refers to; the other readable objects of a collection form one event per reach
(TLP level and sharing group), so every event's tag says exactly who may read all of it. STIX ->
MISP is misp-stix's (``InternalSTIX2toMISPParser`` for what misp-stix made, else
``ExternalSTIX2toMISPParser``); markings -> tags and distribution are mapped here, the reverse of
:mod:`accord.interop.misp.mapping`: TLP level -> ``tlp:`` tag; CLEAR distribution 3, GREEN 2, AMBER
and AMBER+STRICT 1, RED 0; a sharing group's marking -> distribution 4 with the group's name.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from accord.domain.tlp import Tlp, classify_markings
from accord.interop.misp.mapping import Reach

if TYPE_CHECKING:
    from accord.domain.model import Principal
    from accord.store.repository import Store

SERVED_DISTRIBUTION = {Tlp.CLEAR: 3, Tlp.GREEN: 2, Tlp.AMBER: 1, Tlp.AMBER_STRICT: 1, Tlp.RED: 0}
TLP_TAG = {Tlp.CLEAR: "tlp:clear", Tlp.GREEN: "tlp:green", Tlp.AMBER: "tlp:amber",
           Tlp.AMBER_STRICT: "tlp:amber+strict", Tlp.RED: "tlp:red"}
_EVENT_NS = uuid.UUID("0b8f3f5e-8d7c-4b55-a0f1-8a1e3c6d9b27")
_CONTAINERS = ("grouping", "report")
# not an event of their own: containers are events, a creator identity is the event's Orgc in MISP
_UNCLAIMED_SKIPPED = (*_CONTAINERS, "marking-definition", "identity", "extension-definition")


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str


@dataclass(slots=True)
class FeedEvent:
    """One served event: its uuid, title, STIX objects, reach and newest modification (seconds)."""

    uuid: str
    info: str
    objects: list[dict[str, Any]]
    reach: Reach
    timestamp: int


@dataclass(frozen=True, slots=True)
class Feed:
    events: dict[str, FeedEvent]
    org: tuple[str, str]  # the node's host organisation: name, uuid (the events' Orgc)
    groups: Mapping[str, Group]  # marking id -> group


def _seconds(stamp: Any) -> int:
    from accord.stix.timestamps import to_micros

    try:
        return to_micros(str(stamp)) // 1_000_000
    except (ValueError, TypeError):
        return 0


def _reach(obj: Mapping[str, Any], groups: Mapping[str, Group]) -> Reach:
    refs = [r for r in obj.get("object_marking_refs") or [] if isinstance(r, str)]
    level = classify_markings(refs, (), groups.keys())
    names = sorted(groups[r].name for r in refs if r in groups)
    return Reach(level if level is not None else Tlp.AMBER, names[0] if names else None)


def gather(store: Store, principal: Principal) -> Feed:
    """Every object the key may read, in every collection it may read, arranged as events."""
    from accord.services import objects as svc
    from accord.store.objects import ObjectFilter

    with store.read() as tx:
        roots = tx.list_api_roots()
        collections = [(root, c) for root in roots for c, access in svc.visible_collections(tx, principal, root)
                       if access.can_read]
        groups = {g.marking_id: Group(g.id, g.name) for g in tx.list_groups()}
        host = tx.get_org(int(tx.get_setting("host_org") or 0))
    org_uuid = host.identity_id.partition("--")[2]
    events: dict[str, FeedEvent] = {}
    for root, collection in collections:
        objects = svc.readable_objects(store, principal, root, collection.uuid, ObjectFilter(), "misp.feed")
        by_id = {o["id"]: o for o in objects}
        claimed: set[str] = set()
        for obj in objects:
            if obj.get("type") not in _CONTAINERS:
                continue
            members = [by_id[r] for r in obj.get("object_refs") or [] if r in by_id]
            claimed.update(m["id"] for m in members)
            inside = {m["id"] for m in members} | {obj["id"]}
            members += [o for o in objects if o["id"] not in inside and o.get("type") in ("relationship", "sighting")
                        and (o.get("source_ref") in inside or o.get("sighting_of_ref") in inside)]
            claimed.update(m["id"] for m in members)
            key = obj["id"].partition("--")[2]
            events[key] = FeedEvent(key, str(obj.get("name", "")), [obj, *members], _reach(obj, groups),
                                    max(_seconds(o.get("modified")) for o in [obj, *members]))
        loose: dict[Reach, list[dict[str, Any]]] = {}
        for obj in objects:
            if obj["id"] not in claimed and obj.get("type") not in _UNCLAIMED_SKIPPED:
                loose.setdefault(_reach(obj, groups), []).append(obj)
        for reach, members in loose.items():
            key = str(uuid.uuid5(_EVENT_NS, f"{collection.uuid}|{reach.tlp.name}|{reach.group or ''}"))
            events[key] = FeedEvent(key, f"{collection.title}: {reach.tlp.label} objects", members, reach,
                                    max(_seconds(o.get("modified", o.get("created"))) for o in members))
    return Feed(events, (host.name, org_uuid), groups)


def _marks(reach: Reach, groups_by_name: Mapping[str, Group]) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The MISP tag and distribution fields of a reach; a group that is not one of this node's (two
    groups that both apply, mapping.OWNER_ONLY) is TLP:RED, distribution 0: never wider."""
    group = groups_by_name.get(reach.group) if reach.group else None
    if reach.group and group is None:
        reach = Reach(Tlp.RED)
    tags = [{"name": TLP_TAG[reach.tlp]}]
    if group is None:
        return tags, {"distribution": str(SERVED_DISTRIBUTION[reach.tlp])}
    return tags, {"distribution": "4", "sharing_group_id": str(group.id),
                  "SharingGroup": {"name": group.name, "uuid": str(uuid.uuid5(_EVENT_NS, f"group|{group.name}"))}}


def _retag(element: dict[str, Any], reach: Reach, groups_by_name: Mapping[str, Group]) -> None:
    tags, fields = _marks(reach, groups_by_name)
    kept = [t for t in element.get("Tag") or [] if not str(t.get("name", "")).lower().startswith("tlp:")]
    element["Tag"] = [*tags, *kept]
    element.update(fields)


def to_misp(feed: Feed, event: FeedEvent) -> dict[str, Any]:
    """The MISP core format event (``{"Event": {...}}``) of one served event."""
    from misp_stix_converter import ExternalSTIX2toMISPParser, InternalSTIX2toMISPParser
    from misp_stix_converter.tools.stix2_loading_helpers import load_stix2_content
    from misp_stix_converter.tools.stix2_to_misp_helpers import is_stix2_from_misp

    internal = is_stix2_from_misp(event.objects)
    bundle = load_stix2_content({"type": "bundle", "id": f"bundle--{event.uuid}", "objects": event.objects})
    parser = InternalSTIX2toMISPParser() if internal else ExternalSTIX2toMISPParser()
    parser.load_stix_bundle(bundle)
    parser.parse_stix_bundle(single_event=True, title=event.info)
    out: dict[str, Any] = orjson.loads(parser.misp_event.to_json())
    groups_by_name = {g.name: g for g in feed.groups.values()}
    reach_by_uuid = {o["id"].partition("--")[2]: _reach(o, feed.groups) for o in event.objects}
    out.update({"uuid": event.uuid, "info": event.info or out.get("info", ""), "timestamp": str(event.timestamp),
                "published": True, "Orgc": {"name": feed.org[0], "uuid": feed.org[1]}})
    _retag(out, event.reach, groups_by_name)
    elements = [*out.get("Attribute", []), *out.get("Object", [])]
    for element in elements:
        reach = reach_by_uuid.get(str(element.get("uuid")), event.reach)
        _retag(element, event.reach.narrow(reach), groups_by_name)
        for inner in element.get("Attribute", []) if "name" in element else []:
            inner.pop("Tag", None)
            inner["distribution"] = "5"
    return {"Event": out}


def manifest(feed: Feed) -> dict[str, Any]:
    """manifest.json: each event's uuid -> the metadata MISP reads before fetching it."""
    out = {}
    for event in feed.events.values():
        tags, _ = _marks(event.reach, {})
        out[event.uuid] = {"info": event.info, "Orgc": {"name": feed.org[0], "uuid": feed.org[1]},
                           "Tag": tags, "timestamp": event.timestamp, "analysis": 0, "threat_level_id": 4,
                           "date": _date(event.timestamp)}
    return out


def _date(seconds: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d")


def hashes(feed: Feed) -> str:
    """hashes.csv: ``md5(value),event uuid`` for each attribute value, as PyMISP's feed generator."""
    lines = []
    for event in feed.events.values():
        served = to_misp(feed, event)["Event"]
        values = [a["value"] for a in served.get("Attribute", [])]
        values += [a["value"] for o in served.get("Object", []) for a in o.get("Attribute", [])]
        for value in values:
            for part in str(value).split("|"):
                lines.append(f"{hashlib.md5(part.encode(), usedforsecurity=False).hexdigest()},{event.uuid}\n")
    return "".join(lines)
