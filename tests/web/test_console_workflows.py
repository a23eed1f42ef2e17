"""Console workflows (issue 15): create and edit indicators with the pattern checked as you type and
on submit, and uploads of bundles and IOC lists in pieces with their progress."""

from __future__ import annotations

import re
import time
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.domain.errors import NotFound
from accord.domain.tlp import Tlp
from accord.services import admin
from accord.services.uploads import KEEP, Uploads
from accord.stix.timestamps import now_micros
from accord.store.uploads import UploadRow
from accord.web.app import create_app
from tests.conftest import Node, shared_data
from tests.stixgen import indicator
from tests.web.pages import HTML, csrf, post_objects, signed_in, taxii_get

GOOD = "[ipv4-addr:value = '198.51.100.7']"
FORM = {"name": "C2 server", "pattern": GOOD, "description": "Seen beaconing", "tlp": "TLP:GREEN",
        "confidence": "70", "valid_from": "", "collection": "default", "indicator_types": "malicious-activity"}


def test_the_pattern_endpoint_answers_the_validators_verdict(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        good = energy.get("/console/pattern", params={"pattern": GOOD}).json()
        bad = energy.get("/console/pattern", params={"pattern": "[ipv4-addr:value = "}).json()
        empty = energy.get("/console/pattern", params={"pattern": ""}).json()
        energy.cookies.clear()
        anonymous = energy.get("/console/pattern", params={"pattern": GOOD}, headers=HTML)
    assert good == {"valid": True, "errors": []}
    assert bad["valid"] is False and bad["errors"] and empty["valid"] is False
    assert anonymous.status_code == 303


def test_create_an_indicator_then_edit_it_into_a_new_version(node: Node) -> None:
    with signed_in(node, "energy-co") as energy:
        token = csrf(energy, "/indicators/new")
        r = energy.post("/indicators/new", data={"csrf": token, **FORM}, headers=HTML)
        assert r.status_code == 303, r.text
        object_id = r.headers["location"].removeprefix("/objects/")
        stored = taxii_get(energy, node, "health-isac", f"/objects/{object_id}/").json()["objects"][0]
        assert stored["pattern"] == GOOD and stored["confidence"] == 70 and stored["name"] == "C2 server"
        edit = energy.get(f"/indicators/{object_id}/edit", headers=HTML)
        assert edit.status_code == 200 and 'value="C2 server"' in edit.text
        r = energy.post(f"/indicators/{object_id}/edit", data={"csrf": token, **FORM, "name": "C2 server, sure",
                                                              "confidence": "95"}, headers=HTML)
        assert r.status_code == 303
        versions = taxii_get(energy, node, "energy-co", f"/objects/{object_id}/versions/").json()["versions"]
        page = energy.get(f"/objects/{object_id}", headers=HTML).text
    assert len(versions) == 2
    assert "C2 server, sure" in page and "<code>confidence</code>" in page


def test_only_the_producer_edits_and_a_hidden_one_is_not_found(node: Node) -> None:
    secret = indicator(8, tlp=Tlp.RED)
    shared = indicator(9, tlp=Tlp.GREEN)
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        post_objects(health, node, "health-isac", secret, shared)
        token = csrf(energy, "/indicators/new")
        assert energy.get(f"/indicators/{shared['id']}/edit", headers=HTML).status_code == 403
        hidden = energy.get(f"/indicators/{secret['id']}/edit", headers=HTML)
        unknown = energy.get("/indicators/indicator--99999999-9999-4999-8999-999999999999/edit", headers=HTML)
        post = energy.post(f"/indicators/{secret['id']}/edit", data={"csrf": token, **FORM}, headers=HTML)
    assert hidden.status_code == unknown.status_code == post.status_code == 404
    assert hidden.content == unknown.content


@pytest.mark.parametrize(("name", "value"), [
    ("pattern", "[ipv4-addr:value = "), ("pattern", ""), ("pattern", "x" * 5000), ("name", ""),
    ("tlp", "TLP:PURPLE"), ("confidence", "101"), ("confidence", "-1"), ("valid_from", "yesterday"),
    ("collection", "nope"), ("indicator_types", "<script>alert(1)</script>"), ("name", "a\x00b"),
])
def test_bad_input_gets_a_message_next_to_its_field(node: Node, name: str, value: str) -> None:
    with signed_in(node, "energy-co") as energy:
        r = energy.post("/indicators/new", data={"csrf": csrf(energy, "/indicators/new"), **FORM, name: value},
                        headers=HTML)
    assert r.status_code == 400
    assert f'id="{name}-error"' in r.text and re.search(rf'aria-describedby="[^"]*{name}-error', r.text)
    assert "<script>alert(1)" not in r.text


def test_a_reader_may_not_create(node: Node) -> None:
    with signed_in(node, "energy-co-reader") as reader:
        r = reader.post("/indicators/new", data={"csrf": csrf(reader, "/indicators/new"), **FORM}, headers=HTML)
    assert r.status_code == 400 and 'id="collection-error"' in r.text


# --- uploads ----------------------------------------------------------------------------------------

def _wait(c: TestClient, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status: dict[str, Any] = c.get(f"/upload/{job}/status").json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError("the upload did not finish")


def _in_pieces(c: TestClient, data: bytes, name: str, kind: str = "auto", piece: int = 512 * 1024) -> str:
    token = csrf(c, "/upload")
    started = c.post("/upload/start", data={"csrf": token, "kind": kind, "collection": "default", "tlp": "TLP:GREEN",
                                            "name": name, "size": str(len(data))})
    assert started.status_code == 201, started.text
    job: str = started.json()["job"]
    for offset in range(0, len(data), piece):
        r = c.post(f"/upload/{job}/piece", content=data[offset:offset + piece],
                   headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
    assert c.post(f"/upload/{job}/finish", headers={"X-CSRF-Token": token}).status_code == 202
    return job


def test_attack_for_ics_in_pieces_with_its_progress(node: Node) -> None:
    raw = shared_data("attack", "ics-attack-18.0.json").read_bytes()
    total = len(orjson.loads(raw)["objects"])
    with signed_in(node, "energy-co") as energy:
        job = _in_pieces(energy, raw, "ics-attack-18.0.json")
        seen = []
        while (status := energy.get(f"/upload/{job}/status").json())["state"] == "storing":
            seen.append(status["done"])
            time.sleep(0.05)
        status = _wait(energy, job)
        page = energy.get(f"/upload/{job}", headers=HTML).text
    assert status["total"] == total and status["done"] == total
    assert status["received"] == len(raw) and status["pieces"] == -(-len(raw) // (512 * 1024))
    assert status["stored"] + status["failed"] == total and status["stored"] > 1500
    assert seen == sorted(seen)  # the progress only moves forward
    assert f'<progress id="job-progress" max="{total}" value="{total}"' in page


def test_an_ioc_list_without_javascript(node: Node) -> None:
    data = b"# our list\n198.51.100.7\nevil.example\nnot an ioc at all\n"
    with signed_in(node, "energy-co") as energy:
        r = energy.post("/upload", data={"csrf": csrf(energy, "/upload"), "kind": "list", "collection": "default",
                                         "tlp": "TLP:GREEN"}, files={"file": ("iocs.txt", data, "text/plain")},
                        headers=HTML)
        assert r.status_code == 303
        job = r.headers["location"].removeprefix("/upload/")
        status = _wait(energy, job)
        page = energy.get(f"/upload/{job}", headers=HTML).text
    assert status["stored"] == 2 and status["failed"] == 1
    assert "line 4" in page


def test_bad_uploads_get_messages_never_a_500(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as other:
        token = csrf(energy, "/upload")
        no_file = energy.post("/upload", data={"csrf": token, "kind": "auto", "collection": "default",
                                               "tlp": "TLP:GREEN"}, headers=HTML)
        assert no_file.status_code == 400 and 'id="file-error"' in no_file.text
        bad_kind = energy.post("/upload/start", data={"csrf": token, "kind": "<x>", "collection": "default",
                                                      "tlp": "TLP:GREEN", "name": "a", "size": "10"})
        assert bad_kind.status_code == 400 and bad_kind.json()["field"] == "kind"
        huge = energy.post("/upload/start", data={"csrf": token, "kind": "auto", "collection": "default",
                                                  "tlp": "TLP:GREEN", "name": "a", "size": str(10**12)})
        assert huge.status_code == 400 and huge.json()["field"] == "file"
        job = _in_pieces(energy, b'{"type": "bundle", "objects": "no"}', "x.json")
        assert _wait(energy, job)["state"] == "failed"
        job = _in_pieces(energy, b"\xff\xfe\x00 not json", "x.json")
        assert "not valid JSON" in _wait(energy, job)["error"]
        started = energy.post("/upload/start", data={"csrf": token, "kind": "auto", "collection": "default",
                                                     "tlp": "TLP:GREEN", "name": "a.txt", "size": "4"}).json()
        too_much = energy.post(f"/upload/{started['job']}/piece", content=b"12345",
                               headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"})
        assert too_much.status_code == 400
        early = energy.post(f"/upload/{started['job']}/finish", headers={"X-CSRF-Token": token})
        assert early.status_code == 400
        forged = energy.post(f"/upload/{started['job']}/piece", content=b"1234")
        assert forged.status_code == 403
        # another account's upload does not exist for it
        assert other.get(f"/upload/{started['job']}/status").status_code == 404
        assert other.get(f"/upload/{started['job']}", headers=HTML).status_code == 404


def test_an_upload_whose_pieces_reach_two_workers(node: Node) -> None:
    """Two applications on one store stand for two API workers behind one address: the pieces go to
    both in turn, the finish to one, the progress is read from the other."""
    raw = b"\n".join(f"198.51.{i // 250}.{i % 250 + 1}".encode() for i in range(1000))
    with signed_in(node, "energy-co") as first, TestClient(create_app(node.store, HttpSettings(
            public_url="http://testserver")), raise_server_exceptions=False, follow_redirects=False) as second:
        second.cookies.update(first.cookies)
        token = csrf(first, "/upload")
        started = second.post("/upload/start", data={"csrf": token, "kind": "list", "collection": "default",
                                                     "tlp": "TLP:GREEN", "name": "iocs.txt", "size": str(len(raw))})
        assert started.status_code == 201, started.text
        job = started.json()["job"]
        for n, offset in enumerate(range(0, len(raw), 4096)):
            worker = (first, second)[n % 2]
            r = worker.post(f"/upload/{job}/piece", content=raw[offset:offset + 4096],
                            headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"})
            assert r.status_code == 200, r.text
        assert first.post(f"/upload/{job}/finish", headers={"X-CSRF-Token": token}).status_code == 202
        again = second.post(f"/upload/{job}/finish", headers={"X-CSRF-Token": token})
        status = _wait(second, job)
    assert again.status_code == 400 and "already" in again.json()["error"]
    assert status["state"] == "done" and status["stored"] == 1000 and status["pieces"] == -(-len(raw) // 4096)
    with node.store.read() as tx:
        assert tx.upload_data(job) == b""  # the bytes are not kept once stored


def test_a_job_whose_worker_stopped_is_reported_failed_and_old_jobs_are_forgotten(node: Node) -> None:
    principal = admin.principal_for(node.store, "energy-co-analyst")
    uploads = Uploads(node.store)
    job = uploads.start(principal, "iocs.txt", "list", "default", Tlp.GREEN, 4)
    uploads.append(principal, job.id, b"1234")
    with node.store.write() as tx:  # storing, in a worker that then stopped, 11 minutes ago
        assert tx.move_upload(job.id, "receiving", now_micros() - 11 * 60 * 1_000_000, state="storing")
    failed = uploads.get(principal, job.id)
    assert failed.state == "failed" and "stopped while storing" in failed.error
    with node.store.read() as tx:
        assert tx.upload_data(job.id) == b""
    finished = [uploads.start(principal, f"{n}.txt", "list", "default", Tlp.GREEN, 1) for n in range(KEEP + 3)]
    with node.store.write() as tx:
        for j in finished:
            tx.move_upload(j.id, "receiving", now_micros(), state="done")
        old = UploadRow("old-job", principal.account_id, "x", "list", "default", "TLP:GREEN", 1, 0, 0, "receiving",
                        0, 0, 0, 0, "[]", "", 0, 0)
        tx.add_upload(old)
    uploads.start(principal, "new.txt", "list", "default", Tlp.GREEN, 1)
    with node.store.read() as tx:
        kept = [j.id for j in finished if tx.upload(j.id) is not None]
        assert tx.upload("old-job") is None  # untouched for a day: forgotten
    assert len(kept) == KEEP and kept == [j.id for j in finished][-KEEP:]
    with pytest.raises(NotFound):
        uploads.get(admin.principal_for(node.store, "health-isac-analyst"), job.id)


def test_the_producer_revokes_its_indicator_and_nobody_else_can(node: Node) -> None:
    with signed_in(node, "energy-co") as energy, signed_in(node, "health-isac") as health:
        token = csrf(energy, "/indicators/new")
        r = energy.post("/indicators/new", data={"csrf": token, **FORM}, headers=HTML)
        object_id = r.headers["location"].removeprefix("/objects/")
        assert f'action="/indicators/{object_id}/revoke"' in energy.get(f"/indicators/{object_id}/edit",
                                                                        headers=HTML).text
        other = health.post(f"/indicators/{object_id}/revoke", data={"csrf": csrf(health)}, headers=HTML)
        forged = energy.post(f"/indicators/{object_id}/revoke", data={"csrf": "0" * 64}, headers=HTML)
        r = energy.post(f"/indicators/{object_id}/revoke", data={"csrf": token}, headers=HTML)
        assert r.status_code == 303 and r.headers["location"] == f"/objects/{object_id}?revoked=1"
        page = energy.get(r.headers["location"], headers=HTML).text
        seen = taxii_get(health, node, "health-isac", f"/objects/{object_id}/").json()["objects"][0]
        again = energy.post(f"/indicators/{object_id}/revoke", data={"csrf": token}, headers=HTML)
        edit = energy.get(f"/indicators/{object_id}/edit", headers=HTML)
        save = energy.post(f"/indicators/{object_id}/edit", data={"csrf": token, **FORM}, headers=HTML)
        versions = taxii_get(energy, node, "energy-co", f"/objects/{object_id}/versions/").json()["versions"]
    assert other.status_code == 403 and forged.status_code == 403
    assert seen["revoked"] is True and seen["name"] == "C2 server"
    assert 'role="status">Revoked' in page and f"/indicators/{object_id}/edit" not in page
    assert again.status_code == edit.status_code == save.status_code == 409
    assert len(versions) == 2
