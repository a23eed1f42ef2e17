"""Issue 19 and trust defect 3 against a real ``accord serve`` process: the OASIS taxii2-client
parses what goes over the wire, and a HEAD with a body goes through uvicorn itself."""

from __future__ import annotations

import httpx
import orjson
import pytest
from taxii2client.v21 import ApiRoot, Status

from tests.e2e.nodeproc import NodeProcess
from tests.stixgen import TAXII, envelope, indicator
from tests.web.test_conformance import STIX, empty_lists

pytestmark = pytest.mark.e2e


def test_statuses_media_types_and_head_over_the_wire(running: NodeProcess) -> None:
    assert running.admin_key
    root = ApiRoot(f"{running.url}/taxii2/default/", user="admin", password=running.admin_key)
    collection = root.collections[0]
    status = collection.add_objects({"objects": [indicator(1), indicator(2)]})
    polled = Status(f"{running.url}/taxii2/default/status/{status.id}/", user="admin", password=running.admin_key)
    assert status.success_count == 2 and empty_lists(status._raw) == [] and polled._raw == status._raw

    assert collection.media_types == [STIX]
    records = collection.get_manifest()["objects"]
    assert len(records) == 2 and all(r["media_type"] in collection.media_types for r in records)

    headers = {"Authorization": f"Bearer {running.admin_key}", "Content-Type": TAXII, "Accept": TAXII}
    r = httpx.request("HEAD", f"{running.url}/taxii2/default/collections/default/objects/", headers=headers,
                      content=orjson.dumps(envelope(indicator(3))))
    assert r.status_code == 200 and r.content == b""
    assert {o["id"] for o in collection.get_objects()["objects"]} == {indicator(1)["id"], indicator(2)["id"]}
