"""``accord asset``: what small organisations own, so that partners' data about it reaches them
(docs/notices.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from accord.cli.common import node_options, out, store_for
from accord.cli.coordination import acting
from accord.config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def asset_options(func: F) -> F:
    for name, help_text in reversed((
            ("network", "Address range (IPv4/IPv6 prefix) it owns (repeat)."),
            ("domain", "Domain it owns, with its subdomains (repeat)."),
            ("software", "Software it runs: CPE 2.3 or vendor:product (repeat)."),
            ("contact", "E-mail address for its notices (repeat)."),
            ("webhook", "URL its notices are POSTed to as JSON (repeat)."))):
        func = click.option(f"--{name}", f"{name}s", multiple=True, help=help_text)(func)
    return func


def _values(**kinds: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {kind.removesuffix("s"): values for kind, values in kinds.items() if values}


def _principal(settings: Settings, account: str) -> Any:
    from accord.services import admin

    return admin.principal_for(store_for(settings), account)


def _print(registered: Any) -> None:
    raw = registered.as_dict()
    out().table(f"{raw['org']} (language {raw['language']}, covered by {raw['covered_by']})",
                ["kind", "value", "disputed"],
                [(a["kind"], a["value"], "DISPUTED" if a["disputed"] else "") for a in raw["assets"]], raw)


@click.group()
def asset() -> None:
    """The asset registry: ranges, domains, software, contacts and language of small organisations."""


@asset.command("add")
@click.argument("org")
@asset_options
@click.option("--language", help="Language of its notices (RFC 5646 tag, e.g. fr).")
@click.option("--covered-by", help="The partner it turns to (default: whose constituency holds its range).")
@click.option("--disputed", is_flag=True, help="Record a claim that overlaps another organisation's, as a dispute.")
@acting
@node_options
def asset_add(settings: Settings, org: str, networks: tuple[str, ...], domains: tuple[str, ...],
              softwares: tuple[str, ...], contacts: tuple[str, ...], webhooks: tuple[str, ...], language: str | None,
              covered_by: str | None, disputed: bool, account: str) -> None:
    """Register what ORG owns; overlapping claims are refused (or kept as disputes), never merged."""
    from accord.services import assets

    values = _values(networks=networks, domains=domains, softwares=softwares, contacts=contacts, webhooks=webhooks)
    _print(assets.add(store_for(settings), _principal(settings, account), org, values, language, covered_by,
                      disputed))


@asset.command("remove")
@click.argument("org")
@asset_options
@acting
@node_options
def asset_remove(settings: Settings, org: str, networks: tuple[str, ...], domains: tuple[str, ...],
                 softwares: tuple[str, ...], contacts: tuple[str, ...], webhooks: tuple[str, ...],
                 account: str) -> None:
    """Remove assets from ORG's registration."""
    from accord.services import assets

    values = _values(networks=networks, domains=domains, softwares=softwares, contacts=contacts, webhooks=webhooks)
    _print(assets.remove(store_for(settings), _principal(settings, account), org, values))


@asset.command("list")
@click.argument("org", required=False)
@node_options
def asset_list(settings: Settings, org: str | None) -> None:
    """Every registered organisation's assets (or ORG's)."""
    from accord.services import assets

    store = store_for(settings)
    found = [assets.show(store, org)] if org else assets.list_all(store)
    out().table("Assets", ["organisation", "language", "covered by", "kind", "value", "disputed"],
                [(r.org, r.language, r.covered_by, a.kind, a.value, "DISPUTED" if a.disputed else "")
                 for r in found for a in r.assets], [r.as_dict() for r in found])


@asset.command("disputes")
@node_options
def asset_disputes(settings: Settings) -> None:
    """Claims of two organisations on overlapping ranges or domains: nothing in them is notified."""
    from accord.services import assets

    found = assets.disputes(store_for(settings))
    raw = [{"kind": d.kind, "overlap": d.overlap, "claims": [{"org": a.org, "value": a.value}
                                                              for a in (d.first, d.second)]} for d in found]
    out().table("Disputes", ["kind", "overlap", "first", "second"],
                [(d.kind, d.overlap, f"{d.first.org}: {d.first.value}", f"{d.second.org}: {d.second.value}")
                 for d in found], raw)


commands = [asset]
