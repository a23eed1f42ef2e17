"""The compiled loops of the sensor (numba, ``nogil``): the Zeek scanner's passes and the IPv4 parse and lookup.

Loading numba costs a process 0.55-0.7 CPU-seconds (importing it, then its target context on the first
call, before any cached machine code is loaded), which is more than a 100 MB log takes to match without
it. So this module is imported only by runs large enough to earn that back (``pipeline.COMPILED_FROM``):
the reader then takes the compiled scanner (``zeekscan.Scanner``) and the kernel's IPv4 lookup
(``addresses``) the compiled loops; smaller runs stay on pyarrow and numpy. Both ways give the same
answers, which the property tests check.

The functions are compiled on first use and cached on disk (``cache=True``: ``__pycache__`` beside this
file, or numba's user cache directory when that is read-only; ``NUMBA_CACHE_DIR`` moves it), so only the
first run on a machine pays the compile (about 4 s).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accord.sensor.zeekscan import COLUMNS, EMPTY, HEADER

CR, HIGH = 1, 2  # block flags: a carriage return, a byte >= 0x80
BAD_CAP = 1 << 14  # bad lines kept per block; a block with more goes to the general path
_K = np.uint64(0x9E3779B97F4A7C15)
_WIDTH = 15  # longest dotted quad, "255.255.255.255"


@njit(nogil=True, cache=True)
def scan(data, width, slots, nslots, last):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
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
    bad = np.empty((BAD_CAP, 4), np.int64)  # line in block, kind, start, columns
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
            if nbad < BAD_CAP:
                bad[nbad, 0] = line
                bad[nbad, 1] = kind
                bad[nbad, 2] = first
                bad[nbad, 3] = field + 1
            nbad += 1
        line += 1
        pos = i + 1
    flags = (CR if cr else 0) | (HIGH if high >= 128 else 0)
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
def encode(data, starts, ends, rows, slot, unset, empty):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
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
def times(data, starts, ends, rows, slot, unset, empty, pow10):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
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


@njit(nogil=True, cache=True)
def innermost(starts, owners, index, values):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
    """For each IPv4 integer, the owner of the last segment starting at or before it (-1: none)."""
    out = np.empty(values.size, np.int64)
    for r in range(values.size):
        value = values[r]
        block = np.int64(value >> np.uint64(16))
        low = index[block]
        high = index[block + 1]
        while low < high:  # the first segment of this /16 that starts after the value
            middle = (low + high) >> 1
            if starts[middle] <= value:
                low = middle + 1
            else:
                high = middle
        out[r] = owners[low - 1] if low > 0 else -1
    return out


@njit(nogil=True, cache=True)
def dotted_quads(offsets, data):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202 - numba
    """Strict dotted quads to integers: four 1-3 digit octets up to 255, no leading zeros."""
    n = offsets.size - 1
    out = np.zeros(n, np.uint64)
    ok = np.zeros(n, np.bool_)
    for r in range(n):
        start = offsets[r]
        end = offsets[r + 1]
        if end - start < 7 or end - start > _WIDTH:
            continue
        value = 0
        octet = 0
        digits = 0
        dots = 0
        good = True
        for k in range(start, end):
            c = data[k]
            if c == 46:
                good = digits > 0
                value = (value << 8) | octet
                octet = 0
                digits = 0
                dots += 1
            elif 48 <= c <= 57:
                good = not (digits and octet == 0)
                octet = octet * 10 + (c - 48)
                digits += 1
                good = good and octet <= 255
            else:
                good = False
            if not good:
                break
        if good and digits and dots == 3:
            out[r] = np.uint64((value << 8) | octet)
            ok[r] = True
    return out, ok
