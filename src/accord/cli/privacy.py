"""Commands of privacy by design (docs/privacy.md): ``accord collection privacy ...`` (minimisation
policies and pseudonymisation keys) and ``accord retention ...``. Heavy modules are imported inside
the commands (tests/unit/test_cli_footprint.py)."""

from __future__ import annotations

import sys

import click

from accord.cli.common import node_options, out, store_for
from accord.cli.node import collection
from accord.config import Settings
from accord.domain.errors import InvalidInput


@collection.group("privacy")
def privacy() -> None:
    """What a collection keeps of personal data: keep, drop or pseudonymise, per category."""


@privacy.command("categories")
@node_options
def privacy_categories(settings: Settings) -> None:
    """The table of STIX properties that count as personal data (docs/privacy.md)."""
    from accord.domain.privacy import PERSONAL_FIELDS

    rows = [(f.category, f.type, f.prop, "yes" if f.required else "no", f.why) for f in PERSONAL_FIELDS]
    out().table("Personal data", ["category", "type", "property", "required", "why"], rows,
                [dict(zip(("category", "type", "property", "required", "why"), r, strict=True)) for r in rows])


def _assignments(pairs: tuple[str, ...]) -> dict[str, str]:
    actions: dict[str, str] = {}
    for n, pair in enumerate(pairs, 1):
        category, sep, action = pair.partition("=")
        if not sep or not category or not action:
            raise InvalidInput(f"argument {n} ({pair!r}): write CATEGORY=ACTION, e.g. email-address=pseudonymise")
        actions[category.strip()] = action.strip()
    return actions


@privacy.command("set")
@click.argument("collection_name")
@click.argument("assignments", nargs=-1, metavar="CATEGORY=ACTION...")
@click.option("--own-range", "own_ranges", multiple=True, metavar="CIDR",
              help="The reporter's own network (repeatable): addresses inside it are internal-address.")
@click.option("--key", help="The HMAC key: node (default) or group:NAME.")
@click.option("--replace", is_flag=True, help="Replace the whole policy instead of merging into it.")
@node_options
def privacy_set(settings: Settings, collection_name: str, assignments: tuple[str, ...],
                own_ranges: tuple[str, ...], key: str | None, replace: bool) -> None:
    """Set what COLLECTION (id or alias) does with categories of personal data (audited)."""
    from accord.services import privacy as svc

    policy = svc.set_policy(store_for(settings), collection_name, _assignments(assignments), own_ranges, key,
                            replace)
    shown = ", ".join(f"{c}={a.value}" for c, a in sorted(policy.actions.items())) or "keep everything"
    out().message(f"privacy policy of {collection_name}: {shown}", {"collection": collection_name,
                                                                     **policy.to_json()})


@privacy.command("show")
@node_options
def privacy_show(settings: Settings) -> None:
    """Every collection's policy (categories not named are kept)."""
    from accord.services import privacy as svc

    raw = svc.show_policies(store_for(settings))
    out().table("Privacy policies", ["collection", "alias", "actions", "own ranges", "key"],
                [(p["collection"], p["alias"], ", ".join(f"{c}={a}" for c, a in p["actions"].items()) or "keep all",
                  ", ".join(p["own_ranges"]), p["key"]) for p in raw], raw)


@privacy.group("key")
def privacy_key() -> None:
    """HMAC keys of pseudonymisation: the node's own, or one shared by a sharing group's nodes."""


@privacy_key.command("create")
@click.option("--group", "group_name", required=True, help="The sharing group the key is for.")
@node_options
def key_create(settings: Settings, group_name: str) -> None:
    """Create a group's key and print it once: import it on the group's other nodes."""
    from accord.services import privacy as svc

    text = svc.create_group_key(store_for(settings), group_name)
    out().message(f"[bold]pseudonymisation key of group {group_name}[/bold] (shown once; give it to the "
                  f"group's other nodes over a protected channel):\n{text}", {"group": group_name, "key": text})


@privacy_key.command("import")
@click.option("--group", "group_name", required=True)
@node_options
def key_import(settings: Settings, group_name: str) -> None:
    """Import a group's key, read from standard input."""
    from accord.services import privacy as svc

    fp = svc.import_group_key(store_for(settings), group_name, sys.stdin.readline())
    out().message(f"key of group {group_name} imported, fingerprint {fp}", {"group": group_name, "fingerprint": fp})


