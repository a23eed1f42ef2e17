"""``accord match``: match logs against shared indicators; ``accord intel-export``: files for sensors.

Matches go to standard output (or ``--output``) as JSON lines; the progress bar, the summary table and
bad-line reports go to standard error, so the output can be piped.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
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

from accord.cli.common import open_node
from accord.config import Settings
from accord.domain.errors import AccordError
from accord.sensor import exports, feeds, pipeline, readers, sources, spark, warninglists
from accord.sensor.errors import ConfigError, SensorError
from accord.sensor.indicators import Compilation, compile_indicators
from accord.sensor.kernel import Matcher
from accord.sensor.model import Match
from accord.sensor.sightings import SightingAggregator, SightingPolicy
from accord.sensor.taxii import TaxiiClient
from accord.services.exports import LocalIndicators


def _collect(
    bundles: tuple[str, ...],
    node: str | None,
    collection: str | None,
    credentials: tuple[str | None, str | None],
    cache_dir: Path,
    local: tuple[str | None, str],
) -> tuple[list[Mapping[str, Any]], TaxiiClient | None]:
    feeds_used: list[feeds.IndicatorSource] = [feeds.BundleFile(Path(path)) for path in bundles]
    client = None
    local_dir, account = local
    if local_dir:
        if not collection:
            raise ConfigError("--data-dir needs --collection (the collection id or alias to read indicators from)")
        try:
            store = open_node(Settings.from_env(local_dir))
            feeds_used.append(LocalIndicators(store, account, collection))
        except AccordError as exc:
            raise ConfigError(f"local node in {local_dir}: {exc.message}") from None
    if node:
        if not collection:
            raise ConfigError("--node needs --collection (the collection id or alias to read indicators from)")
        token, basic = credentials
        user, _, password = (basic or "").partition(":")
        client = TaxiiClient(node, token=token, auth=(user, password) if basic else None)
        feeds_used.append(feeds.TaxiiFeed(client, collection, cache_dir))
    if not feeds_used:
        raise ConfigError("no indicators: give --indicators BUNDLE.json, --node URL or --data-dir DIR, "
                          "with --collection ID")
    objects = [obj for feed in feeds_used for obj in feed.objects()]
    return objects, client


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


@click.command("match")
@click.argument("logs", nargs=-1, required=True)
@click.option(
    "--indicators",
    "bundles",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="STIX 2.1 bundle file with indicators (offline use); repeatable.",
)
@click.option("--node", envvar="ACCORD_NODE", help="TAXII 2.1 server of the node (e.g. http://127.0.0.1:8000).")
@click.option("--collection", envvar="ACCORD_COLLECTION", help="Collection to read indicators from.")
@click.option("--token", envvar="ACCORD_TOKEN", help="API key for the node.")
@click.option("--data-dir", "local_dir", type=click.Path(file_okay=False),
              help="Read indicators straight from the local node's store in DIR (with --collection).")
@click.option("--as", "account", default="admin", show_default=True,
              help="With --data-dir: the account whose organisation's view of the indicators is used.")
@click.option(
    "--basic-auth",
    envvar="ACCORD_BASIC_AUTH",
    metavar="USER:PASSWORD",
    help="HTTP Basic credentials instead of a key (other TAXII 2.1 servers).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".accord/sensor-cache"),
    show_default=True,
    help="Indicator cache, so a restart fetches only what was added since.",
)
@click.option("--format", "fmt", type=click.Choice(readers.FORMATS), default="auto", show_default=True)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="NAME=KIND[:ROLE]",
    help="Column mapping, e.g. src=addr:src, qname=domain, when=time (kinds: addr, domain, url, hash, "
    "email, user, time).",
)
@click.option(
    "--warninglists",
    "warninglist_dir",
    envvar="ACCORD_WARNINGLISTS",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="MISP warninglists folder.",
)
@click.option("--warninglist", "enabled", multiple=True, help="Use only these warninglists (ids); repeatable.")
@click.option("--no-warninglist", "disabled", multiple=True, help="Do not use this warninglist; repeatable.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True)
@click.option("--follow", is_flag=True, help="Keep reading lines appended to the files (like tail -f).")
@click.option(
    "--idle",
    type=float,
    default=60.0,
    show_default=True,
    help="With --follow: stop after this many seconds without new lines.",
)
@click.option("--engine", type=click.Choice(["inprocess", "spark"]), default="inprocess", show_default=True)
@click.option("--spark-master", default="local[2]", show_default=True)
@click.option("--identity", help="The sensor organisation's STIX identity id (where_sighted_refs).")
@click.option("--sightings-collection", help="Post sightings to this collection of --node.")
@click.option("--sightings-file", type=click.Path(dir_okay=False), help="Write the sightings bundle here.")
@click.option("--window", type=int, default=3600, show_default=True, help="Sighting window in seconds.")
@click.option("--share-values", is_flag=True, help="Put matched values into the sightings (observed-data).")
@click.option("--allow-internal", is_flag=True, help="With --share-values: also internal addresses.")
@click.option("--allow-users", is_flag=True, help="With --share-values: also user names from the logs.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True,
              help="The summary as one JSON object on standard error instead of tables (matches are JSON anyway).")
def match_command(
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
    """Match LOGS (files, directories, - for stdin; Zeek TSV/JSON, Suricata EVE, CSV, JSON lines; plain or
    gzip) against shared indicators and print one JSON line per (event, indicator) match."""
    console = Console(stderr=True, quiet=quiet)
    try:
        if engine == "spark" and follow:
            raise ConfigError("--follow reads live files in-process; it does not combine with --engine spark")
        if (sightings_collection or sightings_file) and not identity:
            raise ConfigError("sightings need --identity (the sensor organisation's identity--... id)")
        objects, client = _collect(bundles, node, collection, (token, basic_auth), cache_dir, (local_dir, account))
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


@click.command("intel-export")
@click.option(
    "--indicators",
    "bundles",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="STIX 2.1 bundle file; repeatable.",
)
@click.option("--data-dir", "local_dir", type=click.Path(file_okay=False),
              help="Read indicators from the local node's store in DIR (with --collection).")
@click.option("--collection", help="With --data-dir: the collection (id or alias) to export.")
@click.option("--as", "account", default="admin", show_default=True,
              help="With --data-dir: the account whose organisation's view of the indicators is exported.")
@click.option("--to", "target", type=click.Choice(["zeek-intel", "suricata-datasets", "suricata-iprep"]), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True, help="List the files written as JSON on standard output.")
def intel_export_command(bundles: tuple[str, ...], local_dir: str | None, collection: str | None, account: str,
                         target: str, out_dir: Path, as_json: bool) -> None:
    """Write indicator files for sensors that match on their own (Zeek intel, Suricata)."""
    try:
        objects, _ = _collect(bundles, None, collection, (None, None), out_dir, (local_dir, account))
    except SensorError as exc:
        raise click.ClickException(str(exc)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    if target == "zeek-intel":
        files = {"accord.intel": exports.zeek_intel(objects)}
    elif target == "suricata-datasets":
        files = exports.suricata_datasets(objects).files
    else:
        categories, reputation = exports.suricata_iprep(objects)
        files = {"categories.txt": categories, "reputation.list": reputation}
    written = []
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append({"path": str(out_dir / name), "lines": text.count("\n")})
        if not as_json:
            click.echo(f"{out_dir / name}: {text.count(chr(10)):,} lines", err=True)
    if as_json:
        click.echo(orjson.dumps({"target": target, "files": written}).decode())


commands: list[click.Command] = [match_command, intel_export_command]
