"""Commands of federation and early warning: identity, peer, sync, subscribe, watch."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from accord.cli.common import add_switch_commands, node_options, out, store_for
from accord.config import Settings
from accord.domain.tlp import Tlp
from accord.federation.model import PeerKind, WarningFilter
from accord.stix.timestamps import micros_to_timestamp


def _levels(text: str) -> frozenset[Tlp]:
    try:
        return frozenset(Tlp.parse(t) for t in text.split(",") if t.strip())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@click.group()
def identity() -> None:
    """This node's identity and hybrid signing keys (Ed25519 + ML-DSA-65)."""


@identity.command("show")
@node_options
def identity_show(settings: Settings) -> None:
    """Show the node id and the fingerprint to read to peers' administrators."""
    from accord.federation import peers as fed

    doc = fed.node_identity(store_for(settings), settings.data_dir)
    out().message(f"node {doc['name']} ({doc['node_id']})\nkey {doc['key_id']}\nfingerprint {doc['fingerprint']}",
                  doc)


@identity.command("rotate")
@node_options
def identity_rotate(settings: Settings) -> None:
    """Make a new key pair; peers add it with `accord peer refresh` and keep the old one for old objects."""
    from accord.federation import peers as fed

    keys = fed.rotate_keys(store_for(settings), settings.data_dir)
    out().message(f"new key {keys.key_id}, fingerprint {keys.fingerprint} (restart the server to sign with it)",
                  {"key_id": keys.key_id, "fingerprint": keys.fingerprint})


@click.group()
def peer() -> None:
    """Peer nodes and feed sources, with their sharing agreements."""


@peer.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--fingerprint", help="The peer's key fingerprint, confirmed out of band (prompted if absent).")
@click.option("--feed", is_flag=True, help="A plain TAXII 2.1 server to pull from, not an Accord node.")
@click.option("--misp-feed", is_flag=True, help="A MISP feed (the URL of its folder) to pull from (docs/interop.md).")
@click.option("--collections", default="default", show_default=True, help="Local collections that flow both ways.")
@click.option("--tlp", "levels", default="clear,green", show_default=True, help="TLP levels that may flow to it.")
@click.option("--groups", default="", help="Sharing groups whose objects may flow to it (named recipients).")
@click.option("--remote-collection", default="default", show_default=True)
@click.option("--api-root", default="default", show_default=True)
@click.option("--credential", default=None, help="Our API key at the peer (or user:password for a feed).")
@node_options
def peer_add(settings: Settings, name: str, url: str, fingerprint: str | None, feed: bool, misp_feed: bool,
             collections: str, levels: str, groups: str, remote_collection: str, api_root: str,
             credential: str | None) -> None:
    """Register a peer node (or feed) and print the API key its node uses here."""
    from accord.federation import peers as fed

    if feed and misp_feed:
        raise click.UsageError("--feed (TAXII) or --misp-feed, not both")
    kind = PeerKind.MISP if misp_feed else PeerKind.FEED if feed else PeerKind.NODE
    if kind is PeerKind.NODE and fingerprint is None:
        remote = fed.fetch_identity(url)
        click.confirm(f"{url} is node {remote.name} ({remote.node_id}) with key fingerprint\n  "
                      f"{remote.fingerprint}\nDoes it match what its administrator told you?", abort=True)
        fingerprint = remote.fingerprint
    p, key = fed.add_peer(store_for(settings), name, url, kind, fingerprint, _list(collections), _levels(levels),
                          _list(groups), remote_collection, api_root, credential)
    out().message(f"peer {name} added ({p.node_id or 'feed'}).\nAPI key for its node to use here "
                  f"(shown once):\n{key}", {"peer": name, "node_id": p.node_id, "api_key": key})


