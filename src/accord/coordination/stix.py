"""Coordination as STIX 2.1 objects: the project's extension definitions and the object shapes.

Everything coordination writes is an ordinary STIX 2.1 object in the node's store, so it is versioned,
checked by the sharing policy, audited, and (with federation) signed and sent to peers like any other:

* ``x-accord-constituency``, ``x-accord-consultation``, ``x-accord-consultation-event`` and
  ``x-accord-warning`` are new SDOs defined by extension definitions (STIX 2.1 sections 7.3 and 11.1:
  the object names its definition in ``extensions`` with ``extension_type: new-sdo``);
* joint incidents (``incident``, section 4.6), evidence contributions (``note``, 4.12) and assessments
  (``opinion``, 4.13) are standard objects carrying one property extension (``property-extension``).

A partner only ever writes objects it owns (the store lets only the originating organisation add
versions of an id), so each step of a consultation by the other side is a separate event object.
Ids that must stay the same across versions (a partner's constituency, a partner's assessment of one
subject) are UUIDv5 of what identifies them (section 2.9).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from accord.domain.coordination.attribution import Assessment, Question, Stance
from accord.domain.coordination.constituency import Declaration, normalise_domain, parse_asn, parse_network
from accord.domain.coordination.consultation import Ask, Event, Finding, Kind
from accord.domain.errors import InvalidInput
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.stix.timestamps import BadTimestamp, micros_to_timestamp, to_micros

NAMESPACE = uuid.UUID("5b0c3a52-6f0e-4d5e-9a3c-2f1d7a8e4c61")
PROJECT_IDENTITY = f"identity--{uuid.uuid5(NAMESPACE, 'accord-project')}"
DEFINED = "2026-11-27T00:00:00.000Z"

CONSTITUENCY = "x-accord-constituency"
CONSULTATION = "x-accord-consultation"
EVENT = "x-accord-consultation-event"
WARNING = "x-accord-warning"
NEW_SDOS = (CONSTITUENCY, CONSULTATION, EVENT, WARNING)


def _ext_id(name: str) -> str:
    return f"extension-definition--{uuid.uuid5(NAMESPACE, name)}"


EXTENSIONS: dict[str, str] = {t: _ext_id(t) for t in NEW_SDOS}
COORDINATION_EXT = _ext_id("x-accord-coordination")

_SCHEMAS = {
    CONSTITUENCY: "The networks a partner answers for: 'owner_ref' (identity), 'networks' (IPv4/IPv6 "
                  "prefixes), 'autonomous_systems' (integers), 'domains'. See docs/coordination.md.",
    CONSULTATION: "A consultation from the opener (created_by_ref) to 'addressee_ref': 'asks', 'summary', "
                  "'observed_refs', 'first_seen', 'last_seen', 'ack_hours', 'answer_hours', 'sent' (absent "
                  "while proposed), 'proposed_by'. See docs/coordination.md.",
    EVENT: "One step of a consultation by one party: 'consultation_ref', 'event_type' (send, acknowledge, "
           "answer, message, evidence, close, withdraw), 'finding', 'text', 'evidence_refs'.",
    WARNING: "A warning for partners' administrators: 'priority' (normal, high, top), 'reason', "
             "'subject_ref', 'recipient_refs', 'description'.",
    "x-accord-coordination": "Coordination properties on incident (victim_ref, invited_refs, consultation_refs, "
                             "quorum, threshold), note (incident_ref, role=evidence) and opinion (incident_ref, "
                             "question, subject_ref).",
}


def definitions() -> list[dict[str, Any]]:
    """The project identity and its extension-definition objects (section 7.3), to store once.

    TLP:CLEAR: they describe the format, not anybody's data, and must reach every peer.
    """
    clear = [TLP2_MARKING_IDS[Tlp.CLEAR]]
    identity = {"type": "identity", "spec_version": "2.1", "id": PROJECT_IDENTITY, "created": DEFINED,
                "modified": DEFINED, "name": "Accord project", "identity_class": "organization",
                "object_marking_refs": clear}
    out: list[dict[str, Any]] = [identity]
    for name, schema in _SCHEMAS.items():
        new_sdo = name in NEW_SDOS
        out.append({"type": "extension-definition", "spec_version": "2.1", "id": _ext_id(name),
                    "created_by_ref": PROJECT_IDENTITY, "created": DEFINED, "modified": DEFINED, "name": name,
                    "description": schema, "schema": schema, "version": "1.0.0",
                    "extension_types": ["new-sdo" if new_sdo else "property-extension"],
                    "object_marking_refs": clear})
    return out


def stable_id(type_: str, *parts: str) -> str:
    return f"{type_}--{uuid.uuid5(NAMESPACE, '|'.join((type_, *parts)))}"


def new_id(type_: str) -> str:
    return f"{type_}--{uuid.uuid4()}"


def ts(micros: int) -> str:
    return micros_to_timestamp(micros)


def micros(obj: Mapping[str, Any], name: str) -> int:
    try:
        return to_micros(obj[name])
    except (KeyError, BadTimestamp) as exc:
        raise InvalidInput(f"{obj.get('id')}: bad or missing {name!r} ({exc})") from None


def sdo(type_: str, object_id: str, by: str, created: int, modified: int, markings: Sequence[str],
        **props: Any) -> dict[str, Any]:
    """A new-SDO of the project, with its extension named as STIX 2.1 section 7.3 requires."""
    obj: dict[str, Any] = {"type": type_, "spec_version": "2.1", "id": object_id, "created": ts(created),
                           "modified": ts(modified), "created_by_ref": by}
    if markings:
        obj["object_marking_refs"] = list(markings)
    obj.update({k: v for k, v in props.items() if v not in (None, [], "")})
    obj["extensions"] = {EXTENSIONS[type_]: {"extension_type": "new-sdo"}}
    return obj


def with_coordination(obj: dict[str, Any], **props: Any) -> dict[str, Any]:
    """Attach the coordination property extension to a standard object."""
    obj.setdefault("extensions", {})[COORDINATION_EXT] = {
        "extension_type": "property-extension", **{k: v for k, v in props.items() if v not in (None, [], "")}}
    return obj


def coordination(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    ext = obj.get("extensions", {}).get(COORDINATION_EXT)
    return ext if isinstance(ext, dict) else None


# --- constituencies -------------------------------------------------------------------------------

def constituency(org: str, name: str, decl: Declaration, created: int, modified: int,
                 markings: Sequence[str]) -> dict[str, Any]:
    return sdo(CONSTITUENCY, stable_id(CONSTITUENCY, org), org, created, modified, markings, name=name,
               owner_ref=org, networks=[str(n) for n in decl.networks], autonomous_systems=list(decl.asns),
               domains=list(decl.domains))


def declaration(obj: Mapping[str, Any], owner: str) -> Declaration:
    """A declaration as stored; it speaks for ``owner`` (the organisation that stored it) only."""
    return Declaration(owner, str(obj.get("name", owner)),
                       tuple(parse_network(n) for n in obj.get("networks", ())),
                       tuple(parse_asn(a) for a in obj.get("autonomous_systems", ())),
                       tuple(normalise_domain(d) for d in obj.get("domains", ())))


# --- consultations --------------------------------------------------------------------------------

def send_event(obj: Mapping[str, Any]) -> Event | None:
    """The opener's SEND, carried by the consultation object itself once it is sent."""
    if "sent" not in obj:
        return None
    return Event(f"{obj['id']}#send", Kind.SEND, str(obj["created_by_ref"]), micros(obj, "sent"))


