"""The kernel agrees exactly with the slow reference on random indicators and events (Hypothesis).

Events are drawn near the indicators on purpose: CIDR edges (first, last, one outside each end),
IPv6, subdomains, upper case and internationalised domain names, URLs that differ only in ways RFC 3986
normalisation removes, upper-case hashes. Random unrelated values keep the misses honest.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.sensor import addresses, compiled
from accord.sensor.addresses import parse_ipv4
from accord.sensor.indicators import compile_indicators
from accord.sensor.kernel import Matcher
from accord.sensor.model import FieldSpec, Kind, Role
from tests.sensor.helpers import indicator
from tests.sensor.reference import reference_matches

SPECS = [
    FieldSpec("src", Kind.ADDR, Role.SRC),
    FieldSpec("dst", Kind.ADDR, Role.DST),
    FieldSpec("query", Kind.DOMAIN),
    FieldSpec("url", Kind.URL),
    FieldSpec("md5", Kind.HASH),
    FieldSpec("from", Kind.EMAIL),
]
LABELS = st.sampled_from(["evil", "cdn", "bücher", "xn--bcher-kva", "a", "mail", "Straße", "x1"])
TLDS = st.sampled_from(["com", "net", "de", "org"])

v4 = st.integers(0, 2**32 - 1).map(lambda n: ipaddress.IPv4Address(n))
v6 = st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n))


@st.composite
def networks(draw: st.DrawFn) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    addr = draw(st.one_of(v4, v4, v6))
    prefix = draw(st.integers(addr.max_prefixlen - 12 if addr.version == 4 else 100, addr.max_prefixlen))
    return ipaddress.ip_network(f"{addr}/{prefix}", strict=False)


@st.composite
def domains(draw: st.DrawFn) -> str:
    return ".".join(draw(st.lists(LABELS, min_size=1, max_size=2))) + "." + draw(TLDS)


def _edges(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    first, last = int(net.network_address), int(net.broadcast_address)
    top = 2**net.max_prefixlen - 1
    return [
        str(ipaddress.ip_address(n) if net.version == 4 else ipaddress.IPv6Address(n))
        for n in (first - 1, first, last, last + 1)
        if 0 <= n <= top
    ]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[dict[str, object]], list[dict[str, str | None]]]:
    nets = draw(st.lists(networks(), max_size=6))
    names = draw(st.lists(domains(), max_size=4))
    hashes = draw(st.lists(st.text("0123456789abcdef", min_size=32, max_size=32), max_size=2))
    paths = [f"[ipv4-addr:value = '{n}']" if n.version == 4 else f"[ipv6-addr:value = '{n}']" for n in nets]
    paths += [f"[network-traffic:dst_ref.value = '{n}']" for n in draw(st.lists(networks(), max_size=2))]
    paths += [f"[domain-name:value = '{d}']" for d in names]
    paths += [f"[url:value = 'http://{d}/p?q=1']" for d in names[:2]]
    paths += [f"[file:hashes.MD5 = '{h}']" for h in hashes]
    paths += [f"[email-addr:value = 'Bob@{d}']" for d in names[:1]]
    objects = [indicator(p) for p in paths]
    addresses = [e for n in nets for e in _edges(n)] + [str(draw(v4)), str(draw(v6)), "-", "not-an-ip"]
    queries = [v for d in names for v in (d, d.upper(), "www." + d, d + ".", "x" + d)] + ["example.com", ""]
    urls = [
        v for d in names[:2] for v in (f"HTTP://{d.upper()}:80/p?q=1#frag", f"http://{d}/p?q=2", f"https://{d}/p?q=1")
    ]
    events = []
    for _ in range(draw(st.integers(1, 12))):
        events.append(
            {
                "src": draw(st.sampled_from(addresses)),
                "dst": draw(st.sampled_from(addresses)),
                "query": draw(st.sampled_from(queries)),
                "url": draw(st.sampled_from(urls or ["http://a.b/"])),
                "md5": draw(st.sampled_from([h.upper() for h in hashes] + ["0" * 32])),
                "from": draw(st.sampled_from([f"bob@{d.upper()}" for d in names[:1]] + ["eve@example.org"])),
            }
        )
    return objects, events


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_kernel_matches_the_reference(case: tuple[list[dict[str, object]], list[dict[str, str | None]]]) -> None:
    objects, events = case
    compiled = compile_indicators(objects).indicators
    batch = pa.RecordBatch.from_pylist(events)
    hits = Matcher(compiled).match_batch(batch, SPECS)
    found = {(row, name, compiled[i].id) for row, name, i in zip(hits.rows, hits.fields, hits.indicators, strict=True)}
    assert found == reference_matches(compiled, SPECS, events)


_QUADS = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{0,4}){2,4}\Z"),  # leading zeros, empty or long octets, 3-5 dots
    st.text(alphabet="0123456789.x:", max_size=16),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _QUADS), max_size=30), st.integers(0, 3))
def test_parse_ipv4_agrees_with_ipaddress(texts: list[str | None], skip: int) -> None:
    """Both dotted-quad parsers accept exactly what ``ipaddress.IPv4Address`` does (on a sliced array too)."""
    array = pa.array([None] * skip + texts, pa.string()).slice(skip)
    values, ok = parse_ipv4(array)
    _, offsets, data = array.buffers()
    if data is not None and data.size:
        bounds = np.frombuffer(offsets, dtype=np.int32, count=len(texts) + 1, offset=skip * 4)
        raw = np.frombuffer(data, dtype=np.uint8)
        numpy_values, numpy_ok = addresses._dotted_quads(bounds, raw)
        compiled_values, compiled_ok = compiled.dotted_quads(bounds, raw)
        assert numpy_ok.tolist() == compiled_ok.tolist() == ok.tolist()  # a null is an empty string: refused
        assert values[ok].tolist() == numpy_values[ok].tolist() == compiled_values[ok].tolist()
    for text, value, good in zip(texts, values.tolist(), ok.tolist(), strict=True):
        try:
            expected = int(ipaddress.IPv4Address(text)) if text is not None else None
        except ValueError:
            expected = None
        assert (value if good else None) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(networks(), max_size=8), st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=40))
def test_compiled_and_numpy_ipv4_lookups_agree(
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network], probes: list[int]
) -> None:
    """The compiled /16-indexed search and numpy's whole-table search give the same innermost block."""
    entries = [(4, int(n.network_address), int(n.broadcast_address), i) for i, n in enumerate(nets) if n.version == 4]
    probes += [e for _, first, last, _ in entries for e in (first - 1, first, last, last + 1) if 0 <= e < 2**32]
    table = addresses.AddressTable(entries)._v4
    values = np.asarray(probes, dtype=np.uint64)
    if not len(table.starts):
        return
    assert (
        addresses._innermost(table.starts, table.owners, values).tolist()
        == compiled.innermost(table.starts, table.owners, table.index, values).tolist()
    )
