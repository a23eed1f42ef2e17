"""Small STIX 2.1 object makers for tests and benchmarks."""

from __future__ import annotations

import uuid
from typing import Any

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp

TAXII = "application/taxii+json;version=2.1"


def indicator(n: int = 0, *, tlp: Tlp | None = None, markings: tuple[str, ...] = (),
              modified: str = "2026-01-01T00:00:00.000Z", object_id: str | None = None,
              **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id or f"indicator--{uuid.UUID(int=n + 1, version=4)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"C2 address {n}",
        "pattern": f"[ipv4-addr:value = '198.51.{(n >> 8) & 255}.{n & 255}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "indicator_types": ["malicious-activity"],
    }
    refs = list(markings) + ([TLP2_MARKING_IDS[tlp]] if tlp is not None else [])
    if refs:
        obj["object_marking_refs"] = refs
    obj.update(extra)
    return obj


def envelope(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"objects": list(objects)}
