"""The search page ``/search?q=...`` (issue 15): one box, results grouped and correlated.

What the box takes and how it matches is :mod:`accord.domain.search`; what a result may show is
:func:`accord.services.search.search`, which reads through the sharing policy like a TAXII read by
the same key. The page adds the picture: how many of the results each partner saw. Its JSON twin,
``GET /accord/search``, is in :mod:`accord.web.search`.
"""

from __future__ import annotations

import time
from collections import Counter

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.domain.errors import InvalidInput
from accord.domain.search import MAX_QUERY
from accord.services import search as svc
from accord.web.ui import svg
from accord.web.ui.frame import Page, current_principal, render, store_of

TITLES = {"indicator": "Indicators", "observable": "Observables", "sighting": "Sightings", "incident": "Incidents",
          "report": "Reports", "other": "Other objects"}
EXAMPLES = ("203.0.113.5", "198.51.100.0/24", "evil.example.com", "T0855", "44d88612fea8a8f36de82e1278abb02f",
            "ransomware water utility")


async def search_page(request: Request) -> Response:
    principal = await current_principal(request)
    values = request.query_params.getlist("q")
    text = values[0] if values else ""
    shown = text[:MAX_QUERY + 100]  # what the box repeats (the service refuses a longer one)
    if not values:
        return render(request, "search.html", title="Search", q="", errors={}, results=None, examples=EXAMPLES)
    errors: dict[str, str] = {}
    start_text = request.query_params.get("start", "0")
    start = int(start_text) if start_text.isascii() and start_text.isdigit() and len(start_text) <= 5 else 0
    start = min(start, svc.MAX_OFFSET)  # a link's parameter: not a number is the first page, too far the last
    started = time.perf_counter()
    try:
        results = await run_in_threadpool(svc.search, store_of(request), principal, text, svc.LIMIT, start)
    except InvalidInput as exc:
        errors["q"] = exc.message[:1].upper() + exc.message[1:] + "."
        return render(request, "search.html", status_code=400, title="Search", q=shown, errors=errors,
                      results=None, examples=EXAMPLES)
    took_ms = (time.perf_counter() - started) * 1000
    seen_by = Counter(p for h in results.hits for p in h.partners)
    chart = svg.bars(sorted(seen_by.items(), key=lambda kv: (-kv[1], kv[0]))) if seen_by else None
    return render(request, "search.html", title=f"Search: {shown[:80]}", q=shown, errors=errors, results=results,
                  groups=[(g, TITLES[g], hits) for g, hits in results.grouped()], chart=chart,
                  partners=len(seen_by), took_ms=took_ms, limit=svc.LIMIT, examples=EXAMPLES)


routes = [Page("/search", search_page, methods=["GET"])]
