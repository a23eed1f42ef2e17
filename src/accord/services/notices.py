"""Notices to small organisations: scan what partners shared, group into digests, acknowledge.

:func:`scan` reads what arrived since its cursor (sightings and indicators, in every collection) and
the published advisories, and turns each that names a registered asset into an item, through
:func:`accord.domain.sharing.may_notify` with the *covering partner* as the reader: a notice says
only what that partner could have told its constituent itself. :func:`digest` groups each
organisation's new items into one notice in its language and writes one outbox message per contact
and webhook in the same transaction (accord.services.outbox delivers them). :func:`run` is both and
the delivery, what ``accord notice run`` and the node's periodic loop call.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from accord.domain import assets as adom
from accord.domain import notices as dom
from accord.domain.errors import InvalidInput, NotFound
from accord.domain.model import Principal
from accord.domain.sharing import Reader, may_notify
from accord.services import advisories, assets
from accord.stix.timestamps import micros_to_timestamp, now_micros
from accord.store.notices import NoticeRow
from accord.store.objects import ObjectFilter, StoredVersion
from accord.store.repository import Store, Tx

SETTINGS = {"public_url": "http://127.0.0.1:8660", "smtp_host": "", "smtp_port": "587", "smtp_from": "",
            "smtp_cafile": "", "node_name": ""}
_CURSOR, _SECRET = "notices.cursor", "notices.secret"
_BATCH, _MAX_PER_RUN = 1000, 100_000
_ADDRESSES = ("ipv4-addr", "ipv6-addr")


def setting(store: Store, name: str) -> str:
    with store.read() as tx:
        return tx.get_setting(f"notices.{name}") or SETTINGS[name]


def configure(store: Store, principal: Principal, values: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise InvalidInput(f"unknown notice setting {unknown[0]!r} ({', '.join(SETTINGS)})")
    if "smtp_port" in values and not values["smtp_port"].isdigit():
        raise InvalidInput(f"smtp_port must be a number, not {values['smtp_port']!r}")
    with store.write() as tx:
        for name, value in values.items():
            tx.set_setting(f"notices.{name}", value)
        tx.audit(principal.account_id, principal.org_id, "notice.configure", values)
        return {k: tx.get_setting(f"notices.{k}") or v for k, v in SETTINGS.items()}


def secret(store: Store) -> bytes:
    """The key of the acknowledgement links, made on first use and kept in the node's settings."""
    with store.read() as tx:
        found = tx.get_setting(_SECRET)
    if found is None:
        with store.write() as tx:
            found = tx.get_setting(_SECRET) or secrets.token_hex(32)
            tx.set_setting(_SECRET, found)
    return bytes.fromhex(found)


# --- scanning -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Audience:
    """A registered organisation and the reader its notices are decided for (its covering partner)."""

    org_id: int
    reader: Reader
    collections: frozenset[int]


def _audiences(tx: Tx) -> dict[str, _Audience]:
    out = {}
    for row in tx.asset_orgs():
        access = tx.access_of(row.covered_by)
        readable = frozenset(c for c, a in access.items() if a.can_read or a.can_write)
        out[row.org] = _Audience(row.org_id, Reader(row.covered_by, tx.groups_of(row.covered_by)), readable)
    return out


def _versions(tx: Tx, collection_id: int, ids: list[str]) -> Iterator[StoredVersion]:
    for start in range(0, len(ids), 500):
        yield from tx.scan(collection_id, ObjectFilter(ids=tuple(ids[start:start + 500])), None, _BATCH)


