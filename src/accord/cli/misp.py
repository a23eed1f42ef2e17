"""``accord load EVENT.json`` and ``accord load --misp-feed DIR_OR_URL``: MISP into a collection.

``accord load`` (in :mod:`accord.cli.node`) hands MISP event files and feeds to :func:`load_misp`;
the conversion and the storing are in :mod:`accord.interop.misp`, imported when MISP is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from accord.cli.common import out, store_for
from accord.config import Settings

F = TypeVar("F", bound=Callable[..., Any])
_NAMES = ("misp_feed", "misp_groups", "warninglist_dir")


def misp_options(func: F) -> F:
    """The options that apply to MISP events and feeds only."""
    for option in reversed([
        click.option("--misp-feed", default=None, metavar="DIR_OR_URL",
                     help="Import a MISP feed (manifest.json, <uuid>.json events) from a folder or URL."),
        click.option("--misp-group", "misp_groups", multiple=True, metavar="MISP_GROUP=GROUP",
                     help="A MISP sharing group (name or uuid) is this node's GROUP; repeatable "
                          "(default: the group of the same name)."),
        click.option("--warninglists", "warninglist_dir", default=None,
                     type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="MISP warninglists folder: indicators whose value one covers are labelled."),
    ]):
        func = option(func)
    return func


def take_options(options: dict[str, Any]) -> dict[str, Any]:
    """Remove the MISP options from ``options`` (the load command's keyword arguments)."""
    return {name: options.pop(name, None) for name in _NAMES}


def is_misp_event(path: Path) -> bool:
    from accord.interop.misp.convert import is_misp_event as sniff

    with path.open("rb") as f:
        return sniff(f.read(4096))


def wants_misp(bundle: Path | None, options: dict[str, Any]) -> bool:
    return options.get("misp_feed") is not None or (bundle is not None and is_misp_event(bundle))


def refuse_misp_options(path: Path, options: dict[str, Any]) -> None:
    if options.get("misp_groups") or options.get("warninglist_dir"):
        raise click.UsageError(f"--misp-group, --warninglists: only for MISP events and feeds, not for {path.name}")


def _group_map(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        misp_name, sep, group = pair.partition("=")
        if not sep or not misp_name.strip() or not group.strip():
            raise click.BadParameter(f"{pair!r}: MISP_GROUP=GROUP", param_hint="--misp-group")
        out[misp_name.strip()] = group.strip()
    return out


def load_misp(settings: Settings, bundle: Path | None, collection_name: str, account_name: str,
              misp_feed: str | None, misp_groups: tuple[str, ...], warninglist_dir: Path | None) -> None:
    """Load one MISP event file or a MISP feed; every problem is listed as ``file: event: what: why``
    and the command exits 1 when there was any."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from accord.interop.misp import load
    from accord.services import admin

    if bundle is not None and misp_feed is not None:
        raise click.UsageError("give either an event file or --misp-feed, not both")
    groups = _group_map(misp_groups or ())
    benign = None
    if warninglist_dir is not None:
        from accord.sensor import warninglists

        benign = warninglists.Benign(warninglists.load(warninglist_dir))
    from accord.federation.runtime import install

    store = store_for(settings)
    install(store, settings.data_dir)  # as the server does: sightings are recorded for corroboration
    principal = admin.principal_for(store, account_name)
    o = out()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=o.err, disable=o.as_json) as progress:
        if bundle is not None:
            task = progress.add_task(f"loading {bundle.name}", total=1)
            done = load.load_events(store, principal, collection_name, [(str(bundle), bundle.read_bytes())],
                                    groups, benign, progress=lambda n: progress.advance(task, n))
            what = bundle.name
        else:
            assert misp_feed is not None
            task = progress.add_task(f"loading {misp_feed}", total=None)
            done = load.load_feed(store, principal, collection_name, misp_feed, groups, benign,
                                  progress=lambda n: progress.advance(task, n))
            what = misp_feed
    raw = {"file": str(bundle) if bundle else misp_feed, **done.as_dict()}
    o.message(f"{what}: {done.events} MISP events, {done.attributes} attributes -> {done.stored} of "
              f"{done.objects} STIX objects stored, {done.flagged} indicators on a warninglist, "
              f"{len(done.problems)} problems", raw)
    if not o.as_json:
        for line in done.notes:
            o.err.print(f"note: {line}", highlight=False, markup=False, soft_wrap=True)
        for line in done.problems:
            o.err.print(line, highlight=False, markup=False, soft_wrap=True)
    if done.problems:
        raise SystemExit(1)
