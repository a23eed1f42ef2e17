"""The fast path of pattern validation never disagrees with the OASIS validator (stix2-patterns)."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from accord.stix.patterns import _LITERAL, fast_accepts, pattern_errors

_obj = st.sampled_from(["ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr", "x-custom-thing",
                        "a", "or", "AND", "network-traffic", "x_y", "ab-", "-ab"])
_path = st.sampled_from(["value", "name", "hashes.'SHA-256'", "hashes.MD5", "hashes.'SHA-1'", "hashes.'SSDEEP'",
                         "src_ref.value", "extensions.'http-request-ext'.request_method", "x", "value.", "_v",
                         "hashes.'SHA-256 '", "true", "9lives"])
_value = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
    st.sampled_from(["d41d8cd98f00b204e9800998ecf8427e",
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                     "da39a3ee5e6b4b0d3255bfef95601890afd80709", "198.51.100.7", "it\\'s", "a\\\\b", "ab'"]))
_op = st.sampled_from(["=", "!=", " = ", "=  ", "<", "LIKE", "MATCHES", "IN"])
_join = st.sampled_from([" AND ", " OR ", " and ", "AND", " FOLLOWEDBY "])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    parts = [f"{draw(_obj)}:{draw(_path)}{draw(_op)}'{draw(_value)}'" for _ in range(draw(st.integers(1, 3)))]
    body = parts[0]
    for part in parts[1:]:
        body += draw(_join) + part
    wrap = draw(st.sampled_from(["[{}]", "[ {} ]", "{}", "[{}] WITHIN 5 SECONDS", "([{}])", "[{}\n]"]))
    return wrap.format(body)


@settings(max_examples=600, deadline=None)
@given(patterns())
@example("[ipv4-addr:value = '198.51.100.7']")
@example("[file:hashes.'SHA-256' = 'abc']")
@example("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']")
def test_verdict_equals_stix2_patterns(pattern: str) -> None:
    oasis = run_validator(pattern, stix_version="2.1")
    if fast_accepts(pattern):
        assert oasis == [], f"fast path accepted what stix2-patterns rejects: {oasis}"
    assert (pattern_errors(pattern) == ()) == (oasis == [])


def test_fast_path_covers_the_common_indicators() -> None:
    for p in ("[ipv4-addr:value = '198.51.100.7']", "[domain-name:value = 'evil.example']",
              "[url:value = 'http://evil.example/a?b=c']", "[file:hashes.'SHA-256' = '" + "a" * 64 + "']",
              "[email-addr:value = 'x@evil.example' OR domain-name:value = 'evil.example']"):
        assert fast_accepts(p), p


@given(st.text(alphabet="a'\\ ", max_size=14))
@settings(max_examples=3000)
def test_literal_rule_matches_the_strings_of_the_plain_rule(text: str) -> None:
    """The string literal is written as runs between escapes for speed; it must accept exactly what
    the plain rule (any character but ' and \\, or an escaped ' or \\) accepts."""
    plain = re.compile(r"'(?:[^'\\]|\\['\\])*'\Z")
    assert (re.match(_LITERAL + r"\Z", text) is None) == (plain.match(text) is None)
