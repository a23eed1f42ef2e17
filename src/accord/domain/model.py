"""Values the node manages: organisations, accounts, API roots, collections, sharing groups."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accord.domain.sharing import Reader, Role


class OrgKind(StrEnum):
    GOVERNMENT_CERT = "government-cert"
    COMPANY = "company"
    SECTOR_ISAC = "sector-isac"
    SMALL_BUSINESS = "small-business"
    NONPROFIT = "nonprofit"


@dataclass(frozen=True, slots=True)
class Organisation:
    id: int
    name: str
    kind: OrgKind
    country: str
    sectors: tuple[str, ...]
    identity_id: str


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated account, with what the policy needs to know about its organisation."""

    account_id: int
    account_name: str
    org_id: int
    role: Role
    groups: frozenset[int]

    @property
    def reader(self) -> Reader:
        return Reader(self.org_id, self.groups)


@dataclass(frozen=True, slots=True)
class ApiRoot:
    id: int
    name: str
    title: str
    description: str
    max_content_length: int


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    uuid: str
    api_root_id: int
    title: str
    description: str
    alias: str | None


@dataclass(frozen=True, slots=True)
class SharingGroup:
    id: int
    name: str
    marking_id: str
    members: frozenset[int]
