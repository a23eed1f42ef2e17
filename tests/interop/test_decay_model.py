"""The decay model (accord.domain.decay): MISP's polynomial decay, properties held by Hypothesis."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.decay import (
    OPENCTI_EXTENSION,
    DecayModel,
    base_score,
    fresh,
    indicator_score,
    parse_duration,
    sighted_at,
)
from accord.domain.errors import InvalidInput
from accord.stix.timestamps import micros_to_timestamp

DAY = 86_400
NOW = 1_780_000_000_000_000  # 2026-05-28

models = st.builds(DecayModel, st.integers(3600, 3650 * DAY), st.floats(0.01, 100), st.floats(0, 100),
                   st.integers(0, 100))
bases = st.floats(0, 100)
ages = st.floats(0, 4000 * DAY)


@given(models, bases, ages, ages)
def test_the_score_never_rises_with_age(model: DecayModel, base: float, a: float, b: float) -> None:
    young, old = sorted((a, b))
    assert model.score(base, young) >= model.score(base, old)


@given(models, bases, st.floats(-1e9, 1e12))
def test_the_score_is_bounded_by_zero_and_the_base(model: DecayModel, base: float, age: float) -> None:
    assert 0.0 <= model.score(base, age) <= base


def _indicator(days_old: float, **extra: Any) -> dict[str, Any]:
    start = micros_to_timestamp(NOW - int(days_old * DAY * 1_000_000))
    return {"type": "indicator", "id": "indicator--6c9b4e5e-3c1d-4f7e-9a63-0f6c2b5d8e11", "created": start,
            "valid_from": start, "pattern": "[ipv4-addr:value = '198.51.100.7']", **extra}


def _sighting(days_ago: float, ref: str = "indicator--6c9b4e5e-3c1d-4f7e-9a63-0f6c2b5d8e11") -> dict[str, Any]:
    return {"type": "sighting", "id": "sighting--1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "sighting_of_ref": ref,
            "created": micros_to_timestamp(NOW), "last_seen": micros_to_timestamp(NOW - int(days_ago * DAY * 1e6))}


@given(models, st.floats(0, 3000), st.floats(-30, 3000), st.integers(0, 100))
def test_a_sighting_never_lowers_a_score(model: DecayModel, days_old: float, sighted_days_ago: float,
                                         confidence: int) -> None:
    ind = _indicator(days_old, confidence=confidence)
    before = indicator_score(model, ind, None, NOW)
    after = indicator_score(model, ind, sighted_at([_sighting(sighted_days_ago)])[ind["id"]], NOW)
    assert after >= before
    assert len(fresh([ind, _sighting(sighted_days_ago)], model, NOW)) >= len(fresh([ind], model, NOW))


def test_the_worked_example_of_docs_lists() -> None:
    """docs/lists.md: base 80, lifetime 30 days, speed 2, threshold 30."""
    model = DecayModel(parse_duration("30d"), 2, 30)
    assert model.score(80, 0) == 80
    assert model.score(80, 7.5 * DAY) == pytest.approx(40.0)  # 80 * (1 - 0.25 ** 0.5)
    assert model.score(80, 15 * DAY) == pytest.approx(23.43, abs=0.01)
    assert model.score(80, 30 * DAY) == 0
    ind = _indicator(15, confidence=80)
    assert fresh([ind], model, NOW) == []
    assert fresh([ind, _sighting(2)], model, NOW) == [ind]  # sighted two days ago: 80 * (1 - sqrt(2/30)) = 59.3
    assert indicator_score(model, ind, sighted_at([_sighting(2)])[ind["id"]], NOW) == pytest.approx(59.34, abs=0.01)


def test_the_base_score_comes_from_opencti_then_confidence_then_the_default() -> None:
    assert base_score({"x_opencti_score": 90, "confidence": 10}, 50) == 90
    assert base_score({"extensions": {OPENCTI_EXTENSION: {"score": 70}}, "confidence": 10}, 50) == 70
    assert base_score({"confidence": 10}, 50) == 10
    assert base_score({}, 50) == 50
    assert base_score({"x_opencti_score": True, "confidence": 101}, 50) == 50  # not scores: ignored
    assert base_score({"x_opencti_score": "90", "extensions": "x"}, 40) == 40


def test_valid_until_and_revoked_sightings() -> None:
    model = DecayModel(30 * DAY, 1, 0)
    past = _indicator(1, valid_until=micros_to_timestamp(NOW - 1))
    assert fresh([past], model, NOW) == [] and fresh([past], None, NOW) == []
    assert fresh([_indicator(400)], None, NOW) != []  # without a model only valid_until applies
    revoked = {**_sighting(0), "revoked": True}
    assert sighted_at([revoked, {**_sighting(0), "last_seen": "yesterday", "created": "no"}]) == {}


@pytest.mark.parametrize(("args", "message"), [
    ((60, 1, 10), "lifetime"), ((3650 * DAY * 2, 1, 10), "lifetime"), ((DAY, 0, 10), "speed"),
    ((DAY, 1, 101), "threshold"), ((DAY, 1, 10, -1), "base"),
])
def test_models_out_of_range_are_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        DecayModel(*args)


@pytest.mark.parametrize("text", ["30", "0d", "30m", "d", "-3d", "1000000d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="duration"):
        parse_duration(text)
