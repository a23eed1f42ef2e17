"""Reading the console's HTML as a browser would, for tests that discover pages instead of naming
them: the links of a page, its forms with their fields, and the messages linked to fields."""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
from starlette.testclient import TestClient

HTML = {"Accept": "text/html"}
_names = itertools.count(1)


@dataclass
class Field:
    name: str
    kind: str  # text, password, hidden, checkbox, radio, select, textarea, search, ...
    value: str
    options: list[str] = field(default_factory=list)
    placeholder: str = ""

    @property
    def typed(self) -> bool:
        """A field a person types into."""
        return self.kind in ("text", "search", "password", "textarea", "email", "url", "number", "tel", "date")


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)

    def values(self, fill: bool = False) -> dict[str, str]:
        """What a browser sends untouched: hidden values, the selected option, a text field's value
        (the first radio button of a group, no checkbox). With ``fill``, what a person would type in
        the empty fields: the example a placeholder shows, a password of 24 characters, or a
        fresh name, so that one hostile field at a time is what makes the form right or wrong."""
        out: dict[str, str] = {}
        for f in self.fields:
            if f.kind in ("checkbox", "submit", "button") or (f.kind == "radio" and f.name in out):
                continue
            value = f.value if f.kind != "select" else (f.value or (f.options[0] if f.options else ""))
            if fill and f.typed and not value:
                value = ("crawler password 123456" if f.kind == "password" else f.placeholder
                         or f"crawl-{next(_names)}")
            out[f.name] = value
        return out


class _Parser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(urljoin(self.base, a["href"]))
        elif tag == "form":
            self._form = Form(self.base, urljoin(self.base, a.get("action") or self.base),
                              (a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            self._form.fields.append(Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else ""),
                                           placeholder=a.get("placeholder", "")))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select", "")
            self._form.fields.append(self._select)
        elif self._select is not None and tag == "option":
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea", "", placeholder=a.get("placeholder", ""))
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(url: str, html: str) -> tuple[list[str], list[Form]]:
    parser = _Parser(url)
    parser.feed(html)
    return parser.links, parser.forms


def same_site_path(url: str) -> str | None:
    """The path and query of a link to this node, None for one that leaves it or is no page."""
    parts = urlsplit(url)
    if parts.netloc not in ("testserver", "") or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(("/static/", "/taxii2", "/federation/", "/openapi.json")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client: TestClient, start: str = "/", limit: int = 300,
          visit: Callable[[str, httpx.Response], None] | None = None) -> dict[str, httpx.Response]:
    """Every console page reachable from ``start`` by links, at most ``limit`` of them, each visited
    once (a path is followed with at most five different queries)."""
    seen: dict[str, httpx.Response] = {}
    per_path: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        bare = path.partition("?")[0]
        if per_path.get(bare, 0) >= 5:
            continue
        per_path[bare] = per_path.get(bare, 0) + 1
        r = client.get(path, headers=HTML)
        seen[path] = r
        if visit is not None:
            visit(path, r)
        if r.is_redirect:
            target = same_site_path(urljoin("http://testserver" + path, r.headers["location"]))
            if target is not None and target not in seen:
                queue.append(target)
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        links, _ = parse("http://testserver" + path, r.text)
        queue.extend(p for p in (same_site_path(u) for u in links) if p is not None and p not in seen)
    return seen


def forms_of(pages: dict[str, httpx.Response]) -> Iterator[Form]:
    """Each distinct form (by action, method and field names) of the pages."""
    known: set[tuple[str, str, tuple[str, ...]]] = set()
    for path, r in pages.items():
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        for form in parse("http://testserver" + path, r.text)[1]:
            key = (form.action, form.method, tuple(f.name for f in form.fields))
            if key not in known:
                known.add(key)
                yield form


_DESCRIBED = re.compile(r'aria-describedby="([^"]+)"')


def linked_messages(html: str) -> list[str]:
    """The texts of the elements that fields (or forms) name with aria-describedby."""
    out = []
    for ids in _DESCRIBED.findall(html):
        for one in ids.split():
            found = re.search(rf'id="{re.escape(one)}"[^>]*>(.*?)</', html, re.S)
            if found and re.sub(r"<[^>]+>", "", found.group(1)).strip():
                out.append(re.sub(r"<[^>]+>", "", found.group(1)).strip())
    return out
