"""Public advisories: plain-language STIX 2.1 ``report`` objects, in several languages.

An advisory is written for people without a security team, so it always has the same four parts
(what happened, who is affected, what to do now, how to check) and a title, in a primary language
and any number of translations. It travels as two STIX 2.1 objects:

* a ``report`` (section 4.11) marked TLP:CLEAR, labelled ``accord-advisory``, whose ``name`` and
  ``description`` carry the primary language (so any STIX consumer can read it) and whose
  ``x-accord-advisory`` property extension (section 7.3) carries the four parts, the sectors and the
  software it names (CPE 2.3 names or ``vendor:product``) one by one;
* a ``language-content`` object (section 7.1) whose ``contents`` maps each other language (RFC 5646
  tag) to the translated ``name``, ``description`` and extension properties of that report version
  (``object_modified``).

Drafts are generated from what the node knows (:func:`campaign_draft`, :func:`norms_draft`) with
fixed, reviewed wording per language, and carry no detail of the (possibly non-CLEAR) incident they
come from beyond its sectors: a person reviews every draft before anything is published.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.domain.errors import InvalidInput

LABEL = "accord-advisory"
SECTIONS = ("what_happened", "who_is_affected", "what_to_do", "how_to_check")
HEADINGS: dict[str, dict[str, str]] = {
    "en": {"what_happened": "What happened", "who_is_affected": "Who is affected", "what_to_do": "What to do now",
           "how_to_check": "How to check"},
    "fr": {"what_happened": "Ce qui s'est passé", "who_is_affected": "Qui est concerné",
           "what_to_do": "Que faire maintenant", "how_to_check": "Comment vérifier"},
    "de": {"what_happened": "Was ist passiert", "who_is_affected": "Wer ist betroffen",
           "what_to_do": "Was jetzt zu tun ist", "how_to_check": "Wie Sie es prüfen"},
}
MAX_TEXT = 20_000
_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
_SOFTWARE = re.compile(r"(cpe:2\.3:[aho](:[^:\s]+){10}|[a-z0-9][a-z0-9._-]*:[a-z0-9][a-z0-9._-]*)\Z")


def parse_language(tag: str) -> str:
    """An RFC 5646 language tag of the shape STIX 2.1 section 7.1 uses (``en``, ``fr``, ``pt-BR``):
    the primary subtag lower case, the others as written."""
    head, *rest = tag.strip().split("-")
    value = "-".join([head.lower(), *rest])
    if not _LANG.match(value):
        raise InvalidInput(f"{tag!r} is not a language tag such as 'en' or 'pt-BR'")
    return value


def parse_software(text: str) -> str:
    """A CPE 2.3 formatted string or ``vendor:product`` (lower case), as the registry and notices use."""
    value = text.strip().lower()
    if not _SOFTWARE.match(value):
        raise InvalidInput(f"{text!r} is neither a CPE 2.3 name (cpe:2.3:a:vendor:product:...) nor vendor:product")
    return value


def software_key(name: str) -> str:
    """``vendor:product`` of a CPE 2.3 name or of ``vendor:product``: what two names must share to match."""
    parts = name.split(":")
    return f"{parts[3]}:{parts[4]}" if name.startswith("cpe:2.3:") else name


@dataclass(frozen=True, slots=True)
class Text:
    """One language's version of an advisory."""

    title: str
    what_happened: str
    who_is_affected: str
    what_to_do: str
    how_to_check: str

    def __post_init__(self) -> None:
        for name in ("title", *SECTIONS):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"the advisory's {name.replace('_', ' ')!r} must not be empty")
            if len(value) > MAX_TEXT or "\x00" in value:
                raise InvalidInput(f"the advisory's {name!r} is too long or holds a NUL character")

    def section(self, name: str) -> str:
        return str(getattr(self, name))

    def description(self, lang: str) -> str:
        """The four parts as one plain text, for STIX consumers that read only ``description``."""
        heads = HEADINGS.get(lang.split("-")[0], HEADINGS["en"])
        return "\n\n".join(f"{heads[s]}: {self.section(s)}" for s in SECTIONS)

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, **{s: self.section(s) for s in SECTIONS}}


