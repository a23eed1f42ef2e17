"""The TLP level of incoming versions whose markings are not all TLP ids (STIX 2.1 section 7.2).

:func:`accord.services.objects.add_objects` (TAXII 2.1 section 5.5) gives each version the level of
its TLP ids before it takes the write lock (:func:`accord.domain.tlp.tlp_of`). Inside the transaction
:func:`settle` decides the versions that reference anything else, with what only the store knows:
this node's sharing groups, and the statement markings the posting organisation stored earlier in
the collection. A marking the node does not understand makes the version TLP:RED
(:func:`accord.domain.tlp.classify_markings`; docs/sharing.md, "Markings the node understands").
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from accord.domain.tlp import NON_RESTRICTING_MARKING_IDS, TLP_BY_MARKING, classify_markings, is_statement_marking
from accord.stix.validate import CheckedObject
from accord.store.objects import NewVersion, ObjectFilter, VersionFilter
from accord.store.repository import Tx

_PAGE = 1000


def settle(tx: Tx, collection_id: int, org_id: int, checked: Sequence[CheckedObject],
           prepared: list[NewVersion]) -> list[NewVersion]:
    """``prepared`` with the level and sharing groups of each version that references a non-TLP marking.

    A statement marking counts as understood when its definition is in the same envelope, or every
    version of it that ``org_id`` stored in the collection is one (another organisation cannot make
    someone else's marking harmless by defining it first).
    """
    groups = {g.marking_id: g.id for g in tx.list_groups()}
    other = {ref for c in checked for ref in c.marking_refs if ref not in TLP_BY_MARKING}
    if not other:
        return prepared
    statements = {c.id for c in checked if c.id in other and is_statement_marking(c.obj)}
    unresolved = other - statements - groups.keys() - NON_RESTRICTING_MARKING_IDS
    if unresolved:
        statements |= _stored_statements(tx, collection_id, org_id, unresolved)
    return [item._replace(tlp=classify_markings(c.marking_refs, statements, groups),
                          groups=frozenset(groups[m] for m in c.marking_refs if m in groups))
            if any(ref in other for ref in c.marking_refs) else item
            for item, c in zip(prepared, checked, strict=True)]


def _stored_statements(tx: Tx, collection_id: int, org_id: int, ids: set[str]) -> set[str]:
    flt = ObjectFilter(ids=tuple(sorted(ids)), types=("marking-definition",), versions=VersionFilter(all=True))
    held: dict[str, bool] = {}
    after: int | None = None
    while True:
        page = tx.scan(collection_id, flt, after, _PAGE)
        for v in page:
            if v.visibility.owner_org == org_id:
                held[v.id] = held.get(v.id, True) and is_statement_marking(orjson.loads(v.body))
        if len(page) < _PAGE:
            return {marking_id for marking_id, ok in held.items() if ok}
        after = page[-1].date_added
