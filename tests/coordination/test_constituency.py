"""Constituency lookups: longest prefix over IPv4/IPv6, ASNs, domain suffixes; overlaps and disputes."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain.coordination.constituency import (
    ConstituencyIndex,
    Declaration,
    QueryKind,
    normalise_domain,
    parse_asn,
    parse_network,
)
from accord.domain.errors import InvalidInput

CERT = Declaration("identity--cert", "national-cert", (parse_network("203.0.0.0/16"), parse_network("2001:db8::/32")),
                   (64500,), ("example.nl",))
ISP = Declaration("identity--isp", "isp", (parse_network("203.0.113.0/24"),), (64501,), ("isp.example.nl",))
RIVAL = Declaration("identity--rival", "rival", (parse_network("203.0.113.0/24"),), (64500,), ())
INDEX = ConstituencyIndex([CERT, ISP])


def test_longest_prefix_wins_and_the_covering_prefix_is_shown_as_overlap() -> None:
    answer = INDEX.lookup("203.0.113.7")
    assert answer.kind is QueryKind.IP
    assert answer.owner == "identity--isp" and not answer.disputed
    assert [(c.name, c.entry) for c in answer.claims] == [("isp", "203.0.113.0/24"), ("national-cert", "203.0.0.0/16")]
    assert [c.name for c in answer.overlapping] == ["national-cert"]
    outside = INDEX.lookup("203.0.114.1")
    assert outside.owner == "identity--cert" and outside.overlapping == ()


def test_ipv6_asn_and_domains() -> None:
    assert INDEX.lookup("2001:db8:0:1::5").owner == "identity--cert"
    assert INDEX.lookup("2001:db9::1").claims == ()
    assert INDEX.lookup("AS64501").owner == "identity--isp"
    assert INDEX.lookup("64500").query == "AS64500"
    mail = INDEX.lookup("Mail.ISP.example.nl.")
    assert mail.kind is QueryKind.DOMAIN and mail.query == "mail.isp.example.nl"
    assert mail.owner == "identity--isp" and [c.name for c in mail.overlapping] == ["national-cert"]
    assert INDEX.lookup("notexample.nl").claims == ()


def test_disputes_are_shown_not_resolved() -> None:
    index = ConstituencyIndex([CERT, ISP, RIVAL])
    answer = index.lookup("203.0.113.7")
    assert answer.disputed and answer.owner is None
    assert {c.name for c in answer.holders} == {"isp", "rival"}
    assert index.lookup("AS64500").disputed


@pytest.mark.parametrize("bad", ["203.0.113.7/24", "300.1.1.0/24", "nope/8"])
def test_bad_prefixes(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_network(bad)


@pytest.mark.parametrize("bad", ["AS0", "AS4294967296", "ASX", "-1"])
def test_bad_asns(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_asn(bad)


@pytest.mark.parametrize("bad", ["-bad.example", "a..b", "x" * 64 + ".nl", "under_score.nl"])
def test_bad_domains(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_domain(bad)


def test_unicode_domain_is_idna_encoded() -> None:
    assert normalise_domain("bücher.example") == "xn--bcher-kva.example"


networks = st.builds(lambda v, n, length: ipaddress.ip_network((n % 2 ** (32 if v == 4 else 128) >> (
    (32 if v == 4 else 128) - length) << ((32 if v == 4 else 128) - length), length)),
    st.sampled_from([4, 6]), st.integers(0, 2 ** 128 - 1), st.integers(0, 32))


@given(st.lists(st.tuples(st.sampled_from("abc"), networks), max_size=12),
       st.integers(0, 2 ** 32 - 1), st.booleans())
def test_lookup_agrees_with_a_linear_scan(entries: list[tuple[str, ipaddress.IPv4Network]], value: int,
                                          v6: bool) -> None:
    """The indexed longest-prefix match finds exactly the declarations a brute-force scan finds."""
    decls = [Declaration(f"identity--{org}", org, tuple(n for o, n in entries if o == org)) for org in "abc"]
    address = ipaddress.ip_address(value << 96 if v6 else value)
    expected = {(org, str(n)) for org, n in entries if n.version == address.version and address in n}
    answer = ConstituencyIndex(decls).lookup(str(address))
    assert {(c.name, c.entry) for c in answer.claims} == expected
    if expected:
        longest = max(ipaddress.ip_network(e).prefixlen for _, e in expected)
        assert {c.name for c in answer.holders} == {o for o, e in expected
                                                     if ipaddress.ip_network(e).prefixlen == longest}
    else:
        assert answer.owner is None and not answer.disputed