def text_from(raw: object, where: str) -> Text:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: expected an object with title and {', '.join(SECTIONS)}")
    missing = [k for k in ("title", *SECTIONS) if not isinstance(raw.get(k), str)]
    if missing:
        raise InvalidInput(f"{where}: {', '.join(missing)} missing or not text")
    return Text(*(str(raw[k]) for k in ("title", *SECTIONS)))


@dataclass(frozen=True, slots=True)
class Content:
    """What a person reviews: the texts per language, the sectors and software the advisory names."""

    language: str  # the primary language (the report's own name and description)
    texts: Mapping[str, Text]
    sectors: tuple[str, ...] = ()
    software: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.language not in self.texts:
            raise InvalidInput(f"the primary language {self.language!r} has no text")

    def as_dict(self) -> dict[str, Any]:
        return {"language": self.language, "texts": {k: v.as_dict() for k, v in sorted(self.texts.items())},
                "sectors": list(self.sectors), "software": list(self.software)}


def content_from(raw: Mapping[str, Any]) -> Content:
    texts = raw.get("texts")
    if not isinstance(texts, Mapping) or not texts:
        raise InvalidInput("an advisory needs 'texts': {language: {title, " + ", ".join(SECTIONS) + "}}")
    parsed = {parse_language(str(k)): text_from(v, f"texts[{k!r}]") for k, v in texts.items()}
    sectors, software = raw.get("sectors", []), raw.get("software", [])
    if not isinstance(sectors, list) or not all(isinstance(s, str) for s in sectors):
        raise InvalidInput("'sectors' must be a list of strings")
    if not isinstance(software, list) or not all(isinstance(s, str) for s in software):
        raise InvalidInput("'software' must be a list of strings")
    return Content(parse_language(str(raw.get("language", "en"))), parsed,
                   tuple(sorted({s.strip().lower() for s in sectors if s.strip()})),
                   tuple(sorted({parse_software(s) for s in software})))


# --- generated drafts -----------------------------------------------------------------------------

