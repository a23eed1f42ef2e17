"""The work of ``accord match`` (its options are in ``accord.cli.match``).

Imported only when ``accord match`` runs, inside ``needs_extra("sensor", ...)``: the modules below
need NumPy and PyArrow, which the ``sensor`` extra brings and a node installed without it lacks.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from accord.cli.match import collect_indicators
from accord.sensor import pipeline, readers, sources, spark, warninglists
from accord.sensor.errors import ConfigError, SensorError
from accord.sensor.indicators import Compilation, compile_indicators
from accord.sensor.kernel import Matcher
from accord.sensor.model import Match
from accord.sensor.sightings import SightingAggregator, SightingPolicy
from accord.sensor.taxii import TaxiiClient


def _writer(handle: IO[bytes], folder: SightingAggregator | None) -> Callable[[Match], None]:
    def write(m: Match) -> None:
        record = {
            "source": f"{m.source}:{m.line}",
            "file": m.source,
            "line": m.line,
            "indicator": m.indicator,
            "field": m.field,
            "value": m.value,
            "time": m.time,
        }
        if m.users:
            record["users"] = list(m.users)
        handle.write(orjson.dumps(record) + b"\n")
        if folder is not None:
            folder.add(m)

    return write


def _summary_data(matcher: Matcher, compiled: Compilation, summary: pipeline.Summary, engine: str) -> dict[str, Any]:
    return {"engine": engine, "files": summary.files, "events": summary.events, "seconds": summary.seconds,
            "indicators": {"active": len(matcher.ids), "inactive": compiled.inactive,
                           "not_usable": [{"id": i, "reason": r} for i, r in compiled.skipped]},
            "matches": summary.matches, "by_indicator": dict(summary.by_indicator.most_common()),
            "suppressed": dict(summary.suppressed), "residual_evaluated": summary.residual_evaluated,
            "bad_lines": dict(summary.problems.counts)}


def _summary(console: Console, matcher: Matcher, compiled: Compilation, summary: pipeline.Summary, engine: str) -> None:
    table = Table(title=f"accord match ({engine})", show_header=False)
    rate = summary.events / summary.seconds if summary.seconds else 0.0
    for label, value in [
        ("files", f"{summary.files:,}"),
        ("events", f"{summary.events:,}"),
        ("time", f"{summary.seconds:.2f} s ({rate:,.0f} events/s)"),
        (
            "indicators",
            f"{len(matcher.ids):,} active, {compiled.inactive:,} expired/revoked, {len(compiled.skipped):,} not usable",
        ),
        ("matches", f"{summary.matches:,}"),
        (
            "suppressed by warninglists",
            ", ".join(f"{k} {v:,}" for k, v in summary.suppressed.most_common()) or "0",
        ),
        ("residual patterns evaluated", f"{summary.residual_evaluated:,}"),
        ("bad lines", ", ".join(f"{k} {v:,}" for k, v in summary.problems.counts.most_common()) or "0"),
    ]:
        table.add_row(label, value)
    console.print(table)
    if summary.by_indicator:
        top = Table(title="most matched indicators")
        top.add_column("indicator")
        top.add_column("matches", justify="right")
        for ident, count in summary.by_indicator.most_common(10):
            top.add_row(ident, f"{count:,}")
        console.print(top)
    for record in summary.problems.records[:20]:
        console.print(f"[yellow]{escape(record.source)}:{record.line}[/]: {escape(record.reason)}", highlight=False)
    for ident, reason in compiled.skipped[:10]:
        console.print(f"[yellow]{escape(ident)}[/]: {escape(reason)}", highlight=False)


def run(
    logs: tuple[str, ...],
    bundles: tuple[str, ...],
    node: str | None,
    collection: str | None,
    token: str | None,
    local_dir: str | None,
    account: str,
    basic_auth: str | None,
    cache_dir: Path,
    fmt: str,
    mapping: tuple[str, ...],
    warninglist_dir: Path | None,
    enabled: tuple[str, ...],
    disabled: tuple[str, ...],
    decay: str | None,
    output: str,
    follow: bool,
    idle: float,
    engine: str,
    spark_master: str,
    identity: str | None,
    sightings_collection: str | None,
    sightings_file: str | None,
    window: int,
    share_values: bool,
    allow_internal: bool,
    allow_users: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    console = Console(stderr=True, quiet=quiet)
    try:
        if engine == "spark" and follow:
            raise ConfigError("--follow reads live files in-process; it does not combine with --engine spark")
        if (sightings_collection or sightings_file) and not identity:
            raise ConfigError("sightings need --identity (the sensor organisation's identity--... id)")
        objects, client = collect_indicators(bundles, node, collection, (token, basic_auth), cache_dir,
                                             (local_dir, account), decay)
        compiled = compile_indicators(objects)
        matcher = Matcher(compiled.indicators)
        del objects  # with the compiled indicators below, the tables are all a run needs to keep
        compiled = dataclasses.replace(compiled, indicators=compiled.indicators[:0])
        benign = None
        if warninglist_dir is not None:
            benign = warninglists.Benign(warninglists.load(warninglist_dir, enabled, disabled))
        folder = (
            SightingAggregator(SightingPolicy(identity, window, share_values, allow_internal, allow_users))
            if identity
            else None
        )
        columns = readers.parse_mapping(mapping)
        with click.open_file(output, "wb") as handle:
            write = _writer(handle, folder)
            if engine == "spark":
                found, summary = spark.run(
                    logs, matcher, benign=benign, fmt=fmt, mapping=columns, spark=spark.session(spark_master)
                )
                for m in found:
                    write(m)
            else:
                summary = _run_inprocess(logs, matcher, write, fmt, columns, benign, follow, idle, console)
        if as_json:
            if not quiet:
                click.echo(orjson.dumps(_summary_data(matcher, compiled, summary, engine)).decode(), err=True)
        else:
            _summary(console, matcher, compiled, summary, engine)
        if folder is not None:
            _send_sightings(folder, client, sightings_collection, sightings_file, console)
    except SensorError as exc:
        raise click.ClickException(str(exc)) from None




def _run_inprocess(
    logs: tuple[str, ...],
    matcher: Matcher,
    write: Callable[[Match], None],
    fmt: str,
    columns: tuple[Any, ...],
    benign: warninglists.Benign | None,
    follow: bool,
    idle: float,
    console: Console,
) -> pipeline.Summary:
    names = sources.expand(list(logs))
    sizes = [sources.size_of(n) for n in names]
    total = None if follow or None in sizes else sum(s or 0 for s in sizes)
    columns_shown = [
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns_shown, console=console, transient=True) as bar:
        task = bar.add_task("matching", total=total)
        return pipeline.run(
            names,
            matcher,
            write,
            fmt=fmt,
            mapping=columns,
            benign=benign,
            follow=sources.Follow(idle_seconds=idle) if follow else None,
            progress=lambda _name, n: bar.advance(task, n),
        )


def _send_sightings(
    folder: SightingAggregator,
    client: TaxiiClient | None,
    collection: str | None,
    path: str | None,
    console: Console,
) -> None:
    objects = folder.objects()
    if path:
        Path(path).write_bytes(
            orjson.dumps(
                {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects},
                option=orjson.OPT_INDENT_2,
            )
        )
    if collection:
        if client is None:
            raise ConfigError("--sightings-collection needs --node")
        status = client.add_objects(client.default_api_root(), collection, objects)
        done = client.wait(client.default_api_root(), status)
        console.print(
            f"sightings posted: {done.get('success_count', 0)} accepted, "
            f"{done.get('failure_count', 0)} refused, status {done.get('status')}"
        )
