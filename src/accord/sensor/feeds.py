"""Where indicators come from: the ``IndicatorSource`` protocol and its implementations.

A source yields STIX 2.1 objects (dicts); ``indicators.compile_indicators`` keeps the active
indicators, and ``Decayed`` wraps a source to leave out indicators that have decayed (docs/lists.md).
The node can plug its own store in by implementing ``IndicatorSource``.

``TaxiiFeed`` keeps a local cache per (API root, collection): every object by id (latest ``modified``)
and the last ``X-TAXII-Date-Added-Last`` seen, so a restart asks only for what was added since
(TAXII 2.1 §5.4 Get Objects, ``added_after`` filter). Files are replaced atomically (write, then rename).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson

from accord.domain.decay import DecayModel, fresh
from accord.sensor.errors import ConfigError
from accord.sensor.taxii import TaxiiClient
from accord.stix.timestamps import now_micros


class IndicatorSource(Protocol):
    """Anything that can list STIX objects to compile indicators from."""

    def objects(self) -> Iterable[Mapping[str, Any]]: ...


class Decayed:
    """Another source's objects without the indicators that have decayed under ``model``
    (:func:`accord.domain.decay.fresh`; sightings among the objects refresh what they name)."""

    def __init__(self, source: IndicatorSource, model: DecayModel, now: int | None = None) -> None:
        self.source = source
        self.model = model
        self.now = now

    def objects(self) -> list[Mapping[str, Any]]:
        return fresh(self.source.objects(), self.model, now_micros() if self.now is None else self.now)


class BundleFile:
    """A STIX 2.1 bundle (or a JSON list of objects) on disk, for offline use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def objects(self) -> list[dict[str, Any]]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ConfigError(f"{self.path}: not a readable STIX bundle: {exc}") from exc
        found = data.get("objects", []) if isinstance(data, dict) else data
        if not isinstance(found, list):
            raise ConfigError(f"{self.path}: a bundle's 'objects' must be a list")
        return [obj for obj in found if isinstance(obj, dict)]


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class TaxiiFeed:
    """A TAXII 2.1 collection, fetched incrementally into ``cache_dir``."""

    def __init__(self, client: TaxiiClient, collection: str, cache_dir: Path, api_root: str | None = None) -> None:
        self.client = client
        self.collection = collection
        self.api_root = api_root or client.default_api_root()
        key = hashlib.sha256(f"{self.api_root}|{collection}".encode()).hexdigest()[:16]
        self.directory = cache_dir / key
        self.fetched = 0

    def _load(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        try:
            state = orjson.loads((self.directory / "state.json").read_bytes())
            objects = orjson.loads((self.directory / "objects.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}, None
        return dict(objects), state.get("added_after")

    def objects(self) -> list[dict[str, Any]]:
        """Cached objects updated with everything added since the last fetch."""
        known, added_after = self._load()
        self.fetched = 0
        for page in self.client.pages(self.api_root, self.collection, added_after=added_after):
            for obj in page.objects:
                self.fetched += 1
                ident = str(obj.get("id"))
                if ident not in known or str(obj.get("modified", "")) >= str(known[ident].get("modified", "")):
                    known[ident] = obj
            added_after = page.added_last or added_after
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.directory / "objects.json", orjson.dumps(known))
        _write_atomically(self.directory / "state.json", orjson.dumps({"added_after": added_after}))
        return list(known.values())
