"""Zeek TSV logs (the ASCII writer): ``#`` header lines, then one tab-separated record per line.

Header directives, from Zeek's ASCII log writer (``logging/writers/ascii``): ``#separator`` (escaped,
e.g. ``\\x09``), ``#set_separator``, ``#empty_field``, ``#unset_field``, ``#path``, ``#open``,
``#fields`` and ``#types``; a ``#close`` line ends the file. Values equal to the unset or empty marker
become nulls.

Records are parsed chunk by chunk. Tab-separated logs go through the compiled scanner of
``zeekscan`` (only the needed columns are cut out); it hands back what it does not settle exactly, and
everything else, to the general path: ``pyarrow.csv`` (one parse block per chunk, so one dictionary per
matched column; only the needed columns are converted; no quoting, since Zeek escapes separators
instead of quoting). ``ChunkParser.tokenize`` needs no earlier chunk, so consecutive chunks are parsed
side by side (``readers``) and ``finish``ed in order. Clean chunks map rows to lines by counting; a
chunk with any bad line (wrong column count, empty or ``#`` line, non-UTF-8 bytes anywhere in the line,
a bad timestamp) is re-scanned line by line to report each one with its number, and its good rows are
still matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from accord.sensor import sources, zeekscan
from accord.sensor.errors import InputError
from accord.sensor.model import FieldSpec, Kind, Role
from accord.sensor.problems import Problems
from accord.sensor.sources import Chunk

_KNOWN_TYPES = re.compile(
    r"^(bool|count|int|double|time|interval|string|pattern|enum|port|addr|subnet|any|file|func"
    r"|(set|vector|table)\[.+\])$"
)
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
_ROLES = {"id.orig_h": Role.SRC, "id.resp_h": Role.DST, "src": Role.SRC, "dst": Role.DST}
_NAMED: dict[str, Kind] = {
    "query": Kind.DOMAIN,
    "host": Kind.DOMAIN,
    "server_name": Kind.DOMAIN,
    "sni": Kind.DOMAIN,
    "md5": Kind.HASH,
    "sha1": Kind.HASH,
    "sha256": Kind.HASH,
    "mailfrom": Kind.EMAIL,
    "user": Kind.USER,
    "username": Kind.USER,
    "ts": Kind.TIME,
}
URL_FIELD = "url"  # http.log: synthesised from host and uri (Zeek logs them apart)


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed Zeek header; ``lines`` is how many header lines precede the first record."""

    separator: str
    fields: tuple[str, ...]
    types: tuple[str, ...]
    unset: str
    empty: str
    lines: int


