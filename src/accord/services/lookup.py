"""The privacy-preserving sighting lookup, at the holder: "has anyone seen X?" answered as counts per
sector, without the node learning X (the OPRF of :mod:`accord.domain.oprf`; protocol, security
argument and limits in docs/privacy.md).

* :func:`table`: for one collection and the current epoch (a UTC day), the PRF value of every
  observable value that other organisations hold there and the requester may read (the one sharing
  policy, :func:`accord.domain.sharing.may_read`), grouped by the holders' sectors: per sector, PRF
  value -> how many organisations of that sector hold it. Sectors with fewer than
  :data:`MIN_ORGS` organisations on the node are folded into "other", so a count never names one
  organisation.
* :func:`evaluate`: the PRF on blinded points, at most :data:`BUDGET` points an hour per organisation
  (each point tests one guess; the budget is what stops enumeration), charged in the same write
  transaction as its audit record, so every API worker and process shares one window; every call
  audited, refusals too.

The epoch key is HMAC-SHA256(secret, collection uuid, epoch) with the secret sealed at rest like
other keys (``accord.services.privacy``); a new epoch makes old tables and answers useless.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import threading
from collections import OrderedDict
from typing import Any

import orjson

from accord.domain.errors import AccordError, Conflict, InvalidInput, NotAllowed
from accord.domain.model import ApiRoot, Principal
from accord.domain.oprf import C0, holder_value, multiply, to_point
from accord.domain.oprf import evaluate as oprf_evaluate
from accord.domain.sharing import may_read
from accord.services import privacy
from accord.services.objects import resolve_collection
from accord.stix.timestamps import now_micros
from accord.store import privacy as privacy_rows
from accord.store.objects import ObjectFilter
from accord.store.repository import Store, Tx

BUDGET = 1000  # points evaluated per organisation per sliding hour, across every worker
WINDOW_MICROS = 3600 * 1_000_000
MAX_POINTS = 64  # points per request
MIN_ORGS = 3  # organisations a sector needs on the node to be named in an answer
EPOCH_MICROS = 24 * 3600 * 1_000_000
LOOKUP_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")
OTHER = "other"


class OverBudget(AccordError):
    """The account evaluated its hourly budget of points: the web layer answers 429."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def normalise(value: str) -> str:
    """One spelling per value, the same at the querier and the holder: addresses canonical, domains,
    e-mail addresses and hashes in lower case, URLs as given (their paths are case-sensitive)."""
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    return text if "/" in text else text.lower().rstrip(".")


def values_of(obj: dict[str, Any]) -> list[str]:
    """The observable values of one SCO (or of the SCOs embedded in observed-data)."""
    kind = obj.get("type")
    if kind == "file":
        hashes = obj.get("hashes")
        return [normalise(h) for h in hashes.values() if isinstance(h, str)] if isinstance(hashes, dict) else []
    if kind == "observed-data" and isinstance(obj.get("objects"), dict):
        return [v for inner in obj["objects"].values() if isinstance(inner, dict) for v in values_of(inner)]
    value = obj.get("value")
    return [normalise(value)] if kind in LOOKUP_TYPES and isinstance(value, str) else []


def epoch_of(now: int) -> int:
    return now // EPOCH_MICROS


def _epoch_key(store: Store, collection_uuid: str, epoch: int) -> bytes:
    secret = privacy.key_for(store, privacy.LOOKUP_SCOPE)
    return hmac.new(secret, f"{collection_uuid}\n{epoch}".encode(), hashlib.sha256).digest()


def _holdings(tx: Tx, principal: Principal, collection_id: int) -> dict[int, set[str]]:
    """Organisation -> values it holds in the collection that the requester may read (not its own)."""
    held: dict[int, set[str]] = {}
    after = None
    reader = principal.reader
    flt = ObjectFilter(types=(*LOOKUP_TYPES, "observed-data"))
    while True:
        rows = tx.scan(collection_id, flt, after, 5000, with_body=True)
        for row in rows:
            owner = row.visibility.owner_org
            if owner != principal.org_id and may_read(reader, row.visibility):
                held.setdefault(owner, set()).update(values_of(orjson.loads(row.body)))
        if len(rows) < 5000:
            return held
        after = rows[-1].date_added


