"""Constituency declarations and ``whois-partner``: which partner answers for an address.

A partner's declaration is one ``x-accord-constituency`` object with a stable id per partner; each
new declaration is a new version (STIX 2.1 section 3.6) and replaces the previous one everywhere.
A declaration speaks only for the organisation that stored it, whatever its ``owner_ref`` says.
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.coordination import stix
from accord.coordination.workspace import Workspace, ensure_definitions, markings
from accord.domain.coordination.constituency import (
    Answer,
    ConstituencyIndex,
    Declaration,
    normalise_domain,
    parse_asn,
    parse_network,
)
from accord.domain.errors import AccordError, InvalidInput
from accord.domain.tlp import Tlp
from accord.stix.timestamps import now_micros


def declare(ws: Workspace, networks: Sequence[str] = (), asns: Sequence[str] = (), domains: Sequence[str] = (),
            tlp: Tlp = Tlp.GREEN, now: int | None = None) -> Declaration:
    """Declare (or re-declare, replacing) the principal's organisation's constituency."""
    at = now or now_micros()
    with ws.refusals("constituency.declare", ws.me.name):
        decl = Declaration(ws.me.identity_id, ws.me.name,
                           tuple(sorted({parse_network(n) for n in networks}, key=lambda n: (n.version, n))),
                           tuple(sorted({parse_asn(a) for a in asns})),
                           tuple(sorted({normalise_domain(d) for d in domains})))
        if not (decl.networks or decl.asns or decl.domains):
            raise InvalidInput("declare at least one network, autonomous system or domain")
        ensure_definitions(ws)
        object_id = stix.stable_id(stix.CONSTITUENCY, ws.me.identity_id)
        earlier = ws.read(stix.CONSTITUENCY, ids=[object_id])
        created = stix.micros(earlier[0].obj, "created") if earlier else at
        modified = max(at, stix.micros(earlier[0].obj, "modified") + 1) if earlier else at
        ws.write([stix.constituency(ws.me.identity_id, ws.me.name, decl, created, modified, markings(tlp))])
    return decl


def declarations(ws: Workspace) -> list[Declaration]:
    """Every visible declaration; malformed ones (posted by hand) are left out of the index."""
    out = []
    for s in ws.read(stix.CONSTITUENCY):
        try:
            out.append(stix.declaration(s.obj, s.owner))
        except AccordError:
            continue
    return out


def whois(ws: Workspace, query: str) -> Answer:
    with ws.refusals("whois-partner", query):
        return ConstituencyIndex(declarations(ws)).lookup(query)
