"""Anomalies as STIX 2.1: observed-data over network-traffic and address SCOs, plus a note saying why.

Built by pure functions (same anomaly and marking, same objects, same ids), so re-sending a
report to the node is idempotent. SCO ids follow the STIX 2.1 rule for deterministic identifiers
(UUIDv5 over the ID-contributing properties); the observed-data and note ids are UUIDv5 too, over
the flow they describe. The source address is always included: when it belongs to another
partner's network, this observed-data is the evidence a consultation with that partner cites.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any

from accord.sensor.anomaly.errors import AnomalyError

if TYPE_CHECKING:  # only a type here: keeps this module free of numpy for the CLI's start-up
    from accord.sensor.anomaly.alerts import Anomaly

TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""TLP 2.0 marking-definition ids (standard, shared by every STIX producer)."""

_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_SDO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://accord.invalid/sensor/anomaly")
Stix = dict[str, Any]


def _deterministic_id(kind: str, contributing: Mapping[str, Any], namespace: uuid.UUID) -> str:
    canonical = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}--{uuid.uuid5(namespace, canonical)}"


def _timestamp(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, UTC) if math.isfinite(ts) else datetime(1970, 1, 1, tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _address(value: str, marking: str) -> Stix:
    kind = "ipv6-addr" if ip_address(value).version == 6 else "ipv4-addr"
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": _deterministic_id(kind, {"value": value}, _SCO_NAMESPACE),
        "value": value,
        "object_marking_refs": [marking],
    }


def anomaly_objects(anomaly: Anomaly, marking: str, created: str, created_by: str | None = None) -> list[Stix]:
    """observed-data, network-traffic, the two addresses and a note, all under ``marking``.

    ``created`` is the report time (a STIX timestamp); the flow's own time is first/last_observed.
    """
    if not anomaly.src or not anomaly.dst:
        raise AnomalyError("this flow has no addresses: only logs with endpoints can be shared as STIX")
    try:
        src, dst = _address(anomaly.src, marking), _address(anomaly.dst, marking)
    except ValueError as exc:
        raise AnomalyError(f"not an IP address in the flow ({exc})") from exc
    traffic: Stix = {
        "type": "network-traffic",
        "spec_version": "2.1",
        "src_ref": src["id"],
        "dst_ref": dst["id"],
        "protocols": [anomaly.proto.lower() or "ipv4"],
        "object_marking_refs": [marking],
    }
    when = _timestamp(anomaly.ts)
    traffic["start"] = when
    traffic.update({k: v for k, v in (("src_port", anomaly.src_port), ("dst_port", anomaly.dst_port)) if v >= 0})
    contributing: dict[str, Any] = {
        k: traffic[k] for k in ("start", "src_ref", "dst_ref", "src_port", "dst_port", "protocols") if k in traffic
    }
    traffic["id"] = _deterministic_id("network-traffic", contributing, _SCO_NAMESPACE)
    common: Stix = {
        "spec_version": "2.1",
        "created": created,
        "modified": created,
        "object_marking_refs": [marking],
        "confidence": anomaly.confidence,
    }
    if created_by:
        common["created_by_ref"] = created_by
    observed: Stix = {
        "type": "observed-data",
        "id": _deterministic_id("observed-data", {"flow": traffic["id"]}, _SDO_NAMESPACE),
        **common,
        "first_observed": when,
        "last_observed": when,
        "number_observed": 1,
        "object_refs": [traffic["id"], src["id"], dst["id"]],
        "labels": ["anomalous-activity"],
    }
    reasons = "\n".join(f"- {r.text} ({r.share:.0%} of the deviation)" for r in anomaly.reasons)
    note: Stix = {
        "type": "note",
        "id": _deterministic_id("note", {"about": observed["id"]}, _SDO_NAMESPACE),
        **common,
        "abstract": f"Anomalous flow {anomaly.src} -> {anomaly.dst}: {anomaly.summary}"[:500],
        "content": (
            f"Flagged by the sensor's anomaly detector (score {anomaly.score:.2f}, "
            f"threshold {anomaly.threshold:.2f}, set from normal traffic only).\n"
            f"Why:\n{reasons or '- unusual combination of features'}"
        ),
        "object_refs": [observed["id"]],
    }
    return [observed, traffic, src, dst, note]


def bundle(objects: Sequence[Stix]) -> Stix:
    """A STIX 2.1 bundle; its id is derived from its contents so the same report is the same file."""
    unique = list({o["id"]: o for o in objects}.values())  # batches of a watch may repeat an address
    return {
        "type": "bundle",
        "id": _deterministic_id("bundle", {"ids": sorted(o["id"] for o in unique)}, _SDO_NAMESPACE),
        "objects": unique,
    }


def report_objects(
    anomalies: Sequence[Anomaly], tlp: str, created_by: str | None = None, now: datetime | None = None
) -> list[Stix]:
    """Every anomaly with addresses as STIX objects under TLP ``tlp`` (clear, green, amber, ...).

    An address seen in several anomalies is sent once.
    """
    if tlp.lower() not in TLP:
        raise AnomalyError(f"unknown TLP {tlp!r}: choose one of {', '.join(TLP)}")
    created = _timestamp((now or datetime.now(UTC)).timestamp())
    objects = (
        obj for a in anomalies if a.src and a.dst for obj in anomaly_objects(a, TLP[tlp.lower()], created, created_by)
    )
    return list({obj["id"]: obj for obj in objects}.values())
