"""Coordination views as plain JSON-able dictionaries, with partner names instead of identity ids.

One rendering for every boundary (the CLI's ``--json`` and tables, and HTTP endpoints when they come),
so that the same consultation reads the same wherever it is shown.
"""

from __future__ import annotations

from typing import Any

from accord.coordination import consultations, incidents, reports, sweep
from accord.coordination.workspace import Workspace
from accord.domain.coordination.attribution import Conclusion, admiralty, estimative
from accord.domain.coordination.constituency import Answer, Declaration
from accord.domain.coordination.record import Record
from accord.stix.timestamps import micros_to_timestamp

HOUR = 3_600_000_000


def ts(micros: int | None) -> str:
    """A STIX timestamp to the second (what a person reads), or "" for no time."""
    return "" if micros is None else micros_to_timestamp(micros)[:19] + "Z"


def hours(micros: int | None) -> float | None:
    return None if micros is None else round(micros / HOUR, 2)


def consultation(ws: Workspace, v: consultations.View) -> dict[str, Any]:
    c = v.consultation
    return {"id": c.id, "state": c.state.value, "opener": ws.name(c.opener), "addressee": ws.name(c.addressee),
            "asks": [a.value for a in c.asks], "summary": v.summary, "first_seen": v.seen[0], "last_seen": v.seen[1],
            "observed_refs": list(v.observed_refs),
            "sent": ts(c.sent), "finding": c.finding.value if c.finding else None, "proposed_by": v.proposed_by,
            "deadlines": [{"step": d.step.value, "due": ts(d.due), "status": d.status.value} for d in v.deadlines],
            "events": [{"id": e.id, "kind": e.kind.value, "by": ws.name(e.by), "at": ts(e.at), "text": e.text,
                        "finding": e.finding.value if e.finding else None, "refs": list(e.refs)} for e in c.events],
            "refused": [{"id": e.id, "kind": e.kind.value, "by": e.by, "reason": why} for e, why in v.refused]
            + [{"id": i, "kind": None, "by": None, "reason": why} for i, why in v.malformed]}


def conclusion(ws: Workspace, c: Conclusion) -> dict[str, Any]:
    return {"question": c.question.value, "status": c.status.value, "subject": c.subject and ws.name(c.subject),
            "views": [{"subject": ws.name(v.subject), "supporters": [ws.name(o) for o in v.supporters],
                       "weak_supporters": [ws.name(o) for o in v.weak_supporters],
                       "neutral": [ws.name(o) for o in v.neutral], "dissenters": [ws.name(o) for o in v.dissenters],
                       "strong_dissenters": [ws.name(o) for o in v.strong_dissenters]} for v in c.views],
            "assessments": [{"partner": ws.name(a.org), "subject": ws.name(a.subject), "opinion": a.stance.stix,
                             "confidence": a.confidence, "words": estimative(a.confidence),
                             "admiralty": admiralty(a.confidence)} for a in c.assessments]}


def incident(ws: Workspace, i: incidents.IncidentView) -> dict[str, Any]:
    return {"id": i.id, "name": i.name, "owner": ws.name(i.owner), "created": ts(i.created),
            "victim": i.victim and ws.name(i.victim), "invited": [ws.name(o) for o in i.invited],
            "consultations": list(i.consultations), "quorum": i.rule.quorum, "threshold": i.rule.threshold,
            "protected_sectors": list(i.norms.sectors) if i.norms else [],
            "evidence": [{"partner": ws.name(c.org), "at": ts(c.at), "refs": list(c.refs), "text": c.text}
                         for c in i.contributions],
            "origin": conclusion(ws, i.origin), "responsibility": conclusion(ws, i.responsibility)}


def whois(ws: Workspace, a: Answer) -> dict[str, Any]:
    """The lookup with every claim: the holder(s), and overlapping less specific claims of others."""
    overlaps = set(a.overlapping)
    return {"query": a.query, "kind": a.kind.value, "owner": a.owner and ws.name(a.owner), "disputed": a.disputed,
            "holders": sorted(ws.name(c.org) for c in a.holders),
            "claims": [{"partner": c.name, "entry": c.entry, "role": "overlap" if c in overlaps else "holder"}
                       for c in a.claims]}


def declaration(d: Declaration) -> dict[str, Any]:
    return {"partner": d.name, "networks": [str(n) for n in d.networks], "asns": list(d.asns),
            "domains": list(d.domains)}


def record(ws: Workspace, r: Record) -> dict[str, Any]:
    return {"partner": ws.name(r.org), "received": r.received, "acknowledged": r.acknowledged,
            "answered": r.answered, "median_ack_hours": hours(r.median_ack_micros),
            "median_answer_hours": hours(r.median_answer_micros), "deadlines_missed": r.deadlines_missed,
            "opened": r.opened, "evidence": r.evidence}


def norms(ws: Workspace, r: reports.NormsReport, since: str) -> dict[str, Any]:
    return {"since": since,
            "incidents": [{**incident(ws, e.incident),
                           "consultation_states": [consultation(ws, v) for v in e.consultations]}
                          for e in r.incidents],
            "sightings": [{"id": w["subject_ref"], "description": w.get("description")} for w in r.sightings]}


def swept(ws: Workspace, r: sweep.SweepResult) -> dict[str, Any]:
    return {"proposed": [consultation(ws, v) for v in r.proposed],
            "disputed": [{"address": a, "partners": list(p)} for a, p in r.disputed],
            "deadline_warnings": r.deadline_warnings, "norms_warnings": r.norms_warnings}