@privacy_key.command("list")
@node_options
def key_list(settings: Settings) -> None:
    """The keys this node holds, by fingerprint (never the key)."""
    from accord.services import privacy as svc
    from accord.stix.timestamps import micros_to_timestamp

    raw = svc.list_keys(store_for(settings))
    out().table("Pseudonymisation keys", ["scope", "fingerprint", "created"],
                [(k["scope"], k["fingerprint"], micros_to_timestamp(k["created"])) for k in raw], raw)


@click.group()
def retention() -> None:
    """How long each type of object is kept, and what the server's purge removes when."""


@retention.command("set")
@click.argument("obj_type", metavar="TYPE")
@click.option("--days", required=True, help="Days after the basis; 0 or more.")
@click.option("--after", "basis", default="added", show_default=True,
              help="added (when the node stored it) or valid_until (indicators: a grace after it).")
@click.option("--collection", "collection_name", help="Only this collection (id or alias); default: every one.")
@node_options
def retention_set(settings: Settings, obj_type: str, days: str, basis: str, collection_name: str | None) -> None:
    """Keep TYPE for --days after --after, e.g. `sighting --days 90`, `indicator --after valid_until --days 30`."""
    from accord.services import retention as svc

    rule = svc.set_rule(store_for(settings), obj_type, days, basis, collection_name)
    where = collection_name or "every collection"
    out().message(f"{rule.type} in {where}: removed {rule.describe()}",
                  {"collection": collection_name, "type": rule.type, "basis": rule.basis.value, "days": rule.days})


@retention.command("clear")
@click.argument("obj_type", metavar="TYPE")
@click.option("--collection", "collection_name")
@node_options
def retention_clear(settings: Settings, obj_type: str, collection_name: str | None) -> None:
    """Remove the rule for TYPE (it is then kept, or the node-wide rule applies)."""
    from accord.services import retention as svc

    removed = svc.clear_rule(store_for(settings), obj_type, collection_name)
    out().message(f"rule for {obj_type} {'removed' if removed else 'not found'}", {"removed": removed})


@retention.command("status")
@node_options
def retention_status(settings: Settings) -> None:
    """What goes when: per collection and rule, versions held, expired now, within 30 days, next expiry."""
    from accord.services import retention as svc
    from accord.stix.timestamps import micros_to_timestamp

    rows = svc.status(store_for(settings))
    raw = [{"collection": d.collection, "type": d.rule.type, "rule": d.rule.describe(),
            "node_wide": d.rule.collection_id == 0, "held": d.held, "expired": d.expired,
            "within_30_days": d.within_30_days,
            "next_expiry": micros_to_timestamp(d.next_expiry) if d.next_expiry else None} for d in rows]
    out().table("Retention", ["collection", "type", "removed", "held", "expired now", "within 30 days",
                              "next expiry"],
                [(r["collection"], r["type"], r["rule"], r["held"], r["expired"], r["within_30_days"],
                  r["next_expiry"] or "-") for r in raw], raw)


@retention.command("purge")
@node_options
def retention_purge(settings: Settings) -> None:
    """Remove what expired now (the server does this every hour); audited with counts."""
    from accord.services import retention as svc

    removed = svc.purge(store_for(settings))
    total = sum(n for c in removed.values() for n in c.values())
    out().message(f"{total} expired version(s) removed", {"removed": removed, "total": total})


@click.group("object")
def object_group() -> None:
    """Take back objects your organisation shared: revoke (STIX revoked) or withdraw (removed everywhere)."""


@object_group.command("revoke")
@click.argument("object_id")
@click.option("--account", default="admin", show_default=True, help="Acting as this account's organisation.")
@node_options
def object_revoke(settings: Settings, object_id: str, account: str) -> None:
    """A new version with revoked=true, which peers receive as any new version."""
    from accord.federation.withdraw import revoke

    done = revoke(store_for(settings), account, object_id)
    out().message(f"{object_id} revoked in {', '.join(done) or 'nothing (revoked already)'}",
                  {"object": object_id, "collections": done})


