"""``accord match``: match logs against shared indicators; ``accord intel-export``: files for sensors.

Matches go to standard output (or ``--output``) as JSON lines; the progress bar, the summary table and
bad-line reports go to standard error, so the output can be piped. The matching itself is in
``accord.cli.matching``, imported when ``accord match`` runs: it needs the ``sensor`` extra (NumPy,
PyArrow, numba, Spark), which a node does not; ``accord intel-export`` needs only the base package.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accord.cli.common import needs_extra
from accord.sensor.errors import ConfigError, SensorError
from accord.sensor.model import LOG_FORMATS

if TYPE_CHECKING:
    from accord.sensor.taxii import TaxiiClient


def collect_indicators(
    bundles: tuple[str, ...],
    node: str | None,
    collection: str | None,
    credentials: tuple[str | None, str | None],
    cache_dir: Path,
    local: tuple[str | None, str],
    decay: str | None = None,
) -> tuple[list[Mapping[str, Any]], TaxiiClient | None]:
    """The indicators of every source given (bundle files, a TAXII server, the local node), read in full.

    ``decay`` (``LIFETIME,SPEED,THRESHOLD``) leaves out decayed indicators of the bundles and the TAXII
    server; the local node applies its collections' own models (``accord decay``)."""
    from accord.cli.common import open_node
    from accord.config import Settings
    from accord.domain.decay import decay_model
    from accord.domain.errors import AccordError
    from accord.sensor import feeds
    from accord.sensor.taxii import TaxiiClient
    from accord.services.exports import LocalIndicators

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
    if decay:
        try:
            model = decay_model(decay)
        except AccordError as exc:
            raise ConfigError(f"--decay: {exc.message}") from None
        feeds_used = [f if isinstance(f, LocalIndicators) else feeds.Decayed(f, model) for f in feeds_used]
    if not feeds_used:
        raise ConfigError("no indicators: give --indicators BUNDLE.json, --node URL or --data-dir DIR, "
                          "with --collection ID")
    objects = [obj for feed in feeds_used for obj in feed.objects()]
    return objects, client


_DECAY = click.option("--decay", metavar="LIFETIME,SPEED,THRESHOLD",
                      help="Leave out indicators of --indicators and --node that decayed (e.g. 30d,2,30: "
                      "docs/lists.md); --data-dir uses the collection's own model.")


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
@click.option("--format", "fmt", type=click.Choice(LOG_FORMATS), default="auto", show_default=True)
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
@_DECAY
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
def match_command(**options: Any) -> None:
    """Match LOGS (files, directories, - for stdin; Zeek TSV/JSON, Suricata EVE, CSV, JSON lines; plain or
    gzip) against shared indicators and print one JSON line per (event, indicator) match."""
    with needs_extra("sensor", "accord match"):
        from accord.cli import matching  # numba and pyspark are imported later, by the runs that need them

        matching.run(**options)  # the options, typed, are run's parameters


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
@_DECAY
@click.option("--json", "as_json", is_flag=True, help="List the files written as JSON on standard output.")
def intel_export_command(bundles: tuple[str, ...], local_dir: str | None, collection: str | None, account: str,
                         target: str, out_dir: Path, decay: str | None, as_json: bool) -> None:
    """Write indicator files for sensors that match on their own (Zeek intel, Suricata)."""
    import orjson

    from accord.sensor import exports

    try:
        objects, _ = collect_indicators(bundles, None, collection, (None, None), out_dir, (local_dir, account),
                                        decay)
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
