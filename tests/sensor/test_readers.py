"""Readers: every kind of bad input is counted with file and line, and the rest of the file is read."""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path

import orjson
import pytest

from accord.sensor import readers, sources
from accord.sensor.errors import ConfigError, InputError
from accord.sensor.model import Kind
from accord.sensor.problems import Problems
from tests.sensor.helpers import CONN_FIELDS, CONN_TYPES, conn_line, write_conn, zeek_header

ROWS = [("1700000000.5", "10.0.0.1", "198.51.100.1"), ("1700000001.5", "10.0.0.2", "198.51.100.2")]


def _read(path: Path | str, **kwargs: object) -> tuple[dict[int, dict[str, object]], Problems]:
    """Rows by line number, and the problems."""
    problems = Problems()
    rows: dict[int, dict[str, object]] = {}
    for batch in readers.read(str(path), problems=problems, **kwargs):  # type: ignore[arg-type]
        for line, record in zip(batch.lines.tolist(), batch.table.to_pylist(), strict=True):
            rows[line] = record
    return rows, problems


def _bad(problems: Problems) -> list[tuple[int, str]]:
    return [(r.line, r.reason.split(":")[0]) for r in problems.records]


def test_clean_zeek_log_keeps_line_numbers_and_types(tmp_path: Path) -> None:
    rows, problems = _read(write_conn(tmp_path, ROWS, tail="#close\t2026-11-27-00-00-01\n"))
    assert sorted(rows) == [9, 10]
    assert rows[10]["id.resp_h"] == "198.51.100.2" and rows[10]["ts"] == 1700000001.5
    assert problems.total == 0  # the #close trailer is not a problem


def test_wrong_column_count_and_truncated_last_line(tmp_path: Path) -> None:
    tail = "1700000002.5\tC9\t10.0.0.3\n" + conn_line("1700000003.5", "10.0.0.4", "198.51.100.4") + "17000000"
    rows, problems = _read(write_conn(tmp_path, ROWS, tail=tail))
    assert sorted(rows) == [9, 10, 12]
    assert _bad(problems) == [(11, "wrong column count"), (13, "wrong column count")]


def test_non_utf8_bytes_are_reported_and_skipped(tmp_path: Path) -> None:
    path = write_conn(tmp_path, ROWS)
    path.write_bytes(
        path.read_bytes()
        + b"1700000002.5\tC3\t10.0.0.\xff\t1\t198.51.100.3\t443\ttcp\n"
        + conn_line("1700000003.5", "10.0.0.4", "198.51.100.4").encode()
    )
    rows, problems = _read(path)
    assert sorted(rows) == [9, 10, 12]
    assert _bad(problems) == [(11, "not UTF-8")]


def test_bad_timestamps_are_reported_but_the_event_is_kept(tmp_path: Path) -> None:
    rows, problems = _read(write_conn(tmp_path, [ROWS[0], ("yesterday", "10.0.0.9", "198.51.100.9"), ROWS[1]]))
    assert sorted(rows) == [9, 10, 11]
    assert rows[10]["ts"] is None and rows[10]["id.resp_h"] == "198.51.100.9"
    assert _bad(problems) == [(10, "bad timestamp")]


@pytest.mark.parametrize("compressed", [False, True])
def test_blocks_parsed_side_by_side_keep_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    """Many small blocks tokenized two at a time, bad lines in several of them: numbers stay exact."""
    monkeypatch.setattr(sources, "CHUNK_BYTES", 2048)
    rows = [(f"17000000{i:02d}.5", f"10.0.{i // 256}.{i % 256}", "198.51.100.1") for i in range(400)]
    rows[57] = ("yesterday", "10.0.0.57", "198.51.100.1")
    path = write_conn(tmp_path, rows)
    lines = path.read_bytes().split(b"\n")
    lines[8 + 120] = b"1700000002.5\tC9\t10.0.0.3"  # line 129: too few columns
    lines[8 + 300] = lines[8 + 300].replace(b"10.0.1.44", b"10.0.1.\xff")  # line 309: not UTF-8
    data = b"\n".join(lines)
    if compressed:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    assert len(data) > 10 * 2048
    got, problems = _read(path)
    assert sorted(got) == [n for n in range(9, 409) if n not in (129, 309)]
    assert all(got[9 + i]["id.orig_h"] == rows[i][1] for i in range(400) if 9 + i not in (129, 309))
    assert got[66]["ts"] is None
    assert _bad(problems) == [(66, "bad timestamp"), (129, "wrong column count"), (309, "not UTF-8")]


