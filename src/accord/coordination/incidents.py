"""Joint incidents: evidence from several partners, assessments on two questions, norms escalation.

The incident is a STIX 2.1 ``incident`` (section 4.6) owned by the partner that opened it; its
coordination extension names the victim, the invited partners, linked consultations and the
attribution rule in force. Other partners contribute evidence as ``note`` objects (section 4.12)
whose ``object_refs`` list the incident and the evidence, and record assessments as ``opinion``
objects (section 4.13), one id per (partner, incident, question, subject) so that a revised view is
a new version of the same opinion. Who sees what is the sharing policy's decision: contributions
carry the incident's markings unless the contributor chooses narrower ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accord.coordination import stix
from accord.coordination.workspace import Stored, Workspace, ensure_definitions, markings
from accord.domain.coordination.attribution import Assessment, Conclusion, Question, Rule, Stance, conclude
from accord.domain.coordination.errors import UnknownConsultation
from accord.domain.coordination.norms import NormsFlag, flag
from accord.domain.errors import InvalidInput, NotAllowed, NotFound
from accord.domain.tlp import Tlp
from accord.stix.timestamps import now_micros

_ACTORS = ("intrusion-set", "threat-actor")


@dataclass(frozen=True, slots=True)
class Contribution:
    org: str
    at: int
    refs: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    name: str
    owner: str
    created: int
    victim: str | None
    invited: tuple[str, ...]
    consultations: tuple[str, ...]
    markings: tuple[str, ...]
    rule: Rule
    contributions: tuple[Contribution, ...]
    origin: Conclusion
    responsibility: Conclusion
    norms: NormsFlag | None


def _incident(ws: Workspace, incident_id: str) -> tuple[dict[str, Any], str]:
    found = ws.read("incident", ids=[incident_id]) if incident_id.startswith("incident--") else []
    if not found or stix.coordination(found[0].obj) is None:
        raise NotFound(f"no joint incident {incident_id!r}")
    return found[0].obj, found[0].owner


def protected_warning(ws: Workspace, subject: str, victim: str, sectors: Sequence[str], marking_refs: Sequence[str],
                      at: int) -> dict[str, Any] | None:
    """A top-priority warning to every partner entitled to the subject, when the victim is protected.

    Its id and content depend only on the subject, so writing it again changes nothing.
    """
    hit = flag(subject, victim, sectors, ws.settings.protected)
    if hit is None:
        return None
    return stix.sdo(stix.WARNING, stix.stable_id(stix.WARNING, subject, "protected-sector"), ws.me.identity_id,
                    at, at, marking_refs, priority=hit.priority.label, reason="protected-sector",
                    subject_ref=subject, recipient_refs=ws.entitled(marking_refs),
                    description=f"victim {ws.name(victim)} is in protected sector(s) {', '.join(hit.sectors)}")


def create(ws: Workspace, name: str, description: str = "", victim: str | None = None,
           invited: Sequence[str] = (), consultations: Sequence[str] = (), tlp: Tlp = Tlp.AMBER,
           groups: Sequence[str] = (), now: int | None = None) -> IncidentView:
    at = now or now_micros()
    with ws.refusals("incident.create", name):
        if tlp is Tlp.RED and not groups:
            raise InvalidInput("a TLP:RED incident needs a sharing group naming the partners")
        victim_org = ws.org(victim) if victim else None
        victim_id = victim_org.identity_id if victim_org else None
        sectors = list(victim_org.sectors) if victim_org else []
        invited_ids = sorted({ws.org(i).identity_id for i in invited})
        known = {str(s.obj["id"]) for s in ws.read(stix.CONSULTATION, ids=consultations)} if consultations else set()
        unknown = sorted(set(consultations) - known)
        if unknown:
            raise UnknownConsultation(f"no consultation {unknown[0]!r}")
        ensure_definitions(ws)
        marking_refs = markings(tlp, groups)
        incident_id = stix.new_id("incident")
        obj = {"type": "incident", "spec_version": "2.1", "id": incident_id, "created": stix.ts(at),
               "modified": stix.ts(at), "created_by_ref": ws.me.identity_id, "name": name,
               "object_marking_refs": marking_refs}
        if description:
            obj["description"] = description
        stix.with_coordination(obj, victim_ref=victim_id, victim_sectors=sectors, invited_refs=invited_ids,
                               consultation_refs=list(consultations), quorum=ws.settings.rule.quorum,
                               threshold=ws.settings.rule.threshold)
        warning = protected_warning(ws, incident_id, victim_id, sectors, marking_refs, at) if victim_id else None
        ws.write([obj] if warning is None else [obj, warning])
    return show(ws, incident_id)


def invite(ws: Workspace, incident_id: str, partner: str, now: int | None = None) -> IncidentView:
    """Add a partner to the incident (a new version by its owner)."""
    at = now or now_micros()
    with ws.refusals("incident.invite", incident_id):
        obj, owner = _incident(ws, incident_id)
        if owner != ws.me.identity_id:
            raise NotAllowed("only the partner that opened the incident may invite others")
        ext = dict(stix.coordination(obj) or {})
        ext["invited_refs"] = sorted({*ext.get("invited_refs", []), ws.org(partner).identity_id})
        obj["extensions"][stix.COORDINATION_EXT] = ext
        obj["modified"] = stix.ts(max(at, stix.micros(obj, "modified") + 1))
        ws.write([obj])
    return show(ws, incident_id)


def add_evidence(ws: Workspace, incident_id: str, refs: Sequence[str], text: str = "",
                 tlp: Tlp | None = None, now: int | None = None) -> IncidentView:
    """Contribute evidence (ids of indicators, sightings, observed data, notes) with a comment."""
    at = now or now_micros()
    with ws.refusals("incident.evidence", incident_id):
        obj, _ = _incident(ws, incident_id)
        if not refs:
            raise InvalidInput("name at least one evidence object")
        marking_refs = markings(tlp) if tlp is not None else list(obj.get("object_marking_refs", []))
        note = {"type": "note", "spec_version": "2.1", "id": stix.new_id("note"), "created": stix.ts(at),
                "modified": stix.ts(at), "created_by_ref": ws.me.identity_id,
                "content": text or f"evidence for {obj['name']}", "object_refs": [incident_id, *refs],
                "object_marking_refs": marking_refs}
        ws.write([stix.with_coordination(note, incident_ref=incident_id, role="evidence")])
    return show(ws, incident_id)


def _subject(ws: Workspace, question: Question, text: str) -> str:
    """A partner (origin) or an intrusion set or threat actor (responsibility), by id or by name."""
    if "--" in text:
        return text
    if question is Question.ORIGIN:
        return ws.org(text).identity_id
    wanted = text.strip().lower()
    for s in ws.read(*_ACTORS):
        names = [s.obj.get("name", ""), *s.obj.get("aliases", [])]
        if any(str(n).lower() == wanted for n in names):
            return str(s.obj["id"])
    raise NotFound(f"no intrusion set or threat actor named {text!r} is visible here (give its id)")


def assess(ws: Workspace, incident_id: str, question: Question, subject: str, stance: Stance, confidence: int,
           explanation: str = "", now: int | None = None) -> IncidentView:
    at = now or now_micros()
    with ws.refusals("incident.assess", incident_id):
        obj, _ = _incident(ws, incident_id)
        subject_id = _subject(ws, question, subject)
        if question is Question.RESPONSIBILITY and subject_id.split("--")[0] not in _ACTORS:
            raise InvalidInput("responsibility names an intrusion-set or threat-actor, not " + subject_id)
        opinion_id = stix.stable_id("opinion", ws.me.identity_id, incident_id, question.value, subject_id)
        earlier = ws.read("opinion", ids=[opinion_id])
        created = stix.micros(earlier[0].obj, "created") if earlier else at
        if earlier:
            at = max(at, stix.micros(earlier[0].obj, "modified") + 1)
        a = Assessment(ws.me.identity_id, question, subject_id, stance, confidence, at, opinion_id)
        ws.write([stix.opinion(ws.me.identity_id, incident_id, a, created, explanation,
                               obj.get("object_marking_refs", []))])
    return show(ws, incident_id)


def _view(ws: Workspace, obj: dict[str, Any], owner: str, notes: list[Stored], opinions: list[Stored]) -> IncidentView:
    ext = stix.coordination(obj) or {}
    rule = Rule(int(ext.get("quorum", 2)), int(ext.get("threshold", 70)))
    contributions = []
    for s in notes:
        n_ext = stix.coordination(s.obj)
        if n_ext is not None and n_ext.get("incident_ref") == obj["id"]:
            contributions.append(Contribution(s.owner, stix.micros(s.obj, "created"),
                                              tuple(r for r in s.obj["object_refs"] if r != obj["id"]),
                                              str(s.obj.get("content", ""))))
    found = [(stix.coordination(s.obj) or {}, s) for s in opinions]
    assessments = [a for ext_, s in found if ext_.get("incident_ref") == obj["id"]
                   for a in [stix.assessment(s.obj, s.owner)] if a is not None]
    victim = ext.get("victim_ref")
    sectors = [str(x) for x in ext.get("victim_sectors", [])]
    return IncidentView(str(obj["id"]), str(obj["name"]), owner, stix.micros(obj, "created"), victim,
                        tuple(ext.get("invited_refs", ())), tuple(ext.get("consultation_refs", ())),
                        tuple(obj.get("object_marking_refs", ())), rule,
                        tuple(sorted(contributions, key=lambda c: (c.at, c.org))),
                        conclude(assessments, Question.ORIGIN, rule),
                        conclude(assessments, Question.RESPONSIBILITY, rule),
                        flag(str(obj["id"]), victim, sectors, ws.settings.protected) if victim else None)


def show(ws: Workspace, incident_id: str) -> IncidentView:
    with ws.refusals("incident.show", incident_id):
        obj, owner = _incident(ws, incident_id)
        return _view(ws, obj, owner, ws.read("note"), ws.read("opinion"))


def list_all(ws: Workspace) -> list[IncidentView]:
    notes, opinions = ws.read("note"), ws.read("opinion")
    return [_view(ws, s.obj, s.owner, notes, opinions) for s in ws.read("incident")
            if stix.coordination(s.obj) is not None]
