"""Sending anomaly reports to a node over TAXII 2.1, with the sensor's shared TAXII client.

One call is needed: POST envelopes of objects to ``<api-root>/collections/<id>/objects/`` and
add up the status resources' counts. Large reports go in several envelopes so one request stays
well under a server's size limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accord.sensor.anomaly.errors import AnomalyError
from accord.sensor.anomaly.stix import Stix
from accord.sensor.errors import TaxiiError
from accord.sensor.taxii import TaxiiClient

ENVELOPE_OBJECTS = 500


@dataclass(frozen=True)
class Delivery:
    """What the node said: objects it stored, objects it refused, objects still pending."""

    success: int
    failure: int
    pending: int


class PublishError(AnomalyError):
    """The node refused the report or could not be reached."""


def post_objects(
    objects: Sequence[Stix],
    api_root: str,
    collection: str,
    *,
    token: str | None = None,
    basic: tuple[str, str] | None = None,
    timeout: float = 30.0,
) -> Delivery:
    """POST ``objects`` to the collection (bearer ``token`` for an Accord node, or ``basic`` auth)."""
    root = api_root if api_root.endswith("/") else api_root + "/"
    client = TaxiiClient(root, token=token, auth=basic, timeout=timeout)
    totals = [0, 0, 0]
    try:
        for start in range(0, len(objects), ENVELOPE_OBJECTS):
            status = client.add_objects(root, collection, objects[start : start + ENVELOPE_OBJECTS])
            for i, key in enumerate(("success_count", "failure_count", "pending_count")):
                totals[i] += int(status.get(key, 0))
    except TaxiiError as exc:
        raise PublishError(str(exc)) from exc
    finally:
        client.close()
    return Delivery(*totals)
