"""MISP events and feeds stored through the TAXII add_objects path, on SQLite and PostgreSQL."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from accord.domain.tlp import Tlp, tlp_of
from accord.interop.misp import feed as feeds
from accord.interop.misp import load
from accord.services import admin
from accord.services import objects as svc
from accord.store.objects import ObjectFilter
from accord.store.repository import Store
from tests.conftest import Node, shared_data
from tests.interop.misp_events import CIRCL, ICS_ISAC, as_dict, event, sighting, write_feed
from tests.unit.test_cli_admin import run


def _as(store: Store, account: str) -> Any:
    return admin.principal_for(store, account)


def _read(store: Store, account: str, types: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    with store.read() as tx:
        col = tx.find_collection(None, "default")
        root = next(r for r in tx.list_api_roots() if r.id == col.api_root_id)
    return {o["id"]: o for o in svc.readable_objects(store, _as(store, account), root, col.uuid,
                                                    ObjectFilter(types=types), "test")}


def _load(node: Node, account: str, *events: dict[str, Any], **kw: Any) -> load.Loaded:
    items = [(f"event-{n}.json", json.dumps(e).encode()) for n, e in enumerate(events)]
    return load.load_events(node.store, _as(node.store, account), "default", items, **kw)


def test_an_event_is_stored_under_its_markings(node: Node) -> None:
    e = event(tlp="tlp:green", distribution=3)
    e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    e.add_attribute("domain", "evil.example", to_ids=True).add_tag("tlp:red")
    done = _load(node, "energy-co-analyst", as_dict(e))
    assert done.problems == [] and done.stored == done.objects > 0 and done.attributes == 2
    mine = _read(node.store, "energy-co-analyst")
    theirs = _read(node.store, "health-isac-analyst")
    red = {i for i, o in mine.items() if tlp_of(o["object_marking_refs"]) is Tlp.RED}
    assert {o["type"] for i, o in mine.items() if i in red} >= {"indicator", "domain-name", "observed-data"}
    assert set(theirs) == set(mine) - red
    with node.store.read() as tx:
        assert any(r.action == "taxii.add_objects" for r, _ in tx.audit_records())


def test_sharing_groups_map_to_accord_groups(node: Node) -> None:
    admin.create_group(node.store, "grid-operators")
    admin.set_group_member(node.store, "grid-operators", "health-isac", True)
    e = as_dict(event(tlp="tlp:amber"))
    e["Event"]["Attribute"] = [
        {"type": "ip-dst", "value": "198.51.100.7", "to_ids": True, "uuid": "72dbd609-672a-4e38-a4b6-ff876705c35c",
         "distribution": "4", "sharing_group_id": "3", "SharingGroup": {"name": "grid-operators"}},
        {"type": "ip-dst", "value": "198.51.100.8", "to_ids": True, "uuid": "82dbd609-672a-4e38-a4b6-ff876705c35c",
         "distribution": "4", "sharing_group_id": "4", "SharingGroup": {"name": "unknown-here"}}]
    done = _load(node, "energy-co-analyst", e)
    assert done.problems == []
    assert any("'unknown-here' is not a group here" in n for n in done.notes)
    isac = _read(node.store, "health-isac-analyst", ("indicator",))
    assert set(isac) == {"indicator--72dbd609-672a-4e38-a4b6-ff876705c35c"}  # the group's member; not the unknown
    assert set(_read(node.store, "energy-co-analyst", ("indicator",))) == {
        "indicator--72dbd609-672a-4e38-a4b6-ff876705c35c", "indicator--82dbd609-672a-4e38-a4b6-ff876705c35c"}
    admin.add_account(node.store, "energy-co-2", "energy-co", admin.Role.READER)
    # the host organisation reads AMBER, but not what a group it is not in holds
    assert "indicator--72dbd609-672a-4e38-a4b6-ff876705c35c" not in _read(node.store, "admin", ("indicator",))


def test_sightings_of_two_organisations_corroborate(node: Node, tmp_path: Path) -> None:
    """Each MISP sighting is its organisation's: two of them on one indicator corroborate it (the
    federation runtime, which a serving node runs, records who sighted what)."""
    from accord.federation.runtime import install

    install(node.store, tmp_path)
    e = event()
    a = e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    a.sightings.append(sighting(CIRCL))
    a.sightings.append(sighting(ICS_ISAC, when=1_700_000_100))
    assert _load(node, "energy-co-analyst", as_dict(e)).problems == []
    with node.store.read() as tx:
        assert sorted(tx.sighted_by([f"indicator--{a.uuid}"])[f"indicator--{a.uuid}"]) == [
            f"identity--{CIRCL[1]}", f"identity--{ICS_ISAC[1]}"]


def test_a_reimport_stores_nothing_new(node: Node) -> None:
    e = event()
    e.add_attribute("ip-dst", "198.51.100.7", to_ids=True, timestamp=1_700_000_000)
    first = _load(node, "energy-co-analyst", as_dict(e))
    before = len(_read(node.store, "energy-co-analyst"))
    again = _load(node, "energy-co-analyst", as_dict(e))
    assert first.problems == again.problems == []
    assert len(_read(node.store, "energy-co-analyst")) == before


def test_attack_techniques_refer_to_the_attack_objects_held(node: Node, tmp_path: Path) -> None:
    """With ATT&CK for ICS loaded, a cluster "... - T0855" refers to ATT&CK's own attack-pattern."""
    bundle = json.loads(shared_data("attack", "ics-attack-18.0.json").read_text())
    stored, _ = admin.load_bundle(node.store, _as(node.store, "admin"), "default", bundle["objects"])
    assert stored
    t0855 = next(o for o in bundle["objects"] if o["type"] == "attack-pattern" and any(
        r.get("external_id") == "T0855" for r in o.get("external_references", [])))
    e = as_dict(event())
    e["Event"]["Attribute"] = [{"type": "ip-dst", "value": "198.51.100.7", "to_ids": True,
                                "uuid": "72dbd609-672a-4e38-a4b6-ff876705c35c"}]
    e["Event"]["Galaxy"] = [{"type": "mitre-attack-pattern", "name": "Attack Pattern", "GalaxyCluster": [
        {"type": "mitre-attack-pattern", "value": "Unauthorized Command Message - T0855",
         "uuid": "0d39fbd4-2c6f-4a9f-9d8e-1c9f3a1e6b55"}]}]
    done = _load(node, "energy-co-analyst", e)
    assert done.problems == []
    mine = _read(node.store, "energy-co-analyst", ("grouping",))
    grouping = next(iter(mine.values()))
    assert t0855["id"] in grouping["object_refs"]
    assert "attack-pattern--0d39fbd4-2c6f-4a9f-9d8e-1c9f3a1e6b55" not in _read(node.store, "energy-co-analyst")


