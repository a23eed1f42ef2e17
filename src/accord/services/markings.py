"""The TLP level of incoming versions whose markings are not all TLP ids (STIX 2.1 section 7.2).

:func:`accord.services.objects.add_objects` (TAXII 2.1 section 5.5) gives each version the level of
its TLP ids before it takes the write lock (:func:`accord.domain.tlp.tlp_of`). Inside the transaction
:func:`settle` decides the versions that reference anything else, with what only the store knows:
this node's sharing groups, and the statement markings each version's owner stored earlier in the
collection. A marking the node does not understand makes the version TLP:RED
(:func:`accord.domain.tlp.classify_markings`; docs/sharing.md, "Markings the node understands").
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from accord.domain.tlp import NON_RESTRICTING_MARKING_IDS, TLP_BY_MARKING, classify_markings, is_statement_marking
from accord.federation.ingest import Admit, Plan
from accord.stix.validate import CheckedObject
from accord.store.objects import NewVersion, ObjectFilter, VersionFilter
from accord.store.repository import Tx

_PAGE = 1000


def settle(tx: Tx, collection_id: int, poster_org: int, plan: Plan | None, checked: Sequence[CheckedObject],
           prepared: list[NewVersion]) -> list[NewVersion]:
    """``prepared`` with the level and sharing groups of each version that references a non-TLP marking.

    A statement marking counts for a version when its owner (the poster, or the origin's
    organisation for a signed version relayed by a peer: :mod:`accord.federation.ingest`) defined it,
    in the same envelope or stored in the collection earlier with every version of that id a
    statement: another organisation cannot make someone else's marking harmless by defining it.
    """
    groups = {g.marking_id: g.id for g in tx.list_groups()}
    other = {ref for c in checked for ref in c.marking_refs if ref not in TLP_BY_MARKING}
    if not other:
        return prepared
    owners = [poster_org] * len(checked) if plan is None else [
        d.owner_org if isinstance(d, Admit) else poster_org for d in plan.decisions]
    known: dict[int, set[str]] = {}
    for c, owner in zip(checked, owners, strict=True):
        if c.id in other and is_statement_marking(c.obj):
            known.setdefault(owner, set()).add(c.id)
    everyones = set.intersection(*(known.get(owner, set()) for owner in set(owners)))
    unresolved = other - groups.keys() - NON_RESTRICTING_MARKING_IDS - everyones
    if unresolved:
        for owner, ids in _stored_statements(tx, collection_id, unresolved).items():
            known.setdefault(owner, set()).update(ids)
    return [item._replace(tlp=classify_markings(c.marking_refs, known.get(owner, ()), groups),
                          groups=frozenset(groups[m] for m in c.marking_refs if m in groups))
            if any(ref in other for ref in c.marking_refs) else item
            for item, c, owner in zip(prepared, checked, owners, strict=True)]


def _stored_statements(tx: Tx, collection_id: int, ids: set[str]) -> dict[int, set[str]]:
    """Per owner, the ids among ``ids`` of which it holds only statement markings in the collection."""
    flt = ObjectFilter(ids=tuple(sorted(ids)), types=("marking-definition",), versions=VersionFilter(all=True))
    held: dict[tuple[int, str], bool] = {}
    after: int | None = None
    while True:
        page = tx.scan(collection_id, flt, after, _PAGE)
        for v in page:
            key = (v.visibility.owner_org, v.id)
            held[key] = held.get(key, True) and is_statement_marking(orjson.loads(v.body))
        if len(page) < _PAGE:
            out: dict[int, set[str]] = {}
            for (owner, marking_id), ok in held.items():
                if ok:
                    out.setdefault(owner, set()).add(marking_id)
            return out
        after = page[-1].date_added
