"""Settings from the command line and the environment (ACCORD_*), with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8660


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str | None = None

    @property
    def db_path(self) -> Path:
        """The SQLite database file (when no database URL is given)."""
        return self.data_dir / "accord.db"

    @property
    def store_url(self) -> str:
        """PostgreSQL when a URL is given; otherwise SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.db_path}"

    @classmethod
    def from_env(cls, data_dir: str | None = None, database_url: str | None = None) -> Settings:
        chosen = data_dir or os.environ.get("ACCORD_DATA_DIR") or ".accord"
        return cls(Path(chosen).expanduser().resolve(), database_url or os.environ.get("ACCORD_DATABASE_URL"))
