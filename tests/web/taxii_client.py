"""The OASIS taxii2-client, unchanged, talking to the app in process: a requests transport adapter
that hands each request to Starlette's TestClient, so the client parses what the node really sends."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from starlette.testclient import TestClient
from taxii2client.common import _HTTPConnection

ORIGIN = "http://testserver"


class InProcess(BaseAdapter):
    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, **_options: Any) -> requests.Response:
        answer = self.client.request(request.method or "GET", request.url or ORIGIN, content=request.body,
                                     headers=dict(request.headers))
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.encoding = "utf-8"
        response.url = request.url or ORIGIN
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: the TestClient belongs to the test."""


def connection(client: TestClient, key: str) -> _HTTPConnection:
    """A taxii2-client connection (HTTP Basic, the key as password) whose requests reach ``client``."""
    conn = _HTTPConnection(user="analyst", password=key, version="2.1")
    conn.session.mount(ORIGIN, InProcess(client))
    return conn
