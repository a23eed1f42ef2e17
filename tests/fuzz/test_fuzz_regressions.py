"""What the fuzzers found, one request each, so that each stays fixed (tests/fuzz/test_fuzz_*.py).

Each test names the function where the fault was. Those in ``stix/patterns.py`` and ``web/filters.py``
are fixed; the others fail until their code is.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fuzz.conftest import BASE, SEEDED, Target, assert_taxii_error
from tests.stixgen import indicator

_OPINION = {"type": "opinion", "spec_version": "2.1", "id": "opinion--1c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e6f",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "object_refs": [SEEDED[0]["id"]]}


def _one_failure(target: Target, obj: dict[str, Any]) -> None:
    before = target.snapshot()
    r = target.client.post(BASE + "/objects/", json={"objects": [obj]}, headers=target.write_headers())
    assert r.status_code == 202, r.text[:300]
    assert r.json()["failure_count"] == 1
    assert target.snapshot().objects == before.objects


def _read_refused(target: Target, path: str, params: dict[str, str]) -> None:
    before = target.snapshot()
    assert_taxii_error(target.client.get(path, params=params, headers=target.read_headers()), (400,))
    assert target.snapshot() == before


# stix/patterns.py (fixed): the ANTLR parser's recursion escaped as RecursionError
def test_deeply_nested_pattern_is_a_failure_not_a_500(target: Target) -> None:
    _one_failure(target, indicator(600, pattern="(" * 3000 + "[ipv4-addr:value = '198.51.100.1']" + ")" * 3000))


# web/filters.py (fixed): to_micros raised ValueError from calendar.timegm for year 0
def test_added_after_in_year_zero_gets_400(target: Target) -> None:
    for path in (BASE + "/objects/", BASE + "/manifest/"):
        _read_refused(target, path, {"added_after": "0000-01-01T00:00:00Z"})


# web/filters.py (fixed): PostgreSQL refuses NUL in text parameters (psycopg.DataError)
@pytest.mark.parametrize("name", ["match[id]", "match[type]", "match[spec_version]", "match[version]"])
def test_nul_in_a_match_value_gets_400(target: Target, name: str) -> None:
    _read_refused(target, BASE + "/objects/", {name: "indicator\x00"})


# stix/validate.py, _common: list(obj.get("object_marking_refs", ())) is list(None) after _ref_list let
# None through (TypeError: 'NoneType' object is not iterable)
@pytest.mark.parametrize("obj", [indicator(601, object_marking_refs=None),
                                 {"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.9",
                                  "id": "ipv4-addr--9c3b5a0e-7c4b-4a59-8e0a-1a2b3c4d5e60",
                                  "object_marking_refs": None}], ids=["indicator", "ipv4-addr"])
def test_null_object_marking_refs_is_a_failure_not_a_500(target: Target, obj: dict[str, Any]) -> None:
    _one_failure(target, obj)


# stix/validate.py, _opinion: `obj["opinion"] not in _OPINIONS` on a list or an object
# (TypeError: unhashable type)
@pytest.mark.parametrize("value", [["agree"], {"agree": 1}])
def test_opinion_of_the_wrong_type_is_a_failure_not_a_500(target: Target, value: Any) -> None:
    _one_failure(target, {**_OPINION, "opinion": value})


# services/objects.py, parse_limit: int() of more than 4,300 digits raises ValueError (Python's
# int_max_str_digits), after the isdigit check that lets it through
# (a 500); a limit is any positive integer (schemathesis sends 23 digits), so it is the largest page
def test_limit_of_thousands_of_digits_is_the_largest_page(target: Target) -> None:
    for path in (BASE + "/objects/", BASE + "/manifest/", BASE + "/objects/" + SEEDED[0]["id"] + "/"):
        for limit in ("9" * 5000, "0" * 4999 + "1"):
            r = target.client.get(path, params={"limit": limit}, headers=target.read_headers())
            assert r.status_code == 200, r.text[:300]
            assert r.json()["objects"], r.text[:300]
    _read_refused(target, BASE + "/objects/", {"limit": "0" * 5000})


# services/objects.py, parse_next: 19 digits pass its length check but exceed a signed 64-bit integer;
# the driver refuses the parameter (SQLite OverflowError; PostgreSQL numeric out of range)
@pytest.mark.parametrize("token", ["9223372036854775808", "9999999999999999999"])
def test_next_beyond_64_bits_gets_400(target: Target, token: str) -> None:
    one = BASE + "/objects/" + SEEDED[0]["id"] + "/"
    for path in (BASE + "/objects/", BASE + "/manifest/", one, one + "versions/"):
        _read_refused(target, path, {"next": token})


# web/taxii.py, objects() (POST): orjson.loads reads an integer beyond 64 bits as the nearest float, so
# the node stored and served -9.223372036854776e+18 for -9223372036854775809. Parsing the body with
# accord.stix.envelope.loads (which refuses it) instead of orjson.loads fixes it
@pytest.mark.parametrize("number", [-(2**63) - 1, 2**64, 10**30])
def test_integers_beyond_64_bits_get_400(target: Target, number: int) -> None:
    body = b'{"objects":[' + json.dumps(indicator(602, x_number=number)).encode() + b"]}"
    before = target.snapshot()
    r = target.client.post(BASE + "/objects/", content=body, headers=target.write_headers())
    assert_taxii_error(r, (400,))
    assert target.snapshot() == before
