"""Transparency pages (issue 17, "in the console"): who received our data, what we received from whom.

The rows are what ``accord transparency report --org X`` and ``accord transparency received --org X``
print (accord.services.transparency): built from the egress record in the audit log. TLP:CLEAR is not
recorded, so never listed. A host administrator may look at another organisation's report
(``org``), as the CLI does; anyone else sees their own organisation's only.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.domain.errors import NotAllowed, NotFound
from accord.services import transparency
from accord.web.ui import svg
from accord.web.ui.frame import Page, current_principal, render, store_of

SHOWN = 500  # rows on one page; the counts and the chart cover every matching row

_PAGES = {
    "sent": ("Who received our data", "recipient", "Recipient", transparency.sent),
    "received": ("What we received from whom", "owner", "From (owner)", transparency.received),
}


def _day(text: str, errors: dict[str, str], name: str) -> str:
    """A YYYY-MM-DD filter, or "" (with a message for the field when it is not a date)."""
    text = text.strip()[:40]
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else _bad(errors, name)
    except ValueError:
        return _bad(errors, name)


def _bad(errors: dict[str, str], name: str) -> str:
    errors[name] = "Enter a date as YYYY-MM-DD, for example 2026-12-01."
    return ""


def _per_day(rows: list[dict[str, Any]]) -> svg.Chart | None:
    days = Counter(str(r["at"])[:10] for r in rows)
    return svg.bars(sorted(days.items())) if days else None


async def _page(request: Request, kind: str) -> Response:
    principal = await current_principal(request)
    title, who, heading, read = _PAGES[kind]
    q = request.query_params
    errors: dict[str, str] = {}
    org = q.get("org", "").strip()[:200] or None
    party = q.get(who, "").strip()[:200]
    object_id = q.get("object", "").strip()[:300]
    since, until = _day(q.get("from", ""), errors, "from"), _day(q.get("to", ""), errors, "to")
    if since and until and since > until:
        errors["to"] = "The end date is before the start date."
    rows: list[dict[str, Any]] = []
    try:
        rows = await run_in_threadpool(read, store_of(request), principal, org)
    except (NotAllowed, NotFound) as exc:
        errors["org"] = exc.message[:1].upper() + exc.message[1:] + "."
    parties = sorted({str(r[who]) for r in rows if r[who]})
    if not errors:
        rows = [r for r in rows if (not party or r[who] == party) and (not object_id or r["object_id"] == object_id)
                and (not since or r["at"][:10] >= since) and (not until or r["at"][:10] <= until)]
    else:
        rows = []
    rows.reverse()  # newest first
    return render(request, "transparency.html", status_code=400 if errors else 200, title=title, kind=kind,
                  who=who, heading=heading, rows=rows[:SHOWN], total=len(rows), parties=parties, party=party,
                  org=org or "", object_id=object_id, since=since or q.get("from", "")[:40],
                  until=until or q.get("to", "")[:40], errors=errors, chart=_per_day(rows),
                  objects=len({r["object_id"] for r in rows}), shown=SHOWN)


async def sent_page(request: Request) -> Response:
    return await _page(request, "sent")


async def received_page(request: Request) -> Response:
    return await _page(request, "received")


routes = [Page("/transparency/sent", sent_page, methods=["GET"]),
          Page("/transparency/received", received_page, methods=["GET"])]
