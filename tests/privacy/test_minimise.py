"""Minimisation on ingest (docs/privacy.md): the table, each action, ids re-derived, references kept."""

from __future__ import annotations

import orjson
import pytest

from accord.domain.errors import InvalidInput
from accord.domain.privacy import PERSONAL_FIELDS, Action, minimise, parse_policy, sco_id
from accord.services import privacy
from accord.store.objects import ObjectFilter
from accord.store.repository import Store
from tests.conftest import Node
from tests.privacy.helpers import account, address, email, everything_stored, observed, post, sighting, with_secrets


def _fake(value: str) -> str:
    return "P(" + str(len(value)) + ")"


def test_the_table_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
    for f in PERSONAL_FIELDS:
        assert f"| {f.category} | {f.type} | {f.prop} |" in doc, f


def test_pseudonymise_rederives_the_id_and_rewrites_references() -> None:
    mail, acct = email("alice@example.org"), account("alice", "S-1-5-21-1", "Alice Example")
    obs = observed([mail["id"], acct["id"]])
    policy = parse_policy({"email-address": "pseudonymise", "user-account": "pseudonymise"})
    out = minimise([mail, acct, obs], policy, privacy.pseudonymiser(b"k" * 32))
    new_mail, new_acct, new_obs = out.objects
    assert new_mail["value"].startswith("pseudonym:") and new_mail["id"] == sco_id(new_mail) != mail["id"]
    assert new_acct["account_type"] == "windows-domain"  # not personal: kept
    assert new_obs["object_refs"] == [new_mail["id"], new_acct["id"]]
    assert mail["value"] == "alice@example.org"  # the caller's objects are not changed
    assert out.counts["pseudonymised"] == 4 and out.counts["ids_rederived"] == 2


def test_dropping_a_required_property_drops_the_object_and_its_references() -> None:
    mail = email("bob@example.org")
    obs = observed([mail["id"], "ipv4-addr--5a5d2e5d-8d5a-5b34-9e1f-32ad7c5e1d8a"])
    out = minimise([mail, obs], parse_policy({"email-address": "drop"}), _fake)
    assert out.objects[0] is None and out.dropped[0][1] == mail["id"]
    assert out.objects[1]["object_refs"] == ["ipv4-addr--5a5d2e5d-8d5a-5b34-9e1f-32ad7c5e1d8a"]


def test_only_addresses_of_the_own_ranges_are_personal() -> None:
    inside, outside = address("10.1.2.3"), address("203.0.113.9")
    policy = parse_policy({"internal-address": "pseudonymise"}, ["10.0.0.0/8"])
    out = minimise([inside, outside], policy, _fake)
    assert out.objects[0]["value"] == "P(8)" and out.objects[1] == outside


def test_same_value_same_pseudonym_other_key_other_pseudonym() -> None:
    one, two = privacy.pseudonymiser(b"a" * 32), privacy.pseudonymiser(b"b" * 32)
    assert one("x@y.z") == one("x@y.z") != two("x@y.z")
    assert one(one("x@y.z")) == one("x@y.z")  # not hashed twice


@pytest.mark.parametrize("actions,ranges,key,message", [
    ({"phone-number": "drop"}, [], "node", "unknown personal-data category"),
    ({"free-text": "burn"}, [], "node", "unknown action"),
    ({}, ["10.0.0.300/8"], "node", "not an address range"),
    ({}, [], "someone", "key must be"),
])
def test_bad_policies_are_refused_clearly(actions: dict[str, str], ranges: list[str], key: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_policy(actions, ranges, key)


def test_add_objects_stores_only_minimised_values(node: Node) -> None:
    store: Store = with_secrets(node.store)
    privacy.set_policy(store, "default", {"email-address": "pseudonymise", "free-text": "drop",
                                          "internal-address": "drop"}, ["192.168.0.0/16"])
    mail, host = email("carol@example.org"), address("192.168.7.7")
    obs = observed([mail["id"], host["id"]], note="carol's laptop")
    sight = sighting("indicator--8e2e2d2b-17d4-4cbe-8f52-0a9b1f3b6c11", "seen on carol's laptop", [obs["id"]])
    status = post(store, "energy-co-analyst", [mail, host, obs, sight])
    assert status["success_count"] == 3 and status["failure_count"] == 1
    assert "privacy policy drops internal-address" in status["failures"][0]["message"]
    stored = everything_stored(store)
    for clear in (b"carol@example.org", b"192.168.7.7", b"carol's laptop", b"seen on carol"):
        assert clear not in stored
    from accord.services import admin

    got = svc_read(store, admin.principal_for(store, "health-isac-analyst"))
    by_type = {o["type"]: o for o in got}
    assert by_type["email-addr"]["value"].startswith("pseudonym:")
    assert by_type["observed-data"]["object_refs"] == [by_type["email-addr"]["id"]]
    assert "description" not in by_type["sighting"]
    with store.read() as tx:
        record = [r for r, _ in tx.audit_records() if r.action == "taxii.add_objects"][-1]
    assert record.details["privacy"] == {"pseudonymised": 1, "dropped": 2, "objects_dropped": 1,
                                         "ids_rederived": 1}


def svc_read(store: Store, principal: object) -> list[dict[str, object]]:
    from accord.services import objects as svc
    from tests.privacy.helpers import root_of

    return svc.readable_objects(store, principal, root_of(store), "default", ObjectFilter(), "test")  # type: ignore[arg-type]


def test_a_group_key_must_exist_before_a_policy_names_it(node: Node) -> None:
    from accord.services import admin

    store = with_secrets(node.store)
    admin.create_group(store, "energy-isac", "")
    with pytest.raises(InvalidInput, match="no pseudonymisation key"):
        privacy.set_policy(store, "default", {"email-address": "pseudonymise"}, key="group:energy-isac")
    text = privacy.create_group_key(store, "energy-isac")
    privacy.set_policy(store, "default", {"email-address": "pseudonymise"}, key="group:energy-isac")
    # the same key imported again is accepted (another node of the group does this); another is refused
    assert privacy.import_group_key(store, "energy-isac", text) == privacy.list_keys(store)[0]["fingerprint"]
    with pytest.raises(InvalidInput, match="another key already"):
        privacy.import_group_key(store, "energy-isac", "QUFB" * 10 + "QUE=")
    assert text.encode() not in everything_stored(store)  # the key is sealed at rest
    assert orjson.loads(orjson.dumps(privacy.show_policies(store)))[0]["key"] == "group:energy-isac"
    assert Action.PSEUDONYMISE.value == "pseudonymise"
