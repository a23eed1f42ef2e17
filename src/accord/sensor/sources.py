"""Where log bytes come from: files (plain or gzip), directories, standard input, and live files.

Readers get *chunks*: large byte blocks cut at line ends, each with the number of its first line, so a
columnar parser can work on many lines at once while every event keeps its file and line number.
"""

from __future__ import annotations

import gzip
import io
import mmap
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from accord.sensor.errors import InputError

CHUNK_BYTES = 16 << 20
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole lines of one source; ``first_line`` is 1-based."""

    first_line: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Follow:
    """Follow mode (like ``tail -f``): poll for appended lines until ``idle_seconds`` pass with none."""

    poll_seconds: float = 0.5
    idle_seconds: float = 60.0


def expand(paths: list[str]) -> list[str]:
    """Files of the arguments: directories are walked (sorted, hidden files skipped); ``-`` is stdin."""
    out: list[str] = []
    for arg in paths:
        path = Path(arg)
        if arg == "-":
            out.append(arg)
        elif path.is_dir():
            out.extend(str(f) for f in sorted(path.rglob("*")) if f.is_file() and not f.name.startswith("."))
        elif path.is_file():
            out.append(arg)
        else:
            raise InputError(arg, 0, "no such file or directory")
    return out


def open_binary(name: str) -> io.BufferedReader:
    """A buffered binary reader of the source, gunzipped when the file starts with the gzip magic."""
    if name == "-":
        stdin = sys.stdin.buffer
        if isinstance(stdin, io.BufferedReader):
            return stdin
        return io.BufferedReader(stdin)  # type: ignore[arg-type]  # a BytesIO under test runners
    with open(name, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return io.BufferedReader(gzip.open(name, "rb"), buffer_size=1 << 20)
    return open(name, "rb")  # noqa: SIM115 - returned to the caller, who closes it


def is_plain_file(name: str) -> bool:
    """A regular uncompressed file, which can be memory-mapped instead of read."""
    if name == "-" or not os.path.isfile(name):
        return False
    with open(name, "rb") as probe:
        return probe.read(2) != _GZIP_MAGIC


def mapped(name: str, offset: int, size: int = CHUNK_BYTES, keep: int = 1) -> Iterator[memoryview]:
    """Blocks of whole lines of a plain file from byte ``offset``, as zero-copy views of a memory map.

    Only use the last ``keep`` views (blocks parsed side by side): older ones have their pages released.
    The map itself is left to the garbage collector, as Arrow buffers made from the views may outlive
    this loop.
    """
    total = os.path.getsize(name)
    if total <= offset:
        return
    with open(name, "rb") as handle:
        memory = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(memory)
    position = offset
    handed: deque[tuple[int, int]] = deque()
    while position < total:
        end = min(position + size, total)
        if end < total:
            newline = memory.find(b"\n", end)
            end = total if newline == -1 else newline + 1
        yield view[position:end]
        handed.append((position, end))
        if len(handed) >= keep:
            # The parser has copied what it needs; drop the pages from this process's resident set (they
            # stay in the page cache), or a 10 GB log would count 10 GB against the sensor's memory.
            first, last = handed.popleft()
            start = first - first % mmap.PAGESIZE
            memory.madvise(mmap.MADV_DONTNEED, start, last - start)
        position = end


def size_of(name: str) -> int | None:
    """Bytes on disk, for progress bars (None for stdin)."""
    return None if name == "-" else os.path.getsize(name)


def chunks(stream: BinaryIO, first_line: int, size: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Cut ``stream`` into chunks of about ``size`` bytes ending at a newline (the last may not)."""
    line = first_line
    while True:
        data = stream.read(size)
        if not data:
            return
        if not data.endswith(b"\n"):
            data += stream.readline()
        yield Chunk(line, data)
        line += data.count(b"\n")


def follow(name: str, offset: int, first_line: int, mode: Follow) -> Iterator[Chunk]:
    """Complete lines appended to ``name`` after byte ``offset``; starts over when the file shrinks
    (log rotation). A partial last line waits for its newline."""
    line = first_line
    idle_since = time.monotonic()
    pending = b""
    while time.monotonic() - idle_since < mode.idle_seconds:
        size = os.path.getsize(name)
        if size < offset:
            offset, line, pending = 0, 1, b""
        if size > offset:
            with open(name, "rb") as handle:
                handle.seek(offset)
                data = handle.read(size - offset)
            offset = size
            cut = (pending + data).rfind(b"\n") + 1
            whole, pending = (pending + data)[:cut], (pending + data)[cut:]
            if whole:
                yield Chunk(line, whole)
                line += whole.count(b"\n")
                idle_since = time.monotonic()
        time.sleep(mode.poll_seconds)
