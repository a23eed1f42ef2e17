"""Organisations, accounts, API keys, sharing groups, API roots, collections and their access."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, ScalarSelect, Table, bindparam, delete, func, select, update

from accord.domain.errors import Conflict, NotFound
from accord.domain.model import ApiRoot, Collection, Organisation, OrgKind, SharingGroup
from accord.domain.sharing import CollectionAccess, Role
from accord.stix.timestamps import now_micros
from accord.store import fast
from accord.store.tables import (
    account_passwords,
    accounts,
    advisories,
    api_keys,
    api_roots,
    collection_access,
    collections,
    group_members,
    objects,
    organisations,
    peers,
    settings,
    sharing_groups,
    statuses,
    subscriptions,
    ui_sessions,
    upload_jobs,
    upload_pieces,
)

# Statements every request runs (authentication, API root, collection and its access, groups) are
# built once: SQLAlchemy derives a cache key for each new statement object, which cost about five
# times as much as running the query on SQLite.
_FIND_KEY = (select(api_keys.c.secret_sha256, accounts.c.id, accounts.c.name, accounts.c.org_id, accounts.c.role,
                    api_keys.c.expires, accounts.c.disabled, organisations.c.disabled)
             .join(accounts, accounts.c.id == api_keys.c.account_id)
             .join(organisations, organisations.c.id == accounts.c.org_id)
             .where(api_keys.c.key_id == bindparam("key_id"), api_keys.c.revoked.is_(None)))
_GROUPS_OF = select(group_members.c.group_id).where(group_members.c.org_id == bindparam("org_id"))
_ALL_MEMBERS = select(group_members.c.group_id, group_members.c.org_id)
_ALL_GROUPS = select(sharing_groups.c.id, sharing_groups.c.name, sharing_groups.c.marking_id).order_by(
    sharing_groups.c.id)
_API_ROOTS = select(api_roots.c.id, api_roots.c.name, api_roots.c.title, api_roots.c.description,
                    api_roots.c.max_content_length).order_by(api_roots.c.id)
_COLLECTIONS = select(collections.c.id, collections.c.uuid, collections.c.api_root_id, collections.c.title,
                      collections.c.description, collections.c.alias).order_by(collections.c.id)
_COLLECTIONS_OF_ROOT = _COLLECTIONS.where(collections.c.api_root_id == bindparam("api_root_id"))
# A disabled organisation reads and writes nothing: not by its keys (refused in services.auth), not
# through the push and signed pull to its peer node (federation.outbound), not by early warnings.
_ACCESS_OF = (select(collection_access.c.collection_id, collection_access.c.can_read, collection_access.c.can_write)
              .join(organisations, organisations.c.id == collection_access.c.org_id)
              .where(collection_access.c.org_id == bindparam("org_id"), organisations.c.disabled.is_(None)))

_ORG_COLS = (organisations.c.id, organisations.c.name, organisations.c.kind, organisations.c.country,
             organisations.c.sectors, organisations.c.identity_id)


class ActiveKey(NamedTuple):
    """An unrevoked key; services.auth decides whether it still authenticates."""

    secret_sha256: str
    account_id: int
    account_name: str
    org_id: int
    role: Role
    expires: int | None
    account_disabled: int | None
    org_disabled: int | None


class AccountRow(NamedTuple):
    id: int
    name: str
    org: str
    role: str
    disabled: int | None
    org_disabled: int | None


class KeyRow(NamedTuple):
    key_id: str
    account: str
    created: int
    revoked: int | None
    expires: int | None


class Grant(NamedTuple):
    org: str
    can_read: bool
    can_write: bool
    org_disabled: int | None


def _org(row: Sequence[Any]) -> Organisation:
    return Organisation(row[0], row[1], OrgKind(row[2]), row[3],
                        tuple(s for s in row[4].split(",") if s), row[5])


class AdminMixin:
    conn: Connection

    # settings ------------------------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        value = self.conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        if self.get_setting(key) is None:
            self.conn.execute(settings.insert().values(key=key, value=value))
        else:
            self.conn.execute(update(settings).where(settings.c.key == key).values(value=value))

    # organisations -------------------------------------------------------------------------
    def add_org(self, name: str, kind: OrgKind, country: str, sectors: tuple[str, ...],
                identity_id: str) -> Organisation:
        if self.conn.execute(select(organisations.c.id).where(organisations.c.name == name)).first():
            raise Conflict(f"an organisation named {name!r} exists already")
        new_id = self._next_id(organisations, "last_org_id")
        self.conn.execute(organisations.insert().values(
            id=new_id, name=name, kind=kind.value, country=country, sectors=",".join(sectors),
            identity_id=identity_id, created=now_micros()))
        return Organisation(new_id, name, kind, country, sectors, identity_id)

    def _next_id(self, table: Table, setting: str) -> int:
        """Ids of organisations and accounts are never reused, even after a removal: the audit log,
        status resources and stored objects name them by id, and SQLite would otherwise hand the
        highest id out again once its row is deleted."""
        highest = max(int(self.conn.execute(select(func.max(table.c.id))).scalar() or 0),
                      int(self.get_setting(setting) or 0))
        self.set_setting(setting, str(highest + 1))
        return highest + 1

    def get_org(self, name_or_id: str | int) -> Organisation:
        c = organisations.c
        if isinstance(name_or_id, str) and "\x00" in name_or_id:
            # No name holds a NUL (PostgreSQL's text cannot), so none matches, on either backend.
            raise NotFound(f"no organisation {name_or_id!r}")
        cond = c.id == name_or_id if isinstance(name_or_id, int) else c.name == name_or_id
        row = self.conn.execute(select(*_ORG_COLS).where(cond)).first()
        if row is None:
            raise NotFound(f"no organisation {name_or_id!r}")
        return _org(row)

    def list_orgs(self) -> list[Organisation]:
        stmt = select(*_ORG_COLS).order_by(organisations.c.id)
        return [_org(r) for r in self.conn.execute(stmt)]

    def disabled_orgs(self) -> dict[int, int]:
        """When each disabled organisation was disabled, by organisation id."""
        stmt = select(organisations.c.id, organisations.c.disabled).where(organisations.c.disabled.is_not(None))
        return {r[0]: r[1] for r in self.conn.execute(stmt)}

    def set_org_disabled(self, org_id: int, when: int | None) -> None:
        self.conn.execute(update(organisations).where(organisations.c.id == org_id).values(disabled=when))

    def objects_owned(self, org_id: int) -> int:
        """How many stored object versions the organisation owns."""
        stmt = select(func.count()).select_from(objects).where(objects.c.owner_org == org_id)
        return int(self.conn.execute(stmt).scalar() or 0)

    def remove_org(self, org_id: int) -> list[str]:
        """Delete an organisation that owns nothing, with its accounts, keys, grants, group
        memberships, subscriptions and status resources; returns the names of the accounts removed."""
        removed = list(self.conn.execute(select(accounts.c.name).where(accounts.c.org_id == org_id)
                                         .order_by(accounts.c.id)).scalars())
        account_ids = select(accounts.c.id).where(accounts.c.org_id == org_id).scalar_subquery()
        self._drop_owned(account_ids)
        for owned in (api_keys, ui_sessions, account_passwords):
            self.conn.execute(delete(owned).where(owned.c.account_id.in_(account_ids)))
        for table in (accounts, collection_access, group_members, subscriptions, statuses):
            self.conn.execute(delete(table).where(table.c.org_id == org_id))
        self.conn.execute(delete(organisations).where(organisations.c.id == org_id))
        return removed

    def remove_peer_row(self, peer_id: int) -> None:
        self.conn.execute(delete(peers).where(peers.c.id == peer_id))

    # accounts and keys ---------------------------------------------------------------------
    def add_account(self, org_id: int, name: str, role: Role) -> int:
        if self.conn.execute(select(accounts.c.id).where(accounts.c.name == name)).first():
            raise Conflict(f"an account named {name!r} exists already")
        new_id = self._next_id(accounts, "last_account_id")
        self.conn.execute(accounts.insert().values(id=new_id, org_id=org_id, name=name, role=role.value,
                                                   created=now_micros()))
        return new_id

    def account_id(self, name: str) -> int:
        found = self.conn.execute(select(accounts.c.id).where(accounts.c.name == name)).scalar()
        if found is None:
            raise NotFound(f"no account {name!r}")
        return int(found)

    def list_accounts(self) -> list[AccountRow]:
        stmt = (select(accounts.c.id, accounts.c.name, organisations.c.name, accounts.c.role, accounts.c.disabled,
                       organisations.c.disabled)
                .join(organisations, organisations.c.id == accounts.c.org_id).order_by(accounts.c.id))
        return [AccountRow(*r) for r in self.conn.execute(stmt)]

    def get_account(self, name: str) -> AccountRow:
        for row in self.list_accounts():
            if row.name == name:
                return row
        raise NotFound(f"no account {name!r}")

    def set_account_disabled(self, account_id: int, when: int | None) -> None:
        self.conn.execute(update(accounts).where(accounts.c.id == account_id).values(disabled=when))

    def _drop_owned(self, account_ids: ScalarSelect[int]) -> None:
        """What of accounts that go is theirs alone: their console uploads with their pieces. The
        advisories they drafted or reviewed stay, naming nobody (the audit log says who)."""
        jobs = select(upload_jobs.c.id).where(upload_jobs.c.account_id.in_(account_ids)).scalar_subquery()
        self.conn.execute(delete(upload_pieces).where(upload_pieces.c.job_id.in_(jobs)))
        self.conn.execute(delete(upload_jobs).where(upload_jobs.c.account_id.in_(account_ids)))
        for column in ("drafted_by", "reviewed_by"):
            self.conn.execute(update(advisories).where(advisories.c[column].in_(account_ids)).values({column: None}))

    def remove_account(self, account_id: int) -> None:
        self._drop_owned(select(accounts.c.id).where(accounts.c.id == account_id).scalar_subquery())
        for owned in (api_keys, ui_sessions, account_passwords):
            self.conn.execute(delete(owned).where(owned.c.account_id == account_id))
        self.conn.execute(delete(accounts).where(accounts.c.id == account_id))

    def add_key(self, account_id: int, key_id: str, secret_sha256: str, expires: int | None = None) -> None:
        self.conn.execute(api_keys.insert().values(key_id=key_id, account_id=account_id, secret_sha256=secret_sha256,
                                                   created=now_micros(), expires=expires))

    def revoke_key(self, key_id: str) -> None:
        result = self.conn.execute(update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked.is_(None))
                                   .values(revoked=now_micros()))
        if result.rowcount != 1:
            raise NotFound(f"no active API key {key_id!r}")

    def list_keys(self) -> list[KeyRow]:
        stmt = (select(api_keys.c.key_id, accounts.c.name, api_keys.c.created, api_keys.c.revoked, api_keys.c.expires)
                .join(accounts, accounts.c.id == api_keys.c.account_id).order_by(api_keys.c.created))
        return [KeyRow(*r) for r in self.conn.execute(stmt)]

    def find_key(self, key_id: str) -> ActiveKey | None:
        """An unrevoked key, with its expiry and whether its account or organisation is disabled."""
        found = fast.rows(self.conn, _FIND_KEY, {"key_id": key_id})
        if not found:
            return None
        row = found[0]
        return ActiveKey(row[0], row[1], row[2], row[3], Role(row[4]), row[5], row[6], row[7])

    # sharing groups -----------------------------------------------------------------------
    def add_group(self, name: str, marking_id: str, description: str) -> int:
        if self.conn.execute(select(sharing_groups.c.id).where(sharing_groups.c.name == name)).first():
            raise Conflict(f"a sharing group named {name!r} exists already")
        result = self.conn.execute(sharing_groups.insert().values(name=name, marking_id=marking_id,
                                                                  description=description))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def set_member(self, group_id: int, org_id: int, member: bool) -> None:
        self.conn.execute(delete(group_members).where(group_members.c.group_id == group_id,
                                                      group_members.c.org_id == org_id))
        if member:
            self.conn.execute(group_members.insert().values(group_id=group_id, org_id=org_id))

    def list_groups(self) -> list[SharingGroup]:
        members: dict[int, set[int]] = {}
        for gid, oid in fast.rows(self.conn, _ALL_MEMBERS):
            members.setdefault(gid, set()).add(oid)
        return [SharingGroup(r[0], r[1], r[2], frozenset(members.get(r[0], ())))
                for r in fast.rows(self.conn, _ALL_GROUPS)]

    def get_group(self, name: str) -> SharingGroup:
        for group in self.list_groups():
            if group.name == name:
                return group
        raise NotFound(f"no sharing group {name!r}")

    def groups_of(self, org_id: int) -> frozenset[int]:
        return frozenset(r[0] for r in fast.rows(self.conn, _GROUPS_OF, {"org_id": org_id}))

    # API roots and collections -------------------------------------------------------------
    def add_api_root(self, name: str, title: str, description: str, max_content_length: int) -> ApiRoot:
        result = self.conn.execute(api_roots.insert().values(
            name=name, title=title, description=description, max_content_length=max_content_length))
        return ApiRoot(int(result.inserted_primary_key[0]), name, title, description,  # type: ignore[index]
                       max_content_length)

    def list_api_roots(self) -> list[ApiRoot]:
        return [ApiRoot(*r) for r in fast.rows(self.conn, _API_ROOTS)]

    def get_api_root(self, name: str) -> ApiRoot:
        for root in self.list_api_roots():
            if root.name == name:
                return root
        raise NotFound(f"no API root {name!r}")

    def add_collection(self, api_root_id: int, uuid: str, title: str, description: str,
                       alias: str | None) -> Collection:
        result = self.conn.execute(collections.insert().values(
            uuid=uuid, api_root_id=api_root_id, title=title, description=description, alias=alias))
        return Collection(int(result.inserted_primary_key[0]), uuid, api_root_id,  # type: ignore[index]
                          title, description, alias)

    def list_collections(self, api_root_id: int | None = None) -> list[Collection]:
        rows = (fast.rows(self.conn, _COLLECTIONS) if api_root_id is None
                else fast.rows(self.conn, _COLLECTIONS_OF_ROOT, {"api_root_id": api_root_id}))
        return [Collection(*r) for r in rows]

    def find_collection(self, api_root_id: int | None, key: str) -> Collection:
        """A collection by its TAXII id or alias."""
        for col in self.list_collections(api_root_id):
            if key in (col.uuid, col.alias):
                return col
        raise NotFound(f"no collection {key!r}")

    def set_access(self, collection_id: int, org_id: int, can_read: bool, can_write: bool) -> None:
        self.conn.execute(delete(collection_access).where(collection_access.c.collection_id == collection_id,
                                                          collection_access.c.org_id == org_id))
        if can_read or can_write:
            self.conn.execute(collection_access.insert().values(
                collection_id=collection_id, org_id=org_id, can_read=can_read, can_write=can_write))

    def grants_of(self, collection_id: int) -> list[Grant]:
        """Every organisation that may read or write the collection."""
        stmt = (select(organisations.c.name, collection_access.c.can_read, collection_access.c.can_write,
                       organisations.c.disabled)
                .join(organisations, organisations.c.id == collection_access.c.org_id)
                .where(collection_access.c.collection_id == collection_id).order_by(organisations.c.name))
        return [Grant(r[0], bool(r[1]), bool(r[2]), r[3]) for r in self.conn.execute(stmt)]

    def access_of(self, org_id: int) -> dict[int, CollectionAccess]:
        """Every collection the organisation may use, keyed by collection id."""
        return {r[0]: CollectionAccess(bool(r[1]), bool(r[2]))
                for r in fast.rows(self.conn, _ACCESS_OF, {"org_id": org_id})}
