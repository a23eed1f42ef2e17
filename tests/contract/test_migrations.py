"""The Alembic migrations create exactly the schema that ``accord.store.tables`` describes."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from accord.store.repository import Store
from accord.store.tables import FULL_TEXT_NAMES, metadata


def _described(name: str | None, type_: str, parent: object) -> bool:
    """The backend-specific full-text structures (FTS5 tables, the GIN index) are not in the tables."""
    return name not in FULL_TEXT_NAMES


def test_migrated_schema_matches_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": _described}), metadata)
    assert diff == []


def test_upgrade_is_idempotent(store: Store) -> None:
    from accord.store.migrate import upgrade

    upgrade(store.engine)
    with store.read() as tx:
        assert tx.list_api_roots() == []


def test_head_is_the_newest_script() -> None:
    """``upgrade`` skips Alembic for a store at ``HEAD``; a new script must move ``HEAD`` with it."""
    from alembic.script import ScriptDirectory

    from accord.store.migrate import HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


def test_a_store_behind_head_is_migrated(tmp_path: Path) -> None:
    from accord.store.migrate import HEAD, current_revisions, upgrade

    s = Store.open(f"sqlite:///{tmp_path / 'accord.db'}")
    try:
        assert current_revisions(s.engine) == frozenset()
        upgrade(s.engine, "0004")
        assert current_revisions(s.engine) == {"0004"}
        upgrade(s.engine)
        assert current_revisions(s.engine) == {HEAD}
    finally:
        s.close()
