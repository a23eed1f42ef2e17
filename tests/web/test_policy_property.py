"""Property: over random organisations, groups, markings and queries, no read path returns or reveals
an object that docs/sharing.md forbids. The oracle below restates the document independently of
``accord.domain.sharing``."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.services import admin
from accord.store.migrate import upgrade
from accord.store.repository import Store
from accord.web.app import create_app
from tests.stixgen import TAXII, indicator

ORGS = ["org-a", "org-b", "org-c", "org-d"]
GROUPS = ["g1", "g2"]
BASE = "/taxii2/default/collections/default"


def oracle(reader: str, owner: str, tlp: Tlp | None, groups: set[str], members: dict[str, set[str]]) -> bool:
    """docs/sharing.md: owner always; a group restricts to its members; RED needs a group; else yes."""
    if reader == owner:
        return True
    if groups:
        return any(reader in members[g] for g in groups)
    return tlp is not Tlp.RED


object_spec = st.tuples(st.sampled_from(ORGS), st.one_of(st.none(), st.sampled_from(list(Tlp))),
                        st.sets(st.sampled_from(GROUPS), max_size=2))
world = st.fixed_dictionaries({
    "members": st.fixed_dictionaries({g: st.sets(st.sampled_from(ORGS)) for g in GROUPS}),
    "readers": st.sets(st.sampled_from(ORGS), min_size=1),
    "objects": st.lists(object_spec, min_size=1, max_size=8),
    "limit": st.integers(1, 4),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world)
def test_no_read_path_reveals_a_forbidden_object(w: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'a.db'}")
        upgrade(store.engine)
        admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE")
        keys: dict[str, str] = {}
        for org in ORGS:
            admin.add_org(store, org, OrgKind.COMPANY, "FR", ())
            # every org may write; only the sampled readers (and owners, who wrote) may read
            admin.grant(store, "default", org, read=org in w["readers"], write=True)
            keys[org] = admin.add_account(store, org + "-user", org, Role.CONTRIBUTOR)[1]
        markings = {g: admin.create_group(store, g) for g in GROUPS}
        for g, orgs in w["members"].items():
            for org in orgs:
                admin.set_group_member(store, g, org, True)
        expected: dict[str, tuple[str, Tlp | None, set[str]]] = {}
        with TestClient(create_app(store)) as client:
            for n, (owner, tlp, groups) in enumerate(w["objects"]):
                obj = indicator(n, tlp=tlp, markings=tuple(markings[g] for g in sorted(groups)),
                                object_id=f"indicator--{uuid.uuid4()}")
                r = client.post(BASE + "/objects/", json={"objects": [obj]},
                                headers={"Authorization": f"Bearer {keys[owner]}", "Content-Type": TAXII})
                assert r.status_code == 202 and r.json()["success_count"] == 1
                expected[obj["id"]] = (owner, tlp, groups)
            for reader in ORGS:
                h = {"Authorization": f"Bearer {keys[reader]}", "Accept": TAXII}
                allowed = {i for i, (owner, tlp, groups) in expected.items()
                           if reader in w["readers"] and oracle(reader, owner, tlp, groups, w["members"])}
                for path in ("/objects/", "/manifest/"):
                    seen: list[str] = []
                    params: dict[str, Any] = {"limit": w["limit"]}
                    for _ in range(50):
                        r = client.get(BASE + path, params=params, headers=h)
                        if reader not in w["readers"]:
                            assert r.status_code == 403
                            break
                        body = r.json()
                        seen += [o["id"] for o in body.get("objects", [])]
                        if not body.get("objects"):
                            assert "X-TAXII-Date-Added-First" not in r.headers
                        if not body.get("more"):
                            break
                        params = {"limit": w["limit"], "next": body["next"]}
                    if reader in w["readers"]:
                        assert sorted(seen) == sorted(allowed), path
                for object_id in expected:
                    one = client.get(f"{BASE}/objects/{object_id}/", headers=h)
                    versions = client.get(f"{BASE}/objects/{object_id}/versions/", headers=h)
                    if object_id in allowed:
                        assert one.status_code == 200 and one.json()["objects"][0]["id"] == object_id
                        assert versions.status_code == 200
                    else:  # never 200, and never a different answer for "exists but hidden" vs "absent"
                        absent = f"indicator--{uuid.uuid4()}"
                        missing = client.get(f"{BASE}/objects/{absent}/", headers=h)
                        assert one.status_code == missing.status_code in (403, 404)
                        assert versions.status_code == missing.status_code
                        assert one.text.replace(object_id, "X") == missing.text.replace(absent, "X")
        store.close()


def test_oracle_matches_tlp_markings() -> None:
    assert TLP2_MARKING_IDS[Tlp.RED].startswith("marking-definition--")
    members = {"g1": {"org-b"}, "g2": set()}
    assert oracle("org-b", "org-a", Tlp.RED, {"g1"}, members)
    assert not oracle("org-c", "org-a", Tlp.RED, {"g1"}, members)
    assert not oracle("org-b", "org-a", Tlp.RED, set(), members)
    assert oracle("org-b", "org-a", None, set(), members)
