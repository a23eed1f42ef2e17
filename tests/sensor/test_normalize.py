"""Canonical forms: the fast IPv4 range parser agrees with ``ipaddress``; URL and domain rules."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from accord.sensor import normalize

OCTET = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007", "", "1a", "-1"]))
PREFIX = st.one_of(st.none(), st.integers(0, 40).map(str), st.sampled_from(["08", "032"]))


@given(st.lists(OCTET, min_size=3, max_size=5), PREFIX)
def test_network_range_agrees_with_ipaddress(octets: list[str], prefix: str | None) -> None:
    text = ".".join(octets) + ("" if prefix is None else f"/{prefix}")
    try:
        net = ipaddress.ip_network(text, strict=False)
        expected = (net.version, int(net.network_address), int(net.broadcast_address), str(net))
    except ValueError:
        expected = None
    assert normalize.network_range(text) == expected


def test_canonical_forms() -> None:
    assert normalize.url("HTTP://Bücher.Example:80/a?b=1#frag") == "http://xn--bcher-kva.example/a?b=1"
    assert normalize.url("https://x.example:8443") == "https://x.example:8443/"
    assert normalize.url("/relative/only") is None
    assert normalize.domain("WWW.Example.COM.") == "www.example.com"
    assert normalize.domain("bad name.example") is None
    assert normalize.parent_domains("a.b.example") == ["a.b.example", "b.example", "example"]
    assert normalize.file_hash("D41D8CD98F00B204E9800998ECF8427E") == "d41d8cd98f00b204e9800998ecf8427e"
    assert normalize.file_hash("xyz") is None
    assert normalize.email("Bob@Bücher.Example") == "bob@xn--bcher-kva.example"
