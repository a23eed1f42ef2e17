"""Decay of indicators: a score that falls with age and rises again when the indicator is sighted.

The model is MISP's decaying of indicators (MISP project, "Decaying of Indicators", the polynomial
model): an indicator starts at a *base score* and loses it along

    score(t) = base * (1 - (t / lifetime) ** (1 / speed))      for 0 <= t < lifetime, 0 after

where ``t`` is the time since the indicator was last *confirmed*: its ``valid_from`` (or ``created``),
or the latest sighting of it (STIX 2.1 section 5.7, ``sighting_of_ref``), whichever is later, so a
sighting restarts the clock. A ``speed`` of 1 is a straight line; above 1 the score falls fast at
first and slowly later; below 1 it holds near the base and falls late. Below ``threshold`` an
indicator is *decayed*: it leaves the sensor exports and the indicator set of ``accord match``, as
one past its ``valid_until`` does.

The base score is what the producer said of the indicator, on STIX's 0-100 scale: OpenCTI's score
(``x_opencti_score``, or ``score`` in its property extension), else the STIX ``confidence``
(section 3.2), else the collection's default base. docs/lists.md has a worked example.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.domain.errors import InvalidInput
from accord.stix.timestamps import BadTimestamp, to_micros

OPENCTI_EXTENSION = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"
"""OpenCTI's property extension (OpenCTI-Platform/client-python, ``get_attribute_in_extension``)."""

MICROS = 1_000_000
_DAY = 86_400
_DURATION = re.compile(r"(\d{1,6})([hdw])\Z")
_UNIT = {"h": 3600, "d": _DAY, "w": 7 * _DAY}
MAX_LIFETIME = 10 * 366 * _DAY


def parse_duration(text: str) -> int:
    """``12h``, ``30d`` or ``4w`` in seconds."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None or int(found.group(1)) == 0:
        raise InvalidInput(f"{text!r} is not a duration such as 12h, 30d or 4w")
    return int(found.group(1)) * _UNIT[found.group(2)]


def show_duration(seconds: int) -> str:
    for unit, size in (("w", 7 * _DAY), ("d", _DAY), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class DecayModel:
    """A collection's decay parameters: lifetime in seconds, speed, threshold and default base (0-100)."""

    lifetime: int
    speed: float
    threshold: float
    base: int = 50

    def __post_init__(self) -> None:
        if not 3600 <= self.lifetime <= MAX_LIFETIME:
            raise InvalidInput("the lifetime must be between 1 hour and 10 years")
        if not 0.01 <= self.speed <= 100:
            raise InvalidInput("the decay speed must be between 0.01 and 100")
        if not 0 <= self.threshold <= 100:
            raise InvalidInput("the threshold must be between 0 and 100")
        if not 0 <= self.base <= 100:
            raise InvalidInput("the base score must be between 0 and 100")

    def score(self, base: float, age_seconds: float) -> float:
        """MISP's polynomial decay of ``base`` after ``age_seconds`` (a future reference counts as 0)."""
        if age_seconds <= 0:
            return float(base)
        if age_seconds >= self.lifetime:
            return 0.0
        decay: float = (age_seconds / self.lifetime) ** (1.0 / self.speed)
        return float(base) * (1.0 - decay)


def decay_model(text: str) -> DecayModel:
    """``LIFETIME,SPEED,THRESHOLD[,BASE]`` as the command line gives a model: ``30d,2,30``."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (3, 4):
        raise InvalidInput(f"{text!r} is not LIFETIME,SPEED,THRESHOLD[,BASE] (e.g. 30d,2,30)")
    try:
        speed, threshold = float(parts[1]), float(parts[2])
        base = int(parts[3]) if len(parts) == 4 else 50
    except ValueError:
        raise InvalidInput(f"{text!r}: speed and threshold are numbers, the base an integer") from None
    return DecayModel(parse_duration(parts[0]), speed, threshold, base)


def _score_value(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        return None
    return float(value)


def base_score(indicator: Mapping[str, Any], default: int) -> float:
    """OpenCTI's score, else the STIX confidence, else ``default``."""
    extension = indicator.get("extensions")
    inner = extension.get(OPENCTI_EXTENSION) if isinstance(extension, Mapping) else None
    for value in (indicator.get("x_opencti_score"), inner.get("score") if isinstance(inner, Mapping) else None,
                  indicator.get("confidence")):
        found = _score_value(value)
        if found is not None:
            return found
    return float(default)


def _micros(value: object) -> int | None:
    try:
        return to_micros(value) if isinstance(value, str) else None
    except BadTimestamp:
        return None


def _first(obj: Mapping[str, Any], *names: str) -> int | None:
    """The first of the named timestamps that the object has and that parses."""
    for name in names:
        found = _micros(obj.get(name))
        if found is not None:
            return found
    return None


def sighted_at(sightings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The latest time (microseconds) each indicator was sighted: a sighting's ``last_seen``, else its
    ``first_seen``, else when it was ``created`` (STIX 2.1 section 5.7)."""
    latest: dict[str, int] = {}
    for s in sightings:
        ref = s.get("sighting_of_ref")
        if s.get("type") != "sighting" or not isinstance(ref, str) or s.get("revoked"):
            continue
        at = _first(s, "last_seen", "first_seen", "created")
        if at is not None and at > latest.get(ref, -1):
            latest[ref] = at
    return latest


def confirmed_at(indicator: Mapping[str, Any], sighted: int | None) -> int | None:
    """When the indicator was last confirmed: its valid_from (else created), or a later sighting."""
    start = _first(indicator, "valid_from", "created")
    if start is None:
        return sighted
    return start if sighted is None else max(start, sighted)


def indicator_score(model: DecayModel, indicator: Mapping[str, Any], sighted: int | None, now: int) -> float:
    at = confirmed_at(indicator, sighted)
    age = 0.0 if at is None else (now - at) / MICROS
    return model.score(base_score(indicator, model.base), age)


def is_expired(indicator: Mapping[str, Any], now: int) -> bool:
    until = _micros(indicator.get("valid_until"))
    return until is not None and until <= now


def is_kept(model: DecayModel | None, indicator: Mapping[str, Any], sighted: int | None, now: int) -> bool:
    """Not past ``valid_until`` and, under ``model``, scoring at least its threshold."""
    if is_expired(indicator, now):
        return False
    return model is None or indicator_score(model, indicator, sighted, now) >= model.threshold


def fresh(objects: Iterable[Mapping[str, Any]], model: DecayModel | None, now: int) -> list[Mapping[str, Any]]:
    """The indicators among ``objects`` that are not past ``valid_until`` and, under ``model``, score at
    least its threshold; sightings among ``objects`` refresh the indicators they name. Objects of
    other types are left out; without a model only ``valid_until`` applies."""
    items = list(objects)
    sighted = sighted_at(o for o in items if o.get("type") == "sighting")
    return [obj for obj in items
            if obj.get("type") == "indicator" and is_kept(model, obj, sighted.get(str(obj.get("id"))), now)]
