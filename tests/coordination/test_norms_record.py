"""Protected-sector norms and the cooperation record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.coordination import consultation as cm
from accord.domain.coordination.consultation import HOUR, Event, Finding, Kind
from accord.domain.coordination.norms import DEFAULT_PROTECTED, Priority, flag, protected_hits, protected_set
from accord.domain.coordination.record import cooperation_record
from accord.domain.errors import InvalidInput

A, B, C = "identity--a", "identity--b", "identity--c"
T0 = 1_800_000_000_000_000


def test_protected_sectors_and_variants() -> None:
    assert protected_hits(["health-care", "retail"]) == ("healthcare",)
    assert protected_hits(["Emergency Services", "water", "energy"]) == ("energy", "government-emergency-services",
                                                                          "water")
    assert protected_hits(["retail", "financial-services"]) == ()
    found = flag("incident--1", "identity--h", ["healthcare"])
    assert found is not None and found.priority is Priority.TOP and found.sectors == ("healthcare",)
    assert flag("incident--1", "identity--r", ["retail"]) is None
    assert flag("incident--1", "identity--r", ["retail"], protected_set(["retail"])) is not None


def test_configured_list_must_use_the_stix_vocabulary() -> None:
    assert protected_set(["health-care", "dams"]) == {"healthcare", "dams"}
    assert protected_set(DEFAULT_PROTECTED) == DEFAULT_PROTECTED
    with pytest.raises(InvalidInput, match="bakeries"):
        protected_set(["bakeries"])


def consultation(n: int, addressee: str, ack_after: float | None, answer_after: float | None,
                 evidence: int = 0) -> cm.Consultation:
    c = cm.new(f"x-accord-consultation--{n}", A, addressee, T0, 24, 72)
    c = cm.step(c, Event(f"e--{n}-0", Kind.SEND, A, T0))
    if ack_after is not None:
        c = cm.step(c, Event(f"e--{n}-1", Kind.ACKNOWLEDGE, addressee, T0 + int(ack_after * HOUR)))
        if evidence:
            c = cm.step(c, Event(f"e--{n}-2", Kind.EVIDENCE, addressee, T0 + int(ack_after * HOUR),
                                 refs=tuple(f"sighting--{i}" for i in range(evidence))))
    if answer_after is not None:
        c = cm.step(c, Event(f"e--{n}-3", Kind.ANSWER, addressee, T0 + int(answer_after * HOUR), Finding.BENIGN))
    return c


def test_record_counts_medians_and_missed_deadlines() -> None:
    history = [consultation(1, B, 2, 10, evidence=3), consultation(2, B, 4, 80), consultation(3, B, 30, None),
               consultation(4, C, None, None), cm.new("x-accord-consultation--5", A, C, T0, 24, 72)]
    records = cooperation_record(history, T0 + 100 * HOUR, {C: 2}, orgs=["identity--idle"])
    b, c, a = records[B], records[C], records[A]
    assert (b.received, b.acknowledged, b.answered) == (3, 3, 2)
    assert b.median_ack_micros == 4 * HOUR and b.median_answer_micros == 45 * HOUR
    assert b.deadlines_missed == 3  # answer of #2, ack and answer of #3
    assert b.evidence == 3
    assert (c.received, c.acknowledged, c.median_ack_micros, c.deadlines_missed, c.evidence) == (1, 0, None, 2, 2)
    assert (a.opened, a.received) == (4, 0)
    assert records["identity--idle"].received == 0
    early = cooperation_record(history, T0 + HOUR)
    assert early[C].deadlines_missed == 0  # not due yet


@given(st.lists(st.tuples(st.sampled_from([B, C]), st.one_of(st.none(), st.integers(0, 50)),
                          st.one_of(st.none(), st.integers(0, 100)), st.integers(0, 3)), max_size=8),
       st.integers(0, 200))
def test_record_totals_match_the_history(rows: list[tuple[str, int | None, int | None, int]], hours_now: int) -> None:
    history = [consultation(n, to, ack, (max(ack, answer) if ack is not None and answer is not None else None),
                            evidence if ack is not None else 0)
               for n, (to, ack, answer, evidence) in enumerate(rows)]
    records = cooperation_record(history, T0 + hours_now * HOUR)
    for org in (B, C):
        mine = [c for c in history if c.addressee == org]
        if not mine:
            continue
        r = records[org]
        assert r.received == len(mine)
        assert r.acknowledged == sum(c.acknowledged is not None for c in mine) >= r.answered
        assert r.answered == sum(c.answered is not None for c in mine)
        assert 0 <= r.deadlines_missed <= 2 * r.received
        assert r.evidence == sum(len(e.refs) for c in mine for e in c.events if e.kind is Kind.EVIDENCE)
    assert (records[A].opened if history else 0) == len(history)
