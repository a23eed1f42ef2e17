"""The Alembic migrations create exactly the schema that ``accord.store.tables`` describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from accord.store.repository import Store
from accord.store.tables import metadata


def test_migrated_schema_matches_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent(store: Store) -> None:
    from accord.store.migrate import upgrade

    upgrade(store.engine)
    with store.read() as tx:
        assert tx.list_api_roots() == []
