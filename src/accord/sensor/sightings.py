"""STIX 2.1 sightings sent back to the node: one per indicator and time window.

STIX 2.1 §5.2 (Sighting): ``sighting_of_ref`` the indicator, ``count`` how often it was seen in the
window, ``first_seen``/``last_seen`` the earliest and latest matching event, ``where_sighted_refs`` the
sensor's organisation identity (``created_by_ref`` too). Ids are UUIDv5 of (identity, indicator,
window), so re-sending a window is a new version of the same sighting (§3.6), not a duplicate.

Privacy: by default a sighting carries no observed values at all. With ``share_values`` the matched
values go into an ``observed-data`` object (§4.14) referenced by ``observed_data_refs``, except internal
addresses (RFC 1918, RFC 4193 ULA, loopback, link-local...) unless ``allow_internal``, and user names
from the logs only with ``allow_users``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from accord.sensor import normalize
from accord.sensor.addresses import is_internal
from accord.sensor.model import Match

_NAMESPACE = uuid.UUID("6f1c2b1e-7d0a-4c52-9a57-3f5e2d1c0b9a")


@dataclass(frozen=True, slots=True)
class SightingPolicy:
    """What the operator allows to leave the sensor."""

    identity: str
    window_seconds: int = 3600
    share_values: bool = False
    allow_internal: bool = False
    allow_users: bool = False


@dataclass
class _Window:
    count: int = 0
    first: float = math.inf
    last: float = -math.inf
    values: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sco(value: str) -> dict[str, Any]:
    addr = normalize.address(value)
    if addr is not None:
        return {"type": f"ipv{addr.version}-addr", "value": str(addr)}
    if normalize.file_hash(value):
        return {"type": "file", "hashes": {normalize.hash_algorithm(value.lower()): value.lower()}}
    if "://" in value:
        return {"type": "url", "value": value}
    if "@" in value:
        return {"type": "email-addr", "value": value}
    return {"type": "domain-name", "value": value}


class SightingAggregator:
    """Folds matches into (indicator, window) counters and renders them as STIX objects."""

    def __init__(self, policy: SightingPolicy) -> None:
        self.policy = policy
        self._windows: dict[tuple[str, int], _Window] = {}

    def add(self, match: Match, now: float | None = None) -> None:
        """Count one match; events without a time count at ``now``."""
        moment = match.time if match.time is not None else (now if now is not None else datetime.now(UTC).timestamp())
        start = int(moment // self.policy.window_seconds) * self.policy.window_seconds
        window = self._windows.setdefault((match.indicator, start), _Window())
        window.count += 1
        window.first = min(window.first, moment)
        window.last = max(window.last, moment)
        if self.policy.allow_internal or not is_internal(match.value):
            window.values.add(match.value)
        window.users.update(match.users)

    def objects(self, created: datetime | None = None) -> list[dict[str, Any]]:
        """Sightings (and, when values are shared, their observed-data), ready for a TAXII envelope."""
        stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out: list[dict[str, Any]] = []
        for (indicator, start), window in sorted(self._windows.items()):
            key = f"{self.policy.identity}|{indicator}|{start}"
            sighting: dict[str, Any] = {
                "type": "sighting",
                "spec_version": "2.1",
                "id": f"sighting--{uuid.uuid5(_NAMESPACE, key)}",
                "created": stamp,
                "modified": stamp,
                "created_by_ref": self.policy.identity,
                "sighting_of_ref": indicator,
                "count": window.count,
                "first_seen": _iso(window.first),
                "last_seen": _iso(window.last),
                "where_sighted_refs": [self.policy.identity],
            }
            scos = [_sco(v) for v in sorted(window.values)] if self.policy.share_values else []
            if self.policy.share_values and self.policy.allow_users:
                scos += [{"type": "user-account", "account_login": u} for u in sorted(window.users)]
            if scos:
                observed = {
                    "type": "observed-data",
                    "spec_version": "2.1",
                    "id": f"observed-data--{uuid.uuid5(_NAMESPACE, key + '|observed')}",
                    "created": stamp,
                    "modified": stamp,
                    "created_by_ref": self.policy.identity,
                    "first_observed": _iso(window.first),
                    "last_observed": _iso(window.last),
                    "number_observed": window.count,
                }
                refs: list[str] = []
                for number, sco in enumerate(scos):
                    sco["spec_version"] = "2.1"
                    sco["id"] = f"{sco['type']}--{uuid.uuid5(_NAMESPACE, f'{key}|{number}|{sorted(sco.items())}')}"
                    refs.append(sco["id"])
                observed["object_refs"] = refs
                sighting["observed_data_refs"] = [observed["id"]]
                out.extend([observed, *scos])
            out.append(sighting)
        return out


def aggregate(matches: Iterable[Match], policy: SightingPolicy) -> list[dict[str, Any]]:
    """Sightings for a finished list of matches (convenience for tests and one-shot runs)."""
    folder = SightingAggregator(policy)
    for match in matches:
        folder.add(match)
    return folder.objects()