_CAMPAIGN = {
    "en": Text("Coordinated attacks against organisations in the {sectors} sector",
               "Several partners of this exchange confirmed, independently of each other, a campaign of attacks "
               "against organisations in the {sectors} sector.",
               "Organisations in the {sectors} sector, in particular small ones and those without their own "
               "security team.",
               "Install the latest updates on internet-facing systems, turn on two-step sign-in for e-mail and "
               "remote access, and make sure you have a recent offline backup.",
               "Look for sign-ins at unusual hours or from unusual places, and new accounts you did not create. "
               "If you find any, contact your national CERT."),
    "fr": Text("Attaques coordonnées contre des organisations du secteur {sectors}",
               "Plusieurs partenaires de cet échange ont confirmé, chacun de leur côté, une campagne d'attaques "
               "contre des organisations du secteur {sectors}.",
               "Les organisations du secteur {sectors}, en particulier les petites et celles sans équipe de "
               "sécurité.",
               "Installez les dernières mises à jour sur les systèmes exposés à Internet, activez la connexion en "
               "deux étapes pour la messagerie et l'accès à distance, et vérifiez que vous avez une sauvegarde "
               "récente hors ligne.",
               "Cherchez des connexions à des heures ou depuis des lieux inhabituels et des comptes que vous n'avez "
               "pas créés. Si vous en trouvez, contactez votre CERT national."),
    "de": Text("Koordinierte Angriffe auf Organisationen im Sektor {sectors}",
               "Mehrere Partner dieses Austauschs haben unabhängig voneinander eine Angriffskampagne gegen "
               "Organisationen im Sektor {sectors} bestätigt.",
               "Organisationen im Sektor {sectors}, besonders kleine und solche ohne eigenes Sicherheitsteam.",
               "Spielen Sie die neuesten Updates auf allen aus dem Internet erreichbaren Systemen ein, schalten Sie "
               "die Anmeldung in zwei Schritten für E-Mail und Fernzugriff ein und prüfen Sie, ob Sie eine aktuelle "
               "Offline-Sicherung haben.",
               "Achten Sie auf Anmeldungen zu ungewöhnlichen Zeiten oder von ungewöhnlichen Orten und auf Konten, "
               "die Sie nicht angelegt haben. Wenn Sie welche finden, wenden Sie sich an Ihr nationales CERT."),
}
_NORMS = {
    "en": Text("Attacks on essential services in the {sectors} sector",
               "Partners of this exchange observed attacks on organisations that provide essential services in "
               "the {sectors} sector. Such attacks break the international norms that protect these services.",
               "Providers of essential services in the {sectors} sector and their suppliers.",
               "Check that remote access to operational systems is closed or protected by two-step sign-in, "
               "install pending updates and review who can reach your control systems.",
               "Review remote-access logs for the last 30 days. Report anything unusual to your national CERT."),
    "fr": Text("Attaques contre des services essentiels du secteur {sectors}",
               "Des partenaires de cet échange ont observé des attaques contre des organisations qui fournissent "
               "des services essentiels dans le secteur {sectors}. Ces attaques violent les normes internationales "
               "qui protègent ces services.",
               "Les fournisseurs de services essentiels du secteur {sectors} et leurs prestataires.",
               "Vérifiez que l'accès à distance aux systèmes opérationnels est fermé ou protégé par une connexion en "
               "deux étapes, installez les mises à jour en attente et revoyez qui peut atteindre vos systèmes de "
               "contrôle.",
               "Examinez les journaux d'accès à distance des 30 derniers jours. Signalez toute anomalie à votre "
               "CERT national."),
    "de": Text("Angriffe auf wesentliche Dienste im Sektor {sectors}",
               "Partner dieses Austauschs haben Angriffe auf Organisationen beobachtet, die im Sektor {sectors} "
               "wesentliche Dienste erbringen. Solche Angriffe verletzen die internationalen Normen, die diese "
               "Dienste schützen.",
               "Anbieter wesentlicher Dienste im Sektor {sectors} und ihre Zulieferer.",
               "Prüfen Sie, ob der Fernzugriff auf Betriebssysteme geschlossen oder durch eine Anmeldung in zwei "
               "Schritten geschützt ist, spielen Sie ausstehende Updates ein und prüfen Sie, wer Ihre "
               "Steuerungssysteme erreichen kann.",
               "Prüfen Sie die Protokolle des Fernzugriffs der letzten 30 Tage. Melden Sie Auffälliges Ihrem "
               "nationalen CERT."),
}


def _filled(templates: Mapping[str, Text], sectors: Sequence[str], language: str) -> Content:
    if not sectors:
        raise InvalidInput("a generated advisory names the sectors it warns; the source names none")
    named = ", ".join(s.replace("-", " ") for s in sectors)
    texts = {lang: Text(*(getattr(t, k).replace("{sectors}", named) for k in ("title", *SECTIONS)))
             for lang, t in templates.items()}
    return Content(language if language in texts else "en", texts, tuple(sorted(sectors)))


def campaign_draft(sectors: Sequence[str], language: str = "en") -> Content:
    """The draft for a campaign that partners corroborated (an incident whose origin is concluded)."""
    return _filled(_CAMPAIGN, sectors, language)


def norms_draft(sectors: Sequence[str], language: str = "en") -> Content:
    """The draft for a norm violation (an incident against a protected sector)."""
    return _filled(_NORMS, sectors, language)


# --- STIX mapping ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Published:
    """A published advisory as read back from its report and language-content objects."""

    id: str
    modified: str
    published: str
    content: Content
    refs: tuple[str, ...] = field(default=())

    @property
    def languages(self) -> list[str]:
        """The primary language first, then the translations in tag order."""
        first = self.content.language
        return [first, *sorted(lang for lang in self.content.texts if lang != first)]

    def matches(self, words: str) -> bool:
        """The public search: every word appears in some language's title or parts (case-folded)."""
        haystack = " ".join(" ".join(t.as_dict().values()) for t in self.content.texts.values()).casefold()
        return all(w in haystack for w in words.casefold().split())


