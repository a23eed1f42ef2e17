"""RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value, fast for the common case.

``rfc8785.dumps`` is a careful pure-Python implementation: about 70 us for a STIX indicator, which
was a quarter of the cost of checking an origin signature. For a value made only of strings,
booleans, null, integers within the IEEE 754 safe range (|n| <= 2**53 - 1), lists, and objects whose
keys are ASCII, ``orjson.dumps(value, option=OPT_SORT_KEYS)`` writes the same bytes (RFC 8785
section 3.2.2.2 string escaping and section 3.2.3 key order coincide for ASCII keys; integers in
that range print as JCS prints them), about twenty times faster. Anything else (floats, big
integers, non-ASCII keys, which JCS sorts by UTF-16 code units) goes to ``rfc8785``.
``tests/federation/test_canonical.py`` checks the equality over arbitrary JSON with Hypothesis.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

SAFE_INTEGER = 2**53 - 1  # RFC 8785 section 3.2.2.3: numbers are IEEE 754 doubles

CanonicalizationError = rfc8785.CanonicalizationError


def _plain(value: Any) -> bool:
    """Whether ``value`` is inside the domain where orjson's sorted output is the JCS output."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-SAFE_INTEGER <= value <= SAFE_INTEGER)
    if kind is dict:
        return all(type(key) is str and key.isascii() and _plain(item) for key, item in value.items())
    if kind is list:
        return all(_plain(item) for item in value)
    return False


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``; :class:`CanonicalizationError` (a ValueError) if it has none
    (a float or integer outside the IEEE 754 domain, a lone surrogate, a type JSON does not have)."""
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate in a string: let rfc8785 decide what it means
    try:
        return rfc8785.dumps(value)
    except UnicodeError as exc:  # rfc8785 lets a lone surrogate in a key escape as UnicodeEncodeError
        raise CanonicalizationError(f"not canonicalisable: {exc}") from None
