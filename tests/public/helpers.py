"""Advisory contents and the steps to publish one, for the public sphere's tests."""

from __future__ import annotations

from typing import Any

from accord.domain import advisories as adv
from accord.services import admin
from accord.services import advisories as svc
from accord.store.repository import Store


def raw_content(title: str = "Update your routers", software: tuple[str, ...] = ("acme:r1",),
                french: bool = True) -> dict[str, Any]:
    texts = {"en": {"title": title, "what_happened": "A flaw in Acme R1 routers is used in attacks.",
                    "who_is_affected": "Anyone with an Acme R1 router.",
                    "what_to_do": "Install firmware 2.1 today.\n\nThen change the router's password.",
                    "how_to_check": "Open the router's page and read its version."}}
    if french:
        texts["fr"] = {"title": f"{title} (fr)", "what_happened": "Une faille des routeurs Acme R1 est exploitée.",
                       "who_is_affected": "Toute personne ayant un routeur Acme R1.",
                       "what_to_do": "Installez le micrologiciel 2.1.",
                       "how_to_check": "Ouvrez la page du routeur et lisez sa version."}
    return {"language": "en", "texts": texts, "sectors": ["retail"], "software": list(software)}


def content(**kwargs: Any) -> adv.Content:
    return adv.content_from(raw_content(**kwargs))


def publish(store: Store, title: str = "Update your routers", **kwargs: Any) -> svc.Advisory:
    """Draft as host-cert's admin and approve it: a published advisory."""
    principal = admin.principal_for(store, "admin")
    drafted = svc.draft(store, principal, content(title=title, **kwargs))
    return svc.approve(store, principal, drafted.id)
