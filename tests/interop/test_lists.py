"""IOC lists to indicators (accord.interop.lists): line-by-line parsing, hostile lines, storing."""

from __future__ import annotations

from typing import Any

import pytest

from accord.domain.errors import InvalidInput
from accord.domain.iocs import Ioc, IocKind
from accord.domain.sharing import Role
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp
from accord.interop.lists import ListOptions, load_list, parse_columns, read_list, to_indicators
from accord.services import admin
from accord.services import objects as svc
from accord.stix.patterns import pattern_errors
from accord.store.objects import ObjectFilter
from tests.conftest import Node

K = IocKind


def _values(raw: bytes, is_csv: bool = False, **options: Any) -> list[Ioc]:
    return [e.ioc for e in read_list(raw, is_csv, ListOptions(**options)).entries]


def test_a_text_list_with_comments_defanged_values_and_duplicates() -> None:
    raw = (b"\xef\xbb\xbf# exported 2026-12-01\r\n198.51.100.7\r\n\r\n; another comment\r\n"
           b"evil[.]example  # the C2\r\nhxxp://evil[.]example/gate.php\r\n198.51.100.7\r\n")
    parsed = read_list(raw, False, ListOptions(labels=("botnet",)))
    assert [e.ioc for e in parsed.entries] == [Ioc(K.IPV4, "198.51.100.7"), Ioc(K.DOMAIN, "evil.example"),
                                               Ioc(K.URL, "http://evil.example/gate.php")]
    assert [e.line for e in parsed.entries] == [2, 5, 6]
    assert parsed.folded == 1 and parsed.problems == [] and parsed.lines == 7


def test_csv_columns_by_position_with_types_labels_and_confidence() -> None:
    raw = (b"198.51.100.7,ip-dst,c2|botnet,80\n"
           b"evil.example,hostname,phishing,40\n"
           b"198.51.100.7,ip-dst,scanner,90\n"
           b"evil.example,md5,x,10\n"
           b"203.0.113.9,ip-src,,101\n")
    options = ListOptions(columns=parse_columns("value=1,type=2,label=3,confidence=4"), labels=("feed-x",))
    parsed = read_list(raw, True, options)
    first, second = parsed.entries
    assert first.ioc == Ioc(K.IPV4, "198.51.100.7") and first.labels == {"c2", "botnet", "scanner", "feed-x"}
    assert first.confidence == 90 and second.confidence == 40 and parsed.folded == 1
    assert parsed.problems == [(4, "not an md5 hash (32 hex digits)"),
                               (5, "confidence '101' is not an integer from 0 to 100")]


def test_csv_columns_by_header_name_and_an_automatic_header() -> None:
    named = read_list(b"Kind,IOC,Comment\ndomain,evil.example,seen in spam\n", True,
                      ListOptions(columns=parse_columns("value=ioc,type=kind,description=comment")))
    assert named.header == 1 and named.entries[0].ioc == Ioc(K.DOMAIN, "evil.example")
    assert named.entries[0].description == "seen in spam"
    guessed = read_list(b"indicator,first seen\n198.51.100.7,2026-01-01\n", True, ListOptions())
    assert guessed.header == 1 and [e.ioc.value for e in guessed.entries] == ["198.51.100.7"]
    not_a_header = read_list(b"evil..example\n198.51.100.7\n", True, ListOptions())
    assert not_a_header.header is None and not_a_header.problems[0][0] == 1
    with pytest.raises(InvalidInput, match="no such column"):
        read_list(b"a,b\n1.2.3.4,x\n", True, ListOptions(columns={"value": "ioc"}))


@pytest.mark.parametrize("text", ["value", "value=0", "value=1,colour=2", "type=2", "value=1,label"])
def test_bad_column_mappings_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="--columns"):
        parse_columns(text)


