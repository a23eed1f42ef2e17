"""The in-process run: table matches, residual patterns decided by stix2-matcher, warninglists."""

from __future__ import annotations

import json
from pathlib import Path

from accord.sensor import pipeline, warninglists
from accord.sensor.indicators import compile_indicators
from accord.sensor.kernel import Matcher
from accord.sensor.model import Match
from tests.sensor.helpers import indicator, write_conn

ROWS = [
    ("1700000000.0", "10.0.0.1", "198.51.100.1"),  # line 9
    ("1700000010.0", "10.0.0.2", "203.0.113.7"),  # line 10
    ("1700000020.0", "10.0.0.1", "8.8.8.8"),  # line 11
    ("1700000030.0", "10.0.0.3", "198.51.100.1"),  # line 12
]


def _run(
    path: Path, objects: list[dict[str, object]], benign: warninglists.Benign | None = None
) -> tuple[list[Match], pipeline.Summary]:
    found: list[Match] = []
    summary = pipeline.run([str(path)], Matcher(compile_indicators(objects).indicators), found.append, benign=benign)
    return sorted(found, key=lambda m: (m.line, m.indicator)), summary


def test_one_match_per_event_and_indicator(tmp_path: Path) -> None:
    both = indicator("[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '10.0.0.0/8']")
    found, summary = _run(write_conn(tmp_path, ROWS), [both])
    assert [(m.line, m.field) for m in found] == [
        (9, "id.orig_h"),
        (10, "id.orig_h"),
        (11, "id.orig_h"),
        (12, "id.orig_h"),
    ]
    assert summary.events == 4 and summary.matches == 4 and found[0].time == 1700000000.0


def test_roles_restrict_network_traffic_references(tmp_path: Path) -> None:
    dst = indicator("[network-traffic:dst_ref.value = '10.0.0.1']")
    src = indicator("[network-traffic:src_ref.value = '10.0.0.1']")
    found, _ = _run(write_conn(tmp_path, ROWS), [dst, src])
    assert {m.indicator for m in found} == {src["id"]}


def test_residual_patterns_are_decided_by_stix2_matcher(tmp_path: Path) -> None:
    same_event = indicator(
        "[network-traffic:src_ref.value = '10.0.0.3' AND network-traffic:dst_ref.value = '198.51.100.1']"
    )
    not_same = indicator(
        "[network-traffic:src_ref.value = '10.0.0.2' AND network-traffic:dst_ref.value = '198.51.100.1']"
    )
    sequence = indicator("[ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY [ipv4-addr:value = '8.8.8.8']")
    backwards = indicator("[ipv4-addr:value = '8.8.8.8'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']")
    found, summary = _run(write_conn(tmp_path, ROWS), [same_event, not_same, sequence, backwards])
    by_indicator = {(m.indicator, m.line) for m in found}
    assert (same_event["id"], 12) in by_indicator
    assert not any(i == not_same["id"] for i, _ in by_indicator)
    assert {line for i, line in by_indicator if i == sequence["id"]} == {10, 11}
    assert not any(i == backwards["id"] for i, _ in by_indicator)
    assert summary.residual_evaluated > 0


def test_warninglists_suppress_benign_values(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    for ident, kind, entries in [("dns", "cidr", ["8.8.8.0/24"]), ("docs", "string", ["198.51.100.1"])]:
        (lists / ident).mkdir(parents=True)
        (lists / ident / "list.json").write_text(
            json.dumps({"name": ident, "type": kind, "list": entries, "matching_attributes": ["ip-dst", "ip-src"]})
        )
    objects = [indicator("[ipv4-addr:value = '8.8.8.8']"), indicator("[ipv4-addr:value = '198.51.100.1']")]
    found, summary = _run(write_conn(tmp_path, ROWS), objects, warninglists.Benign(warninglists.load(tmp_path)))
    assert found == [] and summary.suppressed == {"dns": 1, "docs": 2}
    only_docs = warninglists.Benign(warninglists.load(tmp_path, disabled=["docs"]))
    found, summary = _run(write_conn(tmp_path, ROWS), objects, only_docs)
    assert [m.line for m in found] == [9, 12] and summary.suppressed == {"dns": 1}
