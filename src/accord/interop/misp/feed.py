"""Reading a MISP feed from a directory or over HTTP(S).

A MISP feed (the format MISP's "feeds" read and PyMISP's feed generator writes) is a folder of:
``manifest.json``, an object from each event uuid to the event's metadata (``info``, ``Orgc``,
``timestamp``, ``Tag``, ...); one ``<uuid>.json`` per event, a MISP core format event
(``{"Event": {...}}``); and ``hashes.csv``, lines ``<md5 of an attribute value>,<event uuid>`` for
lookups without fetching events (this node reads it only to report how many it lists).

Manifest keys must be uuids: they become file names and URL paths, so nothing else is ever opened
or requested. Sizes are bounded; HTTP requests time out and do not follow redirects off the feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from accord.domain.errors import InvalidInput
from accord.interop.misp.convert import MAX_EVENT_BYTES

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_EVENTS = 100_000
TIMEOUT = 30.0


class FeedError(InvalidInput):
    """The feed as a whole cannot be read (no manifest, not JSON, unreachable)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A file of the feed: its bytes (None when unchanged since ``etag``) and its ETag."""

    body: bytes | None
    etag: str | None


class FeedSource:
    """A feed's files by name, from a folder or a base URL (``http://host/feed/``)."""

    def __init__(self, location: str, headers: dict[str, str] | None = None) -> None:
        self.location = location
        self.is_http = location.startswith(("http://", "https://"))
        self._headers = headers or {}
        self._client: Any = None
        if not self.is_http and not Path(location).is_dir():
            raise FeedError(f"{location}: not a directory nor an http(s) URL")

    def name_of(self, file: str) -> str:
        return self.location.rstrip("/") + "/" + file

    def fetch(self, file: str, limit: int, etag: str | None = None) -> Fetched:
        if not self.is_http:
            path = Path(self.location) / file
            try:
                if path.stat().st_size > limit:
                    raise FeedError(f"{path}: larger than {limit} bytes")
                return Fetched(path.read_bytes(), None)
            except OSError as exc:
                raise FeedError(f"{path}: {exc.strerror or exc}") from None
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, headers=self._headers)
        url = self.name_of(file)
        headers = {"If-None-Match": etag} if etag else {}
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return Fetched(None, etag)
                if response.status_code != 200:
                    raise FeedError(f"{url}: HTTP {response.status_code}")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise FeedError(f"{url}: larger than {limit} bytes")
                    chunks.append(chunk)
                return Fetched(b"".join(chunks), response.headers.get("etag"))
        except httpx.HTTPError as exc:
            raise FeedError(f"{url}: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def parse_manifest(raw: bytes, name: str) -> dict[str, int]:
    """Event uuid -> its timestamp (0 when the manifest gives none), from a feed's manifest.json."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise FeedError(f"{name}: not a MISP feed manifest (an object from event uuids to their metadata)")
    if len(data) > MAX_EVENTS:
        raise FeedError(f"{name}: more than {MAX_EVENTS} events")
    out: dict[str, int] = {}
    for key, meta in data.items():
        try:
            canonical = str(uuid.UUID(key))
        except ValueError:
            raise FeedError(f"{name}: {key[:80]!r} is not an event uuid") from None
        if canonical != key:
            raise FeedError(f"{name}: {key[:80]!r} is not an event uuid")
        stamp = meta.get("timestamp") if isinstance(meta, dict) else None
        out[canonical] = int(stamp) if isinstance(stamp, int | str) and str(stamp).isdigit() else 0
    return out


def count_hashes(raw: bytes) -> int:
    """Lines of a hashes.csv that have the form ``<32 hex>,<uuid>``."""
    count = 0
    for line in raw.splitlines():
        digest, _, event = line.decode("ascii", "replace").strip().partition(",")
        if len(digest) == 32 and all(c in "0123456789abcdefABCDEF" for c in digest) and len(event) == 36:
            count += 1
    return count


def events(source: FeedSource, wanted: list[str],
           failed: Callable[[str, str], None]) -> Iterator[tuple[str, bytes]]:
    """(uuid, bytes) of each wanted event the feed serves; an unreadable one is reported, not fatal."""
    for event_uuid in wanted:
        try:
            body = source.fetch(f"{event_uuid}.json", MAX_EVENT_BYTES).body
        except FeedError as exc:
            failed(event_uuid, str(exc))
            continue
        if body is not None:
            yield event_uuid, body
