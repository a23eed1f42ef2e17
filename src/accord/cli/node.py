"""Commands that manage a node: init, serve, status, org, account, key, group, collection, load."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from accord.cli import lists, misp
from accord.cli.common import add_switch_commands, node_options, out, store_for
from accord.config import (
    ADMIN_ACCOUNT,
    DEFAULT_BODY_LIMIT,
    DEFAULT_COLLECTION_ALIAS,
    DEFAULT_PORT,
    DEFAULT_RATE_BURST,
    DEFAULT_RATE_LIMIT,
    DEFAULT_ROOT,
    HttpSettings,
    Settings,
)
from accord.domain.model import OrgKind
from accord.domain.sharing import Role

_KINDS = click.Choice([k.value for k in OrgKind])
_ROLES = click.Choice([r.value for r in Role])


def _show_key(key: str, account: str) -> None:
    out().message(f"[bold]API key for {account}[/bold] (shown once, store it now):\n{key}",
                  {"account": account, "api_key": key})


def _sectors(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


@click.command()
@click.option("--org", "org_name", default="local", show_default=True, help="Your organisation's name.")
@click.option("--kind", type=_KINDS, default=OrgKind.GOVERNMENT_CERT.value, show_default=True)
@click.option("--country", default="ZZ", show_default=True, help="ISO 3166 two-letter code.")
@click.option("--sectors", default="", help="Comma-separated STIX industry sectors.")
@node_options
def init(settings: Settings, org_name: str, kind: str, country: str, sectors: str) -> None:
    """Create a node: host organisation, default API root and collection, admin key.

    On a node that exists already this succeeds, changing nothing, only if the options describe the
    node's organisation as it is; otherwise it fails and says what differs.
    """
    from accord.services import admin

    store = store_for(settings)
    result = admin.init_node(store, org_name, OrgKind(kind), country, _sectors(sectors))
    if result.admin_key:
        _show_key(result.admin_key, ADMIN_ACCOUNT)
        return
    admin.check_host(store, org_name, OrgKind(kind), country, _sectors(sectors))
    out().message(f"a node exists already in {settings.data_dir}, for {org_name}", {"created": False})


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="API worker processes (stateless; use several with PostgreSQL).")
@click.option("--log-level", default="warning", show_default=True)
@click.option("--public-url", envvar="ACCORD_PUBLIC_URL",
              help="The origin clients reach the node at, e.g. https://taxii.example.org; every absolute URL "
                   "the node writes starts with it [default: http(s)://HOST:PORT as bound].")
@click.option("--body-limit", envvar="ACCORD_BODY_LIMIT", type=click.IntRange(min=1), show_default=True,
              default=DEFAULT_BODY_LIMIT, help="Bytes of request body on every route but TAXII Add Objects "
                                             "(which takes its API root's max_content_length).")
@click.option("--rate-limit", envvar="ACCORD_RATE_LIMIT", type=click.FloatRange(min=0), show_default=True,
              default=DEFAULT_RATE_LIMIT, help="Requests a second per API key and per client address, in each "
                                             "worker process; 0: no limit.")
@click.option("--rate-burst", envvar="ACCORD_RATE_BURST", type=click.IntRange(min=1), show_default=True,
              default=DEFAULT_RATE_BURST,
              help="Requests a key or address may make at once before the rate holds it back.")
@click.option("--tls-cert", envvar="ACCORD_TLS_CERT", type=click.Path(exists=True, dir_okay=False),
              help="Serve HTTPS with this PEM certificate (chain); needs --tls-key.")
@click.option("--tls-key", envvar="ACCORD_TLS_KEY", type=click.Path(exists=True, dir_okay=False),
              help="The PEM private key of --tls-cert.")
@click.option("--forwarded-allow-ips", envvar="ACCORD_FORWARDED_ALLOW_IPS",
              help="Reverse proxies (comma-separated addresses or networks, * for any) whose X-Forwarded-For "
                   "names the client; by default the node believes no such header.")
@node_options
def serve(settings: Settings, host: str, port: int, workers: int, log_level: str, public_url: str | None,
          body_limit: int, rate_limit: float, rate_burst: int, tls_cert: str | None, tls_key: str | None,
          forwarded_allow_ips: str | None) -> None:
    """Serve the node's TAXII 2.1 API (the default command)."""
    import uvicorn

    from accord.services import admin, privacy, retention

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    bound = f"{'https' if tls_cert else 'http'}://{f'[{host}]' if ':' in host else host}:{port}"
    try:
        http = HttpSettings((public_url or bound).rstrip("/"), body_limit, rate_limit, rate_burst)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-url") from None
    store = store_for(settings)
    result = admin.init_node(store)
    retention.check_config(store)  # bad rules stop the start: nothing is purged by mistake
    privacy.check_policies(store)
    o = out()
    backend = "PostgreSQL" if settings.database_url else "SQLite"
    url = f"{http.public_url}/taxii2/"
    if o.as_json:  # one line, on every start, for scripts and supervisors
        o.data({"data_dir": str(settings.data_dir), "store": backend, "taxii_discovery": url,
                "api_key": result.admin_key})
    elif result.admin_key:
        _show_key(result.admin_key, ADMIN_ACCOUNT)
    o.err.print(f"Accord node: data in {settings.data_dir} ({backend})")
    o.err.print(f"TAXII 2.1 discovery: {url}  (default API root /taxii2/default/)")
    os.environ["ACCORD_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        os.environ["ACCORD_DATABASE_URL"] = settings.database_url
    os.environ.update(ACCORD_PUBLIC_URL=http.public_url, ACCORD_BODY_LIMIT=str(http.body_limit),
                      ACCORD_RATE_LIMIT=repr(http.rate_limit), ACCORD_RATE_BURST=str(http.rate_burst))
    uvicorn.run("accord.bootstrap:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=False, ssl_certfile=tls_cert, ssl_keyfile=tls_key,
                proxy_headers=forwarded_allow_ips is not None, forwarded_allow_ips=forwarded_allow_ips,
                server_header=False)


@click.command()
@node_options
def status(settings: Settings) -> None:
    """Show the node: store, organisations, accounts, collections and groups."""
    from accord.services import admin

    s = admin.node_status(store_for(settings))
    o = out()
    if o.as_json:
        o.data(s)
        return
    o.console.print(f"store: {s['backend']}   API roots: {', '.join(s['api_roots'])}")
    o.table("Collections", ["id", "alias", "title", "objects"],
            [(c["id"], c["alias"], c["title"], c["objects"]) for c in s["collections"]], s["collections"])
    o.table("Organisations", ["name", "kind", "country", "sectors"],
            [(g["name"], g["kind"], g["country"], ",".join(g["sectors"])) for g in s["organisations"]], None)
    o.table("Accounts", ["name", "organisation", "role"],
            [(a["name"], a["org"], a["role"]) for a in s["accounts"]], None)
    o.table("Sharing groups", ["name", "marking", "members"],
            [(g["name"], g["marking"], g["members"]) for g in s["groups"]], None)


@click.group()
def org() -> None:
    """Partner organisations."""


@org.command("add")
@click.argument("name")
@click.option("--kind", type=_KINDS, required=True)
@click.option("--country", required=True, help="ISO 3166 two-letter code.")
@click.option("--sectors", default="", help="Comma-separated STIX industry sectors (e.g. energy,health-care).")
@node_options
def org_add(settings: Settings, name: str, kind: str, country: str, sectors: str) -> None:
    """Add a partner organisation."""
    from accord.services import admin

    created = admin.add_org(store_for(settings), name, OrgKind(kind), country, _sectors(sectors))
    out().message(f"organisation {name} added ({created.identity_id})",
                  {"name": name, "identity": created.identity_id})


@org.command("list")
@node_options
def org_list(settings: Settings) -> None:
    """List organisations."""
    from accord.services import admin

    orgs = admin.node_status(store_for(settings))["organisations"]
    out().table("Organisations", ["name", "kind", "country", "sectors"],
                [(g["name"], g["kind"], g["country"], ",".join(g["sectors"])) for g in orgs], orgs)


add_switch_commands(org, "organisation", "org", "set_org_enabled",
                    "Disable an organisation: its accounts stop authenticating and it reads nothing; its objects stay.",
                    "Enable a disabled organisation again.")


@org.command("remove")
@click.argument("name")
@node_options
def org_remove(settings: Settings, name: str) -> None:
    """Remove an organisation with its accounts and keys; refused while it owns stored objects."""
    from accord.services import admin

    accounts = admin.remove_org(store_for(settings), name)
    out().message(f"organisation {name} removed" + (f", with accounts {', '.join(accounts)}" if accounts else ""),
                  {"org": name, "removed": True, "accounts": accounts})


@click.group()
def account() -> None:
    """Accounts of organisations (each with API keys and a role)."""


@account.command("add")
@click.argument("name")
@click.option("--org", "org_name", required=True)
@click.option("--role", type=_ROLES, default=Role.READER.value, show_default=True)
@node_options
def account_add(settings: Settings, name: str, org_name: str, role: str) -> None:
    """Add an account and print its first API key."""
    from accord.services import admin

    _, key = admin.add_account(store_for(settings), name, org_name, Role(role))
    _show_key(key, name)


@account.command("list")
@node_options
def account_list(settings: Settings) -> None:
    """List accounts, with their organisation, role and whether they are disabled."""
    from accord.services import admin

    rows = admin.list_accounts(store_for(settings))
    out().table("Accounts", ["name", "organisation", "role", "disabled"],
                [(a["name"], a["org"], a["role"], a["disabled"] or ("organisation" if a["org_disabled"] else ""))
                 for a in rows], rows)


add_switch_commands(account, "account", "account", "set_account_enabled",
                    "Disable an account: its API keys stop authenticating (they are kept for `account enable`).",
                    "Enable a disabled account again.")


@account.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@node_options
def account_password(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set the password NAME signs in to the console with (asked twice, not echoed)."""
    from accord.services import admin

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    ended = admin.set_password(store_for(settings), name, password)
    out().message(f"password of {name} set; {ended} open console session(s) ended",
                  {"account": name, "password_set": True, "sessions_ended": ended})


@account.command("remove")
@click.argument("name")
@node_options
def account_remove(settings: Settings, name: str) -> None:
    """Remove an account and its API keys (what it stored stays, owned by its organisation)."""
    from accord.services import admin

    admin.remove_account(store_for(settings), name)
    out().message(f"account {name} removed", {"account": name, "removed": True})


@click.group()
def key() -> None:
    """API keys: issue, revoke, list."""


@key.command("issue")
@click.argument("account_name")
@click.option("--expires", default=None, metavar="90d|12h|4w|DATE",
              help="The key stops authenticating after this long, or at this date (2027-03-01, UTC).")
@node_options
def key_issue(settings: Settings, account_name: str, expires: str | None) -> None:
    """Issue another API key for an account."""
    from accord.services import admin

    _, new = admin.issue_key(store_for(settings), account_name,
                             None if expires is None else admin.parse_expiry(expires))
    _show_key(new, account_name)


@key.command("revoke")
@click.argument("key_id")
@node_options
def key_revoke(settings: Settings, key_id: str) -> None:
    """Revoke an API key by its id (the part after acc_ and before the next _)."""
    from accord.services import admin

    admin.revoke_key(store_for(settings), key_id)
    out().message(f"key {key_id} revoked", {"revoked": key_id})


@key.command("list")
@node_options
def key_list(settings: Settings) -> None:
    """List API keys (ids only; secrets are never stored), with when they expire."""
    from accord.services import admin

    raw = admin.list_keys(store_for(settings))
    out().table("API keys", ["key id", "account", "created", "revoked", "expires"],
                [(r["key_id"], r["account"], r["created"], r["revoked"],
                  (r["expires"] or "") + (" (expired)" if r["expired"] else "")) for r in raw], raw)


@click.group()
def group() -> None:
    """Sharing groups: named lists of organisations that narrow who reads a marked object."""


@group.command("create")
@click.argument("name")
@click.option("--description", default="")
@node_options
def group_create(settings: Settings, name: str, description: str) -> None:
    """Create a group; objects that reference its marking id are restricted to its members."""
    from accord.services import admin

    marking = admin.create_group(store_for(settings), name, description)
    out().message(f"group {name}: mark objects with {marking}", {"group": name, "marking_id": marking})


@group.command("add")
@click.argument("group_name")
@click.argument("org_name")
@node_options
def group_add(settings: Settings, group_name: str, org_name: str) -> None:
    """Add an organisation to a group."""
    from accord.services import admin

    admin.set_group_member(store_for(settings), group_name, org_name, True)
    out().message(f"{org_name} is in {group_name}", {"group": group_name, "org": org_name, "member": True})


@group.command("remove")
@click.argument("group_name")
@click.argument("org_name")
@node_options
def group_remove(settings: Settings, group_name: str, org_name: str) -> None:
    """Remove an organisation from a group."""
    from accord.services import admin

    admin.set_group_member(store_for(settings), group_name, org_name, False)
    out().message(f"{org_name} left {group_name}", {"group": group_name, "org": org_name, "member": False})


@group.command("list")
@node_options
def group_list(settings: Settings) -> None:
    """List sharing groups with their marking ids and member counts."""
    from accord.services import admin

    groups = admin.node_status(store_for(settings))["groups"]
    out().table("Sharing groups", ["name", "marking", "members"],
                [(g["name"], g["marking"], g["members"]) for g in groups], groups)


@group.command("show")
@click.argument("group_name")
@node_options
def group_show(settings: Settings, group_name: str) -> None:
    """Show a group's marking id and its member organisations."""
    from accord.services import admin

    g = admin.group_members(store_for(settings), group_name)
    out().table(f"{g['name']} (mark objects with {g['marking']})", ["member"], [(m,) for m in g["members"]], g)


@click.group()
def collection() -> None:
    """TAXII collections and which organisations may read or write them."""


@collection.command("create")
@click.argument("title")
@click.option("--alias", default=None,
              help="A short name for URLs: 1-64 of a-z, 0-9, '-', '_', starting with a letter or digit.")
@click.option("--description", default="")
@click.option("--api-root", default=DEFAULT_ROOT, show_default=True)
@node_options
def collection_create(settings: Settings, title: str, alias: str | None, description: str, api_root: str) -> None:
    """Create a collection (your own organisation may read and write it)."""
    from accord.services import admin

    cid = admin.create_collection(store_for(settings), title, alias, description, api_root)
    out().message(f"collection {title}: {cid}", {"id": cid, "title": title, "alias": alias})


@collection.command("grant")
@click.argument("collection_name")
@click.argument("org_name")
@click.option("--read/--no-read", default=True, show_default=True)
@click.option("--write/--no-write", default=False, show_default=True)
@node_options
def collection_grant(settings: Settings, collection_name: str, org_name: str, read: bool, write: bool) -> None:
    """Set an organisation's access to a collection (id or alias)."""
    from accord.services import admin

    admin.grant(store_for(settings), collection_name, org_name, read, write)
    out().message(f"{org_name} on {collection_name}: read={read} write={write}",
                  {"collection": collection_name, "org": org_name, "read": read, "write": write})


@collection.command("list")
@node_options
def collection_list(settings: Settings) -> None:
    """List collections with their object counts."""
    from accord.services import admin

    cols = admin.node_status(store_for(settings))["collections"]
    out().table("Collections", ["id", "alias", "title", "objects"],
                [(c["id"], c["alias"], c["title"], c["objects"]) for c in cols], cols)


@collection.command("show")
@click.argument("collection_name")
@node_options
def collection_show(settings: Settings, collection_name: str) -> None:
    """Show a collection (id or alias) and which organisations may read or write it."""
    from accord.services import admin

    c = admin.collection_show(store_for(settings), collection_name)
    out().table(f"{c['title']} ({c['id']}, alias {c['alias'] or '-'}, API root {c['api_root']}, "
                f"{c['objects']} objects)", ["organisation", "read", "write", "disabled"],
                [(g["org"], g["read"], g["write"], "yes" if g["org_disabled"] else "") for g in c["grants"]], c)


@click.command()
@click.argument("bundle", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collection", "collection_name", default=DEFAULT_COLLECTION_ALIAS, show_default=True)
@click.option("--as", "--account", "account_name", default=ADMIN_ACCOUNT, show_default=True,
              help="The account (and so organisation) the objects are stored for.")
@lists.list_options
@misp.misp_options
@node_options
def load(settings: Settings, bundle: Path | None, collection_name: str, account_name: str, **list_opts: Any) -> None:
    """Load a STIX 2.1 bundle file, an IOC list (.csv, .txt; docs/lists.md), a MISP event file or a
    MISP feed (--misp-feed; docs/interop.md) into a collection.

    Exits 1 when any object was refused or any list line was bad, after listing each one (file, object
    id or line, reason).
    """
    misp_opts = misp.take_options(list_opts)
    if misp.wants_misp(bundle, misp_opts):
        lists.refuse_list_options(bundle or Path(misp_opts["misp_feed"]), list_opts)
        misp.load_misp(settings, bundle, collection_name, account_name, **misp_opts)
        return
    if bundle is None:
        raise click.UsageError("give a file to load, or --misp-feed DIR_OR_URL")
    misp.refuse_misp_options(bundle, misp_opts)
    if lists.is_list(bundle):
        lists.load_list(settings, bundle, collection_name, account_name, **list_opts)
        return
    lists.refuse_list_options(bundle, list_opts)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from accord.services import admin

    store = store_for(settings)
    objects = admin.read_bundle(bundle.read_bytes(), str(bundle))
    principal = admin.principal_for(store, account_name)
    o = out()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=o.err, disable=o.as_json) as progress:
        task = progress.add_task(f"loading {bundle.name}", total=len(objects))
        stored, failures = admin.load_bundle(store, principal, collection_name, objects,
                                             progress=lambda n: progress.advance(task, n))
    raw = {"file": str(bundle), "objects": len(objects), "stored": stored, "failed": len(failures),
           "failures": [{"file": str(bundle), **f} for f in failures]}
    o.message(f"{bundle.name}: {stored} of {len(objects)} stored, {len(failures)} refused", raw)
    if not failures:
        return
    if not o.as_json:
        for failure in failures:
            o.err.print(f"{bundle}: {failure['id'] or '(no id)'}: {failure['message']}", highlight=False, markup=False,
                        soft_wrap=True)
    raise SystemExit(1)


commands: list[click.Command] = [init, serve, status, org, account, key, group, collection, load]
