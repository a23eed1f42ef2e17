"""Exports for Zeek's intel framework and Suricata: pure functions from STIX indicators to text."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from accord.sensor import exports
from tests.sensor.helpers import indicator

NOW = datetime(2026, 11, 27, tzinfo=UTC)
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
OBJECTS = [
    indicator("[ipv4-addr:value = '198.51.100.1']", name="c2\tserver"),
    indicator("[ipv4-addr:value = '203.0.113.0/24']"),
    indicator("[ipv6-addr:value = '2001:DB8::1']"),
    indicator("[domain-name:value = 'Evil.Example']"),
    indicator("[url:value = 'HTTP://Evil.Example:80/dl?x=1']"),
    indicator(f"[file:hashes.MD5 = '{MD5.upper()}' OR file:hashes.'SHA-1' = '{SHA1}']"),
    indicator("[email-addr:value = 'Phish@Evil.Example']"),
    indicator("[ipv4-addr:value = '192.0.2.66']", revoked=True),
    indicator("[ipv4-addr:value = '192.0.2.67']", valid_until="2026-01-02T00:00:00Z"),
    indicator("[ipv4-addr:value = '192.0.2.68'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.69']"),
]


def test_zeek_intel_file() -> None:
    text = exports.zeek_intel(OBJECTS, source="partner-feed", now=NOW)
    lines = text.splitlines()
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = {tuple(line.split("\t")[:2]) for line in lines[1:]}
    assert rows == {
        ("198.51.100.1", "Intel::ADDR"),
        ("203.0.113.0/24", "Intel::SUBNET"),
        ("2001:db8::1", "Intel::ADDR"),
        ("evil.example", "Intel::DOMAIN"),
        ("evil.example/dl?x=1", "Intel::URL"),
        (MD5, "Intel::FILE_HASH"),
        (SHA1, "Intel::FILE_HASH"),
        ("phish@evil.example", "Intel::EMAIL"),
    }
    assert all(len(line.split("\t")) == 5 for line in lines[1:])
    first = next(line for line in lines if line.startswith("198.51.100.1"))
    assert first.split("\t")[2:] == ["partner-feed", "c2 server", OBJECTS[0]["id"]]


def test_suricata_datasets() -> None:
    sets = exports.suricata_datasets(OBJECTS, now=NOW)
    assert sets.files["ipv4.lst"] == "198.51.100.1\n"
    assert sets.files["ipv6.lst"] == "2001:db8::1\n"
    assert base64.b64decode(sets.files["domains.lst"]).decode() == "evil.example"
    assert base64.b64decode(sets.files["urls.lst"]).decode() == "http://evil.example/dl?x=1"
    assert sets.files["md5.lst"] == MD5 + "\n" and "sha256.lst" not in sets.files
    assert sets.left_out == 3  # the /24 (no CIDR datasets), the SHA-1 and the e-mail address


def test_suricata_ip_reputation() -> None:
    categories, reputation = exports.suricata_iprep(OBJECTS, category=3, short_name="Partner", score=90, now=NOW)
    assert categories == "3,Partner,Accord shared indicators\n"
    assert reputation.splitlines() == ["198.51.100.1,3,90", "203.0.113.0/24,3,90", "2001:db8::1,3,90"]
    with pytest.raises(ValueError, match="score"):
        exports.suricata_iprep(OBJECTS, score=200)
