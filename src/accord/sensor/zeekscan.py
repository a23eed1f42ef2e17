"""The fast Zeek TSV reader: a compiled scanner that only cuts out the columns matching needs.

pyarrow's CSV reader tokenises every column of every line (21 in a conn.log) although matching reads
three; that was three quarters of the work. This scanner walks a block's bytes once (numba, without the
GIL, so two blocks are scanned side by side), counts each line's separators, notes the byte ranges of the
needed columns and classifies the lines pyarrow's path would report (empty, ``#`` header, wrong column
count). Each needed column is then dictionary-encoded straight from its byte ranges (a hash table over
the bytes, ``-``/``(empty)`` as nulls) and ``ts`` parsed to float seconds, giving the same Arrow table the
general path (``zeek.ChunkParser``) makes, which the match kernel reads unchanged.

A block the scanner does not settle exactly is handed back (``None``) to the general path: carriage
returns (pyarrow ends lines at them), bytes that are not valid UTF-8, a timestamp that is not a decimal
number, or more bad lines than it keeps. ``tests/sensor/test_zeekscan.py`` checks, with Hypothesis, that
both paths give the same rows, lines and reports.

Compilation: the functions are compiled on first use and cached on disk (numba's ``cache=True``, in
``__pycache__`` beside this file or numba's user cache directory), so only the first run on a machine
pays the compile (about 2 s; see docs/sensor.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numba import njit

EMPTY, HEADER, COLUMNS = 1, 2, 3  # kinds of bad lines
_CR, _HIGH = 1, 2  # block flags: a carriage return, a byte >= 0x80
_BAD_CAP = 1 << 14  # bad lines kept per block; a block with more goes to the general path
_POW10 = np.array([10.0**k for k in range(23)])  # exact doubles: m / 10**k is then correctly rounded
_K = np.uint64(0x9E3779B97F4A7C15)


@njit(nogil=True, cache=True)
def _scan(data, width, slots, nslots, last):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
    """Byte ranges of the needed columns of every good line, and the bad lines, of one block.

    Up to the last needed column (``last``) each separator is a branch; past it the line's tabs are only
    counted, in a loop without data-dependent branches but its end, so the unused columns cost no
    mispredicted branches (which is what made tokenising them all expensive).
    """
    n = data.size
    cap = n // max(width - 1, 1) + 2
    starts = np.empty((cap, nslots), np.int64)
    ends = np.empty((cap, nslots), np.int64)
    row_line = np.empty(cap, np.int64)
    bad = np.empty((_BAD_CAP, 4), np.int64)  # line in block, kind, start, columns
    rows = 0
    nbad = 0
    line = 0
    pos = 0
    high = 0
    cr = 0
    while pos < n:
        first = pos
        field = 0
        begin = pos
        i = pos
        while i < n:
            c = data[i]
            high |= c
            if c <= 13:
                if c == 9:
                    s = slots[field]
                    if s >= 0:
                        starts[rows, s] = begin
                        ends[rows, s] = i
                    field += 1
                    begin = i + 1
                    if field > last:
                        i += 1
                        break
                elif c == 10:
                    break
                elif c == 13:
                    cr = 1
            i += 1
        if field > last:
            while i < n:
                c = data[i]
                if c == 10:
                    break
                field += c == 9
                high |= c
                cr |= c == 13
                i += 1
        elif field < width:
            s = slots[field]
            if s >= 0:
                starts[rows, s] = begin
                ends[rows, s] = i
        kind = 0
        if i == first:
            kind = EMPTY
        elif data[first] == 35:
            kind = HEADER
        elif field + 1 != width:
            kind = COLUMNS
        if kind == 0:
            row_line[rows] = line
            rows += 1
        else:
            if nbad < _BAD_CAP:
                bad[nbad, 0] = line
                bad[nbad, 1] = kind
                bad[nbad, 2] = first
                bad[nbad, 3] = field + 1
            nbad += 1
        line += 1
        pos = i + 1
    flags = (_CR if cr else 0) | (_HIGH if high >= 128 else 0)
    return starts, ends, row_line, rows, bad, nbad, line, flags


@njit(nogil=True, cache=True)
def _is(data, start, end, marker):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
    if end - start != marker.size:
        return False
    k = 0
    while k < marker.size and data[start + k] == marker[k]:
        k += 1
    return k == marker.size


@njit(nogil=True, cache=True)
def _grown(table):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
    """The hash table at twice the size, entries placed again by their stored hash."""
    size = table.shape[0] * 2
    mask = np.uint64(size - 1)
    out = np.zeros((size, 4), np.uint64)
    for old in range(table.shape[0]):
        if table[old, 3] != 0:
            at = table[old, 0] & mask
            while out[at, 3] != 0:
                at = (at + np.uint64(1)) & mask
            for k in range(4):
                out[at, k] = table[old, k]
    return out


@njit(nogil=True, cache=True)
def _encode(data, starts, ends, rows, slot, unset, empty):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    """Dictionary encoding of one column from its byte ranges: codes (-1 for null), distinct values.

    An entry of the open-addressing table holds (hash, first 8 bytes, next 8 bytes, length << 32 | code
    + 1) in one cache line, so values of up to 16 bytes (every IPv4 address) are compared without
    touching the block again; the table starts small and doubles, staying in cache for the few distinct
    hosts of a block.
    """
    codes = np.empty(rows, np.int32)
    table = np.zeros((1024, 4), np.uint64)
    mask = np.uint64(1023)
    first = np.empty(rows, np.int64)  # a row holding each distinct value
    distinct = 0
    total = 0
    for r in range(rows):
        s = starts[r, slot]
        e = ends[r, slot]
        length = e - s
        if _is(data, s, e, unset) or _is(data, s, e, empty):
            codes[r] = -1
            continue
        w0 = np.uint64(0)
        w1 = np.uint64(0)
        for k in range(s, min(e, s + 8)):
            w0 = (w0 << np.uint64(8)) | np.uint64(data[k])
        for k in range(s + 8, min(e, s + 16)):
            w1 = (w1 << np.uint64(8)) | np.uint64(data[k])
        h = ((np.uint64(length) ^ w0) * _K ^ w1) * _K
        if length > 16:
            word = np.uint64(0)
            for k in range(s + 16, e):
                word = (word << np.uint64(8)) | np.uint64(data[k])
                if (k - s) & 7 == 7:
                    h = (h ^ word) * _K
                    word = np.uint64(0)
            h = (h ^ word) * _K
        h ^= h >> np.uint64(29)
        tag = np.uint64(length) << np.uint64(32)
        at = h & mask
        while True:
            entry = table[at, 3]
            if entry == 0:
                table[at, 0] = h
                table[at, 1] = w0
                table[at, 2] = w1
                table[at, 3] = tag | np.uint64(distinct + 1)
                first[distinct] = r
                codes[r] = distinct
                distinct += 1
                total += length
                if distinct * 2 > table.shape[0]:
                    table = _grown(table)
                    mask = np.uint64(table.shape[0] - 1)
                break
            if (
                table[at, 0] == h
                and table[at, 1] == w0
                and table[at, 2] == w1
                and entry >> np.uint64(32) == np.uint64(length)
            ):
                code = np.int64(entry & np.uint64(0xFFFFFFFF)) - 1
                same = True
                if length > 16:
                    other = starts[first[code], slot]
                    for k in range(16, length):
                        if data[other + k] != data[s + k]:
                            same = False
                            break
                if same:
                    codes[r] = code
                    break
            at = (at + np.uint64(1)) & mask
    offsets = np.empty(distinct + 1, np.int32)
    values = np.empty(total, np.uint8)
    filled = 0
    for d in range(distinct):
        offsets[d] = filled
        r = first[d]
        for k in range(starts[r, slot], ends[r, slot]):
            values[filled] = data[k]
            filled += 1
    offsets[distinct] = filled
    return codes, offsets, values


@njit(nogil=True, cache=True)
def _digits(data, i, e, mantissa, before):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
    """Decimal digits from ``i``: where they end, the mantissa with them (18 digits at most), how many."""
    count = 0
    while i < e and 48 <= data[i] <= 57:
        if before + count < 18:
            mantissa = mantissa * 10 + (data[i] - 48)
        count += 1
        i += 1
    return i, mantissa, count


@njit(nogil=True, cache=True)
def _times(data, starts, ends, rows, slot, unset, empty, pow10):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    """``ts`` values: 0 parsed, 1 null, 2 a valid number left to Python (exponent, >15 digits), 3 not a number.

    Valid means ``-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?``, the general path's rule.
    """
    out = np.zeros(rows, np.float64)
    state = np.zeros(rows, np.int8)
    for r in range(rows):
        s = starts[r, slot]
        e = ends[r, slot]
        if _is(data, s, e, unset) or _is(data, s, e, empty):
            state[r] = 1
            continue
        i = s
        negative = i < e and data[i] == 45
        if negative:
            i += 1
        i, mantissa, whole = _digits(data, i, e, 0, 0)
        scale = 0
        ok = whole > 0
        if ok and i < e and data[i] == 46:
            i, mantissa, scale = _digits(data, i + 1, e, mantissa, whole)
            ok = scale > 0
        slow = whole + scale > 15
        if ok and i < e and (data[i] == 101 or data[i] == 69):
            i += 1
            if i < e and (data[i] == 43 or data[i] == 45):
                i += 1
            exponent = 0
            while i < e and 48 <= data[i] <= 57:
                exponent += 1
                i += 1
            ok = exponent > 0
            slow = True
        if not ok or i != e:
            state[r] = 3
        elif slow:
            state[r] = 2
        else:
            value = mantissa / pow10[scale]
            out[r] = -value if negative else value
    return out, state


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line the scanner skipped: its index in the block, why, where it starts, how many columns."""

    index: int
    kind: int
    start: int
    columns: int


