"""Domain lookup over a batch's distinct names without a Python call per name.

A DNS log block holds about 100,000 distinct query names, and matching each through Python (lower case,
then a dict lookup per parent domain) cost more than reading the block. Nearly all of them miss, so this
module only *filters*: it hashes every name and each of its parent-domain suffixes at once with numpy and
looks the hashes up in a sorted array of the indicator domains' hashes. The few names with a hash hit,
and the names this filter cannot judge, go on to the kernel's exact lookup (``kernel.Matcher``); a hash
collision therefore costs a lookup, never a wrong answer.

The hash of a suffix must come out of one vectorised pass over the bytes, so it is a polynomial in the
bytes that ends at the name's end: byte ``k`` of a name ending at ``e`` is weighted by ``B**(e-1-k)``
(mod 2**64). The suffix from ``i`` is then ``S[i] - S[e]`` for the reverse running sum ``S`` of the
weighted bytes, for every ``i`` (the name's start and every position after a dot) in one subtraction;
the suffix's length is mixed in afterwards.

Judged here are names the kernel would just lower-case: non-empty, printable ASCII (0x21-0x7e) without
``/``, not ending with a dot. Anything else (spaces, IDN, a root dot) is left to the exact path, which
applies ``normalize.domain``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

_B = np.uint64(0x100000001B3)  # odd, so no information is lost to the modulus
_MIX = np.uint64(0x9E3779B97F4A7C15)
_DOT, _SLASH, _FIRST, _LAST = 0x2E, 0x2F, 0x21, 0x7E


def _buffers(strings: pa.Array) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Offsets rebased to 0, the bytes they index and the validity of an Arrow string array."""
    if pa.types.is_large_string(strings.type):
        width: type[np.signedinteger] = np.int64
    else:
        width = np.int32
        if strings.type != pa.string():
            strings = strings.cast(pa.string())
    n = len(strings)
    _, offsets_buf, data_buf = strings.buffers()
    size = np.dtype(width).itemsize
    raw_offsets = np.frombuffer(offsets_buf, dtype=width, count=n + 1, offset=strings.offset * size)
    first = int(raw_offsets[0])
    offsets = raw_offsets.astype(np.int64) - first
    raw = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else np.zeros(0, np.uint8)
    valid = np.asarray(strings.is_valid()) if strings.null_count else np.ones(n, dtype=bool)
    return offsets, raw[first : first + int(offsets[-1])], valid


def _hashes(
    offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8], suffixes: bool
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Hashes of each lower-cased string (and, with ``suffixes``, of every part after a dot) and the
    string each hash belongs to."""
    lengths = np.diff(offsets)
    n = len(lengths)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    ends = offsets[1:]
    lower = data + ((data >= 0x41) & (data <= 0x5A)).astype(np.uint8) * np.uint8(32)
    powers = np.cumprod(np.full(int(lengths.max(initial=0)) + 1, _B, dtype=np.uint64))
    powers = np.concatenate([np.ones(1, dtype=np.uint64), powers[:-1]])
    weighted = lower.astype(np.uint64) * powers[ends[owner] - 1 - np.arange(len(data), dtype=np.int64)]
    running = np.zeros(len(data) + 1, dtype=np.uint64)
    running[:-1] = np.cumsum(weighted[::-1], dtype=np.uint64)[::-1]
    starts = offsets[:-1][lengths > 0]
    if suffixes:
        dots = np.flatnonzero(data == _DOT) + 1
        dots = dots[dots < ends[owner[dots - 1]]]
        starts = np.concatenate([starts, dots])
    belongs = owner[starts] if len(starts) else np.zeros(0, dtype=np.int64)
    stop = ends[belongs]
    h = (running[starts] - running[stop]) ^ ((stop - starts).astype(np.uint64) * _MIX)
    h *= _MIX
    h ^= h >> np.uint64(31)
    return h, belongs


class DomainFilter:
    """The hashes of a matcher's domain indicators, to pre-select the names worth an exact lookup."""

    def __init__(self, names: Iterable[str]) -> None:
        """``names``: canonical domains (``normalize.domain``), as the exact lookup keys them."""
        array = pa.array(list(names), type=pa.string())
        self._table = np.zeros(0, dtype=np.uint64)
        if len(array):
            offsets, data, _ = _buffers(array)
            self._table = np.unique(_hashes(offsets, data, suffixes=False)[0])

    def candidates(self, names: pa.Array) -> npt.NDArray[np.int64]:
        """Positions in ``names`` that may match a domain indicator or its subdomains (nulls never)."""
        if not len(self._table) or not len(names):
            return np.zeros(0, dtype=np.int64)
        offsets, data, valid = _buffers(names)
        lengths = np.diff(offsets)
        odd = (data < _FIRST) | (data > _LAST) | (data == _SLASH)
        owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        unjudged = np.zeros(len(lengths), dtype=bool)
        unjudged[owner[odd]] = True
        ends = offsets[1:]
        unjudged[lengths > 0] |= data[ends[lengths > 0] - 1] == _DOT
        h, belongs = _hashes(offsets, data, suffixes=True)
        at = np.minimum(np.searchsorted(self._table, h), len(self._table) - 1)
        hit = np.zeros(len(lengths), dtype=bool)
        hit[belongs[self._table[at] == h]] = True
        return np.flatnonzero((hit | unjudged) & valid & (lengths > 0))
