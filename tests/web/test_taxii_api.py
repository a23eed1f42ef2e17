"""The TAXII 2.1 API surface, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Node
from tests.stixgen import TAXII, envelope, indicator
from tests.web.conftest import BASE


def post(client: TestClient, node: Node, who: str, *objects: dict[str, Any]) -> dict[str, Any]:
    r = client.post(BASE + "/objects/", json=envelope(*objects),
                    headers={**node.auth(who), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    return body


def get(client: TestClient, node: Node, who: str, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers={**node.auth(who), "Accept": TAXII})


def test_discovery_api_root_and_collections(client: TestClient, node: Node) -> None:
    r = get(client, node, "energy-co", "/taxii2/")
    assert r.status_code == 200
    assert r.headers["content-type"] == TAXII
    assert r.json()["default"].endswith("/taxii2/default/")
    root = get(client, node, "energy-co", "/taxii2/default/").json()
    assert root["versions"] == [TAXII] and root["max_content_length"] > 0
    cols = get(client, node, "energy-co", "/taxii2/default/collections/").json()["collections"]
    assert [c["alias"] for c in cols] == ["default"]
    assert cols[0]["can_read"] and cols[0]["can_write"]
    one = get(client, node, "energy-co", f"/taxii2/default/collections/{cols[0]['id']}/").json()
    assert one == cols[0]


def test_outsider_sees_no_collection_at_all(client: TestClient, node: Node) -> None:
    assert get(client, node, "outsider", "/taxii2/default/collections/").json() == {}
    r = get(client, node, "outsider", BASE + "/objects/")
    assert r.status_code == 404
    assert r.json()["http_status"] == "404"


def test_add_then_get_status_objects_manifest_versions(client: TestClient, node: Node) -> None:
    v1 = indicator(1)
    v2 = indicator(1, modified="2026-02-01T00:00:00.000Z", name="updated")
    status = post(client, node, "energy-co", v1, v2)
    assert status["status"] == "complete" and status["success_count"] == 2 and status["failure_count"] == 0
    again = get(client, node, "energy-co", f"/taxii2/default/status/{status['id']}/").json()
    assert again == status
    objs = get(client, node, "health-isac", BASE + "/objects/").json()
    assert objs["objects"] == [v2] and objs["more"] is False
    everything = get(client, node, "health-isac", BASE + "/objects/", **{"match[version]": "all"}).json()
    assert everything["objects"] == [v1, v2]
    first = get(client, node, "health-isac", BASE + "/objects/", **{"match[version]": "first"}).json()
    assert first["objects"] == [v1]
    exact = get(client, node, "health-isac", BASE + "/objects/", **{"match[version]": v1["modified"]}).json()
    assert exact["objects"] == [v1]
    man = get(client, node, "health-isac", BASE + "/manifest/")
    assert man.headers["X-TAXII-Date-Added-First"] == man.json()["objects"][0]["date_added"]
    assert [(m["id"], m["version"]) for m in man.json()["objects"]] == [(v2["id"], v2["modified"])]
    vers = get(client, node, "health-isac", BASE + f"/objects/{v1['id']}/versions/").json()
    assert vers == {"more": False, "versions": [v1["modified"], v2["modified"]]}
    one = get(client, node, "health-isac", BASE + f"/objects/{v1['id']}/").json()
    assert one["objects"] == [v2]


def test_reposting_identical_object_is_not_an_error(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", indicator(5))
    status = post(client, node, "energy-co", indicator(5))
    assert status["success_count"] == 1 and status["failure_count"] == 0
    assert len(get(client, node, "energy-co", BASE + "/objects/", **{"match[version]": "all"}).json()["objects"]) == 1


def test_invalid_objects_fail_with_reason_and_valid_ones_are_stored(client: TestClient, node: Node) -> None:
    bad_pattern = indicator(2, pattern="[ipv4-addr:value = ")
    bad_id = indicator(3, object_id="malware--00000000-0000-4000-8000-000000000001")
    status = post(client, node, "energy-co", indicator(1), bad_pattern, bad_id, {"no": "type"}, "string")
    assert status["success_count"] == 1 and status["failure_count"] == 4
    messages = " | ".join(f["message"] for f in status["failures"])
    assert "invalid STIX pattern" in messages and "names type 'malware'" in messages
    assert "'type'" in messages and "JSON object" in messages
    stored = get(client, node, "energy-co", BASE + "/objects/").json()["objects"]
    assert [o["id"] for o in stored] == [indicator(1)["id"]]


def test_another_organisation_cannot_overwrite_or_delete(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", indicator(1))
    status = post(client, node, "health-isac", indicator(1, modified="2026-03-01T00:00:00.000Z"))
    # health-isac can read energy-co's indicator, so refusing a new version of it reveals nothing
    assert status["failure_count"] == 1 and "another organisation" in status["failures"][0]["message"]
    assert "success_count" not in status or status["success_count"] == 0
    r = client.delete(BASE + f"/objects/{indicator(1)['id']}/", headers={**node.auth("health-isac"), "Accept": TAXII})
    assert r.status_code == 403
    r = client.delete(BASE + f"/objects/{indicator(1)['id']}/", headers={**node.auth("energy-co"), "Accept": TAXII})
    assert r.status_code == 200
    assert get(client, node, "energy-co", BASE + f"/objects/{indicator(1)['id']}/").status_code == 404


def test_delete_one_version_keeps_the_others_and_fixes_latest(client: TestClient, node: Node) -> None:
    v1, v2 = indicator(1), indicator(1, modified="2026-02-01T00:00:00.000Z")
    post(client, node, "energy-co", v1, v2)
    r = client.delete(BASE + f"/objects/{v1['id']}/", params={"match[version]": v2["modified"]},
                      headers={**node.auth("energy-co"), "Accept": TAXII})
    assert r.status_code == 200
    assert get(client, node, "energy-co", BASE + "/objects/").json()["objects"] == [v1]


def test_reader_role_cannot_write(client: TestClient, node: Node) -> None:
    r = client.post(BASE + "/objects/", json=envelope(indicator(1)),
                    headers={**node.auth("energy-co-reader"), "Content-Type": TAXII, "Accept": TAXII})
    assert r.status_code == 403 and r.json()["http_status"] == "403"


def test_pagination_walks_every_object_once_while_objects_are_added(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", *[indicator(i) for i in range(25)])
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10}
    added = 25
    while True:
        page = get(client, node, "health-isac", BASE + "/objects/", **params)
        body = page.json()
        seen += [o["id"] for o in body.get("objects", [])]
        if added < 40:  # other partners keep adding while the walk goes on
            post(client, node, "energy-co", *[indicator(i) for i in range(added, added + 5)])
            added += 5
        if not body.get("more"):
            break
        params = {"limit": 10, "next": body["next"]}
    assert len(seen) == len(set(seen)) == 40


def test_added_after_and_date_added_headers(client: TestClient, node: Node) -> None:
    post(client, node, "energy-co", indicator(1), indicator(2))
    first = get(client, node, "energy-co", BASE + "/objects/", limit=1)
    last_seen = first.headers["X-TAXII-Date-Added-Last"]
    rest = get(client, node, "energy-co", BASE + "/objects/", added_after=last_seen).json()["objects"]
    assert [o["id"] for o in rest] == [indicator(2)["id"]]


def test_type_and_id_filters(client: TestClient, node: Node) -> None:
    malware = {"type": "malware", "spec_version": "2.1", "id": "malware--11111111-1111-4111-8111-111111111111",
               "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
               "name": "Industroyer", "is_family": True}
    post(client, node, "energy-co", indicator(1), indicator(2), malware)
    by_type = get(client, node, "energy-co", BASE + "/objects/", **{"match[type]": "malware"}).json()
    assert by_type["objects"] == [malware]
    ids = f"{indicator(1)['id']},{malware['id']}"
    by_id = get(client, node, "energy-co", BASE + "/objects/", **{"match[id]": ids}).json()
    assert {o["id"] for o in by_id["objects"]} == {indicator(1)["id"], malware["id"]}
    none = get(client, node, "energy-co", BASE + "/objects/", **{"match[spec_version]": "2.0"})
    assert none.status_code == 200 and none.json() == {}
