"""The audit log: every write and every non-CLEAR read is recorded; tampering is found and named."""

from __future__ import annotations

from starlette.testclient import TestClient

from accord.domain.tlp import Tlp
from accord.services import admin
from accord.web.app import create_app
from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator

BASE = "/taxii2/default/collections/default"


def _actions(node: Node) -> list[tuple[str, dict[str, object]]]:
    with node.store.read() as tx:
        return [(r.action, r.details) for r, _ in tx.audit_records()]


def test_writes_and_sensitive_reads_are_recorded_and_the_chain_verifies(node: Node) -> None:
    with TestClient(create_app(node.store)) as client:
        client.post(BASE + "/objects/", json=envelope(indicator(1, tlp=Tlp.CLEAR), indicator(2, tlp=Tlp.AMBER)),
                    headers={**node.auth("energy-co"), "Content-Type": TAXII})
        client.get(BASE + "/objects/", params={"match[id]": indicator(1)["id"]},
                   headers=node.auth("health-isac"))  # CLEAR only: not recorded
        client.get(BASE + "/objects/", headers=node.auth("health-isac"))
    actions = _actions(node)
    adds = [d for a, d in actions if a == "taxii.add_objects"]
    assert len(adds) == 1 and len(adds[0]["added"]) == 2  # type: ignore[arg-type]
    reads = [d for a, d in actions if a == "taxii.get_objects"]
    assert len(reads) == 1
    assert reads[0]["objects"] == [[indicator(2)["id"], indicator(2)["modified"]]]
    count, bad, _ = admin.verify_audit(node.store)
    assert bad is None and count == len(actions)


def test_editing_or_deleting_a_record_is_detected(node: Node) -> None:
    count, bad, _ = admin.verify_audit(node.store)
    assert bad is None and count > 5
    with node.store.write() as tx:
        tx.conn.exec_driver_sql("UPDATE audit_log SET details = CAST('{\"org\":\"someone else\"}' AS BLOB) "
                                "WHERE seq = 3" if node.store.backend == "sqlite" else
                                "UPDATE audit_log SET details = convert_to('{\"org\":\"x\"}', 'UTF8') WHERE seq = 3")
    assert admin.verify_audit(node.store)[1] == 3
    with node.store.write() as tx:
        tx.conn.exec_driver_sql("DELETE FROM audit_log WHERE seq <= 3")
    count, bad, why = admin.verify_audit(node.store)
    assert bad == 4 and "missing" in why
