"""Address lookup: exact addresses and CIDR ranges as one sorted interval table, searched with numpy.

CIDR blocks are laminar: two blocks are either disjoint or one contains the other. So the address line
splits into elementary segments, each owned by the innermost block covering it, and a block's ancestors
are the blocks around it. A lookup is one ``numpy.searchsorted`` over the segment starts (vectorised for
IPv4) followed, only for the few hits, by a walk up the parent chain to collect every indicator whose
range holds the address. An exact address is simply a /32 (or /128) block.

IPv4 text is parsed to integers in bulk (``parse_ipv4``) on the distinct values of a batch and looked up
by binary search: numpy's over the whole table, or, in runs that loaded the compiled loops
(``compiled``), a compiled search within the address's /16. IPv6 and anything unusual go through
``ipaddress``, which is slower but rare in telemetry.
"""

from __future__ import annotations

import bisect
import ipaddress
import sys
from collections.abc import Iterable
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from accord.sensor import normalize

_WIDTH = 15  # longest dotted quad, "255.255.255.255"
_PRIVATE_V4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]


class _Laminar:
    """Segment table for one address family; node payloads are indicator indexes.

    Stored as flat numpy arrays (payloads in CSR form) rather than Python lists: a table of a million
    indicators then pickles in well under a second, which is what Spark pays to ship it to executors.
    Segment starts stay Python ints for IPv6 (128 bits do not fit numpy integers).
    """

    def __init__(self, blocks: dict[tuple[int, int], list[int]], top: int) -> None:
        order = sorted(blocks, key=lambda se: (se[0], -se[1]))
        parent = [-1] * len(order)
        starts: list[int] = []
        owners: list[int] = []

        def emit(position: int, node: int) -> None:
            if position > top:
                return
            if starts and starts[-1] == position:
                owners[-1] = node
            else:
                starts.append(position)
                owners.append(node)

        stack: list[int] = []
        for node, (start, _end) in enumerate(order):
            while stack and order[stack[-1]][1] < start:
                done = stack.pop()
                emit(order[done][1] + 1, stack[-1] if stack else -1)
            parent[node] = stack[-1] if stack else -1
            stack.append(node)
            emit(start, node)
        while stack:
            done = stack.pop()
            emit(order[done][1] + 1, stack[-1] if stack else -1)
        payloads = [blocks[key] for key in order]
        self.offsets = np.cumsum([0] + [len(p) for p in payloads], dtype=np.int64)
        self.values = np.fromiter((v for p in payloads for v in p), dtype=np.int64, count=int(self.offsets[-1]))
        self.parent = np.asarray(parent, dtype=np.int64)
        self.owners = np.asarray(owners, dtype=np.int64)
        self.starts: npt.NDArray[np.uint64] | list[int] = np.asarray(starts, dtype=np.uint64) if top < 2**64 else starts
        # IPv4: where the segments of each /16 begin, so a lookup binary-searches a few dozen segments
        # (which stay in cache) instead of the whole table.
        self.index = (
            np.searchsorted(self.starts, np.arange(2**16 + 1, dtype=np.uint64) << np.uint64(16))
            if top == 2**32 - 1
            else np.zeros(0, dtype=np.int64)
        )

    def nodes(self, values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """Innermost node for each address (-1: no block covers it); IPv4 tables only."""
        if not len(self.starts):
            return np.full(len(values), -1, dtype=np.int64)
        loops = _compiled()
        if loops is not None:
            result: npt.NDArray[np.int64] = loops.innermost(self.starts, self.owners, self.index, values)
            return result
        return _innermost(np.asarray(self.starts, dtype=np.uint64), self.owners, values)

    def node_of(self, value: int) -> int:
        if isinstance(self.starts, list):
            position = bisect.bisect_right(self.starts, value) - 1
            return int(self.owners[position]) if position >= 0 else -1
        return int(self.nodes(np.asarray([value], dtype=np.uint64))[0])

    def chain(self, node: int) -> list[int]:
        out: list[int] = []
        while node != -1:
            out.extend(self.values[self.offsets[node] : self.offsets[node + 1]].tolist())
            node = int(self.parent[node])
        return out


class AddressTable:
    """Every address and CIDR indicator of a matcher, for both IP versions."""

    def __init__(self, entries: Iterable[tuple[int, int, int, int]]) -> None:
        """``entries``: (IP version, first address, last address, payload index)."""
        families: dict[int, dict[tuple[int, int], list[int]]] = {4: {}, 6: {}}
        for version, start, end, index in entries:
            families[version].setdefault((start, end), []).append(index)
        self._v4 = _Laminar(families[4], 2**32 - 1)
        self._v6 = _Laminar(families[6], 2**128 - 1)
        self.empty = not families[4] and not families[6]

    def nodes_v4(self, values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """Innermost node for each IPv4 integer (-1: no indicator covers it)."""
        return self._v4.nodes(values)

    def chain_v4(self, node: int) -> list[int]:
        return self._v4.chain(node)

    def lookup(self, text: str) -> list[int]:
        """Indicator indexes covering one address given as text (any version, slow path)."""
        addr = normalize.address(text)
        if addr is None:
            return []
        family = self._v4 if addr.version == 4 else self._v6
        return family.chain(family.node_of(int(addr)))


def parse_ipv4(strings: pa.Array) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Dotted quads to integers in bulk, straight from the Arrow buffers; the mask says which strings
    were strict dotted quads (no empty octets, octets over 255 or leading zeros, like
    ``ipaddress.IPv4Address``). Compiled when this process has loaded ``compiled``, numpy otherwise."""
    arr = strings.cast(pa.string()) if strings.type != pa.string() else strings
    n = len(arr)
    validity, offsets_buf, data_buf = arr.buffers()
    if n == 0 or data_buf is None or data_buf.size == 0:
        return np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=bool)
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    data = np.frombuffer(data_buf, dtype=np.uint8)
    loops = _compiled()
    value, ok = loops.dotted_quads(offsets, data) if loops is not None else _dotted_quads(offsets, data)
    if validity is not None:
        ok &= np.asarray(arr.is_valid())
    return value, ok


def _compiled() -> ModuleType | None:
    """The compiled loops when a run large enough to earn back numba's start-up loaded them (``compiled``)."""
    return sys.modules.get("accord.sensor.compiled")


def _innermost(
    starts: npt.NDArray[np.uint64], owners: npt.NDArray[np.int64], values: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int64]:
    """numpy's lookup: sorted keys let its binary search start from the previous answer, so the table is
    walked in order instead of hit at random (twice as fast on a table of a million segments)."""
    order = np.argsort(values)
    position = np.empty(len(values), dtype=np.int64)
    position[order] = np.searchsorted(starts, values[order], side="right")
    position -= 1
    return np.where(position >= 0, owners[np.maximum(position, 0)], -1)


def _dotted_quads(
    offsets32: npt.NDArray[np.int32], data: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """numpy's dotted-quad parse: a (15, n) byte matrix folded column by column (Horner's rule per octet)."""
    offsets = offsets32.astype(np.int64)
    n = len(offsets) - 1
    lengths = offsets[1:] - offsets[:-1]
    columns = np.arange(_WIDTH, dtype=np.int64)[:, None]
    present = columns < lengths[None, :]
    chars = data[np.minimum(offsets[None, :-1] + columns, data.size - 1)]
    value = np.zeros(n, dtype=np.uint64)
    octet = np.zeros(n, dtype=np.uint64)
    digits = np.zeros(n, dtype=np.int8)
    dots = np.zeros(n, dtype=np.int8)
    bad = (lengths < 7) | (lengths > _WIDTH)
    for j in range(_WIDTH):
        c = chars[j]
        act = present[j]
        is_digit = act & (c >= 48) & (c <= 57)
        is_dot = act & (c == 46)
        bad |= act & ~is_digit & ~is_dot
        bad |= is_dot & (digits == 0)
        bad |= is_digit & (digits >= 1) & (octet == 0)
        octet = np.where(is_digit, octet * 10 + (c.astype(np.uint64) - 48), octet)
        digits = np.where(is_digit, digits + 1, digits)
        bad |= octet > 255
        value = np.where(is_dot, (value << np.uint64(8)) | octet, value)
        octet = np.where(is_dot, 0, octet)
        digits = np.where(is_dot, 0, digits)
        dots += is_dot
    bad |= (digits == 0) | (dots != 3)
    return (value << np.uint64(8)) | octet, ~bad


def is_internal(text: str) -> bool:
    """Addresses that identify the sensor's own network and must not leave it in shared sightings.

    RFC 1918 private ranges, RFC 6598 shared space, loopback, link-local, RFC 4193 unique-local (fc00::/7),
    multicast and reserved ranges; IPv4-mapped IPv6 is judged by its IPv4 address.
    """
    addr = normalize.address(text)
    if addr is None:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv4Address):
        return any(addr in net for net in _PRIVATE_V4)
    return addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_reserved
