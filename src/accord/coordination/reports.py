"""Reports from the shared history: the norms report, the cooperation record, the warnings.

Each is computed by the requester's node from the objects the requester may read, with the same pure
functions everywhere, so two partners holding the same objects print the same figures, and no partner
has a say over its own record beyond the steps it actually took.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.coordination import consultations, incidents, stix
from accord.coordination.workspace import Workspace
from accord.domain.coordination.record import Record, cooperation_record
from accord.domain.errors import InvalidInput
from accord.stix.timestamps import BadTimestamp, now_micros, to_micros


def parse_time(text: str) -> int:
    """A STIX timestamp (``2026-11-01T00:00:00Z``) or a date (``2026-11-01``) as microseconds."""
    try:
        return to_micros(text if "T" in text else f"{text}T00:00:00Z")
    except BadTimestamp as exc:
        raise InvalidInput(f"--since: {exc}") from None


@dataclass(frozen=True, slots=True)
class NormsEntry:
    incident: incidents.IncidentView
    consultations: tuple[consultations.View, ...]


@dataclass(frozen=True, slots=True)
class NormsReport:
    since: int
    incidents: tuple[NormsEntry, ...]
    sightings: tuple[dict[str, Any], ...]  # protected-sector warnings about sightings since ``since``


def norms_report(ws: Workspace, since: int, now: int | None = None) -> NormsReport:
    """Incidents against protected sectors opened since ``since``, their attribution state and the
    consultations linked to them with how they were answered; and flagged sightings."""
    at = now or now_micros()
    views = {v.consultation.id: v for v in consultations.list_all(ws, at)}
    entries = [NormsEntry(i, tuple(views[c] for c in i.consultations if c in views))
               for i in incidents.list_all(ws) if i.norms is not None and i.created >= since]
    sightings = tuple(w for w in warnings(ws) if w.get("reason") == "protected-sector"
                      and str(w.get("subject_ref", "")).startswith("sighting--") and stix.micros(w, "created") >= since)
    return NormsReport(since, tuple(sorted(entries, key=lambda e: e.incident.created)), sightings)


def record(ws: Workspace, now: int | None = None) -> dict[str, Record]:
    """The cooperation record of every partner on the node, from visible consultations and incidents."""
    at = now or now_micros()
    evidence: dict[str, int] = {}
    for incident in incidents.list_all(ws):
        for contribution in incident.contributions:
            evidence[contribution.org] = evidence.get(contribution.org, 0) + len(contribution.refs)
    return cooperation_record((v.consultation for v in consultations.list_all(ws, at)), at, evidence,
                              [o.identity_id for o in ws.orgs.values()])


_PRIORITY = {"top": 0, "high": 1, "normal": 2}


def warnings(ws: Workspace) -> list[dict[str, Any]]:
    """Visible warnings, most urgent and then most recent first."""
    found = [s.obj for s in ws.read(stix.WARNING)]
    return sorted(found, key=lambda w: (_PRIORITY.get(str(w.get("priority")), 3), -stix.micros(w, "created")))
