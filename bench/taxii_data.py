"""Deterministic, realistic STIX 2.1 indicators for the TAXII benchmark (about 900 bytes each)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from accord.domain.tlp import TLP2_MARKING_IDS, Tlp

_PRODUCER = "identity--7f4c8a3e-2b1d-4e5f-9a6b-3c2d1e0f4a5b"
_TLP = [TLP2_MARKING_IDS[Tlp.GREEN], TLP2_MARKING_IDS[Tlp.AMBER], TLP2_MARKING_IDS[Tlp.CLEAR]]
_FAMILIES = ["Cobalt Strike", "Emotet", "QakBot", "IcedID", "Industroyer2", "Mirai", "AsyncRAT", "Sliver"]


def _pattern(n: int) -> tuple[str, str]:
    kind = n % 4
    if kind == 0:
        return f"[ipv4-addr:value = '{(n >> 16) & 223 | 1}.{(n >> 8) & 255}.{n & 255}.{(n * 7) & 255}']", "IP"
    if kind == 1:
        return f"[domain-name:value = 'c2-{n:x}.bad-{n % 97}.example']", "domain"
    if kind == 2:
        return f"[url:value = 'https://dl-{n % 1013}.example/payload/{n:x}.bin']", "URL"
    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    return f"[file:hashes.'SHA-256' = '{digest}']", "file hash"


def indicator(n: int) -> dict[str, Any]:
    pattern, what = _pattern(n)
    family = _FAMILIES[n % len(_FAMILIES)]
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=(n * 2654435761) % (1 << 122) + (1 << 124), version=4)}",
        "created_by_ref": _PRODUCER,
        "created": "2026-10-01T08:00:00.000Z",
        "modified": "2026-10-01T08:00:00.000Z",
        "name": f"{family} {what} {n}",
        "description": f"{family} infrastructure observed by partner sensors in campaign {n % 31}; "
                       "block at the perimeter and hunt for earlier connections.",
        "indicator_types": ["malicious-activity", "attribution"],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": "2026-10-01T08:00:00Z",
        "valid_until": "2027-10-01T08:00:00Z",
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}],
        "labels": ["c2", family.lower().replace(" ", "-")],
        "confidence": 60 + n % 40,
        "object_marking_refs": [_TLP[n % 3]],
        "external_references": [{"source_name": "partner-feed", "external_id": f"PF-{n}"}],
    }
