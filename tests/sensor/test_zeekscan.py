"""The compiled Zeek scanner against the general (pyarrow) path: same rows, line numbers and reports."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.sensor import zeek
from accord.sensor.problems import Problems
from tests.sensor.helpers import CONN_FIELDS, CONN_TYPES, zeek_header

HEADER = zeek_header(CONN_FIELDS, CONN_TYPES).encode()
WIDTH = len(CONN_FIELDS)

_text = st.text(st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)), max_size=8)
_times = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,12}(\.[0-9]{1,9})?([eE][-+]?[0-9]{1,3})?\Z"),
    st.sampled_from(["-", "(empty)", "1700000000.5", "yesterday", "", "1.", "nan", "0017.250"]),
)
_addresses = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["-", "(empty)", "10.0.0.01", "", "Ünïcode", "198.51.100.7"]),
)


@st.composite
def _record(draw: st.DrawFn) -> bytes:
    fields = [draw(_times), draw(_text), draw(_addresses), draw(_text), draw(_addresses), draw(_text), draw(_text)]
    return "\t".join(fields).encode()


_odd = st.one_of(
    st.builds(lambda n: b"\t".join([b"x"] * n), st.integers(1, WIDTH + 2)),  # wrong (or right) column counts
    st.sampled_from(
        [
            b"",
            b"#close\t2026-11-27-00-00-01",
            b"#" + b"\t".join([b"h"] * WIDTH),  # a comment that happens to have every column
            b"#fields\tts",
            b"1700000000.5\tC1\t10.0.0.\xff\t1\t198.51.100.3\t443\ttcp",  # not UTF-8
            b"1700000000.5\tC1\t10.0.0.1\t1\t198.51.100.3\t443\ttcp\r",  # carriage return
        ]
    ),
)


def _parse(lines: list[bytes], cuts: list[int], last_newline: bool, fast: bool) -> tuple[list[Any], list[int], Any]:
    """Rows (as Python values), their line numbers and the reports of one parser over the blocks."""
    problems = Problems()
    header = zeek.parse_header(HEADER.splitlines(keepends=True), "conn.log", problems)
    parser = zeek.ChunkParser(header, zeek.field_specs(header), "conn.log", problems, fast=fast)
    rows: list[Any] = []
    numbers: list[int] = []
    bounds = [0, *sorted(set(cuts)), len(lines)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        if start >= end:
            continue
        block = b"\n".join(lines[start:end])
        if end < len(lines) or last_newline:
            block += b"\n"
        if not block:  # sources never hand out an empty block
            continue
        table, found = parser.parse(block)
        rows += [{k: "NaN" if v != v else v for k, v in row.items()} for row in table.to_pylist()]  # noqa: PLR0124
        numbers += found.tolist()
    return rows, numbers, [(r.line, r.reason) for r in problems.records]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_record(), _record(), _odd), min_size=1, max_size=40),
    st.lists(st.integers(0, 40), max_size=3),
    st.booleans(),
)
def test_fast_path_equals_general_path(lines: list[bytes], cuts: list[int], last_newline: bool) -> None:
    cuts = [c for c in cuts if c < len(lines)]
    assert _parse(lines, cuts, last_newline, fast=True) == _parse(lines, cuts, last_newline, fast=False)


def test_scanner_settles_ordinary_bad_lines_itself() -> None:
    """Empty, ``#`` and short lines, IPv6, unset values and UTF-8 text stay on the fast path."""
    body = [
        b"1700000000.5\tC1\t10.0.0.1\t1\t2001:db8::1\t443\ttcp",
        b"",
        b"#" + b"\t".join([b"h"] * WIDTH),
        b"1700000001\tC2\t-\t1\t(empty)\t443\tt\xc3\xbcp",
        b"1700000002.25\tC3",
        b"17e2\tC4\t10.0.0.2\t1\t198.51.100.4\t443\ttcp",
        b"#close\t2026-11-27-00-00-01",
    ]
    problems = Problems()
    header = zeek.parse_header(HEADER.splitlines(keepends=True), "conn.log", problems)
    parser = zeek.ChunkParser(header, zeek.field_specs(header), "conn.log", problems)
    data = b"\n".join(body) + b"\n"
    parsed = parser.tokenize(data)
    assert parsed.scanned is not None
    table, lines = parser.finish(data, parsed)
    assert lines.tolist() == [9, 12, 14]
    assert table.column("id.resp_h").to_pylist() == ["2001:db8::1", None, "198.51.100.4"]
    assert table.column("ts").to_pylist() == [1700000000.5, 1700000001.0, 1700.0]
    assert [(r.line, r.reason.split(":")[0]) for r in problems.records] == [
        (10, "empty line"),
        (11, "header line inside the records (ignored)"),
        (13, "wrong column count"),
    ]
    assert np.asarray(table.column("id.orig_h").chunk(0).indices.is_valid()).tolist() == [True, False, True]
