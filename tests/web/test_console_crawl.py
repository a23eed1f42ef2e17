"""A crawler through the console, in process on both backends: signed in as the node's
administrator, as a plain analyst, and signed out, it follows every link from ``/``, finds every
form and submits hostile values to each field (huge, NUL, script tags, bidirectional overrides and
other unicode, wrong types, repeated, a file where text belongs, bytes that are not UTF-8, missing),
and the form without or with a wrong CSRF token. No answer may be a 500, no answer may reflect
markup unescaped (then or on any page afterwards), and an answer that refuses the input says why
next to the field (aria-describedby), or in an alert when only a hidden field was tampered with.

It names no page: pages that other parts of the console add are crawled the same once merged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import Node
from tests.web.console_pages import HTML, Form, crawl, forms_of, linked_messages, parse
from tests.web.test_console_sessions import console, sign_in

MARKUP = ['<script>alert("accord")</script>', '"><img src=x onerror=alert(1)>']
HOSTILE = {
    "huge": "A" * 200_000,
    "nul": "nul\x00byte",
    "script": MARKUP[0],
    "attribute": MARKUP[1],
    "bidi": "\u202eexe.gnp\u202c",
    "unicode": "Zoë 😀 𝔘𝔫𝔦 e\u0301\u0301 ﷽ 中文",
    "number": "-1e309",
    "json": '{"$where": [1]}',
}
REFUSED = (400, 404, 409, 413, 422)


@dataclass
class Outcome:
    form: str
    variant: str
    status: int
    problem: str


def _sign_in(c: TestClient, key: str | None) -> None:
    if key is not None:
        assert sign_in(c, method="key", key=key).status_code == 303


def _submit(c: TestClient, form: Form, data: dict[str, str | list[str]], file_field: str | None = None,
            raw: bytes | None = None) -> httpx.Response:
    url = form.action.removeprefix("http://testserver")
    if form.method == "get":  # a URL carries some 8,000 characters at most (RFC 9110 section 4.1)
        return c.get(url, params={k: v[:8000] if isinstance(v, str) else v for k, v in data.items()}, headers=HTML)
    if raw is not None:
        return c.post(url, content=raw, headers={**HTML, "Content-Type": "application/x-www-form-urlencoded"})
    if file_field is not None:
        return c.post(url, data=data, files={file_field: ("x.txt", b"<script>1</script>", "text/html")},
                      headers=HTML)
    return c.post(url, data=data, headers=HTML)


def _variants(form: Form) -> Iterator[tuple[str, str, dict[str, str | list[str]], str | None, bytes | None]]:
    """(field, variant, data, file field, raw body): one field changed at a time."""
    base: dict[str, str | list[str]] = dict(form.values(fill=True))
    names = list(dict.fromkeys(f.name for f in form.fields if f.kind not in ("submit", "button")))
    for name in names:
        for variant, value in HOSTILE.items():
            yield name, variant, {**base, name: value}, None, None
        yield name, "missing", {k: v for k, v in base.items() if k != name}, None, None
        yield name, "repeated", {**base, name: ["first", "second"]}, None, None
        if form.method == "post":
            yield name, "file", {k: v for k, v in base.items() if k != name}, name, None
            raw = "&".join(f"{k}={v}" for k, v in base.items() if k != name and isinstance(v, str) and v.isalnum())
            csrf = base.get("csrf")
            prefix = f"csrf={csrf}&" if isinstance(csrf, str) and name != "csrf" else ""
            yield name, "not-utf8", {}, None, (prefix + raw + f"&{name}=%FF%FE%C0").encode()
    if "csrf" in names:
        yield "csrf", "forged", {**base, "csrf": "0" * 64}, None, None


def _check(form: Form, field: str, variant: str, r: httpx.Response) -> str | None:
    if r.status_code >= 500:
        return f"answered {r.status_code}"
    text = r.text
    for markup in MARKUP:
        if markup in text:
            return "reflected markup unescaped"
    hidden = any(f.name == field and f.kind == "hidden" for f in form.fields) or field in ("csrf", "action")
    is_html = "text/html" in r.headers.get("content-type", "")
    refused_page = form.method == "post" and r.status_code in REFUSED and is_html
    if refused_page and not linked_messages(text) and not (hidden and 'role="alert"' in text):
        return "refused without a message next to the field"
    if field == "csrf" and variant in ("missing", "forged") and form.method == "post" and r.status_code != 403:
        return f"a form without its CSRF token answered {r.status_code}"
    return None


def _fresh(c: TestClient, form: Form, key: str | None) -> Form | None:
    """The same form as its page shows it now (with the session's CSRF token; signed in again if a
    submission ended the session, e.g. by disabling something it depended on)."""
    r = c.get(form.page.removeprefix("http://testserver"), headers=HTML)
    if r.status_code == 303 and "/signin" in r.headers.get("location", "") and key is not None:
        _sign_in(c, key)
        r = c.get(form.page.removeprefix("http://testserver"), headers=HTML)
    if "text/html" not in r.headers.get("content-type", ""):
        return None
    shape = (form.action, form.method, [f.name for f in form.fields])
    return next((f for f in parse(form.page, r.text)[1] if (f.action, f.method, [x.name for x in f.fields]) == shape),
                None)


def _fuzz(node: Node, key: str | None) -> tuple[list[Outcome], int, int]:
    problems: list[Outcome] = []
    submitted = 0
    with console(node) as c:
        _sign_in(c, key)
        pages = crawl(c)
        bad_pages = [p for p, r in pages.items() if r.status_code >= 500]
        assert not bad_pages, bad_pages
        forms = [f for f in forms_of(pages) if not f.action.endswith("/signout")]
        for form in forms:
            for field, variant, data, file_field, raw in _variants(form):
                current = _fresh(c, form, key)
                if current is None:
                    continue
                if "csrf" in data and field != "csrf":
                    data["csrf"] = current.values().get("csrf", "")
                r = _submit(c, current, data, file_field, raw)
                submitted += 1
                problem = _check(current, field, variant, r)
                if problem:
                    problems.append(Outcome(f"{form.method.upper()} {form.action} ({form.page})", f"{field}={variant}",
                                            r.status_code, problem))
        if c.get("/", headers=HTML).status_code == 303:
            _sign_in(c, key)
        after = crawl(c)
        for path, r in after.items():
            if r.status_code >= 500 or any(m in r.text for m in MARKUP):
                problems.append(Outcome(f"GET {path}", "after the fuzzing", r.status_code, "page broken or unescaped"))
    return problems, len(forms), submitted


@pytest.mark.parametrize("who", ["admin", "energy-co", None], ids=["administrator", "analyst", "signed-out"])
def test_hostile_values_in_every_form(node: Node, who: str | None) -> None:
    key = None if who is None else node.admin_key if who == "admin" else node.keys[who]
    problems, forms, submitted = _fuzz(node, key)
    assert forms >= (10 if who == "admin" else 1) and submitted >= forms * 10
    assert problems == [], "\n".join(f"{p.form} {p.variant}: {p.status} {p.problem}" for p in problems[:30])


def test_the_crawler_finds_the_administration_forms(node: Node) -> None:
    """The crawler's reach, so that a silent shrink (a link lost) fails here rather than testing less."""
    with console(node) as c:
        _sign_in(c, node.admin_key)
        pages = crawl(c)
        actions = {(f.action.removeprefix("http://testserver"), f.values().get("action", "")) for f in forms_of(pages)}
    assert {"/admin/orgs", "/admin/accounts", "/admin/keys", "/admin/audit"} <= {p.partition("?")[0] for p in pages}
    assert {("/admin/orgs", "add"), ("/admin/accounts", "password"), ("/admin/keys", "revoke"),
            ("/admin/collections", "grant"), ("/admin/audit/verify", "verify"), ("/signout", "")} <= actions
    assert re.search(r"/admin/audit", " ".join(pages))
