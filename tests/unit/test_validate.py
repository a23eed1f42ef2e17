"""The hand-written validator against the stix2 library on real and hostile objects."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import orjson
import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2.exceptions import STIXError

from accord.domain.errors import InvalidObject
from accord.stix.timestamps import BadTimestamp, _parts, timestamp_key
from accord.stix.validate import check_object
from tests.conftest import shared_data
from tests.stixgen import indicator


def _stix2_accepts(obj: dict[str, Any]) -> bool:
    try:
        stix2.parse(copy.deepcopy(obj), allow_custom=True, version="2.1")
        return True
    except (STIXError, ValueError, TypeError):
        return False


def _accord_accepts(obj: dict[str, Any]) -> bool:
    try:
        check_object(obj)
        return True
    except InvalidObject:
        return False


def test_every_attack_object_is_accepted_by_both() -> None:
    objects = orjson.loads(shared_data("attack", "ics-attack-18.0.json").read_bytes())["objects"]
    for obj in objects:
        assert _accord_accepts(obj), obj["id"]


BROKEN = [
    {"pattern": None},
    {"id": "indicator--1234"},
    {"id": "malware--00000000-0000-4000-8000-000000000001"},
    {"created": "2026-13-01T00:00:00Z"},
    {"modified": "2025-01-01T00:00:00.000Z"},
    {"spec_version": "2.0"},
    {"confidence": 150},
    {"confidence": True},
    {"created_by_ref": "malware--00000000-0000-4000-8000-000000000001"},
    {"object_marking_refs": ["indicator--00000000-0000-4000-8000-000000000001"]},
    {"labels": "not-a-list"},
    {"external_references": [{"url": "http://x"}]},
    {"revoked": "yes"},
    {"pattern": "[ipv4-addr:value = '1.2.3.4'"},
    {"valid_until": "2020-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("change", BROKEN, ids=[next(iter(c)) + str(i) for i, c in enumerate(BROKEN)])
def test_broken_indicators_are_refused_like_stix2_does(change: dict[str, Any]) -> None:
    obj = indicator(1)
    for k, v in change.items():
        if v is None:
            obj.pop(k)
        else:
            obj[k] = v
    assert not _accord_accepts(obj)
    # The stix2 library lets these through; STIX 2.1 section 3.2 forbids them (modified before
    # created; confidence outside 0-100 or not an integer; labels not a list), and so do we.
    stix2_lax = next(iter(change)) in ("modified", "confidence", "labels")
    assert _stix2_accepts(obj) is stix2_lax


def test_valid_indicator_and_custom_properties_kept() -> None:
    obj = indicator(1, x_acme_score=7, external_references=[{"source_name": "acme", "external_id": "A-1"}])
    checked = check_object(obj)
    assert checked.obj is obj and _stix2_accepts(obj)


def test_reasons_name_the_problem() -> None:
    with pytest.raises(InvalidObject) as info:
        check_object({**indicator(1), "created": "2026-02-29T00:00:00Z"})
    assert "not a leap year" in info.value.reason


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + st_fraction(d.microsecond)),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,12})?Z\Z"),
))
def test_timestamp_fast_path_agrees_with_the_careful_parse(text: str) -> None:
    """``timestamp_key`` checks well-formed strings without int conversions; ``_parts`` is the slow,
    obviously-correct reading. They must agree on every string of the right shape."""
    try:
        slow: str | None = _slow_key(text)
    except BadTimestamp:
        slow = None
    try:
        fast: str | None = timestamp_key(text)
    except BadTimestamp:
        fast = None
    assert fast == slow


def st_fraction(micro: int) -> str:
    return "Z" if micro % 3 == 0 else f".{micro:06d}Z"


def _slow_key(text: str) -> str:
    y, mo, d, h, mi, s, frac = _parts(text)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{frac[:9].ljust(9, '0')}Z"
