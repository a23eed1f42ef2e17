"""Indicator exports for sensors that match on their own (Zeek intel, Suricata datasets and IP
reputation), built from the indicators the requesting organisation may read.

The objects come through :func:`accord.services.objects.readable_objects` (by way of
:func:`accord.services.decay.readable_indicators`, which drops decayed indicators), the same policy
path as every TAXII read, so an export never contains anything its reader could not GET; the file formats
themselves are the sensor's pure functions in :mod:`accord.sensor.exports`.
"""

from __future__ import annotations

from typing import Any

from accord.domain.decay import is_kept
from accord.domain.model import ApiRoot, Principal
from accord.sensor import exports
from accord.services import admin, decay
from accord.stix.timestamps import now_micros
from accord.store.repository import Store

SURICATA_DATASETS = ("ipv4", "ipv6", "domains", "urls", "md5", "sha256")


def _indicators(store: Store, principal: Principal, root: ApiRoot, collection: str) -> list[dict[str, Any]]:
    """The readable indicators that have not decayed under the collection's model (docs/lists.md):
    past ``valid_until`` or scoring under the threshold, an indicator leaves every export."""
    indicators, sighted, model = decay.readable_indicators(store, principal, root, collection, "export.indicators")
    now = now_micros()
    return [ind for ind in indicators if is_kept(model, ind, sighted.get(str(ind.get("id"))), now)]


def zeek_intel(store: Store, principal: Principal, root: ApiRoot, collection: str) -> str:
    return exports.zeek_intel(_indicators(store, principal, root, collection), source=f"accord:{collection}")


def suricata_dataset(store: Store, principal: Principal, root: ApiRoot, collection: str, name: str) -> str:
    files = exports.suricata_datasets(_indicators(store, principal, root, collection)).files
    return files.get(f"{name}.lst", "")


def suricata_iprep(store: Store, principal: Principal, root: ApiRoot, collection: str) -> tuple[str, str]:
    return exports.suricata_iprep(_indicators(store, principal, root, collection))


class LocalIndicators:
    """An indicator source (``accord.sensor.feeds.IndicatorSource``) reading the local node's store
    directly, as the named account: what that account's organisation may read, nothing more."""

    def __init__(self, store: Store, account: str, collection: str) -> None:
        self.store = store
        self.principal = admin.principal_for(store, account)
        self.collection = collection

    def objects(self) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            col = tx.find_collection(None, self.collection)
            root = next(r for r in tx.list_api_roots() if r.id == col.api_root_id)
        return _indicators(self.store, self.principal, root, col.uuid)
