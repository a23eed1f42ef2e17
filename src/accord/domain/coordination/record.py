"""The cooperation record: how each partner answers consultations, from the shared history alone.

Every figure is computed from consultations and evidence that both sides hold (signed, once federation
carries them), never from anything a partner states about itself, so nobody can edit their own record.
Medians rather than means: one consultation forgotten over a holiday should not define a partner.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from accord.domain.coordination.consultation import Consultation, DeadlineStatus, Kind, deadlines


@dataclass(frozen=True, slots=True)
class Record:
    org: str
    received: int  # consultations addressed to the partner and sent
    acknowledged: int
    answered: int
    median_ack_micros: int | None
    median_answer_micros: int | None
    deadlines_missed: int
    opened: int  # consultations the partner sent to others
    evidence: int  # evidence items contributed (consultations and incidents)


def _median(values: list[int]) -> int | None:
    return int(statistics.median(values)) if values else None


def cooperation_record(consultations: Iterable[Consultation], now: int,
                       incident_evidence: Mapping[str, int] | None = None,
                       orgs: Iterable[str] = ()) -> dict[str, Record]:
    """One record per partner that took part in anything (and per org in ``orgs``, even idle ones).

    ``incident_evidence`` counts the evidence objects each partner contributed to joint incidents.
    A deadline missed counts against the addressee: only the addressee acknowledges and answers.
    """
    extra = dict(incident_evidence or {})
    everyone = set(orgs) | set(extra)
    acks: dict[str, list[int]] = {}
    answers: dict[str, list[int]] = {}
    received: dict[str, int] = {}
    missed: dict[str, int] = {}
    opened: dict[str, int] = {}
    evidence: dict[str, int] = {}
    for c in consultations:
        everyone.update((c.opener, c.addressee))
        for event in c.events:
            if event.kind is Kind.EVIDENCE:
                evidence[event.by] = evidence.get(event.by, 0) + max(1, len(event.refs))
        if c.sent is None:
            continue
        opened[c.opener] = opened.get(c.opener, 0) + 1
        received[c.addressee] = received.get(c.addressee, 0) + 1
        if c.acknowledged is not None:
            acks.setdefault(c.addressee, []).append(c.acknowledged - c.sent)
        if c.answered is not None:
            answers.setdefault(c.addressee, []).append(c.answered - c.sent)
        late = sum(1 for d in deadlines(c, now) if d.status is DeadlineStatus.MISSED)
        missed[c.addressee] = missed.get(c.addressee, 0) + late
    return {org: Record(org, received.get(org, 0), len(acks.get(org, [])), len(answers.get(org, [])),
                        _median(acks.get(org, [])), _median(answers.get(org, [])), missed.get(org, 0),
                        opened.get(org, 0), evidence.get(org, 0) + extra.get(org, 0))
            for org in sorted(everyone)}
