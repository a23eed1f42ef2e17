"""One MISP event (``{"Event": {...}}``, MISP core format) to STIX 2.1 objects ready to store.

misp-stix (``MISPtoSTIX21Parser``, the MISP project's converter) does the conversion of attributes,
objects, galaxies and sightings. Around it, this module does what it does not:

- checks the event's shape first, so a hostile or broken attribute is reported by event uuid and
  attribute (and dropped) while the rest of the event is converted;
- gives each MISP sighting (type 0) a uuid when it has none, derived from what it says, which
  misp-stix needs and which keeps a re-import from duplicating it, and makes the sighting
  organisation its creator, so sightings reach the corroboration logic as that organisation's;
- names ATT&CK techniques in galaxy clusters by their ATT&CK id (``external_id`` T0855) when the
  cluster only has it in its value ("Unauthorized Command Message - T0855");
- re-marks every object by :mod:`accord.interop.misp.mapping` (distribution, sharing groups, TLP);
- flags indicators whose value a MISP warninglist covers (label ``misp-warninglist:<id>``).

``to_ids`` is misp-stix's: only an attribute with ``to_ids`` true becomes an indicator (which feeds
sensors); the others become observed-data only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from accord.domain.errors import InvalidInput
from accord.interop.misp import mapping

if TYPE_CHECKING:
    from accord.sensor.warninglists import Benign

MAX_EVENT_BYTES = 64 * 1024 * 1024
MAX_ELEMENTS = 250_000  # attributes and objects of one event
MAX_VALUE = 128 * 1024  # characters of one attribute value
_SIGHTING_NS = uuid.UUID("5b1e6f4e-2f5c-4c47-9f29-6d3f0c8b1a11")
_ATTACK_ID = re.compile(r"\b(T[0-9]{4}(?:\.[0-9]{3})?)\s*$")
ATTACK_GALAXIES = ("mitre-attack-pattern", "mitre-ics-techniques", "mitre-mobile-attack-attack-pattern",
                   "mitre-enterprise-attack-attack-pattern")


class BadEvent(InvalidInput):
    """The whole event cannot be read (not JSON, not an event, no uuid)."""


@dataclass(slots=True)
class Converted:
    """The STIX objects of one event and what went wrong inside it (each message names the event)."""

    event_uuid: str
    info: str
    objects: list[dict[str, Any]]
    attributes: int
    problems: list[str] = field(default_factory=list)  # what was dropped: the load reports them
    notes: list[str] = field(default_factory=list)  # what misp-stix said while converting the rest
    flagged: int = 0
    groups: set[str] = field(default_factory=set)


def is_misp_event(raw: bytes) -> bool:
    """A MISP event file: a JSON object whose single top-level key is ``Event`` (cheap to ask:
    a STIX bundle starts with ``type``/``id``, not ``Event``)."""
    head = raw[:4096].lstrip()
    return head.startswith(b"{") and head[1:].lstrip().startswith(b'"Event"')


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def read_event(raw: bytes | Mapping[str, Any], name: str) -> dict[str, Any]:
    """The event object of a MISP event file, or :class:`BadEvent` naming the file."""
    if isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_EVENT_BYTES:
            raise BadEvent(f"{name}: larger than {MAX_EVENT_BYTES} bytes")
        try:
            data: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadEvent(f"{name}: not valid JSON ({exc})") from None
    else:
        data = raw
    event = data.get("Event") if isinstance(data, dict) else None
    if not isinstance(event, dict):
        raise BadEvent(f"{name}: not a MISP event (a JSON object with an 'Event' object)")
    if not _is_uuid(event.get("uuid")):
        raise BadEvent(f"{name}: the event has no valid uuid")
    if not isinstance(event.get("info", ""), str):
        raise BadEvent(f"{name}: event {event['uuid']}: 'info' is not a string")
    return event


def _check_attribute(attribute: Any, where: str) -> str | None:
    """Why an attribute cannot be converted, or None (and its value made a string if a number)."""
    if not isinstance(attribute, dict):
        return f"{where}: not an object"
    label = f"{where} ({attribute.get('uuid')})" if isinstance(attribute.get("uuid"), str) else where
    if not _is_uuid(attribute.get("uuid")):
        return f"{label}: no valid uuid"
    if not isinstance(attribute.get("type"), str) or not attribute["type"]:
        return f"{label}: no type"
    value = attribute.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        attribute["value"] = str(value)
    elif not isinstance(value, str) or not value:
        return f"{label}: no value"
    if len(attribute["value"]) > MAX_VALUE or "\x00" in attribute["value"]:
        return f"{label}: a value longer than {MAX_VALUE} characters or with a NUL character"
    for key in ("Tag", "Sighting", "Galaxy"):
        if key in attribute and not isinstance(attribute[key], list):
            return f"{label}: '{key}' is not a list"
    return None


def _sightings(attribute: dict[str, Any]) -> None:
    kept = []
    for sighting in attribute.get("Sighting") or []:
        if not isinstance(sighting, dict) or str(sighting.get("type", "0")) not in ("0", "1"):
            continue  # type 2 (expiration) has no STIX counterpart
        sighting = {**sighting, "type": str(sighting.get("type", "0"))}
        if not _is_uuid(sighting.get("uuid")):
            org = sighting.get("Organisation")
            seed = "|".join([attribute["uuid"], str(sighting.get("date_sighting", "")), str(sighting.get("source", "")),
                             str(org.get("uuid", "")) if isinstance(org, dict) else ""])
            sighting["uuid"] = str(uuid.uuid5(_SIGHTING_NS, seed))
        kept.append(sighting)
    attribute["Sighting"] = kept


def _galaxies(holder: dict[str, Any]) -> None:
    """ATT&CK clusters get their technique id in ``meta.external_id`` (misp-stix reads it there)."""
    for galaxy in holder.get("Galaxy") or []:
        if not isinstance(galaxy, dict) or galaxy.get("type") not in ATTACK_GALAXIES:
            continue
        for cluster in galaxy.get("GalaxyCluster") or []:
            if not isinstance(cluster, dict) or not isinstance(cluster.get("value"), str):
                continue
            meta: dict[str, Any] = cluster["meta"] if isinstance(cluster.get("meta"), dict) else {}
            found = _ATTACK_ID.search(cluster["value"])
            if not meta.get("external_id") and found:
                cluster["meta"] = {**meta, "external_id": [found.group(1)]}


def _list(holder: Mapping[str, Any], key: str) -> list[Any]:
    found = holder.get(key)
    return found if isinstance(found, list) else []


def _clean(event: dict[str, Any], where: str, problems: list[str], labels: dict[str, str]) -> int:
    """Drop what cannot be converted, each with a problem; returns how many attributes remain and
    names each kept top-level attribute and object in ``labels`` (uuid -> "attribute 3 (uuid)")."""
    count = 0
    attributes = _list(event, "Attribute")
    objects = _list(event, "Object")
    if len(attributes) + len(objects) > MAX_ELEMENTS:
        raise BadEvent(f"{where}: more than {MAX_ELEMENTS} attributes and objects")
    kept = []
    for n, attribute in enumerate(attributes):
        why = _check_attribute(attribute, f"{where}: attribute {n}")
        if why:
            problems.append(why)
            continue
        _sightings(attribute)
        _galaxies(attribute)
        kept.append(attribute)
        labels[attribute["uuid"].lower()] = f"attribute {n} ({attribute['uuid']}, {attribute['type']})"
    event["Attribute"] = kept
    count += len(kept)
    kept_objects = []
    for n, obj in enumerate(objects):
        if not isinstance(obj, dict) or not _is_uuid(obj.get("uuid")) or not isinstance(obj.get("name"), str):
            problems.append(f"{where}: object {n}: not an object with a uuid and a name")
            continue
        inner = []
        for m, attribute in enumerate(_list(obj, "Attribute")):
            why = _check_attribute(attribute, f"{where}: object {n} ({obj['uuid']}) attribute {m}")
            if why:
                problems.append(why)
                continue
            _sightings(attribute)
            inner.append(attribute)
        if inner:
            kept_objects.append({**obj, "Attribute": inner})
            count += len(inner)
            labels[obj["uuid"].lower()] = f"object {n} ({obj['uuid']}, {obj['name']})"
    event["Object"] = kept_objects
    for key in ("Tag", "Galaxy"):
        if key in event and not isinstance(event[key], list):
            problems.append(f"{where}: '{key}' is not a list: ignored")
            event[key] = []
    _galaxies(event)
    return count


def _sighters(objects: list[dict[str, Any]]) -> None:
    """A MISP sighting is the sighting organisation's report, not the event creator's: its
    ``created_by_ref`` is the identity misp-stix made of the sighting's ``Organisation`` (so two
    organisations' sightings of one indicator corroborate it, accord.federation.early_warning)."""
    for obj in objects:
        where = obj.get("where_sighted_refs")
        if obj.get("type") == "sighting" and isinstance(where, list) and where:
            obj["created_by_ref"] = where[0]


