"""``accord notice``: notices to small organisations about their assets (docs/notices.md)."""

from __future__ import annotations

from typing import Any

import click

from accord.cli.common import node_options, out, store_for
from accord.cli.coordination import acting
from accord.config import Settings


def _principal(settings: Settings, account: str) -> Any:
    from accord.services import admin

    return admin.principal_for(store_for(settings), account)


@click.group()
def notice() -> None:
    """Tell registered organisations, in their language, what partners' data says about their assets."""


@notice.command("configure")
@click.option("--public-url", help="Where acknowledgement links point (this node's public URL).")
@click.option("--smtp-host", help="The mail relay (SMTP with STARTTLS, required).")
@click.option("--smtp-port", help="Its port (default 587).")
@click.option("--smtp-from", help="The notices' From address.")
@click.option("--smtp-cafile", help="CA certificate(s) for the relay, if not the system's.")
@click.option("--node-name", help="The name notices sign with (default: the host organisation).")
@acting
@node_options
def notice_configure(settings: Settings, account: str, **values: str | None) -> None:
    """Set how notices are sent (each change audited)."""
    from accord.services import notices

    chosen = {k: v for k, v in values.items() if v is not None}
    now = notices.configure(store_for(settings), _principal(settings, account), chosen)
    out().table("Notice settings", ["setting", "value"], sorted(now.items()), now)


@notice.command("run")
@node_options
def notice_run(settings: Settings) -> None:
    """Scan what arrived, write digests, deliver what is due (the node's periodic loop does the same)."""
    from accord.services import notices

    done = notices.run(store_for(settings))
    out().message(f"{done['items']} item(s) found, {done['notices']} notice(s) written; sent {done['sent']}, "
                  f"retrying {done['retrying']}, failed {done['failed']}", done)


@notice.command("list")
@click.option("--unacknowledged", is_flag=True, help="Only notices nobody acknowledged yet.")
@acting
@node_options
def notice_list(settings: Settings, unacknowledged: bool, account: str) -> None:
    """Notices of the organisations your organisation covers."""
    from accord.services import notices

    found = notices.for_partner(store_for(settings), _principal(settings, account), unacknowledged)
    out().table("Notices", ["id", "organisation", "created", "items", "acknowledged", "messages"],
                [(n["id"], n["org"], n["created"], "; ".join(f"{i['reason']} {i['value']} x{i['count']}"
                                                             for i in n["items"]),
                  n["acknowledged"] or "no", ", ".join(f"{m['channel']} {m['state']}" for m in n["messages"]))
                 for n in found], found)


commands = [notice]
