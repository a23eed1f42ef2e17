"""Indicator compilation: activity (revoked, valid_until), versions, simple vs residual patterns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2.pattern_visitor import create_pattern_object

from accord.sensor import indicators
from accord.sensor.errors import IndicatorError
from accord.sensor.model import Kind, Observable, Role
from tests.sensor.helpers import indicator

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def test_revoked_expired_and_future_indicators_are_left_out() -> None:
    objects = [
        indicator("[ipv4-addr:value = '198.51.100.1']"),
        indicator("[ipv4-addr:value = '198.51.100.2']", revoked=True),
        indicator("[ipv4-addr:value = '198.51.100.3']", valid_until="2026-11-26T23:59:59Z"),
        indicator("[ipv4-addr:value = '198.51.100.4']", valid_from="2026-12-01T00:00:00Z"),
        {"type": "malware", "id": "malware--1"},
    ]
    compiled = indicators.compile_indicators(objects, NOW)
    assert [i.id for i in compiled.indicators] == [objects[0]["id"]]
    assert compiled.inactive == 3


def test_latest_version_wins() -> None:
    old = indicator("[domain-name:value = 'old.example']", modified="2026-01-01T00:00:00.000Z")
    new = dict(old, pattern="[domain-name:value = 'new.example']", modified="2026-02-01T00:00:00.000Z")
    compiled = indicators.compile_indicators([new, old], NOW)
    assert [o.value for i in compiled.indicators for o in i.observables] == ["new.example"]


def test_simple_patterns_compile_to_observables() -> None:
    ind = indicators.compile_indicator(
        indicator(
            "[ipv4-addr:value ISSUBSET '10.1.2.3/8' OR domain-name:value IN ('Bücher.Example', 'x.example')] "
            "OR [network-traffic:src_ref.value = '2001:DB8::1']"
        )
    )
    assert not ind.residual
    assert ind.observables == {
        Observable(Kind.ADDR, "10.0.0.0/8"),
        Observable(Kind.DOMAIN, "xn--bcher-kva.example"),
        Observable(Kind.DOMAIN, "x.example"),
        Observable(Kind.ADDR, "2001:db8::1/128", Role.SRC),
    }


@pytest.mark.parametrize(
    "pattern, single",
    [
        ("[ipv4-addr:value = '198.51.100.1' AND ipv4-addr:value != '198.51.100.2']", True),
        ("[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]", True),
        ("[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'evil.example']", False),
        ("[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'evil.example']", False),
        ("[ipv4-addr:value = '198.51.100.1'] REPEATS 2 TIMES WITHIN 60 SECONDS", False),
    ],
)
def test_residual_patterns_keep_a_necessary_condition(pattern: str, single: bool) -> None:
    ind = indicators.compile_indicator(indicator(pattern))
    assert ind.residual and ind.single_observation is single
    assert Observable(Kind.ADDR, "198.51.100.1/32") in ind.observables or any(
        o.value == "198.51.100.1/32" for o in ind.observables
    )


@pytest.mark.parametrize(
    "pattern, reason",
    [
        ("[domain-name:value MATCHES '^evil']", "no =, IN or ISSUBSET"),
        ("[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value LIKE 'evil%']", "no =, IN or ISSUBSET"),
        ("[ipv4-addr:value = '198.51.100.1'", "does not parse"),
    ],
)
def test_unusable_patterns_are_refused_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(IndicatorError, match=reason):
        indicators.compile_indicator(indicator(pattern))
    compiled = indicators.compile_indicators([indicator(pattern)], NOW)
    assert len(compiled.skipped) == 1 and reason in compiled.skipped[0][1]


def test_bad_validity_timestamps_are_refused_not_fatal() -> None:
    compiled = indicators.compile_indicators([indicator("[ipv4-addr:value = '198.51.100.1']", valid_until="soon")], NOW)
    assert compiled.indicators == () and "RFC 3339" in compiled.skipped[0][1]


def test_other_pattern_languages_are_refused() -> None:
    with pytest.raises(IndicatorError, match="pattern_type 'snort'"):
        indicators.compile_indicator(indicator("alert tcp any any -> any any", pattern_type="snort"))


VALUES = st.sampled_from(
    [
        "198.51.100.7",
        "10.0.0.0/8",
        "2001:db8::/32",
        "Evil.Example",
        "bücher.de",
        "http://A.example:80/x#y",
        "D41D8CD98F00B204E9800998ECF8427E",
        "Bob@Example.org",
        "it\\'s.example",
        "01.2.3.4",
        "not valid",
    ]
)
PATHS = st.sampled_from(
    [
        "ipv4-addr:value",
        "ipv6-addr:value",
        "domain-name:value",
        "url:value",
        "file:hashes.MD5",
        "file:hashes.'SHA-256'",
        "email-addr:value",
        "network-traffic:dst_ref.value",
        "x-custom:value",
    ]
)


@settings(max_examples=200, deadline=None)
@given(PATHS, VALUES)
def test_quick_path_agrees_with_the_full_parser(path: str, value: str) -> None:
    pattern = f"[{path} = '{value}']"
    quick = indicators._quick("indicator--x", pattern, "")  # noqa: SLF001 - the two paths must agree
    create_pattern_object(pattern, version="2.1")  # the pattern is valid STIX
    full = indicators._necessary(create_pattern_object(pattern, version="2.1"), False)  # noqa: SLF001
    assert (quick.observables if quick is not None else None) == full
