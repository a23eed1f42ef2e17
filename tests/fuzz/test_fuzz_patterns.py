"""STIX patterns (STIX 2.1 section 9) from text and from the grammar: a verdict every time, never a crash.

``pattern_errors`` is called for every indicator ingested; an exception out of it would fail the
whole envelope with a 500 instead of listing the one indicator among the failures.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from accord.stix.patterns import fast_accepts, pattern_errors
from tests.fuzz.conftest import BASE, FUZZ, Target
from tests.stixgen import indicator

pytestmark = pytest.mark.slow

_OBJECT_PATHS = ["ipv4-addr:value", "domain-name:value", "file:hashes.'SHA-256'", "file:hashes.MD5", "file:size",
                 "network-traffic:dst_port", "x-custom:a.b[*].c", "url:value", "email-message:from_ref.value",
                 "process:extensions.'windows-process-ext'.aslr_enabled", "a:b"]
_LITERALS = st.one_of(
    st.text(max_size=20).map(lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    st.text(max_size=20),  # unquoted, unescaped: mostly invalid
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["true", "false", "h'0f'", "h'zz'", "b'AAAA'", "b'!!'", "t'2026-01-01T00:00:00Z'",
                     "t'2026-13-01T00:00:00Z'", "t'0000-01-01T00:00:00Z'", "1e99999", "-0", "('a', 'b')", "()",
                     "'d41d8cd98f00b204e9800998ecf8427e'"]),
)
_OPERATORS = st.sampled_from(["=", "!=", "<", ">", "<=", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET",
                              "NOT =", "NOT IN", "EXISTS", "==", "<>"])


@st.composite
def _comparison(draw: st.DrawFn) -> str:
    path = draw(st.one_of(st.sampled_from(_OBJECT_PATHS), st.text(max_size=15)))
    return f"{path} {draw(_OPERATORS)} {draw(_LITERALS)}"


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from([" AND ", " OR ", " FOLLOWEDBY ", " and ", " "]), inner).map("".join),
        inner.map(lambda p: f"({p})"),
        inner.map(lambda p: f"[{p}]"),
        st.tuples(inner, st.sampled_from([" WITHIN ", " REPEATS ", " START "]),
                  st.one_of(st.integers(-5, 10**25).map(str), st.sampled_from(["t'2026-01-01T00:00:00Z'", "x"])),
                  st.sampled_from([" SECONDS", " TIMES", " STOP t'2026-01-02T00:00:00Z'", ""])).map("".join),
    )


PATTERNS = st.one_of(
    st.text(max_size=200),
    st.recursive(_comparison().map(lambda c: f"[{c}]"), _combine, max_leaves=8),
)


@FUZZ
@given(pattern=PATTERNS)
@example(pattern="(" * 3000 + "[ipv4-addr:value = '198.51.100.1']" + ")" * 3000)
@example(pattern="[" * 3000 + "ipv4-addr:value = '198.51.100.1'" + "]" * 3000)
@example(pattern="[ipv4-addr:value = '1'] AND " * 2000 + "[ipv4-addr:value = '1']")
@example(pattern="[a:b = 'c'] REPEATS 99999999999999999999999999 TIMES")
@example(pattern="[a:b MATCHES '(']")
@example(pattern="\x00")
def test_every_pattern_gets_a_verdict(pattern: str) -> None:
    errors = pattern_errors(pattern)
    assert isinstance(errors, tuple) and all(isinstance(e, str) for e in errors)
    assert not (fast_accepts(pattern) and errors)


@FUZZ
@given(pattern=PATTERNS)
@example(pattern="(" * 3000 + "[ipv4-addr:value = '198.51.100.1']" + ")" * 3000)
def test_indicators_with_any_pattern_get_a_status(target: Target, pattern: str) -> None:
    obj: dict[str, Any] = indicator(500, pattern=pattern)
    before = target.snapshot()
    r = target.client.post(BASE + "/objects/", json={"objects": [obj]}, headers=target.write_headers())
    assert r.status_code == 202, r.text[:300]
    status = r.json()
    assert status["success_count"] + status["failure_count"] == 1
    if status["failure_count"]:
        assert target.snapshot().objects == before.objects
        assert status["failures"][0]["id"] == obj["id"]
    assert target.snapshot().audit_records == before.audit_records + 1
