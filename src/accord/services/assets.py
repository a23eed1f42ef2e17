"""The asset registry's use cases: register, remove, list, disputes (docs/notices.md).

An administrator registers assets for an organisation (a small business or nonprofit that has no
account of its own), or the organisation's own accounts do. Every value is parsed first, so a
registration is all or nothing; a range overlapping another organisation's, or a domain equal to or
inside another's, is refused, or recorded as disputed when the registrar says so (``disputed``), and
then shown by :func:`disputes` and notified to nobody. Each change is audited (``asset.add``,
``asset.remove``) without the contacts' addresses, which are personal data.

Each registered organisation has a language (its notices') and the partner that covers it: the one
that sees its unacknowledged notices. Unless given, that is the partner whose constituency
declaration holds the organisation's first range or domain (``accord whois-partner``, as the
registrar reads the declarations), else this node's host organisation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from accord.domain import assets as dom
from accord.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.model import Principal
from accord.domain.sharing import Role
from accord.stix.timestamps import now_micros
from accord.store.assets import AssetOrg
from accord.store.repository import Store, Tx


@dataclass(frozen=True, slots=True)
class Registered:
    """One organisation's registration: its language, who covers it, what it owns."""

    org: str
    language: str
    covered_by: str
    assets: tuple[dom.Asset, ...]

    def as_dict(self) -> dict[str, object]:
        return {"org": self.org, "language": self.language, "covered_by": self.covered_by,
                "assets": [{"kind": a.kind, "value": a.value, "disputed": a.disputed} for a in self.assets]}


def _may_register(principal: Principal, org_id: int) -> None:
    if principal.role is Role.ADMINISTRATOR or (principal.org_id == org_id and principal.role.can_write):
        return
    raise NotAllowed(f"{principal.account_name} may not change another organisation's assets")


def parse_values(values: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(kind, normalised value) of every value, or InvalidInput naming the first bad one."""
    out: list[tuple[str, str]] = []
    for kind, texts in values.items():
        for text in texts:
            try:
                parsed = (kind, dom.parse_asset(kind, text))
            except InvalidInput as exc:
                raise InvalidInput(f"{kind} {text!r}: {exc.message}") from None
            if parsed not in out:
                out.append(parsed)
    return out


def _covering(store: Store, principal: Principal, parsed: list[tuple[str, str]]) -> str | None:
    """The name of the partner whose constituency holds the first range or domain, if one does."""
    from accord.coordination import constituencies
    from accord.coordination.workspace import Workspace

    first = next(((k, v) for k, v in parsed if k in (dom.NETWORK, dom.DOMAIN)), None)
    if first is None:
        return None
    query = first[1].split("/")[0] if first[0] == dom.NETWORK else first[1]
    try:
        ws = Workspace(store, principal)
        owner = constituencies.whois(ws, query).owner
    except NotFound:  # the registrar cannot read the declarations: the host covers it
        return None
    found = ws.by_identity.get(owner) if owner else None
    return found.name if found else None


def _host_id(tx: Tx) -> int:
    host = tx.get_setting("host_org")
    if host is None:
        raise NotFound("this node has no host organisation (accord init)")
    return int(host)


def add(store: Store, principal: Principal, org_name: str, values: Mapping[str, Sequence[str]],
        language: str | None = None, covered_by: str | None = None, disputed: bool = False) -> Registered:
    """Register assets (and/or set the language or covering partner) for ``org_name``."""
    parsed = parse_values(values)
    lang = dom.parse_language(language) if language else None
    with store.read() as tx:
        org = tx.get_org(org_name)
        known = tx.asset_org(org.id)
    _may_register(principal, org.id)
    cover = covered_by or (None if known else _covering(store, principal, parsed))
    now = now_micros()
    with store.write() as tx:
        cover_id = tx.get_org(cover).id if cover else (known.covered_by if known else _host_id(tx))
        existing = [dom.Asset(r.org, r.kind, r.value, r.disputed) for r in tx.list_assets()]
        added = []
        for kind, value in parsed:
            new = dom.Asset(org.name, kind, value, disputed)
            if any((a.org, a.kind, a.value) == (org.name, kind, value) for a in existing):
                continue  # registered already: nothing to change
            conflicts = dom.disputes_with(new, existing)
            if conflicts and not disputed:
                other = conflicts[0].first
                raise Conflict(f"{kind} {value} overlaps {other.value}, registered by {other.org}: refused "
                               f"(both claims would be kept as a dispute with --disputed; nothing is merged)")
            tx.add_asset(org.id, kind, value, bool(conflicts), now)
            existing.append(new)
            added.append([kind, "(contact)" if kind == dom.CONTACT else value, bool(conflicts)])
        tx.save_asset_org(org.id, lang or (known.language if known else "en"), cover_id, now)
        tx.audit(principal.account_id, principal.org_id, "asset.add",
                 {"org": org.name, "added": added, "language": lang, "covered_by": cover})
    return show(store, org.name)


def remove(store: Store, principal: Principal, org_name: str, values: Mapping[str, Sequence[str]]) -> Registered:
    parsed = parse_values(values)
    if not parsed:
        raise InvalidInput("name the assets to remove")
    with store.write() as tx:
        org = tx.get_org(org_name)
        _may_register(principal, org.id)
        for kind, value in parsed:
            if tx.remove_asset(org.id, kind, value) == 0:
                raise NotFound(f"{org.name} has no {kind} {value}")
        tx.audit(principal.account_id, principal.org_id, "asset.remove",
                 {"org": org.name, "removed": [[k, "(contact)" if k == dom.CONTACT else v] for k, v in parsed]})
    return show(store, org_name)


def _registered(tx: Tx, row: AssetOrg) -> Registered:
    found = tuple(dom.Asset(r.org, r.kind, r.value, r.disputed) for r in tx.list_assets(row.org_id))
    return Registered(row.org, row.language, tx.get_org(row.covered_by).name, found)


def show(store: Store, org_name: str) -> Registered:
    with store.read() as tx:
        row = tx.asset_org(tx.get_org(org_name).id)
        if row is None:
            raise NotFound(f"{org_name} has registered no assets")
        return _registered(tx, row)


def list_all(store: Store) -> list[Registered]:
    with store.read() as tx:
        return [_registered(tx, row) for row in tx.asset_orgs()]


def registry(store: Store) -> dom.Registry:
    """Every asset, oldest claim first (so a dispute names the earlier claim first)."""
    with store.read() as tx:
        rows = sorted(tx.list_assets(), key=lambda r: r.added_at)
    return dom.Registry([dom.Asset(r.org, r.kind, r.value, r.disputed) for r in rows])


def disputes(store: Store) -> list[dom.Dispute]:
    return registry(store).disputes()


def visible_to(store: Store, principal: Principal) -> list[Registered]:
    """The registrations the console shows the principal: every one to an administrator; else its
    own organisation's and those of the organisations it covers (the partner that phones them)."""
    with store.read() as tx:
        me = tx.get_org(principal.org_id).name
        rows = list(tx.asset_orgs())
        shown = [_registered(tx, r) for r in rows]
    if principal.role is Role.ADMINISTRATOR:
        return shown
    return [r for r in shown if me in (r.org, r.covered_by)]


def disputes_for(store: Store, principal: Principal) -> list[dom.Dispute]:
    """The disputes that involve a registration the principal sees (:func:`visible_to`)."""
    orgs = {r.org for r in visible_to(store, principal)}
    return [d for d in disputes(store) if d.first.org in orgs or d.second.org in orgs]