def _values(event: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """(MISP type, value) of each attribute by uuid, objects' attributes included."""
    out = {a["uuid"].lower(): (a["type"], a["value"]) for a in event.get("Attribute", [])}
    for obj in event.get("Object", []):
        for a in obj["Attribute"]:
            out[a["uuid"].lower()] = (a["type"], a["value"])
    return out


def _flag(objects: list[dict[str, Any]], values: Mapping[str, tuple[str, str]], benign: Benign) -> int:
    from accord.sensor.warninglists import attribute_kind

    flagged = 0
    for obj in objects:
        if obj.get("type") != "indicator":
            continue
        found = values.get(str(obj["id"]).partition("--")[2])
        if found is None:
            continue
        kind = attribute_kind(found[0])
        hits = {hit for part in found[1].split("|") if kind and (hit := benign.check(kind, part.strip()))}
        if hits:
            obj["labels"] = [*obj.get("labels", []), *(f"misp-warninglist:{h}" for h in sorted(hits))]
            flagged += 1
    return flagged


def convert(raw: bytes | Mapping[str, Any], name: str, group_markings: Mapping[str, str] | None = None,
            benign: Benign | None = None) -> Converted:
    """The STIX 2.1 objects of one MISP event, re-marked, with its problems; :class:`BadEvent` if the
    event as a whole cannot be read or converted."""
    from misp_stix_converter import MISPtoSTIX21Parser

    event = read_event(raw, name)
    event = orjson.loads(orjson.dumps(event))  # our own copy: the cleaning below edits it
    where = f"{name}: event {event['uuid']}"
    problems: list[str] = []
    labels: dict[str, str] = {}
    count = _clean(event, where, problems, labels)
    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event({"Event": event})
        objects: list[dict[str, Any]] = orjson.loads(parser.bundle.serialize())["objects"]
    except Exception as exc:  # misp-stix raises whatever its input provokes; the event is refused whole
        raise BadEvent(f"{where}: misp-stix could not convert it ({type(exc).__name__}: {exc})") from None
    notes = [f"{where}: misp-stix: {m.splitlines()[0][:300]}" for ms in (parser.errors or {}).values() for m in ms]
    made = {str(o.get("id", "")).partition("--")[2] for o in objects}
    problems.extend(f"{where}: {label}: misp-stix made nothing of it (a value its type does not allow?)"
                    for key, label in labels.items() if key not in made)
    _sighters(objects)
    top, by_uuid = mapping.reaches(event)
    objects, resolved = mapping.apply_markings(objects, top, by_uuid, group_markings or {})
    done = Converted(event["uuid"], str(event.get("info", "")), objects, count, problems, notes)
    done.groups = {r.group for r in [top, *by_uuid.values()] if r.group and r.group != mapping.OWNER_ONLY}
    if benign is not None:
        done.flagged = _flag(objects, _values(event), benign)
    return done
