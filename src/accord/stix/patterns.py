"""Validation of STIX patterns (STIX 2.1 section 9), fast for the common simple ones.

The OASIS validator (``stix2-patterns``) parses with ANTLR and costs 0.3 to 0.7 ms a pattern, which
alone would cap ingest near 2,000 indicators a second per core. Most shared indicators are one
observation of plain comparisons such as ``[ipv4-addr:value = '198.51.100.7']``. For that shape we
accept at once; anything else, including everything the fast path is unsure of, goes to
``stix2-patterns``. The fast path only ever *accepts*: it never rejects, so the verdict is always the
OASIS validator's (``tests/unit/test_patterns.py`` checks this with Hypothesis).
"""

from __future__ import annotations

import re
from functools import lru_cache

# One comparison: object-type ':' property path, '=' or '!=', a single-quoted string literal.
# The object type follows the grammar's identifier rule; path steps are identifiers or quoted keys.
_NOT_KEYWORD = r"(?!(?:true|false)(?![A-Za-z0-9_-]))"  # the lexer reads these as boolean literals
_IDENT = rf"{_NOT_KEYWORD}[a-z][a-z0-9_-]*[a-z0-9]"
_STEP = rf"(?:{_NOT_KEYWORD}[a-z_][a-z0-9_]*|'[A-Za-z0-9_-]+')"
_WS = r"[ \t\r\n]"
# the literal: runs of ordinary characters between escapes (a backslash before ' or \), written so that the regular
# expression engine takes a run at a time instead of trying two alternatives per character
_LITERAL = r"'[^'\\]*(?:\\['\\][^'\\]*)*'"
_COMPARISON = rf"{_IDENT}:{_STEP}(?:\.{_STEP})*{_WS}*!?={_WS}*{_LITERAL}"
_SIMPLE = re.compile(rf"\[{_WS}*{_COMPARISON}(?:{_WS}+(?:AND|OR){_WS}+{_COMPARISON})*{_WS}*\]\Z")
_HASH_COMPARISON = re.compile(r":hashes\.('?)([A-Za-z0-9-]+)\1[ \t\r\n]*!?=[ \t\r\n]*'([^']*)'")
_HEX_LENGTH = {"MD5": 32, "SHA1": 40, "SHA256": 64}
_HEX = re.compile(r"[A-Fa-f0-9]+\Z")


def _hashes_ok(pattern: str) -> bool:
    """The OASIS validator checks hash literals by algorithm; accept only MD5, SHA-1 and SHA-256."""
    found = _HASH_COMPARISON.findall(pattern)
    for _, algo, value in found:
        want = _HEX_LENGTH.get(algo.upper().replace("-", ""))
        if want is None or len(value) != want or not _HEX.match(value):
            return False
    return bool(found) or ":hashes." not in pattern


def fast_accepts(pattern: str) -> bool:
    """True when the pattern is of the simple shape that the OASIS grammar certainly accepts."""
    return _SIMPLE.match(pattern) is not None and ("hashes" not in pattern or _hashes_ok(pattern))


@lru_cache(maxsize=4096)
def _oasis_errors(pattern: str) -> tuple[str, ...]:
    # imported on the first pattern the fast path leaves to it: ANTLR's grammars take 20-40 ms to load,
    # which a process that validates no pattern (``accord status``) need not pay
    from stix2patterns.validator import run_validator

    try:
        return tuple(run_validator(pattern, stix_version="2.1"))
    except RecursionError:
        # the ANTLR parser recurses once per nesting level: a few hundred brackets exhaust Python's
        # stack, and that is a verdict on the pattern, not a failure of the request (tests/fuzz)
        return ("the pattern is nested too deeply to be checked",)


def pattern_errors(pattern: str) -> tuple[str, ...]:
    """The validator's error messages; empty when the pattern is valid STIX 2.1."""
    if fast_accepts(pattern):
        return ()
    if not pattern:  # stix2-patterns' bracket check fails on it with UnboundLocalError
        return ("the pattern is empty",)
    return _oasis_errors(pattern)
