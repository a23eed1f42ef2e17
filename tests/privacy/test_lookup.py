"""The privacy-preserving sighting lookup: right counts per sector, nothing the node may not show,
and a transcript (what the node sees) that does not contain the queried value."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from accord.domain import oprf
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.federation.lookup import LookupClient
from accord.services import admin, lookup
from accord.store.repository import Store
from accord.web.app import create_app
from tests.conftest import Node
from tests.privacy.helpers import address, post, root_of, with_secrets

HIT, ONCE, RED, NONE = "198.51.100.7", "evil.example", "203.0.113.5", "nothing.example"


class Recorder:
    """The HTTP client, keeping every request body the node receives and every response."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    def get(self, url: str, **kw: Any) -> Any:
        resp = self.client.get(url, **kw)
        self.sent.append(url.encode())
        self.received.append(resp.content)
        return resp

    def post(self, url: str, **kw: Any) -> Any:
        resp = self.client.post(url, **kw)
        self.sent.append(url.encode() + resp.request.content)
        self.received.append(resp.content)
        return resp


def _domain(value: str) -> dict[str, Any]:
    return {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}", "value": value}


@pytest.fixture
def keys(node: Node) -> dict[str, str]:
    store = with_secrets(node.store)
    out = dict(node.keys)
    for name in ("energy-2", "energy-3"):
        admin.add_org(store, name, OrgKind.COMPANY, "FR", ("energy",))
        admin.grant(store, "default", name, read=True, write=True)
        out[name] = admin.add_account(store, f"{name}-analyst", name, Role.CONTRIBUTOR)[1]
    post(store, "energy-co-analyst", [address(HIT), _domain(ONCE),
                                      {**address(RED), "object_marking_refs": [TLP2_MARKING_IDS[Tlp.RED]]}])
    post(store, "energy-2-analyst", [address(HIT)])
    post(store, "health-isac-analyst", [address(HIT), _domain("EVIL.example.")])  # normalised: same value
    return out


def test_counts_per_sector_and_a_clean_transcript(node: Node, keys: dict[str, str]) -> None:
    with TestClient(create_app(node.store)) as tc:
        rec = Recorder(tc)
        client = LookupClient("http://testserver", keys["energy-3"], client=rec)  # type: ignore[arg-type]
        got = client.query([HIT, ONCE, RED, NONE, HIT])
    # energy has three organisations on the node; health-care one, so it is folded into "other"
    assert got == [{"energy": 2, "other": 1}, {"energy": 1, "other": 1}, {}, {}, {"energy": 2, "other": 1}]
    seen_by_node = b"\n".join(rec.sent)
    for value in (HIT, ONCE, RED, NONE):
        for form in (value.encode(), hashlib.sha256(value.encode()).hexdigest().encode(),
                     base64.b64encode(oprf.to_point(value)), oprf.to_point(value)):
            assert form not in seen_by_node
    points = [p for body in rec.sent if b"points" in body for p in body.split(b'"')[1::2] if len(p) == 44]
    assert len(points) == 5 and len(set(points)) == 5  # the same value asked twice looks different
    with node.store.read() as tx:
        recorded = [raw for r, raw in tx.audit_records() if r.action == "lookup.evaluate"]
    assert len(recorded) == 1 and all(v.encode() not in recorded[0] for v in (HIT, ONCE, RED, NONE))


def test_the_owner_counts_nothing_of_its_own_and_red_stays_hidden(node: Node, keys: dict[str, str]) -> None:
    with TestClient(create_app(node.store)) as tc:
        as_owner = LookupClient("http://testserver", keys["energy-co"], client=tc).query([RED, HIT])  # type: ignore[arg-type]
        as_health = LookupClient("http://testserver", keys["health-isac"], client=tc).query([RED])  # type: ignore[arg-type]
    assert as_owner == [{}, {"energy": 1, "other": 1}] and as_health == [{}]