def test_hostile_lines_are_reported_and_the_rest_loaded() -> None:
    raw = b"\n".join([
        b"198.51.100.1",
        b"x" * 20_000,  # huge line
        b"198.51.100\x00.2",  # NUL
        "évil.example".encode("latin-1"),  # not UTF-8
        b"\"198.51.100.3,unclosed",  # CSV: a quote never closed
        b"198.51.100.4,=cmd|' /C calc'!A0",  # CSV injection in a label
        b"198.51.100.5,fine\x07bell",
        b"http://evil.example/'] OR [ipv4-addr:value = '0.0.0.0/0",  # pattern injection attempt
        b"198.51.100.6,\xe2\x80\xaeevil",  # a bidirectional override inside a label is kept as text
    ])
    parsed = read_list(raw, True, ListOptions(columns=parse_columns("value=1,label=2")))
    reasons = dict(parsed.problems)
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert "longer than 8192" in reasons[2] and "NUL" in reasons[3]
    assert "not UTF-8 (byte 0xe9 at column 1)" in reasons[4]
    assert "not a CSV row" in reasons[5] and "CSV injection" in reasons[6] and "control" in reasons[7]
    assert "spaces" in reasons[8]
    assert [e.ioc.value for e in parsed.entries] == ["198.51.100.1", "198.51.100.6"]


def test_a_quote_in_a_url_stays_inside_the_pattern_literal() -> None:
    parsed = read_list(b"http://evil.example/a'b\\c\n", False, ListOptions())
    [obj] = to_indicators(parsed, ListOptions())
    assert obj["pattern"] == "[url:value = 'http://evil.example/a\\'b\\\\c']"
    assert pattern_errors(obj["pattern"]) == ()


def test_indicators_carry_the_marking_labels_confidence_and_validity() -> None:
    options = ListOptions(tlp=Tlp.GREEN, labels=("botnet",), confidence=70, valid_for=90 * 86_400_000_000)
    [obj] = to_indicators(read_list(b"198.51.100.7\n", False, options), options, now=1_767_225_600_000_000)
    assert obj["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.GREEN]]
    assert obj["labels"] == ["botnet"] and obj["confidence"] == 70
    assert obj["valid_from"] == "2026-01-01T00:00:00.000000Z" and obj["valid_until"] == "2026-04-01T00:00:00.000000Z"
    assert obj["pattern"] == "[ipv4-addr:value = '198.51.100.7']" and obj["spec_version"] == "2.1"


def test_loading_goes_through_add_objects_with_audit_and_the_sharing_policy(node: Node) -> None:
    store = node.store
    options = ListOptions(tlp=Tlp.RED, labels=("c2",))
    parsed = read_list(b"198.51.100.7\nevil.example\nnot a value\n", False, options)
    author = admin.principal_for(store, "energy-co-analyst")
    done = load_list(store, author, "default", parsed, options)
    assert (done.stored, done.indicators, done.problems[0][0]) == (2, 2, 3)
    with store.read() as tx:
        col = tx.find_collection(None, "default")
        root = next(r for r in tx.list_api_roots() if r.id == col.api_root_id)
        actions = [r.action for r, _ in tx.audit_records()]
    assert "taxii.add_objects" in actions
    seen = svc.readable_objects(store, author, root, col.uuid, ObjectFilter(types=("indicator",)), "test")
    assert sorted(o["name"] for o in seen) == ["198.51.100.7", "evil.example"]
    other = admin.principal_for(store, "health-isac-analyst")  # RED: the owner alone (docs/sharing.md)
    assert svc.readable_objects(store, other, root, col.uuid, ObjectFilter(types=("indicator",)), "test") == []


def test_a_reader_account_cannot_load(node: Node) -> None:
    reader = admin.principal_for(node.store, "energy-co-reader")
    assert reader.role is Role.READER
    with pytest.raises(Exception, match="may not write"):
        load_list(node.store, reader, "default", read_list(b"198.51.100.7\n", False, ListOptions()), ListOptions())
