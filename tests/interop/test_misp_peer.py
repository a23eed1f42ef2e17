"""``accord peer add NAME URL --misp-feed``: a MISP feed on a loopback static server, pulled
incrementally (ETag, then the manifest's timestamps), its failures in ``accord sync status``."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from accord.interop.misp import peer as misp_peer
from tests.interop.misp_events import event, write_feed
from tests.unit.test_cli_admin import run


class _StaticWithETag(http.server.SimpleHTTPRequestHandler):
    """A static file server that gives a strong ETag and answers If-None-Match (as nginx does)."""

    requests: list[str]
    authorizations: set[str | None]

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        self.requests.append(self.path)
        self.authorizations.add(self.headers.get("Authorization"))
        if path.is_file():
            etag = '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self._etag = etag
        return super().send_head()

    def end_headers(self) -> None:
        if getattr(self, "_etag", None):
            self.send_header("ETag", self._etag)
            self._etag = None
        super().end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


AUTHORIZATIONS: set[str | None] = set()


@pytest.fixture
def feed_server(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    root = tmp_path / "feed"
    root.mkdir()
    requests: list[str] = []
    handler = partial(type("H", (_StaticWithETag,), {"requests": requests, "authorizations": AUTHORIZATIONS}),
                      directory=str(root))
    AUTHORIZATIONS.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _events(n: int, at: int = 1_700_000_000) -> list[Any]:
    out = []
    for i in range(n):
        e = event(f"campaign {i}", timestamp=at + i, distribution=None)
        e.add_attribute("ip-dst", f"198.51.100.{i + 1}", to_ids=True)
        out.append(e)
    return out


def _status(d: list[str]) -> dict[str, Any]:
    rows = run("sync", "status", "--no-check", *d)
    return next(r for r in rows if r["peer"] == "circl")


def test_a_misp_feed_peer_is_pulled_incrementally(tmp_path: Path, feed_server: tuple[Path, str, list[str]]) -> None:
    root, url, requests = feed_server
    events = _events(2)
    write_feed(root, events)
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    added = run("peer", "add", "circl", url, "--misp-feed", "--credential", "Authorization: misp-key-1", *d)
    assert added["peer"] == "circl"
    assert run("peer", "list", *d)[0]["kind"] == "misp"

    assert run("sync", "pull", "circl", *d) == {"received": 2, "refused": 0}
    assert sorted(requests) == sorted(["/manifest.json", *(f"/{e.uuid}.json" for e in events)])
    assert {"misp-key-1"} == AUTHORIZATIONS  # the feed's custom header, as MISP sends it
    status = _status(d)
    assert status["kind"] == "misp" and status["last_error"] is None and status["last_ok"]

    requests.clear()  # unchanged: one conditional request, answered 304
    assert run("sync", "pull", "circl", *d) == {"received": 0, "refused": 0}
    assert requests == ["/manifest.json"]

    requests.clear()  # a new event and a changed one: only those two are fetched
    newer = _events(1, at=1_800_000_000)[0]
    events[0].timestamp = 1_800_000_001
    events[0].add_attribute("domain", "evil.example", to_ids=True)
    write_feed(root, [*events, newer])
    assert run("sync", "pull", "circl", *d) == {"received": 2, "refused": 0}
    assert sorted(requests) == sorted(["/manifest.json", f"/{events[0].uuid}.json", f"/{newer.uuid}.json"])


def test_failures_show_in_sync_status_and_are_retried(tmp_path: Path,
                                                      feed_server: tuple[Path, str, list[str]]) -> None:
    root, url, requests = feed_server
    events = _events(2)
    write_feed(root, events)
    broken = root / f"{events[1].uuid}.json"
    good = broken.read_text()
    broken.write_text('{"Event": {"uuid": "not-a-uuid"}}')
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    run("peer", "add", "circl", url, "--misp-feed", *d)
    assert run("sync", "pull", "circl", *d) == {"received": 1, "refused": 1}
    error = _status(d)["last_error"]
    assert error.startswith("misp feed: 1 problem(s)") and f"{events[1].uuid}.json" in error

    requests.clear()  # the broken event is asked for again (no ETag kept), the loaded one is not
    broken.write_text(good)
    assert run("sync", "pull", "circl", *d) == {"received": 1, "refused": 0}
    assert sorted(requests) == sorted(["/manifest.json", f"/{events[1].uuid}.json"])
    assert _status(d)["last_error"] is None

    (root / "manifest.json").write_text("[]")
    assert "not a MISP feed manifest" in run("sync", "pull", "circl", *d, ok=False)
    assert "not a MISP feed manifest" in _status(d)["last_error"]


def test_an_unreachable_feed_is_a_recorded_error(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    run("init", "--org", "cert-xx", "--country", "xx", *d)
    run("peer", "add", "circl", "http://127.0.0.1:9/", "--misp-feed", *d)
    run("sync", "pull", "circl", *d, ok=False)
    assert "127.0.0.1:9/manifest.json" in _status(d)["last_error"]


@pytest.mark.parametrize(("credential", "headers"), [
    (None, {}), ("acc_k_s", {"Authorization": "Bearer acc_k_s"}), ("Authorization: abc", {"Authorization": "abc"}),
    ("X-Feed-Token: t", {"X-Feed-Token": "t"}), ("0123abcd", {"Authorization": "0123abcd"}),
])
def test_credentials_become_the_header_the_feed_wants(credential: str | None, headers: dict[str, str]) -> None:
    assert misp_peer.headers_for(credential) == headers


@pytest.mark.parametrize("text", ["", "{", "[]", '{"events": [1]}', '{"etag": 5, "events": {"a": "x"}}'])
def test_a_damaged_cursor_pulls_everything_again(text: str) -> None:
    assert misp_peer.read_cursor(text) == (None, {})


def test_the_cursor_round_trips() -> None:
    assert misp_peer.read_cursor(json.dumps({"etag": '"x"', "events": {"u": 3}})) == ('"x"', {"u": 3})
