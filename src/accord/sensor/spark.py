"""The same match kernel inside Apache Spark, for telemetry that outgrows one machine.

``DataFrame.mapInArrow`` hands each Python worker Arrow record batches; here a batch holds log file
paths (one task per file: sensors rotate logs hourly, so a day is dozens of files per sensor). Each task
runs the unchanged in-process path (readers, ``Matcher.match_batch``, residual patterns, warninglists)
on its file and returns Arrow rows of matches, bad lines and counters, which the driver folds into one
summary. The compiled matcher and warninglists travel once per executor as a broadcast variable.

Multi-observation residual patterns are decided per file, as in-process runs do too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from accord.sensor import readers, sources
from accord.sensor.kernel import Matcher
from accord.sensor.model import BadRecord, FieldSpec, Match
from accord.sensor.pipeline import Run, Summary
from accord.sensor.warninglists import Benign

OUTPUT = pa.schema(
    [
        ("kind", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("indicator", pa.string()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("time", pa.float64()),
        ("users", pa.list_(pa.string())),
    ]
)
_DDL = (
    "kind string, source string, line long, indicator string, field string, value string, time double, "
    "users array<string>"
)


def match_file(
    path: str, matcher: Matcher, benign: Benign | None, fmt: str, mapping: Sequence[FieldSpec]
) -> pa.RecordBatch:
    """Everything one task reports about one file, as rows of ``OUTPUT``."""
    rows: list[dict[str, Any]] = []

    def emit(m: Match) -> None:
        rows.append(
            {
                "kind": "match",
                "source": m.source,
                "line": m.line,
                "indicator": m.indicator,
                "field": m.field,
                "value": m.value,
                "time": m.time,
                "users": list(m.users),
            }
        )

    job = Run(matcher, emit, benign)
    for batch in readers.read(path, fmt, mapping, job.summary.problems):
        job.batch(batch)
    summary = job.finish()
    counters = [("events", "", summary.events), ("bytes", "", summary.bytes)]
    counters += [("suppressed", name, n) for name, n in summary.suppressed.items()]
    counters += [("problems", name, n) for name, n in summary.problems.counts.items()]
    rows += [{"kind": kind, "source": path, "value": name, "line": n} for kind, name, n in counters]
    rows += [{"kind": "bad", "source": r.source, "line": r.line, "value": r.reason} for r in summary.problems.records]
    return pa.RecordBatch.from_pylist(rows, schema=OUTPUT)


def session(master: str = "local[2]") -> Any:
    """A Spark session whose Python workers use this interpreter (and so this installation of Accord)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("accord-match")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def run(
    names: Sequence[str],
    matcher: Matcher,
    *,
    benign: Benign | None = None,
    fmt: str = "auto",
    mapping: Sequence[FieldSpec] = (),
    spark: Any = None,
) -> tuple[list[Match], Summary]:
    """Match the files on Spark; returns the matches (sorted by file and line) and the folded summary."""
    files = sources.expand(list(names))
    active = spark or session()
    shared = active.sparkContext.broadcast((matcher, benign, fmt, tuple(mapping)))

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        local_matcher, local_benign, local_fmt, local_mapping = shared.value
        for batch in batches:
            for path in batch.column(0).to_pylist():
                yield match_file(path, local_matcher, local_benign, local_fmt, local_mapping)

    frame = active.createDataFrame([(f,) for f in files], "path string").repartition(max(len(files), 1))
    table = frame.mapInArrow(task, _DDL).toArrow()
    summary = Summary(files=len(files))
    matches: list[Match] = []
    for row in table.to_pylist():
        kind = row["kind"]
        if kind == "match":
            matches.append(
                Match(
                    row["source"],
                    row["line"],
                    row["indicator"],
                    row["field"],
                    row["value"],
                    row["time"],
                    tuple(row["users"] or ()),
                )
            )
            summary.by_indicator[row["indicator"]] += 1
        elif kind == "events":
            summary.events += row["line"]
        elif kind == "bytes":
            summary.bytes += row["line"]
        elif kind == "suppressed":
            summary.suppressed[row["value"]] += row["line"]
        elif kind == "problems":
            summary.problems.counts[row["value"]] += row["line"]
        elif kind == "bad" and len(summary.problems.records) < 1000:
            summary.problems.records.append(BadRecord(row["source"], row["line"], row["value"]))
    summary.matches = len(matches)
    matches.sort(key=lambda m: (m.source, m.line, m.indicator))
    return matches, summary
