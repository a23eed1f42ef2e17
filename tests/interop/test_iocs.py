"""IOC detection, refanging and STIX patterns of list values (accord.domain.iocs)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2matcher.matcher import match
from stix2patterns.validator import run_validator

from accord.domain.iocs import BadIoc, Ioc, IocKind, parse_ioc, refang, stix_literal, stix_pattern, type_named
from accord.sensor.indicators import compile_indicator
from accord.stix.patterns import fast_accepts, pattern_errors

K = IocKind


@pytest.mark.parametrize(("raw", "kind", "value"), [
    ("198.51.100.7", K.IPV4, "198.51.100.7"),
    ("198[.]51[.]100[.]7", K.IPV4, "198.51.100.7"),
    ("10.1.2.3/8", K.IPV4_CIDR, "10.0.0.0/8"),
    ("192.0.2.1/32", K.IPV4, "192.0.2.1"),
    ("2001:DB8:0:0::1", K.IPV6, "2001:db8::1"),
    ("2001:db8::/32", K.IPV6_CIDR, "2001:db8::/32"),
    ("Evil.Example.", K.DOMAIN, "evil.example"),
    ("evil(.)example", K.DOMAIN, "evil.example"),
    ("bücher.example", K.DOMAIN, "xn--bcher-kva.example"),
    ("hxxps://evil[.]example/a?b=c", K.URL, "https://evil.example/a?b=c"),
    ("hXXp[:]//198.51.100.7:8080/x", K.URL, "http://198.51.100.7:8080/x"),
    ("fxp://files.example/x", K.URL, "ftp://files.example/x"),
    ("http://[2001:db8::1]/x", K.URL, "http://[2001:db8::1]/x"),
    ("D41D8CD98F00B204E9800998ECF8427E", K.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", K.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", K.SHA256,
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("a" * 128, K.SHA512, "a" * 128),
    ("phish[at]evil[.]example", K.EMAIL, "phish@evil.example"),
    ("o'brien@Evil.Example", K.EMAIL, "o'brien@evil.example"),
])
def test_detects_and_normalises(raw: str, kind: IocKind, value: str) -> None:
    assert parse_ioc(raw) == Ioc(kind, value)


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("evil..example", "not a domain"),
    ("-evil.example", "not a domain"),
    ("localhost", "at least two labels"),
    ("example.123", "not a domain"),
    ("999.1.1.1", "not an IP"),
    ("01.2.3.4", "not an IP"),
    ("10.0.0.0/33", "not an IP"),
    ("evil.example\x00.com", "control"),
    ("evil.exa\u202emple", "invisible"),
    ("http://evil example/", "spaces"),
    ("http:///path", "at least two labels"),
    ("a@@b.example", "local part"),
    ("x" * 3000 + ".example", "longer than 2048"),
    ("=cmd|' /C calc'!A0", "spaces"),
    ("=HYPERLINK(\"http://evil.example\")", "not an IP"),
])
def test_refuses_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(BadIoc) as caught:
        parse_ioc(raw)
    assert reason in caught.value.reason


def test_a_forced_kind_is_checked() -> None:
    assert parse_ioc("198.51.100.7", K.IPV4) == Ioc(K.IPV4, "198.51.100.7")
    assert parse_ioc("10.0.0.0/8", K.IPV4) == Ioc(K.IPV4_CIDR, "10.0.0.0/8")  # a range of the family asked
    with pytest.raises(BadIoc, match="not an ipv6"):
        parse_ioc("198.51.100.7", K.IPV6)
    with pytest.raises(BadIoc, match="not an sha256 hash"):
        parse_ioc("d41d8cd98f00b204e9800998ecf8427e", K.SHA256)
    assert parse_ioc("abc.example", K.DOMAIN).kind is K.DOMAIN
    assert type_named("IP-DST") is None and type_named("hostname") is K.DOMAIN
    with pytest.raises(BadIoc, match="unknown type"):
        type_named("bitcoin")


def test_refang_leaves_plain_values_alone() -> None:
    assert refang("https://a.example/[x]") == "https://a.example/[x]"
    assert refang("hxxp://a[.]b") == "http://a.b"


@given(st.text(max_size=200))
def test_any_value_is_one_string_constant_of_a_valid_pattern(value: str) -> None:
    """Whatever a URL holds (quotes, backslashes, brackets), the literal cannot end early."""
    pattern = f"[url:value = {stix_literal(value)}]"
    assert run_validator(pattern, stix_version="2.1") == []
    assert match(pattern, [_observed(value)]) and not match(pattern, [_observed(value + "'")])


def _observed(url: str) -> dict[str, Any]:
    return {"type": "observed-data", "id": "observed-data--6e9b6c8a-3b3b-4b1e-9c1e-2f1b8f1b7c9a",
            "spec_version": "2.1", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
            "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z",
            "number_observed": 1, "objects": {"0": {"type": "url", "value": url}}}


@pytest.mark.parametrize("raw", ["198.51.100.7", "10.0.0.0/8", "2001:db8::/32", "evil.example",
                                 "http://evil.example/a'b\\c]d", "d41d8cd98f00b204e9800998ecf8427e",
                                 "da39a3ee5e6b4b0d3255bfef95601890afd80709", "a" * 64, "b" * 128,
                                 "x@evil.example"])
def test_patterns_are_valid_and_match_what_they_say(raw: str) -> None:
    ioc = parse_ioc(raw)
    pattern = stix_pattern(ioc)
    assert pattern_errors(pattern) == ()
    assert run_validator(pattern, stix_version="2.1") == []
    if ioc.kind is not K.SHA512:  # ingest checks these without the ANTLR parser (the fast path knows no SHA-512)
        assert fast_accepts(pattern)  # the matcher's tables hold MD5, SHA-1 and SHA-256
        compiled = compile_indicator({"id": "indicator--x", "pattern": pattern, "pattern_type": "stix"})
        assert len(compiled.observables) == 1 and not compiled.residual
