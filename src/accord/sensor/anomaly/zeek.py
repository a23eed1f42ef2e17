"""Zeek ``conn.log`` (TSV) to ``FlowTable``, with per-host context features, once or following a file.

A single connection rarely looks wrong on its own; a scan or a flood does when seen beside the same
host's other recent connections. So each flow also gets what its originating host did in the last
``WINDOW_SECONDS`` (connections, distinct destination ports and hosts, share of failed attempts),
the same idea as NSL-KDD's ``count``/``srv_count`` features. The window state lives in
``HostWindow`` so ``watch --follow`` carries it from one batch of lines to the next.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accord.sensor.anomaly.errors import FlowFormatError
from accord.sensor.anomaly.flows import Endpoints, FlowTable, StrArray, concat

WINDOW_SECONDS = 60.0
ZEEK_NUMERIC = (
    "duration",
    "orig_bytes",
    "resp_bytes",
    "missed_bytes",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
)
ZEEK_CATEGORICAL = ("proto", "service", "conn_state", "history", "resp_port")
CONTEXT_NUMERIC = ("host_conns", "host_dst_ports", "host_dst_hosts", "host_failed_share")
_FAILED_STATES = frozenset({"S0", "REJ", "RSTO", "RSTOS0", "RSTR", "RSTRH", "SH", "SHR", "OTH"})
_REQUIRED = (
    "ts",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "conn_state",
    "history",
    *ZEEK_NUMERIC,
)
# IoT-23 appends "label" and "detailed-label" to the last field, separated by three spaces.
_LABEL_GLUE = "   "


@dataclass
class _HostState:
    recent: deque[tuple[float, str, str, bool]] = field(default_factory=deque)
    hosts: Counter[str] = field(default_factory=Counter)
    ports: Counter[str] = field(default_factory=Counter)
    failed: int = 0


class HostWindow:
    """What each originating host did in the last ``seconds``; updated one flow at a time."""

    def __init__(self, seconds: float = WINDOW_SECONDS) -> None:
        self._seconds = seconds
        self._hosts: dict[str, _HostState] = {}
        self._seen = 0

    def observe(self, ts: float, src: str, dst: str, port: str, failed: bool) -> tuple[int, int, int, float]:
        """Add one flow; return (connections, distinct ports, distinct hosts, failed share) including it."""
        state = self._hosts.setdefault(src, _HostState())
        recent = state.recent
        while recent and recent[0][0] < ts - self._seconds:
            _, old_dst, old_port, old_failed = recent.popleft()
            _decrement(state.hosts, old_dst)
            _decrement(state.ports, old_port)
            state.failed -= old_failed
        recent.append((ts, dst, port, failed))
        state.hosts[dst] += 1
        state.ports[port] += 1
        state.failed += failed
        self._seen += 1
        if self._seen % 50_000 == 0:
            self._forget_idle(ts)
        return len(recent), len(state.ports), len(state.hosts), state.failed / len(recent)

    def _forget_idle(self, now: float) -> None:
        """Drop hosts silent for a whole window so a long ``watch`` does not grow without bound."""
        idle = [h for h, s in self._hosts.items() if not s.recent or s.recent[-1][0] < now - self._seconds]
        for host in idle:
            del self._hosts[host]


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if not counter[key]:
        del counter[key]


class ZeekConnParser:
    """Parses conn.log lines (header lines included) into tables, keeping header and window state."""

    def __init__(self, window: HostWindow | None = None) -> None:
        self.window = window or HostWindow()
        self._fields: list[str] = []
        self._sep = "\t"
        self._unset = "-"

    def parse(self, lines: Iterable[str]) -> FlowTable:
        rows: list[list[str]] = []
        for raw in lines:
            line = raw.rstrip("\n")
            if line.startswith("#"):
                self._header(line)
            elif line:
                if not self._fields:
                    raise FlowFormatError("flow line before the #fields header: not a Zeek conn log")
                rows.append(_split(line, self._sep))
        return self._table(rows)

    def _header(self, line: str) -> None:
        key, _, value = line.partition(" " if line.startswith("#separator") else "\t")
        if key == "#separator":
            self._sep = value.encode().decode("unicode_escape")
        elif key == "#unset_field":
            self._unset = value
        elif key == "#fields":
            self._fields = _split(value, self._sep)
            missing = [f for f in _REQUIRED if f not in self._fields]
            if missing:
                raise FlowFormatError(f"conn log lacks fields: {', '.join(missing)}")

    def _table(self, rows: list[list[str]]) -> FlowTable:
        width = len(self._fields)
        bad = next((i for i, r in enumerate(rows) if len(r) != width), None)
        if bad is not None:
            raise FlowFormatError(f"a flow line has {len(rows[bad])} fields, expected {width}")
        cells = np.array(rows, dtype=str).reshape(len(rows), width)
        col = {name: cells[:, i] for i, name in enumerate(self._fields)}
        cells = np.where(cells == self._unset, "0", cells)
        try:
            numeric = {name: cells[:, self._fields.index(name)].astype(np.float64) for name in ZEEK_NUMERIC}
            ts = col["ts"].astype(np.float64)
            ports = [np.where(col[k] == self._unset, "-1", col[k]).astype(np.int64) for k in ("id.orig_p", "id.resp_p")]
        except ValueError as exc:
            raise FlowFormatError(f"conn log has a non-numeric value where a number belongs ({exc})") from exc
        states = col["conn_state"]
        context = np.array(
            [
                self.window.observe(t, s, d, p, c in _FAILED_STATES)
                for t, s, d, p, c in zip(
                    ts.tolist(),
                    col["id.orig_h"].tolist(),
                    col["id.resp_h"].tolist(),
                    col["id.resp_p"].tolist(),
                    states.tolist(),
                    strict=True,
                )
            ],
            dtype=np.float64,
        ).reshape(len(rows), len(CONTEXT_NUMERIC))
        numeric.update({name: context[:, i] for i, name in enumerate(CONTEXT_NUMERIC)})
        categorical: dict[str, StrArray] = {name: col[name] for name in ZEEK_CATEGORICAL[:-1]}
        categorical["resp_port"] = col["id.resp_p"]
        endpoints = Endpoints(col["id.orig_h"], col["id.resp_h"], ports[0], ports[1], col["proto"], ts)
        labels = None
        if "label" in col:
            labels = ~np.isin(np.char.lower(col["label"]), ("benign", "normal", "-"))
        return FlowTable(numeric, categorical, endpoints, labels)


def _split(line: str, sep: str) -> list[str]:
    parts = line.split(sep)
    if parts and _LABEL_GLUE in parts[-1]:
        parts[-1:] = parts[-1].split(_LABEL_GLUE)
    return parts


def read_zeek(paths: Iterable[Path]) -> FlowTable:
    """Every flow of the given conn logs, with context features carried across files in order."""
    parser = ZeekConnParser()
    tables = []
    for path in paths:
        try:
            with path.open() as handle:
                tables.append(parser.parse(handle))
        except OSError as exc:
            raise FlowFormatError(f"cannot read {path}: {exc.strerror}") from exc
    return concat(tables)


def follow_zeek(
    path: Path,
    *,
    poll_seconds: float = 1.0,
    batch_lines: int = 10_000,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[FlowTable]:
    """Batches of new flows as Zeek appends them to ``path`` (like ``tail -f``), from its start.

    A partial last line is held back until its newline arrives; ``keep_going`` ends the loop.
    """
    parser = ZeekConnParser()
    pending = ""
    with path.open() as handle:
        while keep_going():
            chunk = handle.read(1 << 20)
            if not chunk:
                time.sleep(poll_seconds)
                continue
            lines = (pending + chunk).split("\n")
            pending = lines.pop()
            for start in range(0, len(lines), batch_lines):
                table = parser.parse(lines[start : start + batch_lines])
                if len(table):
                    yield table
