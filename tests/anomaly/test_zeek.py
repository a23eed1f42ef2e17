from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accord.sensor.anomaly.errors import FlowFormatError
from accord.sensor.anomaly.zeek import CONTEXT_NUMERIC, HostWindow, follow_zeek, read_zeek

from .conftest import IOT, need

FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]
HEADER = "#separator \\x09\n#unset_field\t-\n#fields\t" + "\t".join(FIELDS) + "   label   detailed-label\n"


def line(ts: float, src: str, dst: str, port: int, state: str = "S0", label: str = "Benign") -> str:
    values = [
        f"{ts:.6f}",
        "C1",
        src,
        "40000",
        dst,
        str(port),
        "tcp",
        "-",
        "-",
        "-",
        "-",
        state,
        "-",
        "-",
        "0",
        "S",
        "1",
        "60",
        "0",
        "0",
        "-",
    ]
    return "\t".join(values) + f"   {label}   -\n"


def test_a_conn_log_with_iot23_label_columns_becomes_a_table(tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(
        HEADER + line(1.0, "10.0.0.1", "10.0.0.9", 80) + line(2.0, "10.0.0.1", "10.0.0.9", 81, label="Malicious")
    )
    table = read_zeek([log])
    assert table.labels is not None and table.labels.tolist() == [False, True]
    assert table.numeric["orig_ip_bytes"].tolist() == [60.0, 60.0]
    assert table.numeric["duration"].tolist() == [0.0, 0.0]  # unset means no duration measured
    assert table.categorical["resp_port"].tolist() == ["80", "81"]
    assert table.endpoints is not None and table.endpoints.dst_port.tolist() == [80, 81]
    assert set(CONTEXT_NUMERIC) <= set(table.numeric)


def test_the_host_window_counts_distinct_ports_and_forgets_old_flows() -> None:
    window = HostWindow(seconds=10)
    for i in range(20):
        window.observe(float(i) / 10, "10.0.0.1", "10.0.0.9", str(1000 + i), failed=True)
    assert window.observe(2.0, "10.0.0.1", "10.0.0.9", "1000", failed=False) == (21, 20, 1, 20 / 21)
    assert window.observe(100.0, "10.0.0.1", "10.0.0.8", "22", failed=False) == (1, 1, 1, 0.0)
    assert window.observe(100.0, "10.0.0.2", "10.0.0.8", "22", failed=True)[0] == 1


def test_a_log_without_header_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(line(1.0, "10.0.0.1", "10.0.0.9", 80))
    with pytest.raises(FlowFormatError, match="before the #fields header"):
        read_zeek([log])


def test_follow_yields_lines_as_they_are_appended_and_holds_a_partial_line(tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(HEADER + line(1.0, "10.0.0.1", "10.0.0.9", 80) + line(2.0, "10.0.0.1", "10.0.0.9", 81)[:30])
    calls = iter(range(4))
    batches = follow_zeek(log, poll_seconds=0.01, keep_going=lambda: next(calls, 9) < 3)
    first = next(batches)
    assert len(first) == 1
    with log.open("a") as handle:
        handle.write(line(2.0, "10.0.0.1", "10.0.0.9", 81)[30:])
    second = next(batches)
    assert second.categorical["resp_port"].tolist() == ["81"]
    assert second.numeric["host_conns"].tolist() == [2.0]  # the window carried over between batches
    assert list(batches) == []


def test_the_real_iot23_log_reads_with_its_labels() -> None:
    table = read_zeek([need(IOT)])
    assert len(table) == 23145
    assert table.labels is not None and int((~table.labels).sum()) == 1923
    assert np.isfinite(np.column_stack(list(table.numeric.values()))).all()
