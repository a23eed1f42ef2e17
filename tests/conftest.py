"""Shared fixtures: a store on each backend (SQLite and a real PostgreSQL), nodes with partners."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.services import admin
from accord.store.migrate import upgrade
from accord.store.repository import Store
from tests.pgserver import PgServer, find_bin

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_db_names = itertools.count()


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data, or skip: a user's clone has no shared data (CI does)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the project's shared data, present in CI, not in a plain clone)")
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    bindir = find_bin()
    if bindir is None:
        if os.environ.get("ACCORD_REQUIRE_POSTGRES"):
            raise RuntimeError("PostgreSQL is required (make test installs it) but initdb was not found")
        yield None
        return
    server = PgServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each backend: the same tests run against both."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'accord.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip("PostgreSQL is not installed (make test installs it)")
        url = server.create_database(f"accord_{os.getpid()}_{next(_db_names)}")
    s = Store.open(url)
    upgrade(s.engine)
    yield s
    s.close()


@dataclass
class Node:
    """A node with the host organisation and two partners, each with an account key."""

    store: Store
    admin_key: str
    keys: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture
def node(store: Store) -> Node:
    result = admin.init_node(store, "host-cert", OrgKind.GOVERNMENT_CERT, "DE")
    assert result.admin_key
    keys = {"admin": result.admin_key}
    admin.add_org(store, "energy-co", OrgKind.COMPANY, "FR", ("energy",))
    admin.add_org(store, "health-isac", OrgKind.SECTOR_ISAC, "NL", ("health-care",))
    admin.add_org(store, "outsider", OrgKind.NONPROFIT, "US", ())
    for org in ("energy-co", "health-isac"):
        admin.grant(store, "default", org, read=True, write=True)
        keys[org] = admin.add_account(store, f"{org}-analyst", org, Role.CONTRIBUTOR)[1]
        keys[org + "-reader"] = admin.add_account(store, f"{org}-reader", org, Role.READER)[1]
    keys["outsider"] = admin.add_account(store, "outsider-analyst", "outsider", Role.CONTRIBUTOR)[1]
    return Node(store, result.admin_key, keys)