def _unescape(text: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def parse_header(lines: Sequence[bytes], source: str, problems: Problems) -> Header:
    """Parse the ``#`` lines; unknown types are reported (the column is read as a string)."""
    values: dict[str, str] = {}
    separator = "\t"
    for raw in lines:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if text.startswith("#separator"):
            separator = _unescape(text.split(" ", 1)[1]) if " " in text else "\t"
            continue
        key, _, rest = text.partition(separator)
        values[key] = rest
    if "#fields" not in values:
        raise InputError(source, len(lines) + 1, "not a Zeek TSV log: no #fields header line")
    fields = tuple(values["#fields"].split(separator))
    types = tuple(values.get("#types", "").split(separator)) if "#types" in values else ("string",) * len(fields)
    types_line = next((i for i, raw in enumerate(lines, 1) if raw.startswith(b"#types")), 0)
    for name, kind in zip(fields, types, strict=False):
        if not _KNOWN_TYPES.match(kind):
            problems.add(source, types_line, f"column {name!r} has type {kind!r}; read as string", "unknown Zeek type")
    return Header(
        separator,
        fields,
        types,
        values.get("#unset_field", "-"),
        values.get("#empty_field", "(empty)"),
        len(lines),
    )


def field_specs(header: Header) -> list[FieldSpec]:
    """What to match in a Zeek log: every ``addr`` column, plus columns known by name across log types."""
    specs: list[FieldSpec] = []
    for name, kind in zip(header.fields, header.types, strict=False):
        if kind == "addr":
            specs.append(FieldSpec(name, Kind.ADDR, _ROLES.get(name, Role.ANY)))
        elif name in _NAMED:
            specs.append(FieldSpec(name, _NAMED[name]))
    if "host" in header.fields and "uri" in header.fields:
        specs.append(FieldSpec(URL_FIELD, Kind.URL))
    return specs


@dataclass(frozen=True, slots=True)
class Parsed:
    """A tokenized block: its records, and whether every line was well-formed UTF-8 with all columns."""

    table: pa.Table
    clean: bool
    scanned: zeekscan.Scanned | None = None  # settled by the fast scanner (line numbers, bad lines)


class ChunkParser:
    """Parses chunks of one Zeek log into record batches of the needed columns."""

    def __init__(
        self, header: Header, specs: Sequence[FieldSpec], source: str, problems: Problems, *, fast: bool = True
    ) -> None:
        """``fast=False`` keeps every block on the general path (the property test compares both)."""
        self.next_line = header.lines + 1
        self.header = header
        self.source = source
        self.problems = problems
        wanted = {s.name for s in specs if s.name in header.fields}
        if any(s.name == URL_FIELD for s in specs):
            wanted |= {"host", "uri"}
        self.columns = [name for name in header.fields if name in wanted]
        self.time_field = "ts" if "ts" in wanted else None
        match = {s.name for s in specs if s.kind not in (Kind.TIME, Kind.USER)}
        types: dict[str, pa.DataType] = {
            name: pa.dictionary(pa.int32(), pa.string()) if name in match else pa.string() for name in self.columns
        }
        # One parse block per chunk: each column then has one dictionary per chunk, so the kernel looks up
        # a chunk's distinct values once instead of once per 4 MiB piece (a third fewer lookups on
        # conn.log). Chunks are parsed two at a time instead (``readers``), which keeps both cores busy.
        self._read = pcsv.ReadOptions(column_names=list(header.fields), block_size=sources.CHUNK_BYTES + (1 << 20))
        self._convert = pcsv.ConvertOptions(
            include_columns=self.columns,
            column_types=types,
            check_utf8=False,
            null_values=[header.unset, header.empty],
            strings_can_be_null=True,
        )
        fits = fast and zeekscan.Scanner.fits(header.fields, header.separator, self.time_field, self.columns)
        self._scanner = (
            zeekscan.Scanner(header.fields, self.columns, match, self.time_field, header.unset, header.empty)
            if fits
            else None
        )

    def tokenize(self, data: bytes | memoryview) -> Parsed:
        """The columnar parse of a block of whole lines; needs no earlier block, so blocks can be
        tokenized in parallel threads (numba and pyarrow release the GIL) and then ``finish``ed in file order."""
        if self._scanner is not None and (scanned := self._scanner.scan(data)) is not None:
            return Parsed(scanned.table, clean=True, scanned=scanned)
        skipped = [0]

        def skip(_row: pcsv.InvalidRow) -> str:
            skipped[0] += 1
            return "skip"

        parse = pcsv.ParseOptions(
            delimiter=self.header.separator,
            quote_char=False,
            escape_char=False,
            double_quote=False,
            ignore_empty_lines=False,
            invalid_row_handler=skip,
        )
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=self._read,
            parse_options=parse,
            convert_options=self._convert,
        )
        return Parsed(table, clean=not skipped[0] and not _odd_lines(data) and zeekscan.utf8_valid(data))

    def parse(self, data: bytes | memoryview) -> tuple[pa.Table, np.ndarray]:
        """Record batch of a block of whole lines (the next ones of the file) and the line of each record."""
        return self.finish(data, self.tokenize(data))

    def finish(self, data: bytes | memoryview, parsed: Parsed) -> tuple[pa.Table, np.ndarray]:
        """Line numbers, bad-line reports, timestamps and URLs of a tokenized block (the next of the file)."""
        batch = parsed.table
        lines = self.next_line + np.arange(batch.num_rows, dtype=np.int64)
        if parsed.scanned is not None:
            lines = self.next_line + parsed.scanned.row_lines
            self._report(data, parsed.scanned)
            self.next_line += parsed.scanned.lines
            return (_with_url(batch) if "host" in self.columns and "uri" in self.columns else batch), lines
        if not parsed.clean:
            text = bytes(data)
            batch, lines = self._rescan(Chunk(self.next_line, text), batch)
            self.next_line += text.count(b"\n") + (not text.endswith(b"\n"))
        else:
            self.next_line += batch.num_rows
        if self.time_field is not None:
            batch = self._check_times(batch, lines)
        if "host" in self.columns and "uri" in self.columns:
            batch = _with_url(batch)
        return batch, lines

    def _report(self, data: bytes | memoryview, scanned: zeekscan.Scanned) -> None:
        """The scanner's bad lines, reported as ``_rescan`` words them."""
        width = len(self.header.fields)
        for bad in scanned.bad:
            number = self.next_line + bad.index
            if bad.kind == zeekscan.EMPTY:
                self.problems.add(self.source, number, "", "empty line")
            elif bad.kind == zeekscan.HEADER:
                raw = bytes(data[bad.start : bad.start + 60]).split(b"\n", 1)[0]
                if not raw.startswith(b"#close"):
                    self.problems.add(
                        self.source, number, raw.decode("utf-8", "replace"), "header line inside the records (ignored)"
                    )
            else:
                reason = f"{bad.columns} columns, header has {width}"
                self.problems.add(self.source, number, reason, "wrong column count")

    def _rescan(self, chunk: Chunk, batch: pa.Table) -> tuple[pa.Table, np.ndarray]:
        """Slow path: find the bad lines of a chunk, report them, keep the good rows."""
        width = len(self.header.fields)
        sep = self.header.separator.encode()
        parsed: list[int] = []
        keep: list[bool] = []
        raws = chunk.data.split(b"\n")
        for offset, raw in enumerate(raws[:-1] if chunk.data.endswith(b"\n") else raws):
            number = chunk.first_line + offset
            if not raw:  # pyarrow keeps an empty line as a row of nulls
                self.problems.add(self.source, number, "", "empty line")
                parsed.append(number)
                keep.append(False)
                continue
            if raw.startswith(b"#"):
                if raw.count(sep) + 1 == width:  # pyarrow took it for a record
                    parsed.append(number)
                    keep.append(False)
                if not raw.startswith(b"#close"):
                    self.problems.add(
                        self.source,
                        number,
                        raw[:60].decode("utf-8", "replace"),
                        "header line inside the records (ignored)",
                    )
                continue
            columns = raw.count(sep) + 1
            if columns != width:
                self.problems.add(self.source, number, f"{columns} columns, header has {width}", "wrong column count")
                continue
            parsed.append(number)
            try:
                raw.decode("utf-8")
                keep.append(True)
            except UnicodeDecodeError as exc:
                self.problems.add(self.source, number, f"byte {exc.start}", "not UTF-8")
                keep.append(False)
        if len(parsed) != batch.num_rows:
            self.problems.add(
                self.source,
                chunk.first_line,
                f"{batch.num_rows} records parsed, {len(parsed)} lines counted; carriage returns inside records?",
                "chunk skipped",
            )
            return batch.slice(0, 0), np.zeros(0, dtype=np.int64)
        mask = np.asarray(keep, dtype=bool)
        return batch.filter(pa.array(mask)), np.asarray(parsed, dtype=np.int64)[mask]

    def _check_times(self, batch: pa.Table, lines: np.ndarray) -> pa.Table:
        """``ts`` as float seconds; unparseable values become null and are reported (Zeek ``time``)."""
        index = batch.schema.get_field_index("ts")
        text = batch.column(index)
        try:
            seconds = pc.cast(text, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            good = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
            for pos in np.flatnonzero(~np.asarray(good)).tolist():
                self.problems.add(self.source, int(lines[pos]), repr(text[pos].as_py())[:40], "bad timestamp")
            seconds = pc.cast(pc.if_else(good, text, pa.scalar(None, pa.string())), pa.float64())
        return batch.set_column(index, "ts", seconds)


def _odd_lines(data: bytes | memoryview) -> bool:
    """Empty or ``#`` lines, which pyarrow keeps as records when their column count happens to fit."""
    text = data if isinstance(data, bytes) else bytes(data)
    return text[:1] in (b"\n", b"#") or b"\n\n" in text or b"\n#" in text


def _with_url(batch: pa.Table) -> pa.Table:
    """http.log's URL as a client asked for it: ``http://`` + Host header + request URI."""
    host = batch.column("host").cast(pa.string())
    url = pc.binary_join_element_wise("http://", host, batch.column("uri"), "")
    return batch.append_column(URL_FIELD, url)
