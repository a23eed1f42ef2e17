"""Minimisation on ingest: which STIX properties carry personal data, and what a collection does with them.

A node shares indicators, not people. Which properties count as personal data is the data table
:data:`PERSONAL_FIELDS` (shown in ``docs/privacy.md``), not code paths: each row names a category, a
STIX 2.1 object type and one of its properties. A collection's :class:`Policy` chooses, per
category, to keep the values, drop them, or pseudonymise them with a keyed hash (HMAC-SHA256 under a
node or sharing-group key, so two reports of the same account correlate without naming it).

:func:`minimise` applies a policy to the objects of one Add Objects request before they are
validated, stored or forwarded. Two consequences of STIX that the table records:

* a property that is *ID contributing* (STIX 2.1 section 6: an SCO's UUIDv5 id is derived from it)
  would still reveal the value through the id, which anyone can recompute from a guess. When such a
  property changes, the object gets the UUIDv5 of its minimised contributing properties, and every
  reference to the old id in the same request is rewritten;
* a *required* property cannot be dropped (``email-addr`` without ``value`` is not STIX): dropping it
  drops the whole object, which the status resource reports, and references to it are removed.

Pure: no I/O. The HMAC itself is the caller's (``accord.services.privacy``), passed as a function.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from accord.domain.errors import InvalidInput


class Action(StrEnum):
    KEEP = "keep"
    DROP = "drop"
    PSEUDONYMISE = "pseudonymise"


@dataclass(frozen=True, slots=True)
class PersonalField:
    """One row of the table: ``type``'s property ``prop`` is personal data of ``category``."""

    category: str
    type: str
    prop: str
    required: bool = False  # STIX 2.1 requires it: dropping it drops the object
    why: str = ""


# STIX 2.1 section 6 lists each SCO's ID contributing properties (the UUIDv5 of the id).
ID_CONTRIBUTING: Mapping[str, tuple[str, ...]] = {
    "email-addr": ("value",),
    "user-account": ("account_type", "user_id", "account_login"),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
}
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 section 2.9

PERSONAL_FIELDS: tuple[PersonalField, ...] = (
    PersonalField("user-account", "user-account", "user_id", why="names a person's account (section 6.16)"),
    PersonalField("user-account", "user-account", "account_login", why="a login is usually a person's name"),
    PersonalField("user-account", "user-account", "display_name", why="a person's name"),
    PersonalField("user-account", "user-account", "credential", why="a secret; never shared in clear"),
    PersonalField("email-address", "email-addr", "value", required=True, why="a person's mailbox (6.5)"),
    PersonalField("email-address", "email-addr", "display_name", why="a person's name"),
    PersonalField("email-content", "email-message", "subject", why="what a person wrote (6.6)"),
    PersonalField("email-content", "email-message", "body", why="what a person wrote"),
    PersonalField("internal-address", "ipv4-addr", "value", required=True,
                  why="a host of the reporter's own network, often one person's machine (6.8)"),
    PersonalField("internal-address", "ipv6-addr", "value", required=True, why="as for IPv4 (6.9)"),
    PersonalField("free-text", "sighting", "description", why="analysts' notes name people and hosts (5.8)"),
    PersonalField("free-text", "observed-data", "description", why="custom notes on what was observed"),
    PersonalField("free-text", "process", "command_line", why="paths and arguments name users (6.11)"),
)
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(f.category for f in PERSONAL_FIELDS))
_BY_TYPE: dict[str, tuple[PersonalField, ...]] = {}
for _f in PERSONAL_FIELDS:
    _BY_TYPE[_f.type] = (*_BY_TYPE.get(_f.type, ()), _f)
# references that may point at a minimised object, and whether the property is a list
_REF_PROPS = {"object_refs": True, "observed_data_refs": True, "where_sighted_refs": True,
              "sighting_of_ref": False, "src_ref": False, "dst_ref": False, "from_ref": False,
              "sender_ref": False, "creator_user_ref": False, "resolves_to_refs": True, "to_refs": True,
              "cc_refs": True, "bcc_refs": True}
KEY_NODE = "node"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Policy:
    """What a collection does with each category; categories not named are kept.

    ``own_ranges`` are the reporter's own networks: only addresses inside them are personal data of
    the "internal-address" category (an attacker's address is not). ``key`` names the HMAC key:
    ``node`` (this node's own) or ``group:NAME`` (shared by the nodes of a sharing group, so their
    pseudonyms of one value agree).
    """

    actions: Mapping[str, Action] = field(default_factory=dict)
    own_ranges: tuple[Network, ...] = ()
    key: str = KEY_NODE

    def action(self, category: str) -> Action:
        return self.actions.get(category, Action.KEEP)

    @property
    def keeps_everything(self) -> bool:
        return all(a is Action.KEEP for a in self.actions.values())

    def to_json(self) -> dict[str, Any]:
        return {"actions": {c: a.value for c, a in sorted(self.actions.items())},
                "own_ranges": [str(n) for n in self.own_ranges], "key": self.key}


