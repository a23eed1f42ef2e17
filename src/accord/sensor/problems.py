"""Bad input is counted and reported with file and line, never fatal (the rest of the file is read)."""

from __future__ import annotations

from collections import Counter

from accord.sensor.model import BadRecord

_KEEP = 1000  # records kept for the report per run; all are counted


class Problems:
    """Collects bad records from every reader of a run."""

    def __init__(self) -> None:
        self.records: list[BadRecord] = []
        self.counts: Counter[str] = Counter()

    def add(self, source: str, line: int, reason: str, category: str) -> None:
        """Record one bad line; ``category`` groups them in the summary (e.g. "wrong column count")."""
        self.counts[category] += 1
        if len(self.records) < _KEEP:
            self.records.append(BadRecord(source, line, f"{category}: {reason}" if reason else category))

    @property
    def total(self) -> int:
        return sum(self.counts.values())
