"""A small, generic TAXII 2.1 client on httpx (usable for any STIX objects, not only indicators).

TAXII 2.1 (OASIS, 2021): server discovery ``GET /taxii2/`` (§4.1), API root information (§4.2),
collections (§5.1-5.2), ``GET .../objects/`` with ``added_after`` and ``limit`` and pagination by
the envelope's ``more`` and ``next`` (§5.4), ``POST .../objects/`` answered by a status resource
(§5.5) and ``GET .../status/{id}/`` to poll it (§4.3). Media type ``application/taxii+json;version=2.1``.
Loops are bounded: at most ``max_pages`` pages, and polling stops after ``timeout`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from accord.sensor.errors import TaxiiError

MEDIA_TYPE = "application/taxii+json;version=2.1"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of objects and the server's ``X-TAXII-Date-Added-Last`` (the next ``added_after``)."""

    objects: list[dict[str, Any]]
    added_last: str | None


class TaxiiClient:
    """Talks TAXII 2.1 to one server; ``client`` may be injected (tests, shared connection pools)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        max_pages: int = 10_000,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        headers = {"Accept": MEDIA_TYPE}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = client or httpx.Client(timeout=timeout)
        self._headers = headers
        self._auth = auth
        self.max_pages = max_pages

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(
                method,
                url,
                headers={**self._headers, **kwargs.pop("headers", {})},
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise TaxiiError(url, f"cannot reach the server: {exc}") from exc
        if response.status_code >= 400:
            detail = response.text[:200].replace("\n", " ")
            raise TaxiiError(url, f"HTTP {response.status_code}: {detail}")
        return response

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return _body(self._request(method, url, **kwargs), url)

    def discovery(self) -> dict[str, Any]:
        """The server's discovery resource (``/taxii2/`` under the given URL)."""
        return self._json("GET", urljoin(self.url, "taxii2/"))

    def default_api_root(self) -> str:
        """The ``default`` API root, else the first one listed; the URL itself when discovery is absent."""
        try:
            found = self.discovery()
        except TaxiiError:
            return self.url
        root = found.get("default") or next(iter(found.get("api_roots") or []), None)
        if not root:
            raise TaxiiError(self.url, "the discovery resource lists no API root")
        return urljoin(self.url, str(root)).rstrip("/") + "/"

    def collections(self, api_root: str) -> list[dict[str, Any]]:
        return list(self._json("GET", urljoin(api_root, "collections/")).get("collections", []))

    def pages(
        self,
        api_root: str,
        collection: str,
        *,
        added_after: str | None = None,
        limit: int | None = 1000,
        match: Mapping[str, str] | None = None,
    ) -> Iterator[Page]:
        """Objects of a collection page by page, following ``next`` while ``more`` is true.

        ``limit`` is sent with every request (servers cap it at their page size); medallion 3.0.0 fails
        on a ``next`` request without it.
        """
        url = urljoin(api_root, f"collections/{collection}/objects/")
        params: dict[str, str] = {f"match[{k}]": v for k, v in (match or {}).items()}
        if added_after:
            params["added_after"] = added_after
        if limit:
            params["limit"] = str(limit)
        for _ in range(self.max_pages):
            response = self._request("GET", url, params=params)
            body = _body(response, url)
            yield Page(list(body.get("objects", [])), response.headers.get("X-TAXII-Date-Added-Last"))
            if not body.get("more") or not body.get("next"):
                return
            params = {**params, "next": str(body["next"])}
        raise TaxiiError(url, f"more than {self.max_pages} pages; stopped")

    def add_objects(self, api_root: str, collection: str, objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """POST an envelope; returns the status resource."""
        url = urljoin(api_root, f"collections/{collection}/objects/")
        return self._json("POST", url, json={"objects": list(objects)}, headers={"Content-Type": MEDIA_TYPE})

    def status(self, api_root: str, status_id: str) -> dict[str, Any]:
        return self._json("GET", urljoin(api_root, f"status/{status_id}/"))

    def wait(
        self, api_root: str, status: Mapping[str, Any], timeout: float = 30.0, interval: float = 0.5
    ) -> dict[str, Any]:
        """Poll a status resource until it is ``complete`` or ``timeout`` seconds pass."""
        current = dict(status)
        deadline = time.monotonic() + timeout
        while current.get("status") != "complete" and time.monotonic() < deadline:
            time.sleep(interval)
            current = self.status(api_root, str(current["id"]))
        return current


def _body(response: httpx.Response, url: str) -> dict[str, Any]:
    """The JSON object of a TAXII answer (TAXII 2.1 allows an empty body for an empty page)."""
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as exc:
        raise TaxiiError(url, "the answer is not JSON") from exc
    if not isinstance(body, dict):
        raise TaxiiError(url, "the answer is not a JSON object")
    return body
