"""Acting as the node fixture's partners, and sensor-like objects for them to store."""

from __future__ import annotations

from typing import Any

from accord.coordination.workspace import Workspace
from accord.services import admin
from accord.stix.timestamps import now_micros
from accord.store.repository import Store

HOUR = 3_600_000_000
# A day ahead of the node's clock: simulated steps then never claim a time before their receipt, which
# the services would (rightly) move forward to the receipt time.
T0 = (now_micros() // HOUR + 24) * HOUR


def as_(store: Store, account: str) -> Workspace:
    return Workspace(store, admin.principal_for(store, account))


def sensor_objects(ws: Workspace, address: str, n: int = 1, first: str = "2026-11-18T10:00:00.000Z"
                   ) -> list[dict[str, Any]]:
    """What ``accord match --share-values`` posts: an indicator match seen from ``address``."""
    me = ws.me.identity_id
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{n:08d}-0000-4000-8000-000000000000",
           "value": address}
    observed = {"type": "observed-data", "spec_version": "2.1",
                "id": f"observed-data--{n:08d}-0000-4000-8000-000000000000",
                "created": first, "modified": first, "created_by_ref": me, "first_observed": first,
                "last_observed": first, "number_observed": 3, "object_refs": [sco["id"]]}
    sighting = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{n:08d}-0000-4000-8000-000000000000",
                "created": first, "modified": first, "created_by_ref": me,
                "sighting_of_ref": "indicator--00000000-0000-4000-8000-000000000001", "count": 3,
                "first_seen": first, "last_seen": first, "where_sighted_refs": [me],
                "observed_data_refs": [observed["id"]]}
    return [sco, observed, sighting]
