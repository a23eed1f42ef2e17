"""Settings from the command line and the environment (ACCORD_*), with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORT = 8660
DEFAULT_BODY_LIMIT = 1024 * 1024
DEFAULT_RATE_LIMIT = 1000.0
DEFAULT_RATE_BURST = 2000
DEFAULT_PUBLIC_RATE = 10.0  # the public pages (accord.web.public): per client address, per worker
DEFAULT_PUBLIC_BURST = 60

# What ``accord init`` creates: the API root, the collection's alias and the administrator's account.
DEFAULT_ROOT = "default"
DEFAULT_COLLECTION_ALIAS = "default"
ADMIN_ACCOUNT = "admin"


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


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How the node meets HTTP (docs/security.md, "The HTTP surface"). The defaults are those of a
    node that ``accord serve`` binds to 127.0.0.1 without TLS.

    ``public_url`` is the origin clients reach the node at; every absolute URL the node writes starts
    with it, never with a request's Host header. ``body_limit`` caps request bodies of every route
    but TAXII Add Objects, which takes its API root's max_content_length. ``rate_limit`` (requests
    per second, 0 for none) and ``rate_burst`` size one token bucket per API key and one per client
    address, in each worker process. ``public_rate`` and ``public_burst`` size the public pages' own
    bucket per client address (accord.web.public; ACCORD_PUBLIC_RATE_LIMIT, 0 for none).
    """

    public_url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    body_limit: int = DEFAULT_BODY_LIMIT
    rate_limit: float = DEFAULT_RATE_LIMIT
    rate_burst: int = DEFAULT_RATE_BURST
    public_rate: float = DEFAULT_PUBLIC_RATE
    public_burst: int = DEFAULT_PUBLIC_BURST

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        if (parts.scheme not in ("http", "https") or not parts.hostname or not self.public_url.isascii()
                or parts.path or parts.query or parts.fragment or parts.username is not None):
            raise ValueError(f"the public URL must be an origin such as https://taxii.example.org, not "
                             f"{self.public_url!r}")

    @classmethod
    def from_env(cls) -> HttpSettings:
        """What ``accord serve`` hands its worker processes in ACCORD_* variables."""
        env = os.environ
        return cls(env.get("ACCORD_PUBLIC_URL", f"http://127.0.0.1:{DEFAULT_PORT}"),
                   int(env.get("ACCORD_BODY_LIMIT", DEFAULT_BODY_LIMIT)),
                   float(env.get("ACCORD_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
                   int(env.get("ACCORD_RATE_BURST", DEFAULT_RATE_BURST)),
                   float(env.get("ACCORD_PUBLIC_RATE_LIMIT", DEFAULT_PUBLIC_RATE)),
                   int(env.get("ACCORD_PUBLIC_RATE_BURST", DEFAULT_PUBLIC_BURST)))