def new_report_id() -> str:
    return f"report--{uuid.uuid4()}"


def _ext(text: Text, content: Content | None) -> dict[str, Any]:
    props: dict[str, Any] = {s: text.section(s) for s in SECTIONS}
    if content is not None:
        props |= {"extension_type": "property-extension", "sectors": list(content.sectors),
                  "software": list(content.software)}
    return props


def language_content_id(report_id: str) -> str:
    """One language-content object per report, its versions following the report's (section 7.1)."""
    return f"language-content--{uuid.uuid5(uuid.UUID(report_id.split('--')[1]), 'language-content')}"


def to_stix(report_id: str, content: Content, author: str, created: str, modified: str, published: str,
            marking: str, extension_id: str) -> list[dict[str, Any]]:
    """The report (primary language) and, with translations, its language-content (section 7.1).

    ``published`` is when the advisory first went public (section 4.11.1: the date the creator
    officially published it); each approved revision is a new version (``modified``)."""
    main = content.texts[content.language]
    report: dict[str, Any] = {
        "type": "report", "spec_version": "2.1", "id": report_id, "created": created, "modified": modified,
        "created_by_ref": author, "name": main.title, "description": main.description(content.language),
        "published": published, "report_types": ["threat-report"], "labels": [LABEL], "lang": content.language,
        "object_refs": [author], "object_marking_refs": [marking],
        "extensions": {extension_id: _ext(main, content)}}
    others = {lang: t for lang, t in content.texts.items() if lang != content.language}
    if not others:
        return [report]
    lc_id = language_content_id(report_id)
    translations = {lang: {"name": t.title, "description": t.description(lang),
                           "extensions": {extension_id: _ext(t, None)}} for lang, t in sorted(others.items())}
    return [report, {"type": "language-content", "spec_version": "2.1", "id": lc_id, "created": created,
                     "modified": modified, "created_by_ref": author, "object_ref": report_id,
                     "object_modified": modified, "contents": translations, "object_marking_refs": [marking]}]


def from_stix(report: Mapping[str, Any], translations: Sequence[Mapping[str, Any]], extension_id: str) -> Published:
    """Read an advisory back; a translation for another version of the report, or malformed, is left out."""
    ext = report.get("extensions", {}).get(extension_id)
    if not isinstance(ext, Mapping):
        raise InvalidInput(f"{report.get('id')!r} is not an Accord advisory")
    lang = parse_language(str(report.get("lang", "en")))
    texts = {lang: text_from({"title": report.get("name"), **ext}, str(report.get("id")))}
    for lc in translations:
        if lc.get("object_ref") != report["id"] or lc.get("object_modified") != report["modified"]:
            continue
        contents = lc.get("contents")
        for other, props in (contents.items() if isinstance(contents, Mapping) else ()):
            try:
                tag = parse_language(str(other))
                inner = props.get("extensions", {}).get(extension_id, {}) if isinstance(props, Mapping) else {}
                texts.setdefault(tag, text_from({"title": props.get("name"), **inner}, str(lc.get("id"))))
            except (InvalidInput, AttributeError, TypeError):
                continue
    content = Content(lang, texts, tuple(str(s) for s in ext.get("sectors", [])),
                      tuple(str(s) for s in ext.get("software", [])))
    return Published(str(report["id"]), str(report["modified"]), str(report.get("published", report["modified"])),
                     content, tuple(str(r) for r in report.get("object_refs", [])))


def negotiate(available: Sequence[str], asked: str | None, accept_language: str | None, default: str) -> str:
    """The language to show: ``?lang=`` if available, else the best Accept-Language match (RFC 9110
    section 12.5.4: quality values, then a primary-tag match), else the advisory's own language."""
    if asked:
        for lang in available:
            if lang.lower() == asked.strip().lower():
                return lang
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.strip().lower()))
    for _q, _i, tag in sorted(ranked):
        for lang in available:
            if lang.lower() == tag or lang.lower().split("-")[0] == tag.split("-")[0]:
                return lang
    return default
