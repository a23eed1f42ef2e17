"""JSON-lines logs: Zeek JSON (``LogAscii::use_json``), Suricata EVE JSON, and any JSON lines with a
column mapping.

Zeek JSON keeps the TSV column names as flat keys (``"id.orig_h"``) and ``ts`` as epoch seconds (or
ISO 8601 with ``LogAscii::json_timestamps``). Suricata EVE (``eve.json``, "Eve JSON Output" in the
Suricata manual) nests protocol records: ``dns.rrname`` (also ``dns.queries[].rrname`` in the v3
format), ``http.hostname`` + ``http.url``, ``tls.sni``, ``fileinfo.md5/sha1/sha256``, ``smtp.mail_from``,
with ``src_ip``/``dest_ip`` and an ISO 8601 ``timestamp``.

Lines are decoded with orjson one by one, so a bad line (not JSON, not an object, not UTF-8, a bad
timestamp) is reported with its number and the rest of the file is read; columns are then built for
the kernel in batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from accord.sensor.model import FieldSpec, Kind, Role
from accord.sensor.problems import Problems
from accord.sensor.sources import Chunk

EVE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("src_ip", Kind.ADDR, Role.SRC),
    FieldSpec("dest_ip", Kind.ADDR, Role.DST),
    FieldSpec("dns.rrname", Kind.DOMAIN),
    FieldSpec("dns.queries.rrname", Kind.DOMAIN),
    FieldSpec("http.hostname", Kind.DOMAIN),
    FieldSpec("http.full_url", Kind.URL),
    FieldSpec("tls.sni", Kind.DOMAIN),
    FieldSpec("fileinfo.md5", Kind.HASH),
    FieldSpec("fileinfo.sha1", Kind.HASH),
    FieldSpec("fileinfo.sha256", Kind.HASH),
    FieldSpec("smtp.mail_from", Kind.EMAIL),
    FieldSpec("timestamp", Kind.TIME),
)
ZEEK_JSON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id.orig_h", Kind.ADDR, Role.SRC),
    FieldSpec("id.resp_h", Kind.ADDR, Role.DST),
    FieldSpec("query", Kind.DOMAIN),
    FieldSpec("host", Kind.DOMAIN),
    FieldSpec("server_name", Kind.DOMAIN),
    FieldSpec("md5", Kind.HASH),
    FieldSpec("sha1", Kind.HASH),
    FieldSpec("sha256", Kind.HASH),
    FieldSpec("mailfrom", Kind.EMAIL),
    FieldSpec("username", Kind.USER),
    FieldSpec("ts", Kind.TIME),
)
_BATCH = 65536


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    """A flat key first (Zeek), then a dotted walk (EVE); lists yield their first element's value."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value and isinstance(value[0], dict) else None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def parse_time(value: Any) -> float | None:
    """Epoch seconds from a number, a numeric string or ISO 8601 text; raises ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _eve_url(record: Mapping[str, Any]) -> str | None:
    http = record.get("http")
    if isinstance(http, dict) and http.get("hostname") and http.get("url"):
        return f"http://{http['hostname']}{http['url']}"
    return None


def batches(
    chunks: Iterator[Chunk], specs: tuple[FieldSpec, ...], source: str, problems: Problems
) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
    """Record batches (one string column per spec, times as float64) with line numbers."""
    names = [s.name for s in specs]
    time_fields = {s.name for s in specs if s.kind is Kind.TIME}
    columns: dict[str, list[Any]] = {name: [] for name in names}
    lines: list[int] = []

    def flush() -> tuple[pa.RecordBatch, np.ndarray]:
        arrays = [pa.array(columns[n], pa.float64() if n in time_fields else pa.string()) for n in names]
        out = (pa.RecordBatch.from_arrays(arrays, names=names), np.asarray(lines, dtype=np.int64))
        for values in columns.values():
            values.clear()
        lines.clear()
        return out

    for chunk in chunks:
        raws = chunk.data.split(b"\n")
        for offset, raw in enumerate(raws[:-1] if chunk.data.endswith(b"\n") else raws):
            number = chunk.first_line + offset
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                category = "not UTF-8" if "UTF-8" in str(exc) else "not JSON"
                problems.add(source, number, str(exc)[:80], category)
                continue
            if not isinstance(record, dict):
                problems.add(source, number, type(record).__name__, "not a JSON object")
                continue
            for name in names:
                value = _eve_url(record) if name == "http.full_url" else _lookup(record, name)
                if name in time_fields:
                    try:
                        value = parse_time(value)
                    except (ValueError, OverflowError):
                        problems.add(source, number, repr(value)[:40], "bad timestamp")
                        value = None
                elif value is not None and not isinstance(value, str):
                    value = str(value) if isinstance(value, int | float) else None
                columns[name].append(value)
            lines.append(number)
            if len(lines) >= _BATCH:
                yield flush()
    if lines:
        yield flush()
