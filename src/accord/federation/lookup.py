"""The querier's side of the sighting lookup: ask a node "has anyone seen X?" without telling it X.

:class:`LookupClient` fetches the node's table for the epoch once, blinds each value
(:func:`accord.domain.oprf.blind`), has the node evaluate the blinded points, unblinds, and reads the
counts per sector from the table. The node sees only random-looking points; the querier learns, per
value asked, how many organisations of each sector hold it (docs/privacy.md).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import httpx

from accord.domain.oprf import blind, finalize
from accord.services.lookup import MAX_POINTS, normalise


class LookupClient:
    def __init__(self, base_url: str, api_key: str, root: str = "default", collection: str = "default",
                 client: httpx.Client | None = None) -> None:
        self.base = f"{base_url.rstrip('/')}/accord/lookup/{root}/{collection}"
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self.http = client or httpx.Client(timeout=30.0)
        self._table: dict[str, Any] | None = None

    def table(self, fresh: bool = False) -> dict[str, Any]:
        if self._table is None or fresh:
            resp = self.http.get(self.base + "/table", headers=self.headers)
            resp.raise_for_status()
            self._table = resp.json()
        return self._table

    def query(self, values: Sequence[str]) -> list[dict[str, int]]:
        """For each value, organisations per sector that hold it (sectors with none left out)."""
        out: list[dict[str, int]] = []
        for start in range(0, len(values), MAX_POINTS):
            chunk = [normalise(v) for v in values[start:start + MAX_POINTS]]
            for attempt in (0, 1):
                table = self.table(fresh=attempt == 1)
                blinded = [blind(v) for v in chunk]
                resp = self.http.post(self.base + "/evaluate", headers=self.headers, json={
                    "epoch": table["epoch"], "points": [base64.b64encode(b.point).decode() for b in blinded]})
                if resp.status_code == 409 and attempt == 0:  # a new epoch began: new table, new key
                    continue
                resp.raise_for_status()
                break
            for b, e in zip(blinded, resp.json()["evaluated"], strict=True):
                value = base64.b64encode(finalize(b, base64.b64decode(e))).decode()
                out.append({s: bucket[value] for s, bucket in table["sectors"].items() if value in bucket})
        return out
