"""The consultation state machine: every (state, step, party) triple, deadlines, and replay."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.coordination import consultation as cm
from accord.domain.coordination.consultation import HOUR, DeadlineStatus, Event, Finding, Kind, State
from accord.domain.coordination.errors import InvalidTransition, NotParty

A, B, C = "identity--a", "identity--b", "identity--c"
T0 = 1_800_000_000_000_000

# The specification, written out by hand: (state, step) -> (who may, state after).
ALLOWED: dict[tuple[State, Kind], tuple[str, State]] = {
    (State.PROPOSED, Kind.SEND): (A, State.OPEN),
    (State.PROPOSED, Kind.WITHDRAW): (A, State.WITHDRAWN),
    (State.OPEN, Kind.ACKNOWLEDGE): (B, State.ACKNOWLEDGED),
    (State.OPEN, Kind.WITHDRAW): (A, State.WITHDRAWN),
    (State.ACKNOWLEDGED, Kind.ANSWER): (B, State.ANSWERED),
    (State.ACKNOWLEDGED, Kind.WITHDRAW): (A, State.WITHDRAWN),
    (State.ANSWERED, Kind.CLOSE): (A, State.CLOSED),
    **{(s, k): ("either", s) for s in (State.OPEN, State.ACKNOWLEDGED, State.ANSWERED)
       for k in (Kind.MESSAGE, Kind.EVIDENCE)},
}
PATHS = {  # how to reach each state from a new consultation
    State.PROPOSED: [],
    State.OPEN: [(Kind.SEND, A)],
    State.ACKNOWLEDGED: [(Kind.SEND, A), (Kind.ACKNOWLEDGE, B)],
    State.ANSWERED: [(Kind.SEND, A), (Kind.ACKNOWLEDGE, B), (Kind.ANSWER, B)],
    State.CLOSED: [(Kind.SEND, A), (Kind.ACKNOWLEDGE, B), (Kind.ANSWER, B), (Kind.CLOSE, A)],
    State.WITHDRAWN: [(Kind.WITHDRAW, A)],
}


def ev(n: int, kind: Kind, by: str, at: int | None = None) -> Event:
    finding = Finding.BENIGN if kind is Kind.ANSWER else None
    return Event(f"x-accord-consultation-event--{n:08d}", kind, by, T0 + n * HOUR if at is None else at, finding)


def start() -> cm.Consultation:
    return cm.new("x-accord-consultation--1", A, B, T0, 24, 72)


def reach(state: State) -> cm.Consultation:
    c = start()
    for n, (kind, by) in enumerate(PATHS[state], 1):
        c = cm.step(c, ev(n, kind, by))
    assert c.state is state
    return c


@pytest.mark.parametrize(("state", "kind", "by"), list(itertools.product(State, Kind, (A, B, C))))
def test_every_state_step_and_party(state: State, kind: Kind, by: str) -> None:
    c = reach(state)
    event = ev(10, kind, by)
    rule = ALLOWED.get((state, kind))
    if by == C:
        with pytest.raises(NotParty, match="not a party"):
            cm.step(c, event)
    elif rule is None:
        with pytest.raises((InvalidTransition, NotParty)):
            cm.step(c, event)
    elif rule[0] not in ("either", by):
        with pytest.raises(NotParty, match="only the"):
            cm.step(c, event)
    else:
        after = cm.step(c, event)
        assert after.state is rule[1] and after.events[-1] == event


def test_answer_needs_a_finding_and_nothing_else_carries_one() -> None:
    c = reach(State.ACKNOWLEDGED)
    with pytest.raises(InvalidTransition, match="finding"):
        cm.step(c, Event("e--1", Kind.ANSWER, B, T0 + 9 * HOUR))
    with pytest.raises(InvalidTransition, match="finding"):
        cm.step(c, Event("e--2", Kind.MESSAGE, B, T0 + 9 * HOUR, Finding.DECLINED))
    answered = cm.step(c, Event("e--3", Kind.ANSWER, B, T0 + 9 * HOUR, Finding.COMPROMISED, "handled"))
    assert answered.finding is Finding.COMPROMISED and answered.answered == T0 + 9 * HOUR


def test_new_refuses_self_consultation_and_bad_deadlines() -> None:
    with pytest.raises(InvalidTransition):
        cm.new("x--1", A, A, T0, 24, 72)
    with pytest.raises(InvalidTransition):
        cm.new("x--1", A, B, T0, 48, 24)
    with pytest.raises(InvalidTransition):
        cm.new("x--1", A, B, T0, 0, 24)


def test_deadlines_met_missed_pending_void() -> None:
    c = start()
    assert {d.status for d in cm.deadlines(c, T0 + 1000 * HOUR)} == {DeadlineStatus.VOID}
    sent = cm.step(c, ev(0, Kind.SEND, A, T0))
    ack, answer = cm.deadlines(sent, T0 + HOUR)
    assert (ack.status, answer.status) == (DeadlineStatus.PENDING, DeadlineStatus.PENDING)
    assert ack.due == T0 + 24 * HOUR and answer.due == T0 + 72 * HOUR
    ack, answer = cm.deadlines(sent, T0 + 30 * HOUR)
    assert ack.status is DeadlineStatus.MISSED and ack.late_by == 6 * HOUR and answer.status is DeadlineStatus.PENDING
    late_ack = cm.step(sent, ev(1, Kind.ACKNOWLEDGE, B, T0 + 25 * HOUR))
    ack, _ = cm.deadlines(late_ack, T0 + 25 * HOUR)
    assert ack.status is DeadlineStatus.MISSED and ack.late_by == HOUR  # stays missed once done late
    answered = cm.step(late_ack, ev(2, Kind.ANSWER, B, T0 + 70 * HOUR))
    assert cm.deadlines(answered, T0 + 999 * HOUR)[1].status is DeadlineStatus.MET
    withdrawn_early = cm.step(sent, ev(1, Kind.WITHDRAW, A, T0 + HOUR))
    assert {d.status for d in cm.deadlines(withdrawn_early, T0 + 999 * HOUR)} == {DeadlineStatus.VOID}
    withdrawn_late = cm.step(sent, ev(1, Kind.WITHDRAW, A, T0 + 48 * HOUR))
    ack, answer = cm.deadlines(withdrawn_late, T0 + 999 * HOUR)
    assert (ack.status, ack.late_by, answer.status) == (DeadlineStatus.MISSED, 24 * HOUR, DeadlineStatus.VOID)


def test_replay_refuses_forged_and_out_of_order_events_but_keeps_the_rest() -> None:
    events = [ev(1, Kind.SEND, A), ev(2, Kind.ANSWER, C), ev(3, Kind.ANSWER, B), ev(4, Kind.ACKNOWLEDGE, B),
              ev(5, Kind.MESSAGE, A)]
    result = cm.replay(start(), reversed(events))
    assert result.consultation.state is State.ACKNOWLEDGED
    assert [e.id for e, _ in result.refused] == [events[1].id, events[2].id]
    assert "not a party" in result.refused[0][1] and "while it is open" in result.refused[1][1]


def test_concurrent_events_resolve_by_time_then_id() -> None:
    """B acknowledges while A withdraws at the same instant: every node applies them in (time, id) order."""
    send = ev(0, Kind.SEND, A, T0)
    ack = Event("e--aaaa", Kind.ACKNOWLEDGE, B, T0 + HOUR)
    withdraw = Event("e--bbbb", Kind.WITHDRAW, A, T0 + HOUR)
    one = cm.replay(start(), [send, ack, withdraw])
    other = cm.replay(start(), [withdraw, send, ack])
    assert one == other
    assert one.consultation.state is State.WITHDRAWN and one.refused == ()


steps = st.lists(st.tuples(st.sampled_from(list(Kind)), st.sampled_from([A, B, C]), st.integers(0, 200)),
                 max_size=12)


@given(steps, st.randoms())
def test_replay_is_order_independent_and_consistent(raw: list[tuple[Kind, str, int]], rnd: object) -> None:
    events = [Event(f"e--{n:04d}", k, by, T0 + hour * HOUR, Finding.DECLINED if k is Kind.ANSWER else None)
              for n, (k, by, hour) in enumerate(raw)]
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    result = cm.replay(start(), events)
    assert result == cm.replay(start(), shuffled)
    c = result.consultation
    assert len(c.events) + len(result.refused) == len(events)
    assert all(e.by in (A, B) for e in c.events)
    kinds = [e.kind for e in c.events]
    assert kinds.count(Kind.SEND) <= 1 and kinds.count(Kind.ACKNOWLEDGE) <= 1 and kinds.count(Kind.ANSWER) <= 1
    if c.answered is not None:
        assert c.acknowledged is not None and c.sent is not None and c.sent <= c.acknowledged <= c.answered
    replayed_state = start()
    for e in c.events:  # the accepted events alone reach the same state step by step
        replayed_state = cm.step(replayed_state, e)
    assert replayed_state == c


@given(steps, st.integers(0, 300))
def test_deadline_status_follows_its_definition(raw: list[tuple[Kind, str, int]], hours_now: int) -> None:
    """Met when done by the due time; missed when done late, or not done and the end (withdrawal,
    closing or now) is past due; void when not sent or ended before falling due; else pending."""
    events = [Event(f"e--{n:04d}", k, by, T0 + hour * HOUR, Finding.DECLINED if k is Kind.ANSWER else None)
              for n, (k, by, hour) in enumerate(raw)]
    c = cm.replay(start(), events).consultation
    now = T0 + hours_now * HOUR
    for d, done, due in zip(cm.deadlines(c, now), (c.acknowledged, c.answered), (c.ack_due, c.answer_due),
                            strict=True):
        assert d.due == due
        if due is None:
            assert d.status is DeadlineStatus.VOID
            continue
        ended = c.events[-1].at if c.state in (State.WITHDRAWN, State.CLOSED) else now
        if done is not None:
            expected = DeadlineStatus.MET if done <= due else DeadlineStatus.MISSED
        elif ended > due:
            expected = DeadlineStatus.MISSED
        else:
            expected = DeadlineStatus.VOID if c.state in (State.WITHDRAWN, State.CLOSED) else DeadlineStatus.PENDING
        assert d.status is expected
        assert (d.late_by is not None) == (d.status is DeadlineStatus.MISSED)
