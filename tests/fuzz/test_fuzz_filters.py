"""TAXII 2.1 URL parameters (section 3.5) and pagination tokens, fuzzed: 200, 400 or 404, never a 500.

Every read of the seeded (TLP:CLEAR) objects leaves the store and the audit log as they were, whatever
the parameters; ``parse_filter`` raises nothing but ``InvalidInput``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from accord.domain.errors import InvalidInput
from accord.web.filters import parse_filter
from tests.fuzz.conftest import BASE, FUZZ, SEEDED, Target, assert_taxii_error

pytestmark = pytest.mark.slow

_NAMES = ["added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"]


@st.composite
def _timestamps(draw: st.DrawFn) -> str:
    """STIX-shaped timestamps with every field anywhere in its digits' range, and mangled ones."""
    y, mo, d = draw(st.integers(0, 9999)), draw(st.integers(0, 99)), draw(st.integers(0, 99))
    h, mi, s = draw(st.integers(0, 99)), draw(st.integers(0, 99)), draw(st.integers(0, 99))
    frac = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=30).map(lambda f: "." + f)))
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}Z"
    return draw(st.sampled_from([text, text.lower(), text[:-1], text + "Z", text.replace("T", " ")]))


VALUES = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.sampled_from(["0", "-0", "+1", " 1", "1 ", "1_000", "0x10", "١٢", "²", "1e3", "\x00", "a\x00b", "%00", ",",
                     ",,", "first,last", "all", "9223372036854775807", "9223372036854775808",
                     "9999999999999999999", "18446744073709551616"]),
    _timestamps(),
    st.sampled_from([o["id"] for o in SEEDED] + ["indicator", "indicator--", "2.1", "2.0"]),
)
PARAMS = st.lists(st.tuples(st.one_of(st.sampled_from(_NAMES), st.text(max_size=12)), VALUES), max_size=5)


def _paths() -> st.SearchStrategy[str]:
    one = BASE + "/objects/" + SEEDED[0]["id"] + "/"
    return st.sampled_from([BASE + "/objects/", BASE + "/manifest/", one, one + "versions/",
                            BASE + "/objects/indicator--00000000-0000-4000-8000-0000000000ff/"])


def _read_unchanged(target: Target, path: str, params: list[tuple[str, str]]) -> Any:
    before = target.snapshot()
    r = target.client.get(path, params=params, headers=target.read_headers())
    if r.status_code != 200:
        assert_taxii_error(r, (400, 404))
    assert target.snapshot() == before
    return r


@FUZZ
@given(path=_paths(), params=PARAMS)
@example(path=BASE + "/objects/", params=[("added_after", "0000-01-01T00:00:00Z")])
@example(path=BASE + "/manifest/", params=[("added_after", "9999-12-31T23:59:60Z")])
@example(path=BASE + "/objects/", params=[("match[type]", "indicator\x00")])
@example(path=BASE + "/objects/", params=[("match[id]", SEEDED[0]["id"] + "\x00")])
@example(path=BASE + "/objects/", params=[("match[spec_version]", "\x00")])
def test_any_parameters(target: Target, path: str, params: list[tuple[str, str]]) -> None:
    _read_unchanged(target, path, params)


@FUZZ
@given(path=_paths(), name=st.sampled_from(_NAMES), value=VALUES)
def test_any_single_parameter(target: Target, path: str, name: str, value: str) -> None:
    _read_unchanged(target, path, [(name, value)])


@FUZZ
@given(kind=st.sampled_from(["objects", "manifest"]),
       mangle=st.sampled_from(["as is", "+1", "-1", "*10", "append 0", "prefix -", "prefix +", "space", "int64",
                               "2**63", "19 nines", "arabic digits", "empty", "huge"]))
def test_next_tokens_mangled(target: Target, kind: str, mangle: str) -> None:
    """A real ``next`` from a page of one, changed the ways a client or an attacker might."""
    first = target.client.get(f"{BASE}/{kind}/", params={"limit": "1"}, headers=target.read_headers())
    token = first.json()["next"]
    assert isinstance(token, str)
    changed = {
        "as is": token, "+1": str(int(token) + 1), "-1": str(int(token) - 1), "*10": str(int(token) * 10),
        "append 0": token + "0", "prefix -": "-" + token, "prefix +": "+" + token, "space": " " + token,
        "int64": str(2**63 - 1), "2**63": str(2**63), "19 nines": "9" * 19,
        "arabic digits": token.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")), "empty": "",
        "huge": "9" * 5000,
    }[mangle]
    r = _read_unchanged(target, f"{BASE}/{kind}/", [("limit", "1"), ("next", changed)])
    if mangle == "as is":
        assert r.status_code == 200


@FUZZ
@given(params=PARAMS, allow_version=st.booleans())
def test_parse_filter_raises_only_invalid_input(params: list[tuple[str, str]], allow_version: bool) -> None:
    with contextlib.suppress(InvalidInput):
        parse_filter(QueryParams(params), allow_version)
