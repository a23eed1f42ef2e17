"""The asset registry's tables (``asset_orgs``, ``assets``, migration 0014); accord.services.assets
owns the rules (parsing, disputes, who may register) and the audit records."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, delete, select

from accord.store.tables import asset_orgs, assets, organisations


class AssetRow(NamedTuple):
    org: str
    kind: str
    value: str
    disputed: bool
    added_at: int


class AssetOrg(NamedTuple):
    org_id: int
    org: str
    language: str
    covered_by: int
    registered_at: int


class AssetsMixin:
    conn: Connection

    def asset_org(self, org_id: int) -> AssetOrg | None:
        c = asset_orgs.c
        row = self.conn.execute(select(c.org_id, organisations.c.name, c.language, c.covered_by, c.registered_at)
                                .join(organisations, organisations.c.id == c.org_id)
                                .where(c.org_id == org_id)).first()
        return None if row is None else AssetOrg(*row)

    def asset_orgs(self) -> list[AssetOrg]:
        c = asset_orgs.c
        rows = self.conn.execute(select(c.org_id, organisations.c.name, c.language, c.covered_by, c.registered_at)
                                 .join(organisations, organisations.c.id == c.org_id).order_by(organisations.c.name))
        return [AssetOrg(*r) for r in rows]

    def save_asset_org(self, org_id: int, language: str, covered_by: int, now: int) -> None:
        if self.asset_org(org_id) is None:
            self.conn.execute(asset_orgs.insert().values(org_id=org_id, language=language, covered_by=covered_by,
                                                         registered_at=now))
        else:
            self.conn.execute(asset_orgs.update().where(asset_orgs.c.org_id == org_id)
                              .values(language=language, covered_by=covered_by))

    def list_assets(self, org_id: int | None = None) -> list[AssetRow]:
        c = assets.c
        stmt = (select(organisations.c.name, c.kind, c.value, c.disputed, c.added_at)
                .join(organisations, organisations.c.id == c.org_id).order_by(organisations.c.name, c.kind, c.value))
        if org_id is not None:
            stmt = stmt.where(c.org_id == org_id)
        return [AssetRow(r[0], r[1], r[2], bool(r[3]), r[4]) for r in self.conn.execute(stmt)]

    def add_asset(self, org_id: int, kind: str, value: str, disputed: bool, now: int) -> None:
        self.conn.execute(assets.insert().values(org_id=org_id, kind=kind, value=value, disputed=disputed,
                                                 added_at=now))

    def remove_asset(self, org_id: int, kind: str, value: str) -> int:
        c = assets.c
        return int(self.conn.execute(delete(assets).where(c.org_id == org_id, c.kind == kind, c.value == value))
                   .rowcount)
