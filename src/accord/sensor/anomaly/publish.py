"""Sending anomaly reports to a node over TAXII 2.1 (add objects to a collection).

Kept to the one TAXII call the sensor needs: POST an envelope of objects to
``<api-root>/collections/<id>/objects/`` and read back the status resource's counts. Large reports
go in several envelopes so one request stays well under a server's size limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from accord.sensor.anomaly.errors import AnomalyError
from accord.sensor.anomaly.stix import Stix

TAXII = "application/taxii+json;version=2.1"
ENVELOPE_OBJECTS = 500


@dataclass(frozen=True)
class Delivery:
    """What the node said: objects it stored, objects it refused, objects still pending."""

    success: int
    failure: int
    pending: int


class PublishError(AnomalyError):
    """The node refused the report or could not be reached."""


def objects_url(api_root: str, collection: str) -> str:
    return f"{api_root.rstrip('/')}/collections/{collection}/objects/"


def post_objects(
    objects: Sequence[Stix],
    api_root: str,
    collection: str,
    auth: httpx.Auth,
    *,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> Delivery:
    """POST ``objects`` to the collection; the sum of the status resources' counts comes back."""
    totals = [0, 0, 0]
    url = objects_url(api_root, collection)
    with httpx.Client(
        auth=auth, timeout=timeout, transport=transport, headers={"Accept": TAXII, "Content-Type": TAXII}
    ) as client:
        for start in range(0, len(objects), ENVELOPE_OBJECTS):
            envelope = {"objects": list(objects[start : start + ENVELOPE_OBJECTS])}
            try:
                response = client.post(url, json=envelope)
            except httpx.HTTPError as exc:
                raise PublishError(f"cannot reach {url}: {exc}") from exc
            if response.status_code not in (200, 202):
                raise PublishError(f"{url} answered {response.status_code}: {response.text[:300]}")
            status = response.json()
            for i, key in enumerate(("success_count", "failure_count", "pending_count")):
                totals[i] += int(status.get(key, 0))
    return Delivery(*totals)
