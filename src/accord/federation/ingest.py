"""Where federation meets the TAXII 2.1 Add Objects path (section 5.5): verify and attribute.

``add_objects`` calls :func:`prepare` before its write transaction (signature work stays outside the
node-wide write lock) and :func:`store_versions` inside it. For each object:

* signed (our property extension present): both signatures must verify against a registered key of
  the node named as origin; the stored body is the object without the extension (what the origin
  stored) and its owner is the organisation that stands for the origin node, so a version relayed
  by any route lands under the same owner and (id, version) dedupes across routes;
* unsigned from a peer *node*: refused, as is anything from an unknown signer or that fails to
  verify; refusals are quarantined with the reason and listed in the TAXII status failures;
* unsigned from a local account or a plain TAXII feed: this node originates it; it is signed when
  it first leaves (:func:`accord.federation.outbound.sign_originals`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from accord.domain.errors import InvalidInput
from accord.domain.model import Principal
from accord.federation.model import MAX_HOPS, PeerKind
from accord.federation.runtime import runtime_of
from accord.federation.signing import PublicKeys, Signature, Verifier, read_extension, verify_many, without_signature
from accord.stix.timestamps import key_to_display
from accord.stix.validate import CheckedObject
from accord.store.objects import AddOutcome, NewVersion
from accord.store.privacy import withdrawn
from accord.store.repository import Store, Tx

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

WITHDRAWN = "refused: withdrawn by its origin (nothing stored)"
PARALLEL_FROM = 256  # format-1 signatures in one envelope from which verification uses every core
_verifier = Verifier()  # this process's memory of checked batch roots (bounded)


@dataclass(frozen=True, slots=True)
class Admit:
    owner_org: int
    body: bytes | None  # the body to store when it differs from the posted one (extension removed)
    signature: Signature | None  # None: originated here, signed when it first leaves (outbound.py)
    hops: int
    via_peer: int | None
    covered: frozenset[str] = frozenset()
    ours: bool = False  # held already (our own come back, or a copy by another route): nothing to store


@dataclass(frozen=True, slots=True)
class Plan:
    decisions: list[Admit | str]  # per checked object: admitted, or the reason it is refused
    peer_id: int | None
    from_node: bool = False  # pushed by a peer node (not a local user, not a feed pulled here)


def prepare(store: Store, principal: Principal, checked: Sequence[CheckedObject]) -> Plan | None:
    """Verify or sign each object; None when this store runs without federation."""
    rt = runtime_of(store)
    if rt is None:
        return None
    found_all: list[tuple[Signature, int, frozenset[str]] | None | str] = []
    for c in checked:
        try:
            found_all.append(read_extension(c.obj))
        except InvalidInput as exc:
            found_all.append(exc.message)
    # A copy of a version held already (another route, a replay) changes nothing and is not checked
    # again. Looking for one costs a query by id in every collection, worth it only for format-1
    # signatures (two public-key checks per object); a format-2 copy is verified cheaply and the
    # store reports it unchanged.
    single = [c.id for c, f in zip(checked, found_all, strict=True) if isinstance(f, tuple) and not f[0].batched]
    signed = any(isinstance(f, tuple) for f in found_all)
    with store.read() as tx:
        peer = tx.peer_of_org(principal.org_id)
        # keys and peer nodes matter only to signed objects (most posts by local users have none)
        keys = tx.node_keys() if signed else {}
        node_orgs = {p.node_id: p.org_id for p in tx.list_peers() if p.node_id} if signed else {}
        held = tx.bodies_of(single) if single and peer is not None and peer.kind is PeerKind.NODE else {}
        # what its origin withdrew is never taken again, by any route (accord.federation.withdraw)
        gone = withdrawn(tx, [(c.id, f[0].origin) for c, f in zip(checked, found_all, strict=True)
                              if isinstance(f, tuple)]) if signed else frozenset()
    from_node = peer is not None and peer.kind is PeerKind.NODE
    via = None if peer is None else peer.id
    originated_here = Admit(principal.org_id, None, None, 0, via)  # one for all: it is immutable
    decisions: list[Admit | str] = []
    jobs: list[tuple[int, PublicKeys, Signature, dict[str, Any], int, frozenset[str]]] = []
    for c, found in zip(checked, found_all, strict=True):
        if isinstance(found, str):
            decisions.append(found)
            continue
        if found is None:
            if from_node:
                decisions.append("refused: unsigned object from a peer node")
            else:
                # Originated here. An ML-DSA-65 signature costs about a millisecond, far more than
                # storing the object, so it is not made on the request path: the first push or
                # signed pull signs it once and keeps it (outbound.select_for_peer).
                decisions.append(originated_here)
            continue
        sig, hops, covered = found
        registered = keys.get(sig.key_id)
        stored = held.get((c.id, c.version_key))
        if (c.id, sig.origin) in gone:
            decisions.append(WITHDRAWN)
        elif registered is None or registered[0] != sig.origin:
            decisions.append(f"refused: unknown signer {sig.origin} key {sig.key_id}")
        elif stored is not None and orjson.loads(stored) == without_signature(c.obj):
            # a copy by another route of a version held already: nothing would change, so the
            # signature work is skipped (it was verified when the version was first stored)
            decisions.append(Admit(principal.org_id, None, sig, hops, via, ours=True))
        elif hops > MAX_HOPS:
            decisions.append(f"refused: hop limit {MAX_HOPS} exceeded")
        else:
            jobs.append((len(decisions), registered[1], sig, dict(c.obj), hops, covered))
            decisions.append("")  # decided below, once the signatures are checked
    checks = _verify_all([(k, s, o) for _, k, s, o, _, _ in jobs])
    for (i, _, sig, obj, hops, covered), ok in zip(jobs, checks, strict=True):
        if not ok:
            decisions[i] = "refused: origin signature does not verify (tampered or not from its origin)"
        elif sig.origin == rt.origin:
            decisions[i] = Admit(principal.org_id, None, sig, 0, via, ours=True)
        elif sig.origin not in node_orgs:
            decisions[i] = f"refused: origin {sig.origin} is not a registered node"
        else:
            decisions[i] = Admit(node_orgs[sig.origin], orjson.dumps(without_signature(obj)), sig, hops, via,
                                 covered)
    return Plan(decisions, via, from_node)


_pool: list[ProcessPoolExecutor] = []


def _exit_with_parent(parent: int) -> None:
    """Pool initializer: a worker leaves when the server that spawned it is gone, even by kill -9."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _verify_all(jobs: list[tuple[PublicKeys, Signature, dict[str, Any]]]) -> list[bool]:
    """Verify in this thread; format-1 signatures of a large envelope (a peer catching up with objects
    signed before batches) on every core.

    Format 2 costs two public-key checks per batch root, remembered by :data:`_verifier`, and per
    object a canonicalisation, a hash and a path walk: cheaper in this thread than pickled to a
    worker. Format 1 costs both public-key checks per object; the signature libraries hold the GIL,
    so threads do not help there, worker processes (spawned once, on first need) do.
    """
    single = [i for i, (_, sig, _) in enumerate(jobs) if not sig.batched]
    # os.cpu_count() reads /sys on each call: only asked when the envelope is large enough
    if len(single) < PARALLEL_FROM or (cores := os.cpu_count() or 1) < 2:
        return _verifier.verify_many(jobs)
    if not _pool:  # imported here: multiprocessing costs every process that opens the store some 30 ms
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _pool.append(ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_exit_with_parent, initargs=(os.getpid(),)))
    size = -(-len(single) // cores)
    parts = _pool[0].map(verify_many, [[jobs[i] for i in single[at:at + size]] for at in range(0, len(single), size)])
    outcome = dict(zip(single, (ok for part in parts for ok in part), strict=True))
    batch = [i for i in range(len(jobs)) if i not in outcome]
    outcome.update(zip(batch, _verifier.verify_many([jobs[i] for i in batch]), strict=True))
    return [outcome[i] for i in range(len(jobs))]


def store_versions(tx: Tx, plan: Plan | None, principal: Principal, collection_id: int,
                   checked: Sequence[CheckedObject], items: Sequence[NewVersion], taken: frozenset[str] = frozenset(),
                   ) -> tuple[list[tuple[AddOutcome, int | None]], dict[int, str]]:
    """Store admitted versions under their owners and record provenance; (outcomes, refusals by index).

    ``taken``: ids the requester may not add to its own lineage (services.objects decides); they apply
    to what the requester originates, not to signed versions of other origins it relays."""
    if plan is None:
        return tx.add_versions(collection_id, principal.org_id, items, taken), {}
    outcomes: list[tuple[AddOutcome, int | None]] = [(AddOutcome.UNCHANGED, None)] * len(items)
    refused: dict[int, str] = {}
    by_owner: dict[int, list[int]] = {}
    for i, decision in enumerate(plan.decisions):
        if isinstance(decision, str):
            refused[i] = decision
            outcomes[i] = (AddOutcome.REFUSED, None)
            if decision == WITHDRAWN:  # not kept even in quarantine: its origin took it back
                continue
            tx.add_quarantine(plan.peer_id, checked[i].id, checked[i].version_key, decision,
                              orjson.dumps(checked[i].obj))
        elif not decision.ours:
            by_owner.setdefault(decision.owner_org, []).append(i)
    provenance: list[tuple[int, Signature, int, int | None, frozenset[str]]] = []
    for owner, indices in by_owner.items():
        batch = []
        for i in indices:
            d = plan.decisions[i]
            assert isinstance(d, Admit)
            batch.append(items[i] if d.body is None else NewVersion(
                items[i].id, items[i].type, items[i].spec_version, items[i].version, items[i].revoked,
                items[i].tlp, items[i].groups, d.body))
        refuse = taken if owner == principal.org_id else frozenset()
        for i, outcome in zip(indices, tx.add_versions(collection_id, owner, batch, refuse), strict=True):
            outcomes[i] = outcome
            d = plan.decisions[i]
            if outcome[1] is not None and isinstance(d, Admit):
                if d.signature is not None:
                    provenance.append((outcome[1], d.signature, d.hops, d.via_peer, d.covered))
                if checked[i].type == "sighting":
                    _note_sighting(tx, checked[i], owner, outcome[1])
    tx.add_provenance(provenance)
    if plan.from_node:
        _refuse_replays(tx, collection_id, plan, items, outcomes, refused)
    return outcomes, refused


def _refuse_replays(tx: Tx, collection_id: int, plan: Plan, items: Sequence[NewVersion],
                    outcomes: list[tuple[AddOutcome, int | None]], refused: dict[int, str]) -> None:
    """A peer node sending a version held already while a later one is held too is replaying it:
    refused (the status says so), though it is authentic; nothing is stored and nothing relayed either
    way. A version held already that is still the latest is an ordinary retry and acknowledged."""
    held = [i for i, (outcome, _) in enumerate(outcomes) if outcome is AddOutcome.UNCHANGED and i not in refused]
    if not held:
        return
    by_owner: dict[int | None, list[int]] = {}
    for i in held:
        decision = plan.decisions[i]
        assert isinstance(decision, Admit)
        # a copy held already by another route is compared with every owner's lineage: its owner here
        # is whoever holds it, not the peer that sent it
        by_owner.setdefault(None if decision.ours else decision.owner_org, []).append(i)
    for owner, indices in by_owner.items():
        _refuse_superseded(tx.latest_versions(collection_id, owner, sorted({items[i].id for i in indices})),
                           indices, items, outcomes, refused)


def _refuse_superseded(latest: dict[str, str], held: list[int], items: Sequence[NewVersion],
                       outcomes: list[tuple[AddOutcome, int | None]], refused: dict[int, str]) -> None:
    for i in held:
        newest = latest.get(items[i].id)
        if newest is not None and newest > items[i].version:
            outcomes[i] = (AddOutcome.REFUSED, None)
            refused[i] = (f"refused: replay of version {key_to_display(items[i].version)}, superseded by "
                          f"{key_to_display(newest)} held here (nothing stored)")


def _note_sighting(tx: Tx, c: CheckedObject, owner_org: int, date_added: int) -> None:
    """Corroboration input: which organisation (created_by_ref, else the owner) sighted which indicator."""
    target = c.obj.get("sighting_of_ref")
    if isinstance(target, str) and target.startswith("indicator--"):
        by = c.obj.get("created_by_ref")
        tx.record_sighting(target, by if isinstance(by, str) else tx.get_org(owner_org).identity_id, date_added)