def event(consultation_id: str, e: Event, markings: Sequence[str]) -> dict[str, Any]:
    return sdo(EVENT, e.id, e.by, e.at, e.at, markings, consultation_ref=consultation_id, event_type=e.kind.value,
               finding=e.finding.value if e.finding else None, text=e.text, evidence_refs=list(e.refs))


def parse_event(obj: Mapping[str, Any]) -> Event:
    try:
        kind = Kind(obj["event_type"])
        finding = Finding(obj["finding"]) if "finding" in obj else None
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"{obj.get('id')}: bad consultation event ({exc})") from None
    return Event(str(obj["id"]), kind, str(obj.get("created_by_ref", "")), micros(obj, "created"), finding,
                 str(obj.get("text", "")), tuple(obj.get("evidence_refs", ())))


def asks(values: Sequence[str]) -> tuple[Ask, ...]:
    try:
        return tuple(Ask(v) for v in values)
    except ValueError as exc:
        raise InvalidInput(f"{exc}; asks are {', '.join(a.value for a in Ask)}") from None


# --- incidents, evidence and assessments ----------------------------------------------------------

def opinion(org: str, incident_id: str, a: Assessment, created: int, explanation: str,
            markings: Sequence[str]) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "opinion", "spec_version": "2.1", "id": a.id, "created": ts(created),
                           "modified": ts(a.at), "created_by_ref": org, "opinion": a.stance.stix,
                           "confidence": a.confidence, "object_refs": [incident_id, a.subject]}
    if explanation:
        obj["explanation"] = explanation
    if markings:
        obj["object_marking_refs"] = list(markings)
    return with_coordination(obj, incident_ref=incident_id, question=a.question.value, subject_ref=a.subject)


def assessment(obj: Mapping[str, Any], owner: str) -> Assessment | None:
    """The assessment an opinion carries, or None when it is not a coordination assessment."""
    ext = coordination(obj)
    if ext is None or "question" not in ext:
        return None
    try:
        return Assessment(owner, Question(ext["question"]), str(ext["subject_ref"]), Stance.parse(obj["opinion"]),
                          int(obj.get("confidence", 0)), micros(obj, "modified"), str(obj["id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"{obj.get('id')}: bad assessment ({exc})") from None