def test_budget_and_bad_points(node: Node, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "BUDGET", 3)
    with TestClient(create_app(node.store)) as tc:
        auth = {"Authorization": f"Bearer {keys['energy-3']}"}
        epoch = tc.get("/accord/lookup/default/default/table", headers=auth).json()["epoch"]
        url = "/accord/lookup/default/default/evaluate"
        point = base64.b64encode(oprf.blind("x").point).decode()
        assert tc.post(url, headers=auth, json={"epoch": epoch, "points": [point] * 3}).status_code == 200
        over = tc.post(url, headers=auth, json={"epoch": epoch, "points": [point]})
        assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
        other = {"Authorization": f"Bearer {keys['energy-2']}"}
        zero = base64.b64encode(bytes(32)).decode()  # a point of small order
        assert tc.post(url, headers=other, json={"epoch": epoch, "points": [zero]}).status_code == 400
        assert tc.post(url, headers=other, json={"epoch": epoch, "points": ["abc"]}).status_code == 400
        assert tc.post(url, headers=other, json={"epoch": epoch - 1, "points": [point]}).status_code == 409
        # JSON Schema's integers, as the OpenAPI description promises: 751.0 is one, true is not
        assert tc.post(url, headers=other, json={"epoch": epoch - 1.0, "points": [point]}).status_code == 409
        assert tc.post(url, headers=other, json={"epoch": True, "points": [point]}).status_code == 400
        assert tc.post(url, headers=other, json={"epoch": 2**64, "points": [point]}).status_code == 400
        assert tc.post(url, headers=other, json={"epoch": epoch, "points": [point] * 65}).status_code == 400
        assert tc.post(url, headers=other, content=b"{").status_code == 400
        outsider = {"Authorization": f"Bearer {keys['outsider']}"}
        assert tc.get("/accord/lookup/default/default/table", headers=outsider).status_code == 404
        assert tc.post(url, json={"epoch": epoch, "points": [point]}).status_code == 401
    with node.store.read() as tx:
        charged = [r.details for r, _ in tx.audit_records() if r.action == "lookup.evaluate"]
    assert [d["points"] for d in charged] == [3]


def test_the_budget_is_one_per_organisation_across_accounts_and_workers(
        node: Node, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two stores on one database stand for two API workers (or two processes): the window is in the
    database, so a second account of the same organisation, on the other worker, finds it spent;
    another organisation does not; the hour slides."""
    monkeypatch.setattr(lookup, "BUDGET", 5)
    store_a = node.store
    store_b = Store.open(store_a.engine.url.render_as_string(hide_password=False))
    store_b.secrets = store_a.secrets
    try:
        admin.add_account(store_a, "energy-co-second", "energy-co", Role.READER)
        second = admin.principal_for(store_a, "energy-co-second")
        first = admin.principal_for(store_a, "energy-co-analyst")
        other_org = admin.principal_for(store_a, "energy-2-analyst")
        assert second.org_id == first.org_id != other_org.org_id
        root = root_of(store_a)
        t0 = 1_800_000_000_000_000 + 3600 * 1_000_000  # an hour into an epoch (a UTC day)
        epoch = lookup.epoch_of(t0)

        def ask(store: Store, who: Any, n: int, at: int) -> dict[str, Any]:
            point = base64.b64encode(oprf.blind(f"guess-{at}-{n}").point).decode()
            return lookup.evaluate(store, who, root, "default", {"epoch": epoch, "points": [point] * n}, now=at)

        assert len(ask(store_a, first, 3, t0)["evaluated"]) == 3
        assert len(ask(store_b, second, 2, t0 + 1_000_000)["evaluated"]) == 2
        with pytest.raises(lookup.OverBudget) as over:
            ask(store_b, second, 1, t0 + 2_000_000)
        assert over.value.retry_after == 3600 - 2  # the first charge leaves the window then
        with pytest.raises(lookup.OverBudget):
            ask(store_a, first, 1, t0 + 3_000_000)
        assert len(ask(store_b, other_org, 5, t0 + 3_000_000)["evaluated"]) == 5
        # An hour after the first charge its 3 points are free again, the other 2 are not.
        assert len(ask(store_a, second, 3, t0 + 3600 * 1_000_000)["evaluated"]) == 3
        with pytest.raises(lookup.OverBudget):
            ask(store_b, first, 1, t0 + 3600 * 1_000_000 + 1)
    finally:
        store_b.close()
    with store_a.read() as tx:
        actions = [(r.action, r.details["points"]) for r, _ in tx.audit_records()
                   if r.action.startswith("lookup.")]
    assert actions == [("lookup.evaluate", 3), ("lookup.evaluate", 2), ("lookup.refused", 1),
                       ("lookup.refused", 1), ("lookup.evaluate", 5), ("lookup.evaluate", 3),
                       ("lookup.refused", 1)]


def test_the_prf_agrees_between_querier_and_holder() -> None:
    key = bytes(range(32))
    for item in ("a", HIT, "x" * 300):
        b = oprf.blind(item)
        assert oprf.finalize(b, oprf.evaluate(key, b.point)) == oprf.holder_value(key, item)
        assert oprf.finalize(b, oprf.evaluate(key, b.point)) != oprf.holder_value(key, item + ".")
