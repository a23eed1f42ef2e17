"""A node with a few stored objects, and the checks every fuzzed request must pass.

The same node serves every example of a Hypothesis test (that is the point: hostile requests must
leave it as it was), so the fixtures are function-scoped and the health check that warns about it is
turned off in each test's settings. Every stored object is TLP:CLEAR, so a read that succeeds writes
no audit record and any change to the audit log is the fuzzed request's doing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select
from starlette.testclient import TestClient

from accord.domain.tlp import Tlp
from accord.services import admin
from accord.store.tables import audit_log
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator

BASE = "/taxii2/default/collections/default"
SEEDED = [indicator(n, tlp=Tlp.CLEAR) for n in range(5)]

# bounded: the whole fuzz suite runs on both backends in under a minute
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


@dataclass(frozen=True)
class Snapshot:
    objects: int
    audit_records: int
    audit_head: str | None


@dataclass
class Target:
    client: TestClient
    node: Node

    def write_headers(self) -> dict[str, str]:
        return {**self.node.auth("energy-co"), "Accept": TAXII, "Content-Type": TAXII}

    def read_headers(self) -> dict[str, str]:
        return {**self.node.auth("energy-co-reader"), "Accept": TAXII}

    def snapshot(self) -> Snapshot:
        with self.node.store.read() as tx:
            count = tx.count_objects()
            records = tx.conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
            head = tx.conn.execute(select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).scalar()
        return Snapshot(count, records, head)

    def audit_ok(self) -> bool:
        _, bad, _ = admin.verify_audit(self.node.store)
        return bad is None


@pytest.fixture
def target(node: Node) -> Iterator[Target]:
    with TestClient(create_app(node.store), raise_server_exceptions=False) as client:
        r = client.post(BASE + "/objects/", json=envelope(*SEEDED),
                        headers={**node.auth("energy-co"), "Content-Type": TAXII})
        assert r.status_code == 202 and r.json()["success_count"] == len(SEEDED)
        yield Target(client, node)


def assert_taxii_error(response: Any, allowed: tuple[int, ...]) -> None:
    """A TAXII 2.1 error message (section 3.6.1) with one of the ``allowed`` statuses."""
    assert response.status_code in allowed, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert body["http_status"] == str(response.status_code) and body["title"] and body["description"]
