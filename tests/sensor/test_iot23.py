"""The real IoT-23 Zeek conn.log (scenario 34-1) through the whole path: reader, kernel, warninglists,
JSON output, sightings. Expected counts are computed here from the file with plain string handling."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import orjson

from tests.conftest import shared_data
from tests.sensor.helpers import accord, indicator, write_bundle

ME = "identity--00000000-0000-4000-8000-0000000000aa"


def _records(path: Path) -> list[tuple[int, list[str]]]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.startswith("#"):
                out.append((number, line.rstrip("\n").split("\t")))
    return out


def test_iot23_conn_log_end_to_end(tmp_path: Path) -> None:
    log = shared_data("iot23", "CTU-IoT-Malware-Capture-34-1.conn.log.labeled")
    records = _records(log)
    malicious = [cols for _, cols in records if "Malicious" in cols[-1]]
    c2 = malicious[0][4]  # a responder of a flow the data set labels malicious
    scan_net = ipaddress.ip_network("192.168.1.0/24")
    by_address = indicator(f"[ipv4-addr:value = '{c2}']")
    by_range = indicator("[network-traffic:src_ref.value = '192.168.1.0/24']")
    bundle = write_bundle(tmp_path, [by_address, by_range])
    result = accord(
        "match",
        log,
        "--indicators",
        bundle,
        "--identity",
        ME,
        "--sightings-file",
        tmp_path / "s.json",
        "--warninglists",
        shared_data("misp-warninglists"),
        "--no-warninglist",
        "rfc1918",
        "--no-warninglist",
        "rfc5735",
    )
    assert result.exit_code == 0, result.output
    found = [orjson.loads(line) for line in result.stdout.splitlines()]
    expected_address = {n for n, cols in records if c2 in (cols[2], cols[4])}
    expected_range = {n for n, cols in records if ipaddress.ip_address(cols[2]) in scan_net}
    assert {m["line"] for m in found if m["indicator"] == by_address["id"]} == expected_address
    assert {m["line"] for m in found if m["indicator"] == by_range["id"]} == expected_range
    assert len(found) == len(expected_address) + len(expected_range)
    assert f"{len(records):,}" in result.stderr  # every record was read
    assert "unknown Zeek type 1" in result.stderr  # the label columns joined by spaces in the header
    sightings = [o for o in orjson.loads((tmp_path / "s.json").read_bytes())["objects"] if o["type"] == "sighting"]
    assert sum(s["count"] for s in sightings) == len(found)