@peer.command("set")
@click.argument("name")
@click.option("--credential", default=None, help="Our API key at the peer.")
@click.option("--tlp", "levels", default=None, help="TLP levels that may flow to it.")
@click.option("--groups", default=None, help="Sharing groups that may flow to it.")
@click.option("--collections", default=None, help="Local collections that flow to it.")
@node_options
def peer_set(settings: Settings, name: str, credential: str | None, levels: str | None, groups: str | None,
             collections: str | None) -> None:
    """Change a peer's credential or agreement."""
    from accord.federation import peers as fed

    fed.set_peer(store_for(settings), name, credential, None if levels is None else _levels(levels),
                 None if groups is None else _list(groups), None if collections is None else _list(collections))
    out().message(f"peer {name} updated", {"peer": name})


@peer.command("refresh")
@click.argument("name")
@click.option("--fingerprint", required=True, help="The peer's new fingerprint, confirmed out of band.")
@node_options
def peer_refresh(settings: Settings, name: str, fingerprint: str) -> None:
    """Add a peer's rotated keys (its older keys stay registered)."""
    from accord.federation import peers as fed

    added = fed.refresh_keys(store_for(settings), name, fingerprint)
    out().message(f"{len(added)} new key(s) for {name}: {', '.join(added) or '-'}", {"added": added})


@peer.command("list")
@node_options
def peer_list(settings: Settings) -> None:
    """List peers and their agreements."""
    store = store_for(settings)
    with store.read() as tx:
        peers = tx.list_peers()
        disabled = tx.disabled_orgs()
    raw: list[dict[str, Any]] = [{"name": p.name, "kind": p.kind.value, "url": p.url, "node_id": p.node_id,
            "tlp": sorted(t.label for t in p.agreement.levels), "groups": sorted(p.agreement.groups),
            "push": bool(p.credential), "disabled": p.org_id in disabled} for p in peers]
    out().table("Peers", ["name", "kind", "url", "TLP", "groups", "push", "disabled"],
                [(r["name"], r["kind"], r["url"], ",".join(r["tlp"]), r["groups"], r["push"],
                  "yes" if r["disabled"] else "") for r in raw], raw)


add_switch_commands(peer, "peer", "peer", "set_peer_enabled",
                    "Stop exchanging with a peer: its key stops working here, nothing is pushed to or pulled from it.",
                    "Exchange with a disabled peer again.")


@peer.command("remove")
@click.argument("name")
@node_options
def peer_remove(settings: Settings, name: str) -> None:
    """Remove a peer, its organisation and account; refused while it owns objects it sent (disable it)."""
    from accord.services import admin

    admin.remove_peer(store_for(settings), name)
    out().message(f"peer {name} removed", {"peer": name, "removed": True})


@click.group()
def sync() -> None:
    """Federation state: lag, queues, errors, agreement digests; pull and repair."""


@sync.command("status")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Compare digests with each peer (reads its entitled set).")
@node_options
def sync_status(settings: Settings, check: bool) -> None:
    """Per peer: lag, queue depth, last error and whether both sides hold the same data."""
    from accord.federation import peers as fed

    rows = fed.sync_status(store_for(settings), check)
    out().table("Sync", ["peer", "kind", "lag (s)", "queue", "last ok", "agree", "missing", "last error"],
                [(r["peer"], r["kind"], r["lag_seconds"], r["queue"],
                  micros_to_timestamp(r["last_ok"]) if r["last_ok"] else "-",
                  {None: "-", True: "yes", False: "NO"}[r["agree"]], r["missing"], r["last_error"] or "")
                 for r in rows], rows)


@sync.command("pull")
@click.argument("name")
@node_options
def sync_pull(settings: Settings, name: str) -> None:
    """Pull what is new from a peer node or feed (TAXII 2.1 GET with a cursor)."""
    from accord.federation.pull import pull
    from accord.federation.runtime import install

    store = store_for(settings)
    install(store, settings.data_dir)  # verify signatures (and sign feed objects) as the server does
    received, refused = pull(store, name)
    out().message(f"{name}: {received} received, {refused} refused", {"received": received, "refused": refused})