@dataclass(frozen=True, slots=True)
class Scanned:
    """A block settled by the scanner: the needed columns, the block index of each row's line, bad lines."""

    table: pa.Table
    row_lines: npt.NDArray[np.int64]
    bad: list[BadLine]
    lines: int


class Scanner:
    """Scans blocks of one Zeek TSV log with a tab separator into the columns matching needs."""

    def __init__(  # noqa: PLR0913 - the header's facts the scanner needs
        self,
        fields: tuple[str, ...],
        columns: list[str],
        match: set[str],
        time_field: str | None,
        unset: str,
        empty: str,
    ) -> None:
        self.width = len(fields)
        self.columns = columns
        self.match = match
        self.time_field = time_field
        self.slots = np.full(self.width, -1, dtype=np.int64)
        for slot, name in enumerate(columns):
            self.slots[fields.index(name)] = slot
        self.last = int(np.flatnonzero(self.slots >= 0).max())  # the scanner only counts tabs after it
        self.unset = np.frombuffer(unset.encode(), dtype=np.uint8)
        self.empty = np.frombuffer(empty.encode(), dtype=np.uint8)

    @staticmethod
    def fits(fields: tuple[str, ...], separator: str, time_field: str | None, columns: list[str]) -> bool:
        """Whether the scanner covers this log: tab-separated, unique column names, only ``ts`` as time."""
        return separator == "\t" and len(set(fields)) == len(fields) and time_field in (None, "ts") and bool(columns)

    def scan(self, block: bytes | memoryview) -> Scanned | None:
        """The block's table, or None when the general path must decide (see the module docstring)."""
        data = np.frombuffer(block, dtype=np.uint8)
        starts, ends, row_lines, rows, bad, nbad, lines, flags = _scan(
            data, self.width, self.slots, len(self.columns), self.last
        )
        if flags & _CR or nbad > _BAD_CAP or (flags & _HIGH and not utf8_valid(block)):
            return None
        arrays: list[pa.Array] = []
        for slot, name in enumerate(self.columns):
            if name == self.time_field:
                seconds, state = _times(data, starts, ends, rows, slot, self.unset, self.empty, _POW10)
                if (state == 3).any():
                    return None
                for r in np.flatnonzero(state == 2).tolist():
                    seconds[r] = float(bytes(data[starts[r, slot] : ends[r, slot]]))
                arrays.append(pa.array(seconds, mask=state == 1))
                continue
            codes, offsets, values = _encode(data, starts, ends, rows, slot, self.unset, self.empty)
            dictionary = pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(values))
            column = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary)
            arrays.append(column if name in self.match else column.dictionary_decode())
        table = pa.Table.from_arrays(arrays, names=self.columns)
        found = [BadLine(int(a), int(b), int(c), int(d)) for a, b, c, d in bad[:nbad].tolist()]
        return Scanned(table, row_lines[:rows].copy(), found, int(lines))


def utf8_valid(block: bytes | memoryview) -> bool:
    """Whether a block is valid UTF-8 (Arrow's validator, without copying the block)."""
    offsets = pa.py_buffer(np.array([0, len(block)], dtype=np.int64))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(block)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True