def _touches(tx: Tx, collection_id: int, row: StoredVersion,
             registry: adom.Registry) -> Iterator[tuple[dom.Touch, list[StoredVersion]]]:
    """What one sighting or indicator version says about registered assets, with every version the
    notice would rest on (the policy must let each out)."""
    obj = orjson.loads(row.body)
    if row.type == "indicator":
        for value in dom.pattern_values(str(obj.get("pattern", ""))):
            for org in registry.owners(value):
                yield dom.Touch(org, dom.INDICATOR, value, row.id), [row]
        return
    refs = [r for r in obj.get("observed_data_refs", []) if isinstance(r, str)]
    observed = list(_versions(tx, collection_id, refs)) if refs else []
    sco_ids = [r for o in observed for r in orjson.loads(o.body).get("object_refs", []) if isinstance(r, str)
               and r.split("--")[0] in _ADDRESSES]
    for sco in (_versions(tx, collection_id, sco_ids) if sco_ids else ()):
        value = str(orjson.loads(sco.body).get("value", ""))
        for org in registry.owners(value):
            holding = [o for o in observed if sco.id in orjson.loads(o.body).get("object_refs", [])]
            yield dom.Touch(org, dom.SIGHTING, value, row.id), [row, sco, *holding]


def _record(tx: Tx, touch: dom.Touch, audience: _Audience, at: int) -> bool:
    item = tx.open_item(audience.org_id, touch.reason, touch.value)
    if item is None:
        tx.add_item(audience.org_id, touch.reason, touch.value, touch.subject, at)
        return True
    if touch.subject in item.subjects:
        return False  # the same sighting, indicator or advisory again (a new version): said already
    tx.count_item(item, touch.subject, at)
    return True


def scan(store: Store, now: int | None = None) -> int:
    """Items written or counted from what arrived since the last scan, and from the advisories."""
    at = now or now_micros()
    registry = assets.registry(store)
    published = advisories.published(store)
    changed = 0
    with store.write() as tx:
        audiences = _audiences(tx)
        cursor = int(tx.get_setting(_CURSOR) or 0)
        newest = cursor
        flt = ObjectFilter(types=("sighting", "indicator"))
        for collection in tx.list_collections(None):
            after, seen = cursor, 0
            while seen < _MAX_PER_RUN:
                rows = tx.scan(collection.id, flt, after, _BATCH)
                for row in rows:
                    for touch, basis in _touches(tx, collection.id, row, registry):
                        audience = audiences.get(touch.org)
                        if (audience is not None and collection.id in audience.collections
                                and all(may_notify(audience.reader, v.visibility) for v in basis)):
                            changed += _record(tx, touch, audience, at)
                seen += len(rows)
                if rows:
                    after = rows[-1].date_added
                    newest = max(newest, after)
                if len(rows) < _BATCH:
                    break
        for advisory in published:  # TLP:CLEAR by construction (may_publish)
            for software in advisory.content.software:
                for org in registry.running(software):
                    audience = audiences.get(org)
                    if audience is not None:
                        changed += _record(tx, dom.Touch(org, dom.ADVISORY, software, advisory.id), audience, at)
        tx.set_setting(_CURSOR, str(newest))
    return changed


# --- digests --------------------------------------------------------------------------------------

def digest(store: Store, now: int | None = None) -> list[str]:
    """One notice per organisation with new items, its messages queued with it. Returns the ids."""
    at = now or now_micros()
    key = secret(store)
    base = setting(store, "public_url")
    made = []
    with store.write() as tx:
        node = tx.get_setting("notices.node_name") or tx.get_org(int(tx.get_setting("host_org") or 0)).name
        pending: dict[int, list[Any]] = {}
        for item in tx.undigested_items():
            pending.setdefault(item.org_id, []).append(item)
        for org_id, items in pending.items():
            registered = tx.asset_org(org_id)
            if registered is None:
                continue
            notice_id = f"notice--{uuid.uuid4()}"
            shown = [dom.Item(i.reason, i.value, i.times, micros_to_timestamp(i.first_seen),
                              micros_to_timestamp(i.last_seen)) for i in items]
            link = f"{base}/public/notices/{notice_id}?t={dom.sign(key, notice_id)}"
            subject, body = dom.render(registered.org, node, registered.language, shown, link,
                                       f"{base}/public/advisories")
            tx.add_notice(NoticeRow(notice_id, org_id, at, registered.language, subject, body, None),
                          [i.id for i in items])
            channels = [(a.kind, a.value) for a in tx.list_assets(org_id) if a.kind in (adom.CONTACT, adom.WEBHOOK)]
            for kind, target in channels:
                tx.enqueue(notice_id, "email" if kind == adom.CONTACT else "webhook", target, at)
            tx.audit(None, None, "notice.created", {"notice": notice_id, "org": registered.org,
                                                    "items": len(items), "messages": len(channels)})
            made.append(notice_id)
    return made