@sync.command("repair")
@click.argument("name")
@node_options
def sync_repair(settings: Settings, name: str) -> None:
    """Fetch from a peer exactly the entitled versions this node misses."""
    from accord.federation import peers as fed
    from accord.federation.runtime import install

    store = store_for(settings)
    install(store, settings.data_dir)
    missing, fetched = fed.repair(store, name)
    out().message(f"{name}: {missing} missing, {fetched} fetched", {"missing": missing, "fetched": fetched})


@sync.command("quarantine")
@node_options
def sync_quarantine(settings: Settings) -> None:
    """Objects refused from peers (unsigned, unknown signer, tampered), newest first."""
    store = store_for(settings)
    with store.read() as tx:
        rows = tx.list_quarantine()
    raw = [{"at": micros_to_timestamp(a), "peer": p, "id": i, "version": v, "reason": r} for a, p, i, v, r in rows]
    out().table("Quarantine", ["at", "peer", "id", "version", "reason"],
                [tuple(r.values()) for r in raw], raw)


@click.command()
@click.argument("name")
@click.option("--org", "org_name", required=True, help="The subscribing organisation.")
@click.option("--types", default="indicator", show_default=True)
@click.option("--max-tlp", default="red", show_default=True)
@click.option("--sectors", default="", help="Sectors targeted (identities the object targets).")
@click.option("--min-confidence", default=0, show_default=True, type=int)
@click.option("--only-corroborated", is_flag=True)
@click.option("--webhook", default=None, help="URL to POST warnings to (HMAC-SHA256 signed, retried).")
@node_options
def subscribe(settings: Settings, name: str, org_name: str, types: str, max_tlp: str, sectors: str,
              min_confidence: int, only_corroborated: bool, webhook: str | None) -> None:
    """Subscribe an organisation to early warnings."""
    from accord.federation import peers as fed

    flt = WarningFilter(frozenset(_list(types)), Tlp.parse(max_tlp), frozenset(_list(sectors)), min_confidence,
                        only_corroborated)
    secret = fed.subscribe(store_for(settings), name, org_name, flt, webhook)
    text = f"subscription {name} for {org_name}" + (f"; webhook HMAC secret (shown once): {secret}" if secret else "")
    out().message(text, {"subscription": name, "webhook_secret": secret})


@click.command()
@click.option("--url", default="http://127.0.0.1:8660", show_default=True, help="The node to watch.")
@click.option("--key", envvar="ACCORD_API_KEY", required=True, help="Your API key (ACCORD_API_KEY).")
@click.option("--subscription", default=None)
@click.option("--max-events", default=0, type=int, help="Stop after this many warnings (0: never).")
@node_options
def watch(settings: Settings, url: str, key: str, subscription: str | None, max_events: int) -> None:
    """Show early warnings live (Server-Sent Events)."""
    import httpx
    import orjson
    from rich.live import Live
    from rich.table import Table

    del settings
    o = out()
    params = {"subscription": subscription} if subscription else {}
    table = Table(title=f"Early warnings from {url}")
    for column in ("received", "priority", "type", "id", "name", "corroborated by"):
        table.add_column(column)
    seen = 0
    with httpx.stream("GET", url.rstrip("/") + "/federation/events/", params=params, timeout=None,
                      headers={"Authorization": f"Bearer {key}"}) as resp, \
            Live(table, console=o.console, auto_refresh=False, transient=False) if not o.as_json \
            else contextlib.nullcontext() as live:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: "):
                continue
            w = orjson.loads(line[6:])
            seen += 1
            if live is None:
                o.data(w)
            else:
                table.add_row(micros_to_timestamp(w["date_added"]),
                              f"[bold red]{w['priority']}[/]" if w["priority"] == "high" else w["priority"],
                              w["type"], w["id"], w["name"], ", ".join(w["corroborated_by"]))
                live.refresh()
            if max_events and seen >= max_events:
                return


commands: list[click.Command] = [identity, peer, sync, subscribe, watch]
