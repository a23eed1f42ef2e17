"""``accord decay``: each collection's decay model (docs/lists.md, "Decay and scoring")."""

from __future__ import annotations

import click

from accord.cli.common import node_options, out, store_for
from accord.config import ADMIN_ACCOUNT, Settings
from accord.domain.decay import DecayModel, parse_duration


@click.group()
def decay() -> None:
    """Decay of indicators: scores that fall with age, and the threshold under which they leave exports."""


@decay.command("set")
@click.argument("collection_name")
@click.option("--lifetime", required=True, metavar="30d|12h|4w", help="Time after which the score is 0.")
@click.option("--speed", type=float, required=True,
              help="Decay speed (MISP's decay_speed): 1 linear, above 1 falls fast at first.")
@click.option("--threshold", type=float, required=True, help="Indicators scoring under this (0-100) are decayed.")
@click.option("--base", type=click.IntRange(0, 100), default=50, show_default=True,
              help="Base score of indicators that carry no score or confidence.")
@node_options
def decay_set(settings: Settings, collection_name: str, lifetime: str, speed: float, threshold: float,
              base: int) -> None:
    """Set a collection's decay model (id or alias)."""
    from accord.services import decay as svc

    model = DecayModel(parse_duration(lifetime), speed, threshold, base)
    svc.set_model(store_for(settings), collection_name, model)
    out().message(f"{collection_name}: lifetime {lifetime}, speed {speed:g}, threshold {threshold:g}, base {base}",
                  {"collection": collection_name, "model": svc.model_json(model)})


@decay.command("remove")
@click.argument("collection_name")
@node_options
def decay_remove(settings: Settings, collection_name: str) -> None:
    """Remove a collection's decay model: its indicators then leave exports by valid_until only."""
    from accord.services import decay as svc

    svc.set_model(store_for(settings), collection_name, None)
    out().message(f"{collection_name}: no decay", {"collection": collection_name, "model": None})


@decay.command("show")
@node_options
def decay_show(settings: Settings) -> None:
    """Show every collection's decay model."""
    from accord.services import decay as svc

    rows = svc.show_models(store_for(settings))
    out().table("Decay models", ["collection", "alias", "lifetime", "speed", "threshold", "base"],
                [(r["collection"], r["alias"], *((m["lifetime"], f"{m['speed']:g}", f"{m['threshold']:g}", m["base"])
                                                 if (m := r["model"]) else ("none", "", "", "")))
                 for r in rows], rows)


@decay.command("scores")
@click.argument("collection_name")
@click.option("--as", "--account", "account_name", default=ADMIN_ACCOUNT, show_default=True,
              help="Whose view of the collection is scored.")
@node_options
def decay_scores(settings: Settings, collection_name: str, account_name: str) -> None:
    """Each indicator's score now, and whether the sensor exports keep it."""
    from accord.services import admin
    from accord.services import decay as svc

    store = store_for(settings)
    rows = svc.scores(store, admin.principal_for(store, account_name), collection_name)
    out().table(f"Scores in {collection_name}", ["indicator", "name", "score", "sighted", "expired", "kept"],
                [(r["id"], r["name"], "-" if r["score"] is None else f"{r['score']:.1f}", "yes" if r["sighted"] else "",
                  "yes" if r["expired"] else "", "yes" if r["kept"] else "no") for r in rows], rows)


commands: list[click.Command] = [decay]
