"""The OpenAPI description (src/accord/web/openapi.json) against the app's routes.

A route without an operation fails here, and so does an operation without a route: a new endpoint
is described in openapi.json under its Starlette path, with one entry per method, or this fails.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
import schemathesis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from accord.web.app import create_app
from accord.web.ui import Page
from tests.conftest import Node
from tests.web.conftest import BASE

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def routes_of(app: Starlette) -> set[tuple[str, str]]:
    """(path, method) of every route; HEAD only where declared, not where Starlette adds it to GET.
    The console's HTML pages and its static files are not part of the API."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Page) or (isinstance(route, Mount) and route.name == "static"):
            continue
        assert isinstance(route, Route), f"{route!r}: only plain routes are compared; describe this kind here"
        methods = set(route.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # {id:int} is {id} in OpenAPI
        found |= {(path, m) for m in methods}
    return found


def operations_of(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item
            if method in _METHODS}


def _document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    loaded: dict[str, Any] = orjson.loads(response.content)
    return loaded


def test_every_route_has_an_operation_and_every_operation_a_route(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, Starlette)
    routes, operations = routes_of(app), operations_of(_document(client))
    assert sorted(routes - operations) == [], "routes without an operation in src/accord/web/openapi.json"
    assert sorted(operations - routes) == [], "operations in src/accord/web/openapi.json without a route"


async def _nothing(_request: Request) -> Response:
    return Response()


def test_a_route_added_without_a_description_is_reported(node: Node) -> None:
    app = create_app(node.store)
    app.router.routes.append(Route("/accord/undescribed", _nothing, methods=["GET"]))
    with TestClient(app) as client:
        document = _document(client)
    assert routes_of(app) - operations_of(document) == {("/accord/undescribed", "GET")}
    assert operations_of(document) - routes_of(app) == set()


def test_the_description_is_valid_openapi_3_1_and_public(node: Node) -> None:
    with TestClient(create_app(node.store)) as client:
        document = _document(client)  # no Authorization header
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()


def test_every_operation_has_an_id_a_summary_and_taxii_error_bodies(client: TestClient) -> None:
    document = _document(client)
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            ids.append(operation["operationId"])
            assert operation["summary"] and operation["description"], where
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["$ref"].startswith("#/components/responses/"), where
            if operation.get("security") != []:
                assert "401" in operation["responses"], f"{where} takes an API key but does not say 401"
    assert len(ids) == len(set(ids)), "operationId values must be unique"
    for name, response in document["components"]["responses"].items():
        schema = response["content"]["application/taxii+json;version=2.1"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, name


@pytest.mark.parametrize(("name", "value"), [
    ("added_after", "0000-01-01T00:00:00Z"),  # calendar arithmetic has no year 0: this was a 500
    ("added_after", "2025-02-29T00:00:00Z"),
    ("next", "9999999999999999999"),  # over 2**63 - 1: this was a 500
])
def test_a_value_the_description_rules_out_is_a_400(client: TestClient, node: Node, name: str, value: str) -> None:
    document = _document(client)
    schema = next(p["schema"] for p in document["components"]["parameters"].values() if p["name"] == name)
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert re.search(schema["pattern"], value) is None
    response = client.get(f"{BASE}/objects/", params={name: value}, headers=node.auth("energy-co"))
    assert response.status_code == 400
    assert orjson.loads(response.content)["http_status"] == "400"
