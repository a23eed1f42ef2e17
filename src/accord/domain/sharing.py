"""The sharing policy: the one pure function that decides who may read a stored STIX object.

Every path that lets data leave the node (TAXII objects, manifest, versions, object-by-id, status
details, exports, federation) calls :func:`may_read`. The semantics are written down, with examples,
in ``docs/sharing.md``; this docstring is the short form:

1. A reader must first have read access to the collection (:func:`may_access_collection`).
2. The organisation that stored an object version (its *owner*) always reads it.
3. If the object references one or more sharing-group markings, only members of at least one of
   those groups read it, whatever its TLP level (a group narrows, it never widens).
4. Otherwise the TLP level decides: CLEAR, GREEN, AMBER and AMBER+STRICT are readable by every
   organisation with read access to the collection (the collection's membership *is* the
   need-to-know audience the source chose); RED is readable by the owner alone, because TLP:RED
   is for named recipients only and naming them takes a sharing group.
5. An object without any TLP marking is treated as TLP:AMBER (:data:`UNMARKED_DEFAULT`).
6. The newest version governs its older ones: a version is readable only if the latest version that
   its owner holds of the same object is readable too (:attr:`Visibility.latest`). A source that
   narrows an object (GREEN, then RED) narrows its whole history; older versions never outlive it.

The levels differ beyond this node: they decide what may be forwarded to peers (GREEN and CLEAR by
agreement; AMBER only to peers whose agreement names AMBER; AMBER+STRICT and RED never, except to
explicitly named recipients) and what the public feed may show (CLEAR alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accord.domain.tlp import Tlp

UNMARKED_DEFAULT = Tlp.AMBER


class Role(StrEnum):
    """What an account may do. Collection access (by organisation) is checked on top of the role."""

    READER = "reader"
    CONTRIBUTOR = "contributor"
    ADMINISTRATOR = "administrator"

    @property
    def can_write(self) -> bool:
        return self is not Role.READER


@dataclass(frozen=True, slots=True)
class Visibility:
    """What the store keeps of each object version to decide who reads it.

    ``latest`` is the visibility of the newest version the same owner holds of the same object, when
    this version is not that one (rule 6); None for the newest version itself.
    """

    owner_org: int
    tlp: Tlp | None
    groups: frozenset[int] = frozenset()
    latest: Visibility | None = None


@dataclass(frozen=True, slots=True)
class Reader:
    """The requesting organisation and the sharing groups it belongs to."""

    org_id: int
    groups: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class CollectionAccess:
    """An organisation's access to one collection."""

    can_read: bool
    can_write: bool


def effective_tlp(visibility: Visibility) -> Tlp:
    return visibility.tlp if visibility.tlp is not None else UNMARKED_DEFAULT


def may_access_collection(access: CollectionAccess | None) -> bool:
    """Rule 1: without read or write access the collection does not exist for the requester."""
    return access is not None and (access.can_read or access.can_write)


def _may_read_version(reader: Reader, visibility: Visibility) -> bool:
    if reader.org_id == visibility.owner_org:
        return True
    if visibility.groups:
        return not visibility.groups.isdisjoint(reader.groups)
    return effective_tlp(visibility) is not Tlp.RED


def may_read(reader: Reader, visibility: Visibility) -> bool:
    """Rules 2 to 6 above, for a reader that already has read access to the collection."""
    return _may_read_version(reader, visibility) and (
        visibility.latest is None or _may_read_version(reader, visibility.latest))


@dataclass(frozen=True, slots=True)
class Agreement:
    """What flows to one peer node beyond may_read: TLP levels and sharing groups (docs/federation.md)."""

    levels: frozenset[Tlp] = frozenset({Tlp.CLEAR, Tlp.GREEN})
    groups: frozenset[int] = frozenset()


def may_forward(agreement: Agreement, visibility: Visibility, originated_here: bool) -> bool:
    """Whether a version the peer may read (see :func:`may_read`) may also leave this node for it.

    Sharing groups name their recipients, so a group named by the agreement carries any level, and a
    group it does not name carries nothing. Otherwise AMBER+STRICT and RED never leave; CLEAR, GREEN
    and AMBER leave when the agreement names the level, and AMBER only from the node that originated
    it (TLP 2.0: recipients of AMBER may not pass it on). An older version leaves only if the newest
    version of its object would (rule 6 of the module docstring).
    """
    if visibility.latest is not None and not may_forward(agreement, visibility.latest, originated_here):
        return False
    if visibility.groups:
        return not visibility.groups.isdisjoint(agreement.groups)
    level = effective_tlp(visibility)
    if level in (Tlp.RED, Tlp.AMBER_STRICT) or level not in agreement.levels:
        return False
    return originated_here or level is not Tlp.AMBER


def may_publish(visibility: Visibility) -> bool:
    """Whether a version may go to the public sphere (accord.web.public: pages, feed, their links,
    counts and search), to readers nobody authenticated: TLP:CLEAR alone, never a sharing group's,
    never an unmarked one (rule 5 makes it AMBER), and only while the newest version of its object is
    publishable too (rule 6: narrowing an object withdraws it from the public as well)."""
    if visibility.latest is not None and not may_publish(visibility.latest):
        return False
    return not visibility.groups and visibility.tlp is Tlp.CLEAR


NOTIFIABLE = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})


def may_notify(reader: Reader, visibility: Visibility) -> bool:
    """Whether a version may be the basis of a notice to an organisation the reader (the partner that
    covers it) answers for: the reader may read it, and its level lets a recipient tell the clients
    it serves (TLP 2.0: AMBER to clients on a need-to-know basis; never AMBER+STRICT or RED, never a
    sharing group's, which names its readers). The notice names only the organisation's own asset."""
    if not may_read(reader, visibility) or visibility.groups:
        return False
    if visibility.latest is not None and not may_notify(reader, visibility.latest):
        return False
    return effective_tlp(visibility) in NOTIFIABLE
