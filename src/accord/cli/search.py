"""``accord search``: the console's search box on the command line, and rebuilding its index
(docs/search.md)."""

from __future__ import annotations

import click

from accord.cli.common import node_options, out, store_for
from accord.config import ADMIN_ACCOUNT, Settings


@click.group()
def search() -> None:
    """Search what an account may read (addresses and CIDR blocks, domains, hashes, ATT&CK ids, words)."""


@search.command("find")
@click.argument("query", nargs=-1, required=True)
@click.option("--as", "--account", "account_name", default=ADMIN_ACCOUNT, show_default=True,
              help="Whose view is searched: what this account may read, as in its console.")
@click.option("--limit", type=click.IntRange(1, 100), default=100, show_default=True, help="At most this many results.")
@node_options
def search_find(settings: Settings, query: tuple[str, ...], account_name: str, limit: int) -> None:
    """Search for QUERY, e.g. ``accord search find 203.0.113.5`` or ``accord search find T0855 pump``."""
    from accord.domain.errors import InvalidInput
    from accord.services import admin
    from accord.services import search as svc

    store = store_for(settings)
    try:
        results = svc.search(store, admin.principal_for(store, account_name), " ".join(query), limit)
    except InvalidInput as exc:
        raise click.UsageError(exc.message) from None
    out().table(f"{len(results.hits)} results for {', '.join(results.query.kinds)}",
                ["object", "type", "tlp", "why", "held by", "seen by", "last seen", "sightings"],
                [(h.id, h.type, h.tlp, "; ".join(h.reasons), ", ".join(h.origin), ", ".join(h.partners),
                  h.last_seen or "", h.sightings) for h in results.hits], results.to_json())


@search.command("reindex")
@node_options
def search_reindex(settings: Settings) -> None:
    """Rebuild the search index from every stored version (after a restore, or to check it).

    Searches keep working meanwhile and find what is indexed so far; they never find an object they
    may not read."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from accord.services import search as svc

    store = store_for(settings)
    o = out()
    total = svc.stored_versions(store)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=o.err, disable=o.as_json) as progress:
        task = progress.add_task("indexing stored versions", total=total)
        kept = svc.reindex(store, progress=lambda n: progress.advance(task, n))
    o.message(f"search index rebuilt: {kept} of {total} stored versions have search keys",
              {"versions": total, "indexed": kept})


commands: list[click.Command] = [search]
