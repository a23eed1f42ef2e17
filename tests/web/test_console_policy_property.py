"""Property: over random organisations, grants, sharing groups, markings and keys, the console shows
no key an object, a count or a hint that TAXII hides from the same key.

For each key the test signs in to the console and discovers its pages by following links from
``/`` (so pages added later are covered without naming them), and asserts:

1. every generated object id and name that appears on a page is one TAXII 2.1 (Get Objects,
   section 5.4, over every collection) returns to the same key, or one its organisation added;
   The search page is asked for every object, by its address and by its name;
2. ``/objects/<id>`` of an object hidden from the key answers exactly as that of an absent id;
3. for one key, the same world without the objects hidden from it renders every page the same,
   once tokens, random ids and times are masked: no count, chart or empty-state differs.

The administration pages (``/admin...``, the node administrators' only) are in 1 and 2 but not in 3,
and the audit log not in 1: they report what the node stores and did (its collections' sizes, the
ids its audit records name), as ``accord status`` and ``accord audit`` do for the operator, who
holds the store's files anyway; tests/web/test_console_admin.py shows that no other key reaches them.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import Tlp
from accord.services import admin
from accord.store.migrate import upgrade
from accord.store.repository import Store
from accord.web.app import create_app
from tests.stixgen import TAXII, indicator
from tests.web.console_pages import HTML, crawl
from tests.web.test_console_sessions import signin_token

ORGS = ["org-a", "org-b", "org-c"]
GROUPS = ["g1", "g2"]
COLLECTIONS = ["default", "second"]
ADMIN = "admin"
OPERATOR_RECORD = "/admin/audit"


@dataclass(frozen=True)
class Spec:
    owner: str
    collection: str
    tlp: Tlp | None
    groups: frozenset[str]
    object_id: str
    name: str


object_spec = st.builds(Spec, st.sampled_from(ORGS), st.sampled_from(COLLECTIONS),
                        st.one_of(st.none(), st.sampled_from(list(Tlp))), st.frozensets(st.sampled_from(GROUPS)),
                        st.uuids(version=4).map(lambda u: f"indicator--{u}"),
                        st.text("abcdefghijklmnopqrstuvwxyz", min_size=8, max_size=8).map(lambda s: f"zz{s}qq"))
world = st.fixed_dictionaries({
    "members": st.fixed_dictionaries({g: st.sets(st.sampled_from(ORGS)) for g in GROUPS}),
    "readers": st.fixed_dictionaries({c: st.sets(st.sampled_from(ORGS)) for c in COLLECTIONS}),
    "objects": st.lists(object_spec, min_size=1, max_size=8, unique_by=(lambda s: s.object_id, lambda s: s.name)),
    "focus": st.sampled_from([*ORGS, ADMIN]),
})


@dataclass
class Built:
    store: Store
    keys: dict[str, str]


@contextmanager
def built(w: dict[str, Any], objects: list[Spec]) -> Iterator[Built]:
    """A node with the world's organisations, grants and groups, and ``objects`` added by their owners."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'a.db'}")
        upgrade(store.engine)
        keys = {ADMIN: admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE").admin_key or ""}
        admin.create_collection(store, "Second", "second", "")
        for org in ORGS:
            admin.add_org(store, org, OrgKind.COMPANY, "FR", ())
            for col in COLLECTIONS:  # every org may write; only the sampled readers may read
                admin.grant(store, col, org, read=org in w["readers"][col], write=True)
            keys[org] = admin.add_account(store, org + "-user", org, Role.CONTRIBUTOR)[1]
        markings = {g: admin.create_group(store, g) for g in GROUPS}
        for g, orgs in w["members"].items():
            for org in sorted(orgs):
                admin.set_group_member(store, g, org, True)
        with TestClient(create_app(store)) as client:
            for s in objects:
                obj = indicator(0, tlp=s.tlp, markings=tuple(markings[g] for g in sorted(s.groups)),
                                object_id=s.object_id, name=s.name)
                r = client.post(f"/taxii2/default/collections/{s.collection}/objects/", json={"objects": [obj]},
                                headers={"Authorization": f"Bearer {keys[s.owner]}", "Content-Type": TAXII})
                assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
        try:
            yield Built(store, keys)
        finally:
            store.close()


def taxii_visible(store: Store, key: str) -> set[str]:
    seen: set[str] = set()
    with TestClient(create_app(store)) as client:
        for col in COLLECTIONS:
            r = client.get(f"/taxii2/default/collections/{col}/objects/", params={"limit": 1000},
                           headers={"Authorization": f"Bearer {key}", "Accept": TAXII})
            if r.status_code == 200:
                assert not r.json().get("more")
                seen |= {o["id"] for o in r.json().get("objects", [])}
    return seen


@contextmanager
def signed_in(store: Store, key: str) -> Iterator[TestClient]:
    with TestClient(create_app(store, HttpSettings(public_url="http://testserver")), follow_redirects=False,
                    raise_server_exceptions=False) as c:
        r = c.post("/signin", data={"signin_token": signin_token(c), "method": "key", "key": key}, headers=HTML)
        assert r.status_code == 303
        yield c


_MASKS = [
    (re.compile(r"[0-9a-f]{64}"), "HEX64"),  # CSRF tokens, hashes
    (re.compile(r"acc_[0-9a-f]{16}_[A-Za-z0-9_-]+|(?<![0-9a-f])[0-9a-f]{16}(?![0-9a-f])"), "KEY"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?"), "TIME"),
    (re.compile(r"\(\d+ ms"), "(N ms"),  # how long a search took
]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def masked(text: str, generated: set[str]) -> str:
    """A page with what differs between two equal worlds masked: tokens, key ids, times, and the
    random ids of organisations and collections (not those of the generated objects)."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return _UUID.sub(lambda m: m.group(0) if any(m.group(0) in g for g in generated) else "UUID", text)


def leaks(pages: dict[str, str], objects: list[Spec], visible: set[str]) -> list[str]:
    """Ids and names of objects hidden from the key that a page shows."""
    return [f"{path}: {s.object_id if s.object_id in text else s.name}" for path, text in pages.items()
            for s in objects if s.object_id not in visible and (s.object_id in text or s.name in text)]


def console_pages(c: TestClient, objects: list[Spec]) -> dict[str, str]:
    pages = {path: r.text for path, r in crawl(c, limit=120).items()}
    for s in objects:
        pages[f"/objects/{s.object_id}"] = c.get(f"/objects/{s.object_id}", headers=HTML).text
    # the search box, asked for every object: by the address all their patterns name, by each name
    for q in ["198.51.0.0", "198.51.0.0/16 zz", *(s.name for s in objects)]:
        text = c.get("/search", params={"q": q}, headers=HTML).text
        # the box and the title repeat what was typed: that is no leak (the results are)
        pages[f"/search?q={q}"] = text.replace(f'value="{q}"', 'value="Q"').replace(f"<title>Search: {q} ", "<title>")
    return pages


def known_to(store: Store, keys: dict[str, str], objects: list[Spec]) -> dict[str, set[str]]:
    """Per key, the ids it may be shown: what TAXII returns to it, and what its organisation added
    itself (Add Objects answered it with their ids), readable or not in a collection it only writes."""
    return {who: taxii_visible(store, key) | {s.object_id for s in objects if s.owner == who}
            for who, key in keys.items()}


def check_key(c: TestClient, objects: list[Spec], known: set[str]) -> dict[str, str]:
    """Checks 1 and 2 for one signed-in key; returns its pages."""
    pages = console_pages(c, objects)
    assert leaks({p: t for p, t in pages.items() if not p.startswith(OPERATOR_RECORD)}, objects, known) == []
    absent = f"indicator--{uuid.uuid4()}"
    nothing = c.get(f"/objects/{absent}", headers=HTML)
    for s in objects:
        if s.object_id not in known:
            hidden = c.get(f"/objects/{s.object_id}", headers=HTML)
            assert hidden.status_code == nothing.status_code
            assert hidden.text.replace(s.object_id, "ID") == nothing.text.replace(absent, "ID")
    return pages


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world)
def test_no_console_page_shows_what_taxii_hides(w: dict[str, Any]) -> None:
    objects: list[Spec] = w["objects"]
    generated = {s.object_id for s in objects}
    focus = w["focus"]
    # Both worlds see the same reads before the focus key's pages (the egress record counts them):
    # every key's TAXII reads, then the focus key's console, then the other keys' consoles.
    with built(w, objects) as node:
        known = known_to(node.store, node.keys, objects)
        order = [focus, *(k for k in node.keys if k != focus)]
        pages_of = {}
        for who in order:
            with signed_in(node.store, node.keys[who]) as c:
                pages_of[who] = check_key(c, objects, known[who])
    shown = [s for s in objects if s.object_id in known[focus]]
    with built(w, shown) as same:
        assert known_to(same.store, same.keys, shown)[focus] == known[focus]
        with signed_in(same.store, same.keys[focus]) as c:
            pages = console_pages(c, objects)
    compared = {p for p in pages_of[focus] if not p.startswith("/admin")}
    assert compared == {p for p in pages if not p.startswith("/admin")}
    for path in sorted(compared):
        assert masked(pages_of[focus][path], generated) == masked(pages[path], generated), path


def test_the_checks_see_a_leak() -> None:
    """The checks themselves: a hidden object's id or name on a page is a leak; masking keeps the
    generated ids and a count that differs."""
    spec = Spec("org-a", "default", Tlp.RED, frozenset(), f"indicator--{uuid.uuid4()}", "zzsecretqq")
    assert leaks({"/": f"<td>{spec.name}</td>"}, [spec], set()) == [f"/: {spec.name}"]
    assert leaks({"/": f"<td>{spec.name}</td>"}, [spec], {spec.object_id}) == []
    one = masked(f"<p>3 objects</p><a href='/objects/{spec.object_id}'>x</a> {uuid.uuid4()}", {spec.object_id})
    other = masked(f"<p>2 objects</p><a href='/objects/{spec.object_id}'>x</a> {uuid.uuid4()}", {spec.object_id})
    assert one != other and spec.object_id in one and "UUID" in one
