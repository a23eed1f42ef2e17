"""A STIX 2.1 bundle shaped as OpenCTI exports one (built here from the published format).

Shape taken from OpenCTI's own code and connectors: marking definitions re-serialised with
``definition_type`` ``TLP``, ``x_opencti_order`` and ``x_opencti_color`` (OpenCTI-Platform/opencti,
opencti-graphql ``src/database/stix-converter.ts``); TLP ids that are the TLP 1.0 ones except
AMBER+STRICT (``src/schema/identifier.js``); OpenCTI's own properties both in its property extension
``extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba`` (``id``, ``type``, ``score``,
``detection``, ``main_observable_type``: what the platform export writes) and as top-level
``x_opencti_*`` properties (what connectors write, e.g. ``x_opencti_score``).
"""

from __future__ import annotations

from typing import Any

from accord.domain.decay import OPENCTI_EXTENSION
from accord.domain.tlp import TLP1_MARKING_IDS, Tlp

AMBER_STRICT = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
CLEAR = TLP1_MARKING_IDS[Tlp.CLEAR]
GREEN = TLP1_MARKING_IDS[Tlp.GREEN]
AMBER = TLP1_MARKING_IDS[Tlp.AMBER]
RED = TLP1_MARKING_IDS[Tlp.RED]
OPENCTI_TLP = {CLEAR: "TLP:CLEAR", GREEN: "TLP:GREEN", AMBER: "TLP:AMBER", AMBER_STRICT: "TLP:AMBER+STRICT",
               RED: "TLP:RED"}
AUTHOR = "identity--7b82b010-b1c0-4dae-981f-7756374a17df"


def marking(marking_id: str) -> dict[str, Any]:
    name = OPENCTI_TLP[marking_id]
    return {"id": marking_id, "spec_version": "2.1", "type": "marking-definition",
            "created": "2022-10-01T00:00:00.000Z", "definition_type": "TLP", "definition": {"TLP": name}, "name": name,
            "x_opencti_order": list(OPENCTI_TLP).index(marking_id) + 1, "x_opencti_color": "#ffc000",
            "extensions": {OPENCTI_EXTENSION: {"extension_type": "property-extension",
                                               "id": "6e1f8d5c-7a1b-4c25-9f43-0c3c1c7d8f2a",
                                               "type": "Marking-Definition"}}}


def _extension(kind: str, internal: str, **extra: Any) -> dict[str, Any]:
    return {OPENCTI_EXTENSION: {"extension_type": "property-extension", "id": internal, "type": kind,
                                "created_at": "2026-11-20T09:12:44.512Z", "updated_at": "2026-11-21T10:00:03.100Z",
                                "is_inferred": False, "creator_ids": ["88ec0c6a-13ce-5e39-b486-354fe4a7084f"],
                                **extra}}


def bundle(created: str = "2026-11-20T09:12:44.512Z", valid_from: str = "2026-11-20T09:12:44.512Z") -> dict[str, Any]:
    author = {"id": AUTHOR, "spec_version": "2.1", "type": "identity", "identity_class": "organization",
              "name": "Example CERT", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
              "x_opencti_organization_type": "CSIRT",
              "extensions": _extension("Organization", "0b4d2e64-7f2d-4cfa-a1a8-6a3c4a9f8b11")}
    exported = {"id": "indicator--5d3e2a43-0fd0-5d4e-9a37-4f0c9a8c5a11", "spec_version": "2.1", "type": "indicator",
                "created": created, "modified": "2026-11-21T10:00:03.100Z", "revoked": False, "confidence": 75,
                "lang": "en", "labels": ["c2", "cobalt-strike"], "created_by_ref": AUTHOR,
                "object_marking_refs": [AMBER_STRICT], "name": "198.51.100.23",
                "description": "Cobalt Strike team server", "pattern": "[ipv4-addr:value = '198.51.100.23']",
                "pattern_type": "stix", "pattern_version": "2.1", "valid_from": valid_from,
                "valid_until": "2027-11-20T09:12:44.512Z",
                "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}],
                "external_references": [{"source_name": "Example CERT", "url": "https://cert.example/a/2026-113"}],
                "extensions": _extension("Indicator", "c0f2b1a8-3a6d-4f62-8d1e-2b9c4a7e6f01", score=90,
                                         detection=True, main_observable_type="IPv4-Addr")}
    connector = {"id": "indicator--1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d", "spec_version": "2.1", "type": "indicator",
                 "created": created, "modified": created, "name": "evil.example",
                 "pattern": "[domain-name:value = 'evil.example']", "pattern_type": "stix", "valid_from": valid_from,
                 "created_by_ref": AUTHOR, "object_marking_refs": [GREEN], "confidence": 15, "labels": ["phishing"],
                 "x_opencti_score": 80, "x_opencti_main_observable_type": "Domain-Name", "x_opencti_detection": True}
    red = {"id": "indicator--9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "spec_version": "2.1", "type": "indicator",
           "created": created, "modified": created, "name": "d41d8cd98f00b204e9800998ecf8427e",
           "pattern": "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", "pattern_type": "stix",
           "valid_from": valid_from, "created_by_ref": AUTHOR, "object_marking_refs": [RED], "x_opencti_score": 20,
           "x_opencti_detection": False}
    observable = {"id": "ipv4-addr--0c0d2d1c-3b8f-5a7e-9c60-34b1b7ae0f21", "spec_version": "2.1", "type": "ipv4-addr",
                  "value": "198.51.100.23", "object_marking_refs": [AMBER_STRICT], "x_opencti_score": 90,
                  "x_opencti_description": "team server",
                  "extensions": _extension("IPv4-Addr", "a1c4f0d2-6b7e-4c8a-9d3f-1e2a3b4c5d6e", score=90)}
    based_on = {"id": "relationship--2e4c6a8b-0d1f-4e3a-9b5c-7d9f1b3d5f7a", "spec_version": "2.1",
                "type": "relationship", "created": created, "modified": created, "relationship_type": "based-on",
                "source_ref": exported["id"], "target_ref": observable["id"], "created_by_ref": AUTHOR,
                "object_marking_refs": [AMBER_STRICT], "confidence": 75,
                "extensions": _extension("based-on", "d2e3f4a5-b6c7-4d8e-9f01-a2b3c4d5e6f7")}
    report = {"id": "report--3f5a7c9e-1b3d-4f6a-8c0e-2a4c6e8a0c2e", "spec_version": "2.1", "type": "report",
              "created": created, "modified": created, "name": "Team servers, November 2026",
              "report_types": ["threat-report"], "published": created, "created_by_ref": AUTHOR,
              "object_marking_refs": [CLEAR], "object_refs": [exported["id"], connector["id"], observable["id"]],
              "x_opencti_reliability": "B - Usually reliable",
              "extensions": _extension("Report", "e4f5a6b7-c8d9-4e0f-8a1b-2c3d4e5f6a7b")}
    objects = [marking(m) for m in (CLEAR, GREEN, AMBER_STRICT, RED)] + [author, exported, connector, red, observable,
                                                                          based_on, report]
    return {"type": "bundle", "id": "bundle--8d2e5e9a-3d0c-4f3f-9a1b-5d1f1e7c9a3b", "objects": objects}
