"""MISP warninglists: the five list types, kinds from matching_attributes, and the real collection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.sensor import warninglists
from accord.sensor.errors import ConfigError
from accord.sensor.model import Kind
from tests.conftest import shared_data


def _lists(tmp_path: Path, specs: list[tuple[str, str, list[str], list[str]]]) -> Path:
    for ident, kind, entries, attributes in specs:
        (tmp_path / "lists" / ident).mkdir(parents=True)
        (tmp_path / "lists" / ident / "list.json").write_text(
            json.dumps({"name": ident, "type": kind, "list": entries, "matching_attributes": attributes})
        )
    return tmp_path


def test_each_list_type(tmp_path: Path) -> None:
    root = _lists(
        tmp_path,
        [
            ("ranges", "cidr", ["192.0.2.0/24", "2001:db8::/32"], ["ip-dst"]),
            ("exact", "string", ["Exact.Example"], ["domain"]),
            ("hosts", "hostname", ["cdn.example"], ["hostname", "url"]),
            ("parts", "substring", ["tracking"], ["url"]),
            ("shapes", "regex", [r"^mail\d+\.example$"], ["domain"]),
        ],
    )
    benign = warninglists.Benign(warninglists.load(root))
    assert benign.check(Kind.ADDR, "192.0.2.200") == "ranges"
    assert benign.check(Kind.ADDR, "2001:db8::5") == "ranges"
    assert benign.check(Kind.ADDR, "192.0.3.1") is None
    assert benign.check(Kind.DOMAIN, "exact.example.") == "exact"
    assert benign.check(Kind.DOMAIN, "sub.exact.example") is None
    assert benign.check(Kind.DOMAIN, "a.b.CDN.example") == "hosts"
    assert benign.check(Kind.URL, "http://img.cdn.example/x") == "hosts"
    assert benign.check(Kind.URL, "http://evil.example/tracking?id=1") == "parts"
    assert benign.check(Kind.DOMAIN, "tracking.example") is None  # substring list is for URLs only
    assert benign.check(Kind.DOMAIN, "mail12.example") == "shapes"
    assert benign.check(Kind.HASH, "d41d8cd98f00b204e9800998ecf8427e") is None


def test_enabled_and_unknown_lists(tmp_path: Path) -> None:
    root = _lists(tmp_path, [("a", "string", ["x.example"], []), ("b", "string", ["y.example"], [])])
    assert [wl.id for wl in warninglists.load(root, enabled=["b"])] == ["b"]
    with pytest.raises(ConfigError, match="unknown warninglist"):
        warninglists.load(root, enabled=["nope"])
    with pytest.raises(ConfigError, match="no MISP warninglists"):
        warninglists.load(tmp_path / "empty")


def test_the_real_misp_collection() -> None:
    lists = warninglists.load(shared_data("misp-warninglists"))
    assert {wl.type for wl in lists} == {"cidr", "string", "hostname", "substring", "regex"}
    resolvers = next(wl for wl in lists if wl.id == "public-dns-v4")
    benign = warninglists.Benign(lists)
    assert benign.check(Kind.ADDR, resolvers.entries[0].split("/")[0]) is not None
    assert benign.check(Kind.ADDR, "10.1.2.3") is not None  # RFC 1918 list
    assert benign.check(Kind.ADDR, "185.244.25.235") is None  # the IoT-23 Mirai C&C
