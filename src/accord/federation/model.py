"""Values of federation: peers with their agreements, subscriptions and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from accord.domain.sharing import Agreement
from accord.domain.tlp import Tlp

MAX_HOPS = 16  # a relay chain longer than this is a loop or a misconfiguration: stop there


class PeerKind(StrEnum):
    NODE = "node"  # another Accord node: signed objects both ways
    FEED = "feed"  # any TAXII 2.1 server we pull from; its objects enter as if posted here
    MISP = "misp"  # a MISP feed we pull from (accord.interop.misp.peer); the same, converted from MISP


@dataclass(frozen=True, slots=True)
class Peer:
    id: int
    name: str
    kind: PeerKind
    org_id: int
    node_id: str | None
    url: str
    api_root: str
    remote_collection: str
    credential: str | None
    collections: frozenset[int]
    agreement: Agreement
    push_cursor: int
    pull_cursor: str
    last_error: str | None
    last_ok: int | None

    @property
    def objects_url(self) -> str:
        """TAXII 2.1 5.4/5.5 at the peer; a feed's URL is its API root, a node's its base URL."""
        root = self.url.rstrip("/") if self.kind is PeerKind.FEED else f"{self.url.rstrip('/')}/taxii2/{self.api_root}"
        return f"{root}/collections/{self.remote_collection}/objects/"

    @property
    def signed_objects_url(self) -> str:
        """The peer's signed view of the same collection (see accord.web.events)."""
        return (f"{self.url.rstrip('/')}/federation/taxii2/{self.api_root}/collections/"
                f"{self.remote_collection}/objects/")


def levels_text(levels: frozenset[Tlp]) -> str:
    return ",".join(str(int(t)) for t in sorted(levels))


def levels_of(text: str) -> frozenset[Tlp]:
    return frozenset(Tlp(int(t)) for t in text.split(",") if t)


@dataclass(frozen=True, slots=True)
class WarningFilter:
    """What an organisation wants to be warned about (all conditions must hold)."""

    types: frozenset[str] = frozenset({"indicator"})
    max_tlp: Tlp = Tlp.RED
    sectors: frozenset[str] = frozenset()
    min_confidence: int = 0
    only_corroborated: bool = False


@dataclass(frozen=True, slots=True)
class EarlyWarning:
    """One early warning: an object the subscriber may read, and why it was raised."""

    date_added: int
    object_id: str
    type: str
    priority: str  # "high" when corroborated
    corroborated_by: tuple[str, ...] = field(default=())
    name: str = ""


def matches(flt: WarningFilter, obj_type: str, tlp: Tlp, confidence: int | None, sectors: frozenset[str],
            corroborated: bool) -> bool:
    """Whether a readable object deserves a warning under ``flt`` (missing confidence counts as 0)."""
    return (obj_type in flt.types and tlp <= flt.max_tlp and (confidence or 0) >= flt.min_confidence
            and (not flt.sectors or not flt.sectors.isdisjoint(sectors))
            and (corroborated or not flt.only_corroborated))


def filter_to_json(flt: WarningFilter) -> dict[str, object]:
    return {"types": sorted(flt.types), "max_tlp": flt.max_tlp.label, "sectors": sorted(flt.sectors),
            "min_confidence": flt.min_confidence, "only_corroborated": flt.only_corroborated}


def filter_from_json(raw: dict[str, object]) -> WarningFilter:
    types, sectors = raw.get("types") or ["indicator"], raw.get("sectors") or []
    assert isinstance(types, list) and isinstance(sectors, list)
    return WarningFilter(frozenset(str(t) for t in types), Tlp.parse(str(raw.get("max_tlp", "red"))),
                         frozenset(str(s) for s in sectors), int(str(raw.get("min_confidence", 0))),
                         bool(raw.get("only_corroborated", False)))
