"""The consultation: a partner asks another about traffic from its network instead of blaming it.

A small state machine. The opener sends (a consultation proposed automatically waits in PROPOSED for
a human to send it), the addressee acknowledges and then answers with a finding from a fixed
vocabulary; either party adds messages and evidence while the consultation is live; the opener closes
it after the answer or withdraws it before. Deadlines (hours after sending, fixed by the agreement
between the two partners and written into the consultation) are checked against a clock: a missed
deadline stays missed even when the step comes later, because the record must show it.

Both parties compute the state from the same set of events, ordered by (time, event id): two events
written concurrently on two nodes therefore land in the same order everywhere, and an event that does
not fit the state it lands on is refused identically on both sides (see :func:`replay`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from accord.domain.coordination.errors import InvalidTransition, NotParty

HOUR = 3_600_000_000  # microseconds: every time here is integer microseconds since the epoch


class State(StrEnum):
    PROPOSED = "proposed"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Kind(StrEnum):
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"
    MESSAGE = "message"
    EVIDENCE = "evidence"
    CLOSE = "close"
    WITHDRAW = "withdraw"


class Ask(StrEnum):
    """What the opener asks the addressee to do."""

    CLARIFY = "clarify"
    STOP = "stop"
    PRESERVE_EVIDENCE = "preserve-evidence"
    ASSIST = "assist"


class Finding(StrEnum):
    """The fixed vocabulary of answers."""

    BENIGN = "benign-or-technical-fault"
    COMPROMISED = "compromised-host-being-handled"
    NOT_OURS = "not-in-our-constituency"
    UNDETERMINED = "unable-to-determine"
    DECLINED = "declined"


class Party(StrEnum):
    OPENER = "opener"
    ADDRESSEE = "addressee"
    EITHER = "either"


# kind -> (who may do it, states it may happen in, the state after it; None = unchanged)
TRANSITIONS: dict[Kind, tuple[Party, frozenset[State], State | None]] = {
    Kind.SEND: (Party.OPENER, frozenset({State.PROPOSED}), State.OPEN),
    Kind.ACKNOWLEDGE: (Party.ADDRESSEE, frozenset({State.OPEN}), State.ACKNOWLEDGED),
    Kind.ANSWER: (Party.ADDRESSEE, frozenset({State.ACKNOWLEDGED}), State.ANSWERED),
    Kind.MESSAGE: (Party.EITHER, frozenset({State.OPEN, State.ACKNOWLEDGED, State.ANSWERED}), None),
    Kind.EVIDENCE: (Party.EITHER, frozenset({State.OPEN, State.ACKNOWLEDGED, State.ANSWERED}), None),
    Kind.CLOSE: (Party.OPENER, frozenset({State.ANSWERED}), State.CLOSED),
    Kind.WITHDRAW: (Party.OPENER, frozenset({State.PROPOSED, State.OPEN, State.ACKNOWLEDGED}), State.WITHDRAWN),
}


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    kind: Kind
    by: str  # identity id of the organisation that wrote it
    at: int
    finding: Finding | None = None
    text: str = ""
    refs: tuple[str, ...] = ()  # evidence: ids of sightings, observed data, notes...


@dataclass(frozen=True, slots=True)
class Consultation:
    """What the opening object says, and the state reached by the events accepted so far."""

    id: str
    opener: str
    addressee: str
    opened: int
    ack_hours: int
    answer_hours: int
    asks: tuple[Ask, ...] = ()
    state: State = State.PROPOSED
    sent: int | None = None
    acknowledged: int | None = None
    answered: int | None = None
    finding: Finding | None = None
    events: tuple[Event, ...] = ()

    @property
    def ack_due(self) -> int | None:
        return None if self.sent is None else self.sent + self.ack_hours * HOUR

    @property
    def answer_due(self) -> int | None:
        return None if self.sent is None else self.sent + self.answer_hours * HOUR

    def party_of(self, org: str) -> Party | None:
        return Party.OPENER if org == self.opener else Party.ADDRESSEE if org == self.addressee else None


def new(consultation_id: str, opener: str, addressee: str, opened: int, ack_hours: int, answer_hours: int,
        asks: Iterable[Ask] = ()) -> Consultation:
    """A proposed consultation; the opener's SEND makes it open."""
    if opener == addressee:
        raise InvalidTransition("a partner cannot open a consultation with itself")
    if not 0 < ack_hours <= answer_hours:
        raise InvalidTransition("deadlines must be positive, and the answer's no earlier than the acknowledgement's")
    return Consultation(consultation_id, opener, addressee, opened, ack_hours, answer_hours, tuple(asks))


