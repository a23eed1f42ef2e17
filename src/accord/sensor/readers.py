"""Log readers: from a source name and a format to record batches with line numbers.

Formats: ``zeek`` (TSV with ``#fields``), ``zeek-json``, ``eve`` (Suricata EVE JSON), ``csv`` (header line,
RFC 4180 quoting, one record per line) and ``jsonl``; ``auto`` tells them apart by the first line. Generic
formats need a column mapping (``NAME=KIND[:ROLE]``), which also extends or overrides the defaults of the
others.
"""

from __future__ import annotations

import csv
import io
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa

from accord.sensor import jsonlogs, sources, zeek
from accord.sensor.errors import ConfigError, InputError
from accord.sensor.model import LOG_FORMATS, FieldSpec, Kind, Role
from accord.sensor.problems import Problems

FORMATS = LOG_FORMATS
# Input from which a run loads the compiled loops (``compiled``, numba): their start-up (0.55-0.7 CPU-s)
# is earned back at about 2.6 ms per MB of Zeek log (docs/sensor.md, "Compilation").
COMPILED_FROM = 256 << 20


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Events of one source: columns by log field name, the line of each row, what to match."""

    source: str
    table: pa.Table
    lines: np.ndarray
    specs: tuple[FieldSpec, ...]
    consumed: int  # bytes of the source this batch accounts for, for progress bars

    @property
    def time_field(self) -> str | None:
        return next((s.name for s in self.specs if s.kind is Kind.TIME and s.name in self.table.schema.names), None)


def parse_mapping(items: Sequence[str]) -> tuple[FieldSpec, ...]:
    """``["src=addr:src", "qname=domain", "when=time"]`` to field specs."""
    specs = []
    for item in items:
        name, eq, kind_role = item.partition("=")
        kind, _, role = kind_role.partition(":")
        try:
            specs.append(FieldSpec(name, Kind(kind), Role(role or "any")))
        except ValueError:
            raise ConfigError(
                f"bad column mapping {item!r}: want NAME=KIND[:ROLE], KIND one of "
                f"{', '.join(k.value for k in Kind)}, ROLE one of src, dst, any"
            ) from None
        if not eq or not name:
            raise ConfigError(f"bad column mapping {item!r}: want NAME=KIND[:ROLE]")
    return tuple(specs)


def _merge(defaults: Sequence[FieldSpec], mapping: Sequence[FieldSpec]) -> tuple[FieldSpec, ...]:
    names = {s.name for s in mapping}
    return tuple([s for s in defaults if s.name not in names] + list(mapping))


def detect(first_line: bytes) -> str:
    """Format of a log from its first line."""
    if first_line.startswith((b"#separator", b"#fields")):
        return "zeek"
    if first_line.lstrip().startswith(b"{"):
        try:
            record = orjson.loads(first_line)
        except orjson.JSONDecodeError:
            return "jsonl"
        if isinstance(record, dict) and "event_type" in record:
            return "eve"
        if isinstance(record, dict) and "ts" in record and ("uid" in record or "id.orig_h" in record):
            return "zeek-json"
        return "jsonl"
    return "csv"


def _zeek(
    stream: io.BufferedReader,
    name: str,
    mapping: Sequence[FieldSpec],
    problems: Problems,
    mode: sources.Follow | None,
    compiled: bool | None,
) -> Iterator[LogBatch]:
    header_lines: list[bytes] = []
    while stream.peek(1)[:1] == b"#":
        header_lines.append(stream.readline())
    header = zeek.parse_header(header_lines, name, problems)
    specs = _merge(zeek.field_specs(header), mapping)
    plain = sources.is_plain_file(name)
    fast = compiled if compiled is not None else plain and os.path.getsize(name) >= COMPILED_FROM
    parser = zeek.ChunkParser(header, specs, name, problems, fast=fast)
    if plain:
        offset = sum(len(line) for line in header_lines)
        blocks: Iterator[bytes | memoryview] = sources.mapped(name, offset, sources.CHUNK_BYTES, keep=_PARSE_AHEAD)
    else:
        blocks = (chunk.data for chunk in sources.chunks(stream, 0, sources.CHUNK_BYTES))
    for block, parsed in _tokenized(blocks, parser):
        table, lines = parser.finish(block, parsed)
        yield LogBatch(name, table, lines, specs, len(block))
    if mode is not None and name != "-":
        for chunk in sources.follow(name, os.path.getsize(name), parser.next_line, mode):
            table, lines = parser.parse(chunk.data)
            yield LogBatch(name, table, lines, specs, len(chunk.data))


_PARSE_AHEAD = 2  # blocks tokenized at once: one per core of a small sensor


def _tokenized(
    blocks: Iterator[bytes | memoryview], parser: zeek.ChunkParser
) -> Iterator[tuple[bytes | memoryview, zeek.Parsed]]:
    """Blocks with their columnar parse, ``_PARSE_AHEAD`` parsed at once in worker threads, in order.

    Each block is one pyarrow parse block (one dictionary per column, which the kernel wants), so
    pyarrow's own threads have nothing to share out; parsing consecutive blocks side by side does it.
    """
    with ThreadPoolExecutor(max_workers=_PARSE_AHEAD, thread_name_prefix="accord-parse") as pool:
        pending: deque[tuple[bytes | memoryview, Future[zeek.Parsed]]] = deque()
        try:
            for block in blocks:
                pending.append((block, pool.submit(parser.tokenize, block)))
                if len(pending) >= _PARSE_AHEAD:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _block, future in pending:
                future.cancel()


def _then_follow(
    chunks: Iterator[sources.Chunk], stream: io.BufferedReader, name: str, mode: sources.Follow | None
) -> Iterator[sources.Chunk]:
    last = sources.Chunk(1, b"")
    for chunk in chunks:
        last = chunk
        yield chunk
    if mode is not None and name != "-":
        yield from sources.follow(name, stream.tell(), last.first_line + last.data.count(b"\n"), mode)


class _Counted:
    """Chunks passed through, with the bytes seen since the last ``take`` (for progress bars)."""

    def __init__(self, chunks: Iterator[sources.Chunk]) -> None:
        self._chunks = chunks
        self._bytes = 0

    def __iter__(self) -> Iterator[sources.Chunk]:
        for chunk in self._chunks:
            self._bytes += len(chunk.data)
            yield chunk

    def take(self) -> int:
        seen, self._bytes = self._bytes, 0
        return seen


def _json(
    counted: _Counted,
    name: str,
    specs: tuple[FieldSpec, ...],
    problems: Problems,
    header: list[str] | None = None,
) -> Iterator[LogBatch]:
    chunks = iter(counted) if header is None else _csv_as_json(iter(counted), name, header, problems)
    for table, lines in jsonlogs.batches(chunks, specs, name, problems):
        yield LogBatch(name, pa.Table.from_batches([table]), lines, specs, counted.take())


def _csv_header(stream: io.BufferedReader, name: str, specs: tuple[FieldSpec, ...]) -> list[str]:
    header = next(csv.reader([stream.readline().decode("utf-8", "replace")]), [])
    missing = [s.name for s in specs if s.name not in header]
    if missing:
        raise InputError(name, 1, f"CSV header has no column {', '.join(missing)}")
    return header


def _csv_as_json(
    chunks: Iterator[sources.Chunk], name: str, header: list[str], problems: Problems
) -> Iterator[sources.Chunk]:
    """CSV records re-encoded as JSON objects line for line, so line numbers and bad-line rules hold."""
    for chunk in chunks:
        out: list[bytes] = []
        raws = chunk.data.split(b"\n")
        for offset, raw in enumerate(raws[:-1] if chunk.data.endswith(b"\n") else raws):
            try:
                row = next(csv.reader([raw.decode("utf-8")]), [])
            except UnicodeDecodeError as exc:
                problems.add(name, chunk.first_line + offset, f"byte {exc.start}", "not UTF-8")
                row = []
            if row and len(row) != len(header):
                problems.add(
                    name,
                    chunk.first_line + offset,
                    f"{len(row)} columns, header has {len(header)}",
                    "wrong column count",
                )
                row = []
            out.append(orjson.dumps(dict(zip(header, row, strict=True))) if row else b"")
        yield sources.Chunk(chunk.first_line, b"\n".join(out) + b"\n")


def read(
    name: str,
    fmt: str = "auto",
    mapping: Sequence[FieldSpec] = (),
    problems: Problems | None = None,
    mode: sources.Follow | None = None,
    compiled: bool | None = None,
) -> Iterator[LogBatch]:
    """Batches of one source; bad lines go to ``problems``.

    ``compiled``: whether Zeek TSV goes through the compiled scanner; None decides by the source's size
    (``COMPILED_FROM``), which is what a run of one file wants.
    """
    report = problems if problems is not None else Problems()
    stream = sources.open_binary(name)
    try:
        first = stream.peek(4096).split(b"\n", 1)[0]
        kind = detect(first) if fmt == "auto" else fmt
        if kind == "zeek":
            yield from _zeek(stream, name, mapping, report, mode, compiled)
        elif kind in ("zeek-json", "eve"):
            defaults = jsonlogs.ZEEK_JSON_FIELDS if kind == "zeek-json" else jsonlogs.EVE_FIELDS
            chunks = _Counted(_then_follow(sources.chunks(stream, 1, 4 << 20), stream, name, mode))
            yield from _json(chunks, name, _merge(defaults, mapping), report)
        elif not mapping:
            raise ConfigError(f"{name}: {kind} logs need a column mapping (--map NAME=KIND[:ROLE])")
        elif kind == "jsonl":
            chunks = _Counted(_then_follow(sources.chunks(stream, 1, 4 << 20), stream, name, mode))
            yield from _json(chunks, name, tuple(mapping), report)
        elif kind == "csv":
            header = _csv_header(stream, name, tuple(mapping))
            chunks = _Counted(_then_follow(sources.chunks(stream, 2, 4 << 20), stream, name, mode))
            yield from _json(chunks, name, tuple(mapping), report, header)
        else:
            raise ConfigError(f"unknown log format {fmt!r}; known: {', '.join(FORMATS)}")
    finally:
        if name != "-":
            stream.close()
