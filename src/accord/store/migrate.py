"""Schema migrations with Alembic, run programmatically (no alembic.ini to find or edit).

Every command that opens a node migrates it first. Alembic costs a process some 70-100 ms to import
and to read its scripts, so a store already at :data:`HEAD` (one ``SELECT`` on ``alembic_version``)
is left alone without loading it; ``tests/unit/test_migrate_head.py`` keeps :data:`HEAD` equal to the
newest script's revision.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).parent / "migrations"
HEAD = "0015"


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    return cfg


def current_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database says it is at (none for a database Alembic never touched)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and current_revisions(engine) == {HEAD}:
        return
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
