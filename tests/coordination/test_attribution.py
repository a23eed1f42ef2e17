"""The attribution rule (quorum, threshold, veto) and the STIX 2.1 Appendix A confidence words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.coordination.attribution import (
    Assessment,
    Question,
    Rule,
    Stance,
    Status,
    admiralty,
    conclude,
    estimative,
    parse_confidence,
)
from accord.domain.errors import InvalidInput

ORIG, R = Question.ORIGIN, Question.RESPONSIBILITY
APT, OTHER = "intrusion-set--1", "intrusion-set--2"


def a(org: str, stance: Stance, confidence: int = 80, subject: str = APT, at: int = 0,
      question: Question = R) -> Assessment:
    return Assessment(f"identity--{org}", question, subject, stance, confidence, at, f"opinion--{org}{at}")


def test_one_partner_is_not_enough_two_are() -> None:
    assert conclude([a("x", Stance.AGREE)], R).status is Status.CONTESTED
    done = conclude([a("x", Stance.AGREE), a("y", Stance.STRONGLY_AGREE)], R)
    assert done.status is Status.CONCLUDED and done.subject == APT
    assert done.views[0].supporters == ("identity--x", "identity--y")


def test_below_threshold_does_not_count_but_is_shown() -> None:
    result = conclude([a("x", Stance.AGREE), a("y", Stance.AGREE, 69)], R)
    assert result.status is Status.CONTESTED
    assert result.views[0].weak_supporters == ("identity--y",)
    assert conclude([a("x", Stance.AGREE), a("y", Stance.AGREE, 70)], R).status is Status.CONCLUDED


def test_a_strong_disagreement_vetoes_and_is_listed() -> None:
    result = conclude([a("x", Stance.AGREE), a("y", Stance.AGREE), a("z", Stance.STRONGLY_DISAGREE, 10)], R)
    assert result.status is Status.CONTESTED and result.subject is None
    assert result.views[0].strong_dissenters == ("identity--z",)
    mild = conclude([a("x", Stance.AGREE), a("y", Stance.AGREE), a("z", Stance.DISAGREE)], R)
    assert mild.status is Status.CONCLUDED and mild.views[0].dissenters == ("identity--z",)


def test_two_subjects_with_quorum_are_contested() -> None:
    result = conclude([a("x", Stance.AGREE), a("y", Stance.AGREE),
                       a("z", Stance.AGREE, subject=OTHER), a("w", Stance.AGREE, subject=OTHER)], R)
    assert result.status is Status.CONTESTED and {v.subject for v in result.views} == {APT, OTHER}


def test_latest_assessment_per_partner_replaces_earlier_and_questions_are_separate() -> None:
    changed = [a("x", Stance.AGREE), a("y", Stance.STRONGLY_DISAGREE, at=1), a("y", Stance.AGREE, at=2)]
    assert conclude(changed, R).status is Status.CONCLUDED
    assert conclude(changed, ORIG).status is Status.NONE
    same_org_twice = [a("x", Stance.AGREE, at=1), a("x", Stance.AGREE, at=2)]
    assert conclude(same_org_twice, R).status is Status.CONTESTED  # one partner, not two
    assert conclude(changed, R, Rule(quorum=3)).status is Status.CONTESTED


def test_rule_settings_are_checked() -> None:
    with pytest.raises(InvalidInput):
        Rule(quorum=0)
    with pytest.raises(InvalidInput):
        Rule(threshold=101)


assessments = st.lists(st.builds(a, st.sampled_from("uvwxyz"), st.sampled_from(list(Stance)), st.integers(0, 100),
                                 st.sampled_from([APT, OTHER]), st.integers(0, 3)), max_size=14)


@given(assessments, st.integers(1, 4), st.integers(0, 100), st.randoms())
def test_rule_properties(items: list[Assessment], quorum: int, threshold: int, rnd: object) -> None:
    rule = Rule(quorum, threshold)
    result = conclude(items, R, rule)
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert conclude(shuffled, R, rule) == result
    latest = {}
    for x in sorted(items, key=lambda x: (x.at, x.id, x.stance, x.confidence)):
        latest[(x.org, x.subject)] = x
    every_view = {(x.org, x.subject) for x in latest.values()}
    shown = {(org, v.subject) for v in result.views for org in
             (*v.supporters, *v.weak_supporters, *v.neutral, *v.dissenters, *v.strong_dissenters)}
    assert shown == every_view  # nobody's view is dropped, dissent included
    if result.status is Status.CONCLUDED:
        backers = {x.org for x in latest.values() if x.subject == result.subject and x.stance >= Stance.AGREE
                   and x.confidence >= threshold}
        assert len(backers) >= quorum
        assert not any(x.subject == result.subject and x.stance is Stance.STRONGLY_DISAGREE for x in latest.values())
        vetoed = [*items, a("veto", Stance.STRONGLY_DISAGREE, 0, result.subject or "", 9)]
        assert conclude(vetoed, R, rule).subject != result.subject


@pytest.mark.parametrize(("value", "wep", "adm"), [
    (0, "Impossible", "5 - Improbable"), (19, "Highly Unlikely/Almost Certainly Not", "5 - Improbable"),
    (20, "Unlikely/Probably Not", "4 - Doubtful"), (50, "Even Chance", "3 - Possibly True"),
    (75, "Likely/Probable", "2 - Probably True"),
    (99, "Highly Likely/Almost Certain", "1 - Confirmed by other sources"),
    (100, "Certain", "1 - Confirmed by other sources")])
def test_confidence_words(value: int, wep: str, adm: str) -> None:
    assert estimative(value) == wep and admiralty(value) == adm


def test_parse_confidence() -> None:
    assert parse_confidence("85") == 85 and parse_confidence("Likely") == 70 and parse_confidence("probably true") == 70
    for bad in ("101", "-1", "sure"):
        with pytest.raises(InvalidInput):
            parse_confidence(bad)
    with pytest.raises(InvalidInput):
        estimative(101)
    assert Stance.parse("strongly-agree") is Stance.STRONGLY_AGREE and Stance.AGREE.stix == "agree"
    with pytest.raises(InvalidInput):
        Stance.parse("maybe")