def test_unknown_zeek_type_is_reported_and_read_as_string(tmp_path: Path) -> None:
    path = tmp_path / "odd.log"
    path.write_text(
        zeek_header(CONN_FIELDS, CONN_TYPES[:-1] + ["quaternion"])
        + conn_line("1700000000.5", "10.0.0.1", "198.51.100.1")
    )
    rows, problems = _read(path)
    assert rows[9]["id.resp_h"] == "198.51.100.1"
    assert _bad(problems) == [(8, "unknown Zeek type")]


def test_gzip_and_directories(tmp_path: Path) -> None:
    plain = write_conn(tmp_path, ROWS)
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "conn.log.gz").write_bytes(gzip.compress(plain.read_bytes()))
    (folder / "sub").mkdir()
    write_conn(folder / "sub", ROWS[:1])
    names = sources.expand([str(folder)])
    assert [Path(n).name for n in names] == ["conn.log.gz", "conn.log"]
    rows, _ = _read(names[0])
    assert sorted(rows) == [9, 10]
    with pytest.raises(InputError, match="no such file"):
        sources.expand([str(tmp_path / "missing")])


def test_zeek_json_and_eve_with_bad_lines(tmp_path: Path) -> None:
    zeek_json = tmp_path / "conn.json"
    zeek_json.write_bytes(
        b"\n".join(
            [
                orjson.dumps({"ts": 1700000000.5, "uid": "C1", "id.orig_h": "10.0.0.1", "id.resp_h": "198.51.100.1"}),
                b'{"ts": 1700000001.5, "uid": "C2", "id.orig_h"',
                orjson.dumps({"ts": "not a time", "uid": "C3", "id.orig_h": "10.0.0.3", "id.resp_h": "198.51.100.3"}),
                b'{"ts": 1, "uid": "\xff"}',
                b"[1, 2]",
            ]
        )
        + b"\n"
    )
    rows, problems = _read(zeek_json)
    assert sorted(rows) == [1, 3]
    assert rows[3]["id.resp_h"] == "198.51.100.3" and rows[3]["ts"] is None
    assert _bad(problems) == [(2, "not JSON"), (3, "bad timestamp"), (4, "not UTF-8"), (5, "not a JSON object")]
    eve = tmp_path / "eve.json"
    eve.write_bytes(
        orjson.dumps(
            {
                "timestamp": "2026-11-27T10:00:00.000000+0000",
                "event_type": "http",
                "src_ip": "10.0.0.1",
                "dest_ip": "203.0.113.5",
                "http": {"hostname": "Evil.example", "url": "/x?y=1"},
            }
        )
        + b"\n"
    )
    rows, problems = _read(eve)
    assert rows[1]["http.full_url"] == "http://Evil.example/x?y=1" and rows[1]["http.hostname"] == "Evil.example"
    assert rows[1]["timestamp"] == pytest.approx(1795773600.0) and problems.total == 0


def test_csv_and_jsonl_need_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_bytes(
        b'when,src,dst,user\n1700000000,10.0.0.1,"198.51.100.1",alice\n1,2\n'
        b"1700000002,10.0.0.2,198.51.100.\xff,bob\n1700000003,10.0.0.3,198.51.100.3,carol\n"
    )
    with pytest.raises(ConfigError, match="column mapping"):
        list(readers.read(str(path)))
    mapping = readers.parse_mapping(["when=time", "src=addr:src", "dst=addr:dst", "user=user"])
    rows, problems = _read(path, mapping=mapping)
    assert sorted(rows) == [2, 5] and rows[2]["dst"] == "198.51.100.1" and rows[5]["user"] == "carol"
    assert _bad(problems) == [(3, "wrong column count"), (4, "not UTF-8")]
    assert [s.kind for s in mapping] == [Kind.TIME, Kind.ADDR, Kind.ADDR, Kind.USER]
    with pytest.raises(ConfigError, match="NAME=KIND"):
        readers.parse_mapping(["src=ipaddress"])


def test_follow_mode_reads_appended_lines(tmp_path: Path) -> None:
    path = write_conn(tmp_path, ROWS[:1])

    def append() -> None:
        time.sleep(0.3)
        with open(path, "a") as handle:
            handle.write(conn_line("1700000005.5", "10.0.0.5", "198.51.100.5"))
            handle.flush()
            time.sleep(0.2)
            handle.write(conn_line("1700000006.5", "10.0.0.6", "198.51.100.6")[:10])
            handle.flush()
            time.sleep(0.2)
            handle.write(conn_line("1700000006.5", "10.0.0.6", "198.51.100.6")[10:])

    writer = threading.Thread(target=append)
    writer.start()
    rows, problems = _read(path, mode=sources.Follow(poll_seconds=0.05, idle_seconds=2.5))
    writer.join()
    assert sorted(rows) == [9, 10, 11] and rows[11]["id.resp_h"] == "198.51.100.6"
    assert problems.total == 0