def acknowledge(store: Store, notice_id: str, token: str) -> NoticeRow:
    """Record that the organisation received the notice (the link's token proves it had it)."""
    if not dom.valid(secret(store), notice_id, token):
        raise NotFound("no such notice, or the link is incomplete")
    with store.write() as tx:
        if tx.notice(notice_id) is None:
            raise NotFound("no such notice, or the link is incomplete")
        if tx.acknowledge_notice(notice_id, now_micros()):
            tx.audit(None, None, "notice.acknowledged", {"notice": notice_id})
        found = tx.notice(notice_id)
    assert found is not None
    return found


def check_link(store: Store, notice_id: str, token: str) -> NoticeRow:
    """The notice a link names, if its token is right (the confirm page shows its subject alone)."""
    if not dom.valid(secret(store), notice_id, token):
        raise NotFound("no such notice, or the link is incomplete")
    with store.read() as tx:
        found = tx.notice(notice_id)
    if found is None:
        raise NotFound("no such notice, or the link is incomplete")
    return found


def _covered(tx: Tx, principal: Principal) -> dict[int, str]:
    return {r.org_id: r.org for r in tx.asset_orgs() if r.covered_by == principal.org_id}


def unacknowledged_count(store: Store, principal: Principal) -> int:
    """How many notices to the organisations the principal's organisation covers nobody acknowledged."""
    with store.read() as tx:
        return len(tx.list_notices(list(_covered(tx, principal)), unacknowledged=True))


def for_partner(store: Store, principal: Principal, unacknowledged: bool = False) -> list[dict[str, Any]]:
    """The notices of the organisations the principal's organisation covers."""
    with store.read() as tx:
        covered = _covered(tx, principal)
        out = []
        for n in tx.list_notices(list(covered), unacknowledged):
            items = tx.items_of(n.id)
            messages = tx.outbox(n.id)
            out.append({"id": n.id, "org": covered[n.org_id], "created": micros_to_timestamp(n.created),
                        "language": n.language, "subject": n.subject,
                        "acknowledged": micros_to_timestamp(n.acknowledged_at) if n.acknowledged_at else None,
                        "items": [{"reason": i.reason, "value": i.value, "count": i.times} for i in items],
                        "messages": [{"channel": m.channel, "state": m.state, "attempts": m.attempts}
                                     for m in messages]})
    return out


def run(store: Store, now: int | None = None) -> dict[str, int]:
    """One round: scan, digest, deliver what is due (``accord notice run``, the node's periodic loop)."""
    from accord.services import outbox

    changed = scan(store, now)
    made = digest(store, now)
    done = outbox.deliver(store, now)
    return {"items": changed, "notices": len(made), "sent": done.sent, "retrying": done.retrying,
            "failed": done.failed}


def _every() -> float:
    import os

    return float(os.environ.get("ACCORD_NOTICE_SECONDS", "60"))


async def run_notices(store: Store, every: float | None = None, clock: Callable[[], int] = now_micros) -> None:
    """:func:`run` inside ``accord serve`` every ``ACCORD_NOTICE_SECONDS`` (60): several workers may
    run at once (the scan's cursor moves under the write lock, deliveries are leased)."""
    import logging

    from accord.services.periodic import run_periodically

    await run_periodically("notices", run, store, every or _every(), clock, logging.getLogger("accord.notices"))
