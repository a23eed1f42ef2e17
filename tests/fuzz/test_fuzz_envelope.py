"""Hostile Add Objects bodies (TAXII 2.1 section 5.5): never a 500, nothing stored changes.

Each request is either refused with a TAXII error (400 for a body that is not JSON, 413 for one over
the API root's limit, 422 for JSON that is not an envelope) and leaves the objects and the audit log
exactly as they were, or accepted as an envelope (202) whose status accounts for every object, with
the store grown by exactly the objects it reports added and one audit record.
"""

from __future__ import annotations

import json
import os
from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from accord.domain.errors import InvalidInput
from accord.stix.envelope import loads
from tests.fuzz.conftest import BASE, FUZZ, SEEDED, Target, assert_taxii_error
from tests.stixgen import indicator

pytestmark = pytest.mark.slow

_EDGES = [0, -1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63), 1e308, -1e308, 5e-324]


def _json_values(low: int, high: int) -> st.SearchStrategy[Any]:
    numbers = st.one_of(st.integers(min_value=low, max_value=high), st.floats(allow_nan=False, allow_infinity=False),
                        st.sampled_from(_EDGES))
    scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=40))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


# JSON values of every type, integers beyond the 64-bit edges included (JSON_64: within them)
JSON_VALUES = _json_values(-(2**64), 2**64)
JSON_64 = _json_values(-(2**63), 2**64 - 1)


def _dumps(value: Any) -> bytes:
    """JSON text of ``value``, integers beyond 64 bits included (orjson refuses to write them)."""
    return json.dumps(value, ensure_ascii=False).encode()


def _post(target: Target, body: bytes) -> Any:
    return target.client.post(BASE + "/objects/", content=body, headers=target.write_headers())


def _judged(target: Target, body: bytes) -> None:
    """What the node must answer: 400 when the body is not JSON (or not JSON the node can keep exactly,
    ``accord.stix.envelope.loads``), 422 when it is not an envelope, else 202 and a status."""
    try:
        parsed = loads(body)
    except InvalidInput:
        _refused_and_unchanged(target, body, (400,))
        return
    if isinstance(parsed, dict) and isinstance(parsed.get("objects"), list):
        _accepted_consistently(target, body)
    else:
        _refused_and_unchanged(target, body, (422,))


def _refused_and_unchanged(target: Target, body: bytes, allowed: tuple[int, ...] = (400, 413, 422)) -> None:
    before = target.snapshot()
    r = _post(target, body)
    assert_taxii_error(r, allowed)
    assert target.snapshot() == before


def _accepted_consistently(target: Target, body: bytes) -> dict[str, Any]:
    """202 with a status that accounts for every object; the store grew by the objects added."""
    before = target.snapshot()
    r = _post(target, body)
    assert r.status_code == 202, r.text[:500]
    status: dict[str, Any] = r.json()
    assert status["success_count"] + status["failure_count"] == status["total_count"]
    added = sum(1 for s in status.get("successes", []) if "message" not in s)
    after = target.snapshot()
    assert after.objects - before.objects <= added
    assert after.audit_records == before.audit_records + 1
    return status


# --- bodies that are not JSON ------------------------------------------------------------------

@FUZZ
@given(body=st.binary(max_size=3000))
@example(body=b"\xff\xfe\x00")
@example(body=b'{"objects": [NaN]}')
@example(body=b'{"objects": [Infinity, -Infinity]}')
@example(body=b'{"objects": [1e400]}')
@example(body=b'{"objects": ["\\ud800"]}')  # a lone surrogate, escaped
@example(body=b'{"objects": ["\xed\xa0\x80"]}')  # a lone surrogate, encoded
@example(body=b'{"objects": ["\xc0\xaf"]}')  # an overlong encoding
@example(body=b'{"objects": [-9223372036854775809]}')
@example(body=b'{"objects": [18446744073709551616]}')
def test_arbitrary_bytes(target: Target, body: bytes) -> None:
    _judged(target, body)


def _nest(depth: int, kind: str) -> bytes:
    opening, closing = {"list": (b"[", b"]"), "object": (b'{"a":', b"}"), "objects": (b'{"objects":[', b"]}")}[kind]
    return opening * depth + b"1" + closing * depth


@FUZZ
@given(depth=st.integers(min_value=1, max_value=20_000), kind=st.sampled_from(["list", "object", "objects"]),
       truncate=st.booleans())
