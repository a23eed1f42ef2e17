"""schemathesis against a live ``accord serve``: every answer is one its OpenAPI description allows.

The node runs as a real process on loopback (tests/e2e/nodeproc.py) over a store holding two
collections, indicators at every TLP 2.0 level from two partners, a sharing group, a declared
constituency and a consultation. schemathesis reads ``/openapi.json`` from the node and, as a
partner's contributor key, sends generated requests to every operation, valid ones and invalid ones,
then follows the document's OpenAPI links as a state machine (scenarios start at operations without
ids in the path: Add Objects -> Get Status and Get An Object, Open Consultation -> its steps and Get
Consultation, Open Incident -> evidence and assessments). Every response is
checked: no 5xx, a documented status code, content type, headers and body schema, and 401 without a
key where the document asks for one. The run is bounded (examples per operation, steps, a deadline
per call) and prints its figures.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.schemas import OpenApiSchema

from accord.bootstrap import open_store
from accord.config import Settings
from accord.coordination import constituencies, consultations
from accord.coordination.workspace import Workspace
from accord.domain.model import OrgKind
from accord.domain.sharing import Role
from accord.domain.tlp import Tlp
from accord.services import admin
from tests.e2e.nodeproc import NodeProcess
from tests.stixgen import indicator

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

EXAMPLES = 40  # generated requests per operation and generation mode
STREAM_EXAMPLES = 4  # the event stream holds each request for STREAM_SECONDS
STREAM_SECONDS = 1.0
STATEFUL_SCENARIOS = 60
STEPS = 6
DEADLINE = timedelta(seconds=5)  # per generated call; a live node answers in milliseconds
EVENTS = "/federation/events/"


@dataclass
class LiveNode:
    url: str
    key: str  # energy-co's contributor: may write the default collection, reads the other
    known: dict[str, str]  # path parameter values that name something stored: root, cid, oid, id


def _populate(data_dir: Path) -> tuple[str, dict[str, str]]:
    store = open_store(Settings(data_dir))
    try:
        admin.init_node(store, "host-cert", OrgKind.GOVERNMENT_CERT, "DE")
        admin.add_org(store, "energy-co", OrgKind.COMPANY, "FR", ("energy",))
        admin.add_org(store, "health-isac", OrgKind.SECTOR_ISAC, "NL", ("health-care",))
        admin.create_collection(store, "Sector feed", "sector", "read-only for partners")
        for org in ("energy-co", "health-isac"):
            admin.grant(store, "default", org, read=True, write=True)
            admin.grant(store, "sector", org, read=True, write=False)
        _, key = admin.add_account(store, "energy-analyst", "energy-co", Role.CONTRIBUTOR)
        admin.add_account(store, "health-analyst", "health-isac", Role.CONTRIBUTOR)
        marking = admin.create_group(store, "grid-operators")
        admin.set_group_member(store, "grid-operators", "energy-co", True)
        energy, health = admin.principal_for(store, "energy-analyst"), admin.principal_for(store, "health-analyst")
        levels = list(Tlp)
        admin.load_bundle(store, energy, "default", [indicator(n, tlp=levels[n % len(levels)]) for n in range(10)])
        admin.load_bundle(store, energy, "default", [indicator(0, tlp=Tlp.GREEN, modified="2026-02-01T00:00:00.000Z")])
        admin.load_bundle(store, health, "default", [indicator(100 + n, tlp=t) for n, t in enumerate(levels)])
        admin.load_bundle(store, health, "default", [indicator(200, tlp=Tlp.AMBER, markings=(marking,))])
        host = admin.principal_for(store, admin.ADMIN_ACCOUNT)
        admin.load_bundle(store, host, "sector", [indicator(300 + n, tlp=t) for n, t in enumerate(levels)])
        constituencies.declare(Workspace(store, energy), ["192.0.2.0/24"], ["64500"], ["energy.example"])
        asked = consultations.open_consultation(Workspace(store, health), "energy-co", "scanning from 192.0.2.10")
    finally:
        store.close()
    return key, {"root": "default", "cid": "default", "oid": indicator(0)["id"], "id": asked.consultation.id}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    data_dir = tmp_path_factory.mktemp("schemathesis") / "node"
    key, known = _populate(data_dir)
    node = NodeProcess(data_dir)
    try:
        yield LiveNode(node.url, key, known)
    finally:
        node.stop()


# Schema-valid is not always valid here: these operations check what JSON Schema cannot say (that a
# string is an address, a network or a partner's name, that a TLP:RED consultation names a sharing
# group, that last_seen follows first_seen, that a search holds a word or a term), so for them a 400
# on generated valid data is an answer, and a 404 may be about a partner or object the body names
# rather than the resource in the URL.
SEMANTIC_RULES = ["whois", "declareConstituency", "openConsultation", "consultationStep", "createIncident",
                  "addIncidentEvidence", "assessIncident", "search"]


def _schema(live: LiveNode) -> OpenApiSchema:
    config = schemathesis.Config.from_dict({
        "headers": {"Authorization": f"Bearer {live.key}"}, "request-timeout": 10,
        "operations": [{"include-operation-id": SEMANTIC_RULES, "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]},
            "ensure_resource_availability": {"enabled": False}}}]})
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json", config=config)


def _bounded(examples: int) -> settings:
    return settings(max_examples=examples, deadline=DEADLINE, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@dataclass
class Tally:
    tried: Counter[str] = field(default_factory=Counter)  # generated requests by operation
    steps: Counter[str] = field(default_factory=Counter)  # stateful steps by operation
    answered: Counter[int] = field(default_factory=Counter)  # responses by status code
    failures: list[str] = field(default_factory=list)

    def run(self, operation: Any, mode: GenerationMode, examples: int, path: dict[str, str], **call: Any) -> None:
        @_bounded(examples)
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
        def run(case: Case) -> None:
            self.tried[operation.label] += 1
            self.answered[case.call_and_validate(**call).status_code] += 1

        try:
            run()
        except Unsatisfiable:  # negative mode, and nothing to make invalid: no query, body or constrained value
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (FailureGroup, Exception) as exc:  # every operation's failures are reported, not only the first's
            self.failures.append(f"{operation.label} ({mode.value}{', stored' if path else ''}): {exc}")


def test_a_live_node_answers_as_its_openapi_description_says(live: LiveNode) -> None:
    """Per operation: valid requests naming stored things, valid requests naming anything (mostly
    404), invalid requests; then scenarios along the OpenAPI links, on the default API root."""
    started = time.monotonic()
    schema = _schema(live)
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        stored = {p.name: live.known[p.name] for p in operation.path_parameters if p.name in live.known}
        call = {"timeout": STREAM_SECONDS} if operation.path == EVENTS else {}
        examples = STREAM_EXAMPLES if call else EXAMPLES
        if stored:
            tally.run(operation, GenerationMode.POSITIVE, examples, stored, **call)
        tally.run(operation, GenerationMode.POSITIVE, examples // 2 if stored else examples, {}, **call)
        tally.run(operation, GenerationMode.NEGATIVE, examples, {}, **call)

    machine = schema.as_state_machine()

    class Scenarios(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Case) -> None:
            """A scenario starts in the default collection; links carry the ids it creates onwards."""
            for name in ("root", "cid"):
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = live.known[name]

        def after_call(self, response: schemathesis.Response, case: Case) -> None:
            tally.steps[case.operation.label] += 1
            tally.answered[response.status_code] += 1
            super().after_call(response, case)

    try:
        Scenarios.run(settings=settings(_bounded(STATEFUL_SCENARIOS), stateful_step_count=STEPS))
    except (FailureGroup, Exception) as exc:
        tally.failures.append(f"stateful: {exc}")

    print(f"\nschemathesis {schemathesis.__version__}: {len(tally.tried)} operations, {tally.tried.total()} "
          f"generated requests, {tally.steps.total()} stateful steps over {len(tally.steps)} operations, "
          f"{time.monotonic() - started:.0f} s, {len(tally.failures)} failures; responses by status: "
          f"{dict(sorted(tally.answered.items()))}; stateful steps: {dict(sorted(tally.steps.items()))}")
    assert not tally.failures, "\n\n".join(tally.failures)
    assert set(tally.tried) == {result.ok().label for result in schema.get_all_operations()}  # none left out