def test_warninglist_hits_are_flagged(node: Node) -> None:
    from accord.sensor import warninglists

    benign = warninglists.Benign(warninglists.load(shared_data("misp-warninglists")))
    e = event()
    e.add_attribute("ip-dst", "8.8.8.8", to_ids=True)
    e.add_attribute("domain", "c2.evil-example-unlisted.xyz", to_ids=True)
    done = _load(node, "energy-co-analyst", as_dict(e), benign=benign)
    assert done.flagged == 1
    labels = {o["name"] if "name" in o else o["pattern"]: o.get("labels", [])
              for o in _read(node.store, "energy-co-analyst", ("indicator",)).values()}
    flagged = [k for k, v in labels.items() if any(x.startswith("misp-warninglist:") for x in v)]
    assert len(flagged) == 1 and "8.8.8.8" in flagged[0]


# --- feeds ---------------------------------------------------------------------------------------

def _feed_events() -> list[Any]:
    out = []
    for n in range(3):
        e = event(f"campaign {n}", tlp=["tlp:clear", "tlp:green", "tlp:red"][n], distribution=None,
                  timestamp=1_700_000_000 + n)
        e.add_attribute("ip-dst", f"198.51.100.{n + 1}", to_ids=True)
        e.add_attribute("url", f"http://evil{n}.example/gate.php", to_ids=True)
        out.append(e)
    return out


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A MISP feed on a plain static http.server on loopback (as a web server serves MISP feeds)."""
    root = write_feed(tmp_path / "feed", _feed_events())
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("over", ["directory", "http"])
def test_a_feed_is_imported(node: Node, served: tuple[Path, str], over: str) -> None:
    root, url = served
    done = load.load_feed(node.store, _as(node.store, "energy-co-analyst"), "default",
                          str(root) if over == "directory" else url)
    assert done.problems == [] and done.events == 3 and done.attributes == 6 and done.hashes == 6
    assert len(done.timestamps) == 3
    others = _read(node.store, "health-isac-analyst", ("indicator",))
    assert len(_read(node.store, "energy-co-analyst", ("indicator",))) == 6
    assert {tlp_of(o["object_marking_refs"]) for o in others.values()} == {Tlp.CLEAR, Tlp.GREEN}
    again = load.load_feed(node.store, _as(node.store, "energy-co-analyst"), "default", url, since=done.timestamps)
    assert again.events == 0 and again.problems == []


def test_a_broken_feed_event_is_reported_and_the_rest_loaded(node: Node, tmp_path: Path) -> None:
    events = _feed_events()
    root = write_feed(tmp_path / "feed", events)
    (root / f"{events[0].uuid}.json").write_text("{ truncated")
    (root / f"{events[1].uuid}.json").unlink()
    done = load.load_feed(node.store, _as(node.store, "energy-co-analyst"), "default", str(root))
    assert done.events == 1
    assert [p.split(": ")[0].rsplit("/", 1)[-1] for p in done.problems] == [
        f"{events[0].uuid}.json", f"{events[1].uuid}.json"]


@pytest.mark.parametrize(("manifest", "why"), [
    ('{"../../../etc/passwd": {}}', "is not an event uuid"), ("[1, 2]", "not a MISP feed manifest"),
    ("{", "not valid JSON"), ('{"2B4C92BF-5FE4-430D-8E11-D5B52F45C20A": {}}', "is not an event uuid"),
])
def test_hostile_manifests_are_refused(node: Node, tmp_path: Path, manifest: str, why: str) -> None:
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(feeds.FeedError, match=why):
        load.load_feed(node.store, _as(node.store, "energy-co-analyst"), "default", str(tmp_path))
    assert _read(node.store, "energy-co-analyst") == {}


def test_an_unreachable_feed_is_an_error(node: Node) -> None:
    with pytest.raises(feeds.FeedError, match="127.0.0.1:9/manifest.json"):
        load.load_feed(node.store, _as(node.store, "energy-co-analyst"), "default", "http://127.0.0.1:9/")


# --- the command line ----------------------------------------------------------------------------

def test_accord_load_takes_events_and_feeds(tmp_path: Path, served: tuple[Path, str]) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    e = event()
    e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(as_dict(e)))
    raw = run("load", str(path), *d)
    assert raw["events"] == 1 and raw["failed"] == 0 and raw["stored"] == raw["objects"]
    raw = run("load", "--misp-feed", served[1], *d)
    assert raw["events"] == 3 and raw["failed"] == 0
    broken = as_dict(e)
    broken["Event"]["Attribute"].append({"type": "ip-dst", "uuid": "nope", "value": "1.2.3.4"})
    path.write_text(json.dumps(broken))
    raw = run("load", str(path), *d, ok=False)
    assert raw["problems"] == [f"{path}: event {e.uuid}: attribute 1 (nope): no valid uuid"]
    assert "only for IOC lists" in run("load", str(path), "--tlp", "red", *d, ok=False)
    listed = tmp_path / "list.txt"
    listed.write_text("198.51.100.7\n")
    assert "only for MISP events and feeds" in run("load", str(listed), "--misp-group", "a=b", *d, ok=False)
    assert "MISP_GROUP=GROUP" in run("load", str(path), "--misp-group", "nonsense", *d, ok=False)
    assert "no sharing group 'nope'" in run("load", str(path), "--misp-group", "a=nope", *d, ok=False)


def test_accord_load_records_sightings_for_corroboration(tmp_path: Path) -> None:
    """As the server does: a MISP event's sightings by two organisations make the indicator corroborated."""
    from accord.config import Settings

    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    e = event()
    a = e.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    a.sightings.append(sighting(CIRCL))
    a.sightings.append(sighting(ICS_ISAC, when=1_700_000_100))
    path = tmp_path / "event.json"
    path.write_text(json.dumps(as_dict(e)))
    assert run("load", str(path), *d)["failed"] == 0
    store = Store.open(f"sqlite:///{Settings.from_env(d[1]).db_path}")
    try:
        with store.read() as tx:
            assert len(tx.sighted_by([f"indicator--{a.uuid}"])[f"indicator--{a.uuid}"]) == 2
    finally:
        store.close()
    assert "give a file to load" in run("load", *d, ok=False)


def test_hostile_http_feeds_are_bounded(node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event that redirects elsewhere or is larger than the limit is reported; the rest loads."""
    events = _feed_events()
    root = write_feed(tmp_path / "feed", events)
    monkeypatch.setattr(feeds, "MAX_EVENT_BYTES", 4096)
    (root / f"{events[1].uuid}.json").write_text(json.dumps({"Event": {"uuid": events[1].uuid, "info": "x" * 5000}}))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == f"/{events[0].uuid}.json":
                self.send_response(302)
                self.send_header("Location", "http://198.51.100.1/elsewhere.json")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = load.load_feed(node.store, _as(node.store, "energy-co-analyst"), "default",
                              f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert done.events == 1
    assert [p.rsplit(": ", 1)[-1] for p in done.problems] == ["HTTP 302", "larger than 4096 bytes"]
