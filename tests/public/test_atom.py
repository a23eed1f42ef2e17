"""The Atom feed against RFC 4287: its RELAX NG grammar (atom.rng, read by lxml) and the rules the
RFC states in prose (sections 4.1.1 and 4.1.2)."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from accord.config import HttpSettings
from accord.web.app import create_app
from tests.conftest import Node
from tests.public.helpers import publish

etree = pytest.importorskip("lxml.etree", reason="lxml is in the test extra")
ATOM = "{http://www.w3.org/2005/Atom}"


@functools.cache
def grammar() -> object:
    return etree.RelaxNG(etree.parse(str(Path(__file__).with_name("atom.rng"))))


def problems(document: bytes) -> list[str]:
    """What is wrong with an Atom document: the grammar's errors, then the RFC's prose rules."""
    tree = etree.fromstring(document)
    schema = grammar()
    if not schema.validate(tree):  # type: ignore[attr-defined]
        return [str(e) for e in schema.error_log]  # type: ignore[attr-defined]
    found = []
    entries = tree.findall(f"{ATOM}entry")
    if tree.find(f"{ATOM}author") is None and any(e.find(f"{ATOM}author") is None for e in entries):
        found.append("4.1.1: a feed without an author needs one in every entry")
    if not any(link.get("rel") == "self" for link in tree.findall(f"{ATOM}link")):
        found.append("4.1.1: a feed SHOULD link to itself (rel=self)")
    for where in [tree, *entries]:
        if urlsplit(where.findtext(f"{ATOM}id", "")).scheme == "":
            found.append(f"4.2.6: id {where.findtext(f'{ATOM}id')!r} is not an absolute IRI")
        alternates = [(link.get("type"), link.get("hreflang")) for link in where.findall(f"{ATOM}link")
                      if link.get("rel", "alternate") == "alternate"]
        if len(alternates) != len(set(alternates)):
            found.append("4.1.1/4.1.2: two alternate links with the same type and hreflang")
    for entry in entries:
        if entry.find(f"{ATOM}content") is None and not any(
                link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{ATOM}link")):
            found.append("4.1.2: an entry without content needs an alternate link")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    if len(ids) != len(set(ids)):
        found.append("4.1.1: two entries with the same id")
    return found


def test_the_feed_is_valid_atom_empty_and_full(node: Node) -> None:
    with TestClient(create_app(node.store, HttpSettings(public_rate=0))) as client:
        assert problems(client.get("/public/advisories.atom").content) == []
        publish(node.store, "Update your routers")
        publish(node.store, "<b>Fake</b> invoices & \"urgent\" payments", software=(), french=False)
        for lang in ("en", "fr", "de", "pt-BR"):
            feed = client.get("/public/advisories.atom", params={"lang": lang}).content
            assert problems(feed) == [], lang
            assert len(etree.fromstring(feed).findall(f"{ATOM}entry")) == 2


@pytest.mark.parametrize(("broken", "expected"), [
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title><updated>2026-12-01T00:00:00Z</updated>"
     b"<author><name>a</name></author></feed>", "id"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:x:1</id><title>t</title><updated>yesterday</updated>"
     b"</feed>", "updated"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:x:1</id><title>t</title>"
     b"<updated>2026-12-01T00:00:00Z</updated><link href='x' rel='self'/><entry><id>urn:x:2</id><title>e</title>"
     b"<updated>2026-12-01T00:00:00Z</updated></entry></feed>", "author"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><id>relative</id><title>t</title>"
     b"<updated>2026-12-01T00:00:00Z</updated><author><name>a</name></author><link href='x' rel='self'/></feed>",
     "absolute IRI"),
])
def test_the_checks_refuse_broken_feeds(broken: bytes, expected: str) -> None:
    found = problems(broken)
    assert found and any(expected in p for p in found), found
