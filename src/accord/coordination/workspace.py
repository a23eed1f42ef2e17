"""Where coordination objects live, and the two doors to them: the node's own write and read paths.

Writes go through :func:`accord.services.objects.add_objects` (validation, ownership, audit) and reads
through :func:`accord.services.objects.get_objects` (the sharing policy, audit of what was received), so
coordination adds no path around the policy. Settings are rows of the node's ``settings`` table under
``coordination.*``; the agreement between two partners will supply the deadlines once federation has
agreements, and until then the node-wide values apply and are written into each consultation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import orjson

from accord.coordination import stix
from accord.domain.coordination.attribution import Rule
from accord.domain.coordination.errors import InvalidTransition, NotParty
from accord.domain.coordination.norms import DEFAULT_PROTECTED, protected_set
from accord.domain.errors import AccordError, InvalidInput, NotFound
from accord.domain.model import ApiRoot, Organisation, Principal
from accord.domain.sharing import Reader, Visibility, may_read
from accord.domain.tlp import TLP2_MARKING_IDS, Tlp, classify_markings
from accord.services import objects as svc
from accord.store.objects import ObjectFilter, VersionFilter
from accord.store.repository import Store

_DEFAULTS = {"quorum": "2", "threshold": "70", "ack_hours": "24", "answer_hours": "72", "auto_send": "false",
             "protected_sectors": ",".join(sorted(DEFAULT_PROTECTED)), "collection": "default",
             "clock_skew_seconds": "300"}


@dataclass(frozen=True, slots=True)
class Settings:
    rule: Rule
    ack_hours: int
    answer_hours: int
    auto_send: bool
    protected: frozenset[str]
    collection: str
    clock_skew_seconds: int  # how much earlier than its receipt here a step may claim to have happened


def _parse(values: dict[str, str]) -> Settings:
    try:
        return Settings(Rule(int(values["quorum"]), int(values["threshold"])), int(values["ack_hours"]),
                        int(values["answer_hours"]), values["auto_send"].lower() in ("1", "true", "yes", "on"),
                        protected_set(values["protected_sectors"].split(",")), values["collection"],
                        int(values["clock_skew_seconds"]))
    except ValueError as exc:
        raise InvalidInput(f"bad coordination setting: {exc}") from None


def read_settings(store: Store) -> Settings:
    with store.read() as tx:
        return _parse({k: tx.get_setting(f"coordination.{k}") or v for k, v in _DEFAULTS.items()})


def set_setting(store: Store, name: str, value: str) -> Settings:
    """Change one setting (checked by parsing the whole set), recorded in the audit log."""
    if name not in _DEFAULTS:
        raise InvalidInput(f"unknown coordination setting {name!r} ({', '.join(_DEFAULTS)})")
    with store.write() as tx:
        values = {k: tx.get_setting(f"coordination.{k}") or v for k, v in _DEFAULTS.items()}
        values[name] = value
        settings = _parse(values)
        tx.set_setting(f"coordination.{name}", value)
        tx.audit(None, None, "coordination.setting", {"name": name, "value": value})
    return settings


def markings(tlp: Tlp, group_markings: Sequence[str] = ()) -> list[str]:
    return [TLP2_MARKING_IDS[tlp], *group_markings]


@dataclass(frozen=True, slots=True)
class Stored:
    """One visible object version, with the organisation that stored it (its true author here)."""

    obj: dict[str, Any]
    owner: str  # identity id of the owning organisation
    date_added: int  # when this node received the version (its own clock, not the author's claim)
    tlp: Tlp | None = None  # the level the store decided it has (an unknown marking is RED); None: unmarked


class Workspace:
    """One principal acting on the node's coordination collection.

    An organisation that stands for a peer node (federation) is known here by that node's identity,
    the identity id of the node's host organisation: that is what the partner writes in
    ``created_by_ref`` and what its consultations are addressed to, on every node alike.
    """

    def __init__(self, store: Store, principal: Principal, settings: Settings | None = None) -> None:
        self.store = store
        self.principal = principal
        self.settings = settings or read_settings(store)
        with store.read() as tx:
            nodes = {p.org_id: p.node_id for p in tx.list_peers() if p.node_id}
            self.orgs: dict[int, Organisation] = {o.id: replace(o, identity_id=nodes.get(o.id, o.identity_id))
                                                  for o in tx.list_orgs()}
            collection = tx.find_collection(None, self.settings.collection)
            self.root: ApiRoot = next(r for r in tx.list_api_roots() if r.id == collection.api_root_id)
            self.collection_id = collection.id
            self.collection_key = collection.uuid
            self._access = {o: tx.access_of(o).get(collection.id) for o in self.orgs}
            self._groups = {o: tx.groups_of(o) for o in self.orgs}
        self.by_identity = {o.identity_id: o for o in self.orgs.values()}
        self.me = self.orgs[principal.org_id]

    def org(self, name_or_identity: str) -> Organisation:
        for o in self.orgs.values():
            if name_or_identity in (o.name, o.identity_id):
                return o
        raise NotFound(f"no organisation {name_or_identity!r}")

    def name(self, identity: str) -> str:
        found = self.by_identity.get(identity)
        return found.name if found else identity

    def write(self, objects: Sequence[dict[str, Any]], as_principal: Principal | None = None) -> None:
        """Store objects; any refusal (validation, ownership, access) is an error, not a partial write."""
        status = svc.add_objects(self.store, as_principal or self.principal, self.root, self.collection_key,
                                 list(objects))
        if status["failure_count"]:
            failure = status["failures"][0]
            raise InvalidInput(f"{failure['id'] or 'object'} was refused: {failure['message']}")

    def read(self, *types: str, ids: Sequence[str] = (), all_versions: bool = False) -> list[Stored]:
        """Visible versions of ``types`` (latest only unless ``all_versions``), in date_added order."""
        versions = VersionFilter(all=True) if all_versions else VersionFilter()
        flt = ObjectFilter(ids=tuple(ids), types=types, versions=versions)
        out: list[Stored] = []
        token: str | None = None
        while True:
            page = svc.get_objects(self.store, self.principal, self.root, self.collection_key, flt, token,
                                   svc.MAX_PAGE)
            out += [Stored(orjson.loads(v.body), self.orgs[v.visibility.owner_org].identity_id, v.date_added,
                           v.visibility.tlp) for v in page.versions]
            token = page.next
            if token is None:
                return out

    def entitled(self, object_markings: Sequence[str]) -> list[str]:
        """Identities of every organisation that may read an object with these markings (the policy's
        own answer: collection access, then :func:`may_read`; a marking that is neither TLP nor a
        sharing group counts as RED, as it may at ingest)."""
        with self.store.read() as tx:
            groups = {g.marking_id: g.id for g in tx.list_groups()}
        vis = Visibility(self.principal.org_id, classify_markings(object_markings, (), groups),
                         frozenset(groups[m] for m in object_markings if m in groups))
        readers = [oid for oid, access in self._access.items() if access is not None and access.can_read]
        return sorted(self.orgs[oid].identity_id for oid in readers if may_read(Reader(oid, self._groups[oid]), vis))

    @contextmanager
    def refusals(self, action: str, subject: str) -> Iterator[None]:
        """Record a refused request (unknown id, out-of-order step, forged answer) before re-raising it."""
        try:
            yield
        except (NotParty, InvalidTransition) as exc:  # the domain speaks of identities: name them
            readable = type(exc)(self.readable(exc.message))
            self._refused(action, subject, readable)
            raise readable from None
        except AccordError as exc:
            self._refused(action, subject, exc)
            raise

    def _refused(self, action: str, subject: str, exc: AccordError) -> None:
        with self.store.write() as tx:
            tx.audit(self.principal.account_id, self.principal.org_id, "coordination.refused",
                     {"action": action, "subject": subject, "error": type(exc).__name__, "reason": exc.message})

    def readable(self, text: str) -> str:
        """``text`` with the identity ids of known organisations replaced by their names."""
        for identity, org in self.by_identity.items():
            text = text.replace(identity, org.name)
        return text


def ensure_definitions(ws: Workspace) -> None:
    """Store the project's extension definitions once, unless a peer's copies arrived first.

    Every node defines the same objects (fixed ids and content), so a copy received from a peer is as
    good as our own: the store refuses ours then (another organisation originated the id), and that
    is fine.
    """
    with ws.store.read() as tx:
        done = tx.get_setting("coordination.definitions") == stix.DEFINED
    if not done:
        status = svc.add_objects(ws.store, ws.principal, ws.root, ws.collection_key, stix.definitions())
        if all("originated" in f["message"] for f in status["failures"]):
            with ws.store.write() as tx:
                tx.set_setting("coordination.definitions", stix.DEFINED)
