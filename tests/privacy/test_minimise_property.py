"""Property: whatever personal values a request carries, none that the policy pseudonymises or drops
is ever stored (any table, the audit log included) or served in clear."""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.services import admin, privacy
from accord.services import objects as svc
from accord.store.migrate import upgrade
from accord.store.objects import ObjectFilter
from accord.store.repository import Store
from tests.privacy.helpers import (
    account,
    address,
    email,
    everything_stored,
    observed,
    post,
    root_of,
    sighting,
    with_secrets,
)

# "zq" and no hexadecimal digit: a value cannot occur by chance in ids, hashes, timestamps or keys
_word = st.builds(lambda w: "zq" + w, st.text(alphabet="ghijklmnopqrstuvwxyz._-", min_size=6, max_size=20))
_mail = st.builds(lambda a, b: f"{a}@{b}.example", _word, _word)
_internal = st.builds(lambda a, b, c: f"10.{a}.{b}.{c}", st.integers(0, 255), st.integers(0, 255),
                      st.integers(1, 254))
_text = st.builds(lambda a, b: f"note {a} {b}", _word, _word)
_case = st.tuples(st.lists(_mail, max_size=3), st.lists(st.tuples(_word, _word, _word), max_size=2),
                  st.lists(_internal, max_size=3), st.lists(_text, max_size=2),
                  st.sampled_from(["pseudonymise", "drop"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_case)
def test_no_minimised_value_is_stored_or_served_in_clear(case: tuple[list[str], list[tuple[str, str, str]],
                                                                    list[str], list[str], str]) -> None:
    mails, accounts, internal, notes, action = case
    with tempfile.TemporaryDirectory() as d:
        store = with_secrets(Store.open(f"sqlite:///{Path(d) / 'a.db'}"))
        upgrade(store.engine)
        try:
            admin.init_node(store, "host", OrgKind.GOVERNMENT_CERT, "DE")
            admin.add_org(store, "reporter", OrgKind.COMPANY, "FR", ("energy",))
            admin.grant(store, "default", "reporter", read=True, write=True)
            admin.add_account(store, "reporter-analyst", "reporter", Role.CONTRIBUTOR)
            privacy.set_policy(store, "default", {c: action for c in ("email-address", "user-account",
                                                                      "internal-address", "free-text")},
                               ["10.0.0.0/8"])
            scos = ([email(m) for m in mails] + [account(*a) for a in accounts] + [address(i) for i in internal])
            obs = observed([o["id"] for o in scos] or ["ipv4-addr--4d2c6e35-3a69-5d75-9c21-0d1a9e0e2a10"],
                           note=notes[0] if notes else "")
            sights = [sighting("indicator--8e2e2d2b-17d4-4cbe-8f52-0a9b1f3b6c11", n, [obs["id"]]) for n in notes]
            post(store, "reporter-analyst", [*scos, obs, *sights])
            principal = admin.principal_for(store, "admin")
            served = orjson.dumps(svc.readable_objects(store, principal, root_of(store), "default",
                                                       ObjectFilter(), "test"))
            stored = everything_stored(store)
            clear = [*mails, *(v for a in accounts for v in a), *notes]
            for value in clear:
                assert value.encode() not in stored and value.encode() not in served, value
            for value in internal:
                assert f'"{value}"'.encode() not in stored and f'"{value}"'.encode() not in served, value
        finally:
            store.close()