def step(c: Consultation, event: Event) -> Consultation:
    """The consultation after ``event``; raises NotParty or InvalidTransition when it does not fit."""
    who, states, after = TRANSITIONS[event.kind]
    party = c.party_of(event.by)
    if party is None:
        raise NotParty(f"{event.by} is not a party to consultation {c.id}")
    if who is not Party.EITHER and party is not who:
        raise NotParty(f"only the {who.value} may {event.kind.value} consultation {c.id}; {event.by} is the "
                       f"{party.value}")
    if c.state not in states:
        raise InvalidTransition(f"cannot {event.kind.value} consultation {c.id} while it is {c.state.value}")
    if (event.kind is Kind.ANSWER) != (event.finding is not None):
        raise InvalidTransition("an answer carries a finding, and only an answer does")
    if c.events and event.at < c.events[-1].at:
        raise InvalidTransition(f"{event.kind.value} at {event.at} is earlier than the last event of {c.id}")
    changed = replace(c, events=(*c.events, event), state=after or c.state)
    if event.kind is Kind.SEND:
        return replace(changed, sent=event.at)
    if event.kind is Kind.ACKNOWLEDGE:
        return replace(changed, acknowledged=event.at)
    if event.kind is Kind.ANSWER:
        return replace(changed, answered=event.at, finding=event.finding)
    return changed


@dataclass(frozen=True, slots=True)
class Replayed:
    consultation: Consultation
    refused: tuple[tuple[Event, str], ...]  # events that did not fit, with the reason


def order_key(event: Event) -> tuple[int, str]:
    """The one order every node applies: time, then event id (ids are unique)."""
    return event.at, event.id


def replay(start: Consultation, events: Iterable[Event]) -> Replayed:
    """Apply events in :func:`order_key` order, keeping the refused ones aside with the reason.

    Refusing instead of failing matters: events arrive from two nodes, and one bad event (out of
    order, or from an organisation that is not the addressee) must not hide the rest of the history.
    """
    c = start
    refused: list[tuple[Event, str]] = []
    for event in sorted(set(events), key=order_key):
        try:
            c = step(c, event)
        except (NotParty, InvalidTransition) as exc:
            refused.append((event, exc.message))
    return Replayed(c, tuple(refused))


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    MET = "met"
    MISSED = "missed"
    VOID = "void"  # not sent yet, or withdrawn before it fell due


@dataclass(frozen=True, slots=True)
class Deadline:
    step: Kind  # ACKNOWLEDGE or ANSWER
    due: int | None
    status: DeadlineStatus
    late_by: int | None = None  # microseconds past due, when missed (so far, if still not done)


def _deadline(c: Consultation, kind: Kind, due: int | None, done: int | None, now: int) -> Deadline:
    if due is None:
        return Deadline(kind, None, DeadlineStatus.VOID)
    if done is not None:
        return Deadline(kind, due, DeadlineStatus.MET) if done <= due else \
            Deadline(kind, due, DeadlineStatus.MISSED, done - due)
    ended = c.events[-1].at if c.state in (State.WITHDRAWN, State.CLOSED) else None
    if ended is not None and ended <= due:
        return Deadline(kind, due, DeadlineStatus.VOID)
    end = ended if ended is not None else now
    return Deadline(kind, due, DeadlineStatus.MISSED, end - due) if end > due else \
        Deadline(kind, due, DeadlineStatus.PENDING)


def deadlines(c: Consultation, now: int) -> tuple[Deadline, Deadline]:
    """The acknowledgement and answer deadlines as of ``now``; missed ones are what escalates."""
    return (_deadline(c, Kind.ACKNOWLEDGE, c.ack_due, c.acknowledged, now),
            _deadline(c, Kind.ANSWER, c.answer_due, c.answered, now))