_premultiplied: OrderedDict[str, bytes] = OrderedDict()  # X25519(C0, P(value)): no secret, kept
_tables: OrderedDict[tuple[int, int, Principal, int, int], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def _premultiply(value: str) -> bytes:
    with _lock:
        found = _premultiplied.get(value)
    if found is None:
        found = multiply(C0, to_point(value))
        with _lock:
            _premultiplied[value] = found
            while len(_premultiplied) > 500_000:
                _premultiplied.popitem(last=False)
    return found


def table(store: Store, principal: Principal, root: ApiRoot, key: str, now: int | None = None,
          min_orgs: int = MIN_ORGS) -> dict[str, Any]:
    """This epoch's table for the requester (see the module docstring)."""
    epoch = epoch_of(now_micros() if now is None else now)
    with store.read() as tx:
        collection, access = resolve_collection(tx, principal, root, key)
        if not access.can_read:
            raise NotAllowed(f"your organisation may not read collection {key!r}")
        cache_key = (id(store), collection.id, principal, epoch, tx.generation())
        with _lock:
            if cache_key in _tables:
                return _tables[cache_key]
        held = _holdings(tx, principal, collection.id)
        orgs = tx.list_orgs()
    members: dict[str, int] = {}
    for org in orgs:
        for sector in org.sectors or ("unspecified",):
            members[sector] = members.get(sector, 0) + 1
    sectors_of = {org.id: sorted({s if members[s] >= min_orgs else OTHER for s in org.sectors or ("unspecified",)})
                  for org in orgs}
    ek = _epoch_key(store, collection.uuid, epoch)
    counts: dict[str, dict[str, int]] = {}
    for org_id, values in held.items():
        outputs = {base64.b64encode(holder_value(ek, v, _premultiply(v))).decode() for v in values}
        for sector in sectors_of.get(org_id, [OTHER]):
            bucket = counts.setdefault(sector, {})
            for o in outputs:
                bucket[o] = bucket.get(o, 0) + 1
    result = {"epoch": epoch, "collection": collection.uuid, "min_orgs": min_orgs, "sectors": counts}
    with _lock:
        _tables[cache_key] = result
        while len(_tables) > 16:
            _tables.popitem(last=False)
    return result


def _point(text: Any) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InvalidInput("each blinded point is base64 of 32 bytes (an X25519 u-coordinate)")
    return raw


def _whole(value: Any) -> bool:
    """An integer as JSON Schema counts them (section 6.1.1 of its validation vocabulary: 751.0 is
    one), which is what the OpenAPI description promises; booleans are not."""
    return type(value) is int or (type(value) is float and value.is_integer())


def evaluate(store: Store, principal: Principal, root: ApiRoot, key: str, body: Any,
             now: int | None = None) -> dict[str, Any]:
    """Step 2 of the protocol for up to :data:`MAX_POINTS` points of the current epoch."""
    if not isinstance(body, dict) or not isinstance(body.get("points"), list) or not _whole(body.get("epoch")):
        raise InvalidInput('the body is {"epoch": N, "points": [base64, ...]}')
    points = [_point(p) for p in body["points"]]
    if not 1 <= len(points) <= MAX_POINTS:
        raise InvalidInput(f"between 1 and {MAX_POINTS} points a request")
    epoch = epoch_of(now_micros() if now is None else now)
    if body["epoch"] != epoch:
        raise Conflict(f"epoch {body['epoch']} is over (now {epoch}): fetch the table again")
    with store.read() as tx:
        collection, access = resolve_collection(tx, principal, root, key)
    if not access.can_read:
        raise NotAllowed(f"your organisation may not read collection {key!r}")
    ek = _epoch_key(store, collection.uuid, epoch)
    try:
        evaluated = [base64.b64encode(oprf_evaluate(ek, p)).decode() for p in points]
    except ValueError:
        raise InvalidInput("a point of small order is not a blinded item") from None
    at = now_micros() if now is None else now
    with store.write(audit_only=True) as tx:
        used, frees = privacy_rows.charge_lookup(tx, principal.org_id, len(points), BUDGET, WINDOW_MICROS, at)
        if used + len(points) > BUDGET:
            tx.audit(principal.account_id, principal.org_id, "lookup.refused",
                     {"collection": collection.uuid, "epoch": epoch, "points": len(points), "used": used})
            refused = True
        else:
            tx.audit(principal.account_id, principal.org_id, "lookup.evaluate",
                     {"collection": collection.uuid, "epoch": epoch, "points": len(points)})
            refused = False
    if refused:
        retry = max(1, -(-((frees or at + WINDOW_MICROS) - at) // 1_000_000))
        raise OverBudget(f"lookup budget spent: {BUDGET} points an hour per organisation ({used} used)", retry)
    return {"epoch": epoch, "evaluated": evaluated}