@object_group.command("withdraw")
@click.argument("object_id")
@click.option("--reason", default="", help="Why (signed, sent to every peer, at most 500 characters).")
@node_options
def object_withdraw(settings: Settings, object_id: str, reason: str) -> None:
    """Remove an object this node originated, here and at every peer that received it (signed notice)."""
    from accord.federation.runtime import install
    from accord.federation.withdraw import withdraw

    store = store_for(settings)
    wid, versions, peers = withdraw(store, install(store, settings.data_dir), object_id, reason)
    out().message(f"{object_id} withdrawn: {versions} version(s) removed here; to be told: "
                  f"{', '.join(peers) or 'no peer'} (the server delivers it)",
                  {"withdrawal": wid, "object": object_id, "versions": versions, "peers": peers})


@object_group.command("withdrawals")
@node_options
def object_withdrawals(settings: Settings) -> None:
    """Withdrawals made or received here and their delivery to each peer."""
    from accord.federation.withdraw import status

    raw = status(store_for(settings))
    out().table("Withdrawals", ["object", "origin", "at", "from", "delivered to", "pending"],
                [(w["object"], w["origin"], w["at"], w["from"] or "-",
                  ", ".join(d["peer"] for d in w["deliveries"] if d["delivered"]),
                  ", ".join(d["peer"] for d in w["deliveries"] if not d["delivered"])) for w in raw], raw)


@click.group()
def transparency() -> None:
    """Who received an organisation's objects, and what it received from whom (from the audit log)."""


def _receipts_table(title: str, raw: list[dict[str, object]], who: str) -> None:
    out().table(title, ["at", who, "object", "version", "action", "via", "agreement"],
                [(r["at"], r[who] or "(no longer held)", r["object_id"], r["version"], r["action"], r["via"],
                  r["agreement"]) for r in raw], raw)


@transparency.command("report")
@click.option("--org", "org_name", required=True, help="The organisation whose objects are reported.")
@node_options
def transparency_report(settings: Settings, org_name: str) -> None:
    """Who received ORG's objects (not TLP:CLEAR, which is not recorded), when, under which agreement."""
    from accord.services import admin
    from accord.services import transparency as svc

    store = store_for(settings)
    _receipts_table(f"Recipients of {org_name}'s objects",
                    svc.sent(store, admin.principal_for(store, admin.ADMIN_ACCOUNT), org_name), "recipient")


@transparency.command("received")
@click.option("--org", "org_name", required=True, help="The recipient organisation.")
@node_options
def transparency_received(settings: Settings, org_name: str) -> None:
    """What ORG received here, and from which owner."""
    from accord.services import admin
    from accord.services import transparency as svc

    store = store_for(settings)
    _receipts_table(f"What {org_name} received",
                    svc.received(store, admin.principal_for(store, admin.ADMIN_ACCOUNT), org_name), "owner")


@click.group()
def lookup() -> None:
    """Ask a node "has anyone seen X?" without telling it X (an oblivious PRF, docs/privacy.md)."""


@lookup.command("query")
@click.argument("values", nargs=-1, required=True)
@click.option("--url", required=True, help="The node's base URL, e.g. https://taxii.example.org")
@click.option("--api-key", envvar="ACCORD_API_KEY", required=True, help="Your API key at that node.")
@click.option("--root", default="default", show_default=True)
@click.option("--collection", "collection_name", default="default", show_default=True)
@node_options
def lookup_query(settings: Settings, values: tuple[str, ...], url: str, api_key: str, root: str,
                 collection_name: str) -> None:
    """How many organisations per sector hold each VALUE (an address, domain, URL, e-mail or hash)."""
    import httpx

    from accord.federation.lookup import LookupClient

    try:
        answers = LookupClient(url, api_key, root, collection_name).query(list(values))
    except httpx.HTTPStatusError as exc:
        raise click.ClickException(f"{url} answered {exc.response.status_code}: {exc.response.text[:300]}") from None
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None
    rows = [(v, ", ".join(f"{s}: {n}" for s, n in sorted(a.items())) or "no one")
            for v, a in zip(values, answers, strict=True)]
    out().table("Seen by", ["value", "organisations per sector"], rows,
                [{"value": v, "sectors": a} for v, a in zip(values, answers, strict=True)])


commands: list[click.Command] = [retention, object_group, transparency, lookup]