@example(depth=1025, kind="objects", truncate=False)
@example(depth=100_000, kind="list", truncate=False)
def test_deep_nesting(target: Target, depth: int, kind: str, truncate: bool) -> None:
    body = _nest(depth, kind)
    if truncate:
        body = body[: len(body) // 2]
    _judged(target, body)  # orjson stops at 1,024 levels


# --- envelopes of hostile objects --------------------------------------------------------------

_BASES: list[dict[str, Any]] = [
    indicator(100),
    {"type": "relationship", "spec_version": "2.1", "id": "relationship--7d3c5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "relationship_type": "uses",
     "source_ref": SEEDED[0]["id"], "target_ref": SEEDED[1]["id"]},
    {"type": "sighting", "spec_version": "2.1", "id": "sighting--0c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
     "sighting_of_ref": SEEDED[0]["id"], "count": 3, "first_seen": "2026-01-01T00:00:00Z",
     "last_seen": "2026-01-02T00:00:00Z"},
    {"type": "opinion", "spec_version": "2.1", "id": "opinion--1c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "opinion": "agree",
     "object_refs": [SEEDED[0]["id"]]},
    {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--2c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
     "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z", "number_observed": 1,
     "object_refs": ["ipv4-addr--3c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f"]},
    {"type": "malware", "spec_version": "2.1", "id": "malware--4c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "is_family": True,
     "name": "x", "labels": ["a"], "confidence": 50, "external_references": [{"source_name": "x"}],
     "granular_markings": [{"selectors": ["name"], "lang": "en"}], "extensions": {"x-ext": {"a": 1}}},
    {"type": "location", "spec_version": "2.1", "id": "location--5c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "country": "DE"},
    {"type": "report", "spec_version": "2.1", "id": "report--6c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "r",
     "published": "2026-01-01T00:00:00Z", "object_refs": [SEEDED[0]["id"]]},
    {"type": "marking-definition", "spec_version": "2.1",
     "id": "marking-definition--7c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f", "created": "2026-01-01T00:00:00.000Z",
     "definition_type": "statement", "definition": {"statement": "x"}},
    {"type": "language-content", "spec_version": "2.1", "id": "language-content--8c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "object_ref": SEEDED[0]["id"],
     "object_modified": "2026-01-01T00:00:00.000Z", "contents": {"de": {"name": "x"}}},
    {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--9c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "value": "198.51.100.1"},
    {"type": "x-custom-thing", "spec_version": "2.1", "id": "x-custom-thing--ac3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "x_value": 1},
]


@st.composite
def hostile_objects(draw: st.DrawFn) -> Any:
    """A valid object of some type with one to three properties (existing or new) set to values of the
    wrong type, or a non-object where an object belongs."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    obj = dict(draw(st.sampled_from(_BASES)))
    names = sorted(obj) + ["object_marking_refs", "granular_markings", "external_references", "extensions",
                           "confidence", "revoked", "labels", "lang", "created_by_ref", "valid_until", "count",
                           "number_observed", "objects", "opinion", "is_family", "latitude", "pattern_type"]
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.one_of(st.sampled_from(names), st.text(max_size=8)))
        if draw(st.integers(0, 5)) == 0:
            obj.pop(name, None)
        else:
            obj[name] = draw(JSON_VALUES)
    return obj


@FUZZ
@given(objects=st.lists(hostile_objects(), min_size=1, max_size=5))
@example(objects=[{**_BASES[0], "object_marking_refs": None}])
@example(objects=[{**_BASES[3], "opinion": ["agree"]}])
def test_wrong_types_everywhere(target: Target, objects: list[Any]) -> None:
    _judged(target, _dumps({"objects": objects}))


@FUZZ
@given(value=JSON_64)
def test_duplicate_keys_count_as_their_last_value(target: Target, value: Any) -> None:
    """RFC 8259 leaves duplicate names to the parser; the node judges and stores the last one, the same
    bytes it then serves, so no reader sees other content than the one validated."""
    obj = indicator(200)
    dup = orjson.dumps(obj)[:-1] + b',"name":' + _dumps(value) + b"}"
    body = b'{"objects":"not a list","objects":[' + dup + b"]}"
    status = _accepted_consistently(target, body)
    stored = target.client.get(BASE + "/objects/", params={"match[id]": obj["id"]}, headers=target.read_headers())
    if status["success_count"]:
        assert stored.json()["objects"] == [{**obj, "name": value}]
    else:
        assert stored.status_code == 200 and "objects" not in stored.json()


@FUZZ
@given(value=JSON_VALUES)
@example(value=-(2**63) - 1)
@example(value=[2**64])
@example(value={"a": 10**30})
def test_loads_keeps_every_number_or_refuses(value: Any) -> None:
    """Parsed exactly as Python's json module parses it (integers stay integers), or refused when an
    integer is beyond 64 bits: never a nearby float instead."""
    body = _dumps({"objects": [value]})
    exact = json.loads(body)
    try:
        got = loads(body)
    except InvalidInput:
        assert any(isinstance(n, int) and not -(2**63) <= n < 2**64 for n in _numbers(exact))
        return
    assert _dumps(got) == _dumps(exact)


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


@pytest.mark.parametrize("kind", ["garbage", "nesting", "invalid objects", "over the limit"])
def test_ten_megabyte_bodies(target: Target, kind: str) -> None:
    size = 10 * 1024 * 1024
    if kind == "garbage":
        _refused_and_unchanged(target, os.urandom(size), (400,))
    elif kind == "nesting":
        _refused_and_unchanged(target, b"[" * size, (400,))
    elif kind == "invalid objects":
        filler = b'{"type":1,"id":[],"x":"' + b"a" * 1000 + b'"}'
        count = size // (len(filler) + 1)
        status = _accepted_consistently(target, b'{"objects":[' + b",".join([filler] * count) + b"]}")
        assert status["failure_count"] == count and status["success_count"] == 0
    else:
        with target.node.store.write() as tx:
            tx.conn.exec_driver_sql("UPDATE api_roots SET max_content_length = 1048576")
        body = orjson.dumps({"objects": [indicator(300, description="a" * size)]})
        _refused_and_unchanged(target, body, (413,))

        def chunks() -> Any:  # no Content-Length: the limit holds while the body streams in
            for start in range(0, len(body), 65536):
                yield body[start:start + 65536]

        before = target.snapshot()
        assert_taxii_error(target.client.post(BASE + "/objects/", content=chunks(), headers=target.write_headers()),
                           (413,))
        assert target.snapshot() == before
    assert target.audit_ok()
