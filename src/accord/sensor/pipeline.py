"""The in-process run: readers -> match kernel -> residual patterns -> warninglists -> output.

Parsing (pyarrow, which releases the GIL) runs in a background thread one batch ahead of the kernel,
so on two cores reading and matching overlap.
"""

from __future__ import annotations

import gc
import math
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from accord.sensor import readers, sources
from accord.sensor.kernel import Hits, Matcher
from accord.sensor.model import FieldSpec, Kind, Match
from accord.sensor.problems import Problems
from accord.sensor.residual import ResidualEvaluator
from accord.sensor.warninglists import Benign

T = TypeVar("T")
_DONE = object()


@dataclass
class Summary:
    """What a run did, for the end-of-run table."""

    files: int = 0
    events: int = 0
    bytes: int = 0
    matches: int = 0
    seconds: float = 0.0
    by_indicator: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)
    problems: Problems = field(default_factory=Problems)
    residual_evaluated: int = 0
    residual_dropped: int = 0


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced by a background thread, up to ``depth`` ahead; its exceptions re-raised here."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put(item)
            slots.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)

    worker = threading.Thread(target=produce, name="accord-reader", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get(timeout=0.1)
            except queue.Empty:
                continue


class Run:
    """Matches batches and delivers (event, indicator) pairs; one instance per ``accord match`` run."""

    def __init__(self, matcher: Matcher, emit: Callable[[Match], None], benign: Benign | None = None) -> None:
        self.matcher = matcher
        self.benign = benign
        self.summary = Summary()
        self._emit = emit
        self._residual = ResidualEvaluator(list(matcher.residual.values()))

    def _deliver(self, match: Match, kind: Kind) -> None:
        """A table match: suppressed when a warninglist says its value is benign."""
        if self.benign is not None and (listed := self.benign.check(kind, match.value)):
            self.summary.suppressed[listed] += 1
            return
        self._accept(match)

    def _accept(self, match: Match) -> None:
        """Residual patterns skip the warninglists: the pattern, not one value, decided."""
        self.summary.matches += 1
        self.summary.by_indicator[match.indicator] += 1
        self._emit(match)

    def batch(self, batch: readers.LogBatch, hits: Hits | None = None) -> None:
        """Turn the kernel's hits on one batch into matches (one per event and indicator)."""
        self.summary.events += batch.table.num_rows
        self.summary.bytes += batch.consumed
        found = hits if hits is not None else self.matcher.match_batch(batch.table, batch.specs)
        if not found.rows:
            return
        kinds = {s.name: s.kind for s in batch.specs}
        users = [s.name for s in batch.specs if s.kind is Kind.USER and s.name in batch.table.schema.names]
        time_field = batch.time_field
        times = batch.table.column(time_field) if time_field else None
        seen: set[tuple[int, int]] = set()
        for row, name, value, index in zip(found.rows, found.fields, found.values, found.indicators, strict=True):
            if (row, index) in seen:
                continue
            seen.add((row, index))
            moment = times[row].as_py() if times is not None else None
            names = tuple(str(v) for u in users if (v := batch.table.column(u)[row].as_py()) is not None)
            match = Match(
                batch.source,
                int(batch.lines[row]),
                self.matcher.ids[index],
                name,
                value,
                None if moment is None or math.isnan(moment) else float(moment),
                names,
            )
            if index not in self.matcher.residual:
                self._deliver(match, kinds.get(name, Kind.ADDR))
                continue
            record = batch.table.slice(row, 1).to_pylist()[0]
            values = {k: (None if v is None else str(v)) for k, v in record.items()}
            self._residual.offer(match, batch.specs, values, self._accept)

    def end_source(self) -> None:
        """Decide the multi-observation patterns over one source's events (both engines do it per file)."""
        self._residual.finish()

    def finish(self) -> Summary:
        """Close the summary (after the last ``end_source``)."""
        self._residual.finish()
        self.summary.residual_evaluated = self._residual.evaluated
        self.summary.residual_dropped = self._residual.dropped
        return self.summary


def run(
    names: Sequence[str],
    matcher: Matcher,
    emit: Callable[[Match], None],
    *,
    fmt: str = "auto",
    mapping: Sequence[FieldSpec] = (),
    benign: Benign | None = None,
    follow: sources.Follow | None = None,
    progress: Callable[[str, int], None] | None = None,
    compiled: bool | None = None,
) -> Summary:
    """Match every source; ``progress(source, bytes)`` is called after each batch.

    ``compiled``: whether Zeek TSV goes through the compiled scanner (numba); None decides by the total
    size of the plain input files (``readers.COMPILED_FROM``).
    """
    started = time.perf_counter()
    job = Run(matcher, emit, benign)
    files = sources.expand(list(names))
    # Many medium files earn back the compiled loops' start-up together (``readers.COMPILED_FROM``).
    if compiled is None:
        compiled = sum(os.path.getsize(name) for name in files if sources.is_plain_file(name)) >= readers.COMPILED_FROM
    # A large matcher is millions of long-lived objects; frozen, the cyclic garbage collector stops
    # rescanning them whenever the run allocates.
    gc.freeze()
    try:
        for name in files:
            job.summary.files += 1
            stream = readers.read(name, fmt, mapping, job.summary.problems, follow, compiled)
            for batch in prefetch(stream):
                job.batch(batch)
                if progress is not None:
                    progress(name, batch.consumed)
            job.end_source()
    finally:
        gc.unfreeze()
    summary = job.finish()
    summary.seconds = time.perf_counter() - started
    return summary
