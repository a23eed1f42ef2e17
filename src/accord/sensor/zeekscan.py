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

The loops themselves are in ``compiled`` (numba), imported when the first scanner is made: only runs
large enough to earn back numba's start-up make one (``pipeline.COMPILED_FROM``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

EMPTY, HEADER, COLUMNS = 1, 2, 3  # kinds of bad lines
_POW10 = np.array([10.0**k for k in range(23)])  # exact doubles: m / 10**k is then correctly rounded


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
        from accord.sensor import compiled  # numba's start-up is paid by scanning runs only

        self._loops = compiled

    @staticmethod
    def fits(fields: tuple[str, ...], separator: str, time_field: str | None, columns: list[str]) -> bool:
        """Whether the scanner covers this log: tab-separated, unique column names, only ``ts`` as time."""
        return separator == "\t" and len(set(fields)) == len(fields) and time_field in (None, "ts") and bool(columns)

    def scan(self, block: bytes | memoryview) -> Scanned | None:
        """The block's table, or None when the general path must decide (see the module docstring)."""
        data = np.frombuffer(block, dtype=np.uint8)
        loops = self._loops
        starts, ends, row_lines, rows, bad, nbad, lines, flags = loops.scan(
            data, self.width, self.slots, len(self.columns), self.last
        )
        if flags & loops.CR or nbad > loops.BAD_CAP or (flags & loops.HIGH and not utf8_valid(block)):
            return None
        arrays: list[pa.Array] = []
        for slot, name in enumerate(self.columns):
            if name == self.time_field:
                seconds, state = loops.times(data, starts, ends, rows, slot, self.unset, self.empty, _POW10)
                if (state == 3).any():
                    return None
                for r in np.flatnonzero(state == 2).tolist():
                    seconds[r] = float(bytes(data[starts[r, slot] : ends[r, slot]]))
                arrays.append(pa.array(seconds, mask=state == 1))
                continue
            codes, offsets, values = loops.encode(data, starts, ends, rows, slot, self.unset, self.empty)
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
