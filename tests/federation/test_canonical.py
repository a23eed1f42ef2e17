"""The fast RFC 8785 canonicaliser writes exactly what ``rfc8785.dumps`` writes, over arbitrary JSON."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.federation.canonical import SAFE_INTEGER, CanonicalizationError, _plain, canonical

# every code point, lone surrogates included; control characters, non-ASCII and astral ones are drawn often
ANY_TEXT = st.text(st.characters(codec=None, categories=None)) | st.text(
    st.sampled_from(["\x00", "\x08", "\x1f", "\x7f", '"', "\\", "/", "é", "\u2028", "\ufeff", "😀", "\U0010ffff",
                     "a", "Z", "_"]))
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-SAFE_INTEGER - 2, SAFE_INTEGER + 2)
           | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ANY_TEXT, inner, max_size=5),
                    max_leaves=30)
ASCII_KEYS = st.text(st.characters(max_codepoint=127, codec=None, categories=None), max_size=8)
PLAIN = st.recursive(st.none() | st.booleans() | st.integers(-SAFE_INTEGER, SAFE_INTEGER) | ANY_TEXT,
                     lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ASCII_KEYS, inner, max_size=6),
                     max_leaves=30)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except ValueError:  # CanonicalizationError, or UnicodeEncodeError for a lone surrogate in a key
        return CanonicalizationError


def _ours(value: Any) -> bytes | type[Exception]:
    try:
        return canonical(value)
    except CanonicalizationError:
        return CanonicalizationError


@settings(max_examples=1500)
@given(JSON)
@example({"é": 1, "e": 2, "😀": 3, "\uffff": 4})  # JCS sorts keys by UTF-16 code units, not code points
@example([2**53 - 1, -(2**53 - 1), 2**53, 1.0, 1e21, -0.0, 5e-324])
def test_equal_to_rfc8785_over_arbitrary_json(value: Any) -> None:
    assert _ours(value) == _reference(value)


@settings(max_examples=1500)
@given(PLAIN)
def test_the_fast_path_alone_is_jcs_where_it_is_taken(value: Any) -> None:
    """Where ``_plain`` admits a value, orjson's sorted output itself is the JCS output."""
    assert _plain(value)
    try:
        fast = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # lone surrogates: canonical() leaves these to rfc8785
        return
    assert fast == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [1.5, 2**53, -(2**53), {"é": 1}, {"a": [0.1]}, 10**30])
def test_outside_the_fast_domain(value: Any) -> None:
    assert not _plain(value)