def parse_policy(actions: Mapping[str, str], own_ranges: Sequence[str] = (), key: str = KEY_NODE) -> Policy:
    """A policy from text (CLI, stored JSON); InvalidInput naming the category, action or range at fault."""
    parsed: dict[str, Action] = {}
    for category, action in actions.items():
        if category not in CATEGORIES:
            raise InvalidInput(f"unknown personal-data category {category!r}; known: {', '.join(CATEGORIES)}")
        try:
            parsed[category] = Action(action)
        except ValueError:
            raise InvalidInput(f"{category}: unknown action {action!r}; one of keep, drop, pseudonymise") from None
    nets: list[Network] = []
    for text in own_ranges:
        try:
            nets.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise InvalidInput(f"{text!r} is not an address range (CIDR, e.g. 10.0.0.0/8)") from None
    if key != KEY_NODE and not (key.startswith("group:") and len(key) > len("group:")):
        raise InvalidInput(f"key must be 'node' or 'group:NAME', not {key!r}")
    return Policy(parsed, tuple(nets), key)


def policy_from_json(raw: Mapping[str, Any]) -> Policy:
    return parse_policy(raw.get("actions") or {}, raw.get("own_ranges") or [], str(raw.get("key") or KEY_NODE))


@dataclass(slots=True)
class Minimised:
    """The objects to validate and store, in request order with None where one was dropped whole;
    those dropped (index, id, reason); and counts of what was changed."""

    objects: list[Any]
    dropped: list[tuple[int, str, str]]
    counts: Counter[str] = field(default_factory=Counter)


Pseudonym = Callable[[str], str]


def _is_internal(value: Any, ranges: Sequence[Network]) -> bool:
    if not isinstance(value, str) or not ranges:
        return False
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return any(net.version == r.version and net.subnet_of(r) for r in ranges)  # type: ignore[arg-type]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _applies(f: PersonalField, obj: Mapping[str, Any], policy: Policy) -> bool:
    return f.prop in obj and (f.category != "internal-address" or _is_internal(obj[f.prop], policy.own_ranges))


def minimise_one(obj: dict[str, Any], policy: Policy, pseudonym: Pseudonym, counts: Counter[str]) -> str | None:
    """Apply the policy to one object in place; the reason when the whole object must go."""
    for f in _BY_TYPE.get(str(obj.get("type")), ()):
        action = policy.action(f.category)
        if action is Action.KEEP or not _applies(f, obj, policy):
            continue
        if action is Action.DROP:
            if f.required:
                counts["objects_dropped"] += 1
                return f"not stored: the collection's privacy policy drops {f.category} ({f.type} {f.prop})"
            del obj[f.prop]
            counts["dropped"] += 1
        else:
            obj[f.prop] = pseudonym(_text(obj[f.prop]))
            counts["pseudonymised"] += 1
    embedded = obj.get("objects") if obj.get("type") == "observed-data" else None
    if isinstance(embedded, dict):  # the deprecated inline form (STIX 2.1 section 4.13 objects)
        for key in list(embedded):
            inner = embedded[key]
            if isinstance(inner, dict) and minimise_one(inner, policy, pseudonym, counts) is not None:
                del embedded[key]
    return None


def sco_id(obj: Mapping[str, Any]) -> str | None:
    """The UUIDv5 id STIX 2.1 section 2.9 gives an SCO from its ID contributing properties."""
    props = ID_CONTRIBUTING.get(str(obj.get("type")))
    present = {p: obj[p] for p in props or () if p in obj}
    if not present:
        return None
    name = json.dumps(present, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{obj['type']}--{uuid.uuid5(SCO_NAMESPACE, name)}"


def _rewrite_refs(obj: dict[str, Any], renamed: Mapping[str, str], gone: frozenset[str]) -> None:
    for prop, is_list in _REF_PROPS.items():
        value = obj.get(prop)
        if is_list and isinstance(value, list):
            obj[prop] = [renamed.get(v, v) for v in value if v not in gone]
        elif not is_list and isinstance(value, str):
            if value in gone:
                del obj[prop]
            elif value in renamed:
                obj[prop] = renamed[value]


def minimise(objects: Sequence[Any], policy: Policy, pseudonym: Pseudonym,
             skip: Callable[[Mapping[str, Any]], bool] = lambda _o: False) -> Minimised:
    """Apply ``policy`` to the objects of one request (copies; the input is not changed).

    ``skip``: objects left exactly as they are (signed by another origin: altering them would break
    the signature; their origin's policy applied). Objects that are not JSON objects pass through
    for the validator to refuse."""
    if policy.keeps_everything:
        return Minimised(list(objects), [])
    out: list[Any] = []
    dropped: list[tuple[int, str, str]] = []
    counts: Counter[str] = Counter()
    renamed: dict[str, str] = {}
    gone: set[str] = set()
    for n, original in enumerate(objects):
        if not isinstance(original, dict) or skip(original):
            out.append(original)
            continue
        obj = json.loads(json.dumps(original))  # a deep copy of JSON values
        before = sco_id(obj)
        why = minimise_one(obj, policy, pseudonym, counts)
        object_id = str(obj.get("id", ""))
        if why is not None:
            dropped.append((n, object_id, why))
            gone.add(object_id)
            out.append(None)
            continue
        after = sco_id(obj)
        if after != before and after is not None and object_id:
            renamed[object_id] = after
            obj["id"] = after
            counts["ids_rederived"] += 1
        out.append(obj)
    if renamed or gone:
        frozen_gone = frozenset(gone)
        for obj in out:
            if isinstance(obj, dict):
                _rewrite_refs(obj, renamed, frozen_gone)
    return Minimised(out, dropped, counts)
