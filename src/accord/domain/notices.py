"""Notices: telling a small organisation, in its language, that partners' data touches what it owns.

A *touch* is one piece of shared data that names a registered asset: a sighting of an address in its
range, an indicator whose pattern names its address, domain or a URL on it, a published advisory
naming software it runs. Touches become *items* (one per organisation, reason and value: a second
sighting of the same address before the organisation acknowledged adds to the count instead of
writing again), and the items not yet sent are grouped into one *notice* per organisation, a digest,
with one plain-language paragraph and what to do for each, and a link to acknowledge it.

The acknowledgement link carries an HMAC-SHA256 of the notice id under a secret of the node, so only
the recipients of the notice can acknowledge it; nothing else about the notice is in the link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGHTING, INDICATOR, ADVISORY = "sighting", "indicator", "advisory"
REASONS = (SIGHTING, INDICATOR, ADVISORY)
RETRY_BASE_SECONDS = 60
MAX_ATTEMPTS = 8  # 1 + 2 + ... + 64 minutes: a relay down for two hours loses nothing

# STIX 2.1 patterning (section 9): the comparison expressions that name an address, a domain or a URL
_PATTERN = re.compile(r"\b(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value\s*(?:=|IN|LIKE)\s*'((?:[^'\\]|\\.)*)'")


@dataclass(frozen=True, slots=True)
class Touch:
    """Partner data naming an asset: which organisation, why, the value named, the registered asset."""

    org: str
    reason: str
    value: str  # what the data named: an address, a domain, a software name
    subject: str  # the STIX id of the sighting, indicator or advisory


def pattern_values(pattern: str) -> list[str]:
    """Addresses and domains a pattern compares with: the host of a URL, the domain of an e-mail."""
    found = []
    for kind, raw in _PATTERN.findall(pattern):
        value = raw.replace("\\'", "'").replace("\\\\", "\\")
        if kind == "url":
            value = urlsplit(value if "://" in value else f"http://{value}").hostname or ""
        elif kind == "email-addr":
            value = value.rpartition("@")[2]
        if value:
            found.append(value)
    return found


def sign(secret: bytes, notice_id: str) -> str:
    return hmac.new(secret, notice_id.encode(), hashlib.sha256).hexdigest()[:32]


def valid(secret: bytes, notice_id: str, token: str) -> bool:
    # bytes, not str: compare_digest refuses non-ASCII str, and a link's token is whatever was typed
    return hmac.compare_digest(sign(secret, notice_id).encode(), token.strip().lower().encode("utf-8", "replace"))


def retry_delay(attempts: int) -> int | None:
    """Seconds before the next delivery attempt after ``attempts`` failed ones; None: give up (the
    message stays in the outbox as failed, never dropped)."""
    return None if attempts >= MAX_ATTEMPTS else RETRY_BASE_SECONDS * 2 ** (attempts - 1)


@dataclass(frozen=True, slots=True)
class Item:
    reason: str
    value: str
    count: int
    first_seen: str  # STIX timestamps, for people: shown by date
    last_seen: str


_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Security notice for {org}: {n} finding(s) about what you own",
        "hello": "Hello {org},\n\nPartners of the {node} security exchange shared information that names "
                 "systems you registered with us. Here is what it says and what to do.",
        SIGHTING: "The address {value} was seen taking part in malicious activity ({count} time(s), "
                  "{first} to {last}). A computer or device on it is probably infected.",
        INDICATOR: "{value} appears in a warning about attacks shared by partners ({count} time(s), since "
                   "{first}). It may be used by attackers, or be their target.",
        ADVISORY: "A public advisory names software you run: {value}.",
        "do_" + SIGHTING: "Find the device that uses this address, disconnect it from the network, run an "
                          "up-to-date antivirus scan and change the passwords used on it.",
        "do_" + INDICATOR: "Check that this name or address is yours and works as you expect; change the "
                           "passwords of its accounts and look for changes you did not make.",
        "do_" + ADVISORY: "Read the advisory at {advisories} and install the updates it names.",
        "ack": "Please confirm that you received this notice: {link}",
        "bye": "If you need help, reply to this message or contact {node}.",
    },
    "fr": {
        "subject": "Avis de sécurité pour {org} : {n} constat(s) sur ce qui vous appartient",
        "hello": "Bonjour {org},\n\nDes partenaires de l'échange de sécurité {node} ont partagé des informations "
                 "qui citent des systèmes que vous avez enregistrés chez nous. Voici ce qu'elles disent et ce "
                 "qu'il faut faire.",
        SIGHTING: "L'adresse {value} a été vue participer à une activité malveillante ({count} fois, du "
                  "{first} au {last}). Un ordinateur ou un appareil qui l'utilise est probablement infecté.",
        INDICATOR: "{value} figure dans une alerte sur des attaques partagée par des partenaires ({count} "
                   "fois, depuis le {first}). Des attaquants l'utilisent peut-être, ou la visent.",
        ADVISORY: "Un avis public cite un logiciel que vous utilisez : {value}.",
        "do_" + SIGHTING: "Trouvez l'appareil qui utilise cette adresse, déconnectez-le du réseau, lancez un "
                          "antivirus à jour et changez les mots de passe utilisés dessus.",
        "do_" + INDICATOR: "Vérifiez que ce nom ou cette adresse est bien à vous et fonctionne comme prévu ; "
                           "changez les mots de passe de ses comptes et cherchez des modifications que vous "
                           "n'avez pas faites.",
        "do_" + ADVISORY: "Lisez l'avis sur {advisories} et installez les mises à jour qu'il indique.",
        "ack": "Merci de confirmer que vous avez reçu cet avis : {link}",
        "bye": "Si vous avez besoin d'aide, répondez à ce message ou contactez {node}.",
    },
    "de": {
        "subject": "Sicherheitshinweis für {org}: {n} Befund(e) zu Ihren Systemen",
        "hello": "Guten Tag {org},\n\nPartner des Sicherheitsaustauschs {node} haben Informationen geteilt, die "
                 "Systeme nennen, die Sie bei uns registriert haben. Hier steht, was sie besagen und was zu "
                 "tun ist.",
        SIGHTING: "Die Adresse {value} wurde bei schädlichen Aktivitäten beobachtet ({count}-mal, {first} bis "
                  "{last}). Ein Computer oder Gerät mit dieser Adresse ist wahrscheinlich infiziert.",
        INDICATOR: "{value} steht in einer Warnung vor Angriffen, die Partner geteilt haben ({count}-mal, seit "
                   "{first}). Angreifer nutzen es vielleicht oder haben es im Visier.",
        ADVISORY: "Ein öffentlicher Hinweis nennt Software, die Sie einsetzen: {value}.",
        "do_" + SIGHTING: "Suchen Sie das Gerät mit dieser Adresse, trennen Sie es vom Netz, lassen Sie einen "
                          "aktuellen Virenscanner laufen und ändern Sie die darauf benutzten Passwörter.",
        "do_" + INDICATOR: "Prüfen Sie, ob dieser Name oder diese Adresse Ihnen gehört und wie erwartet "
                           "funktioniert; ändern Sie die Passwörter der Konten und suchen Sie nach Änderungen, "
                           "die Sie nicht vorgenommen haben.",
        "do_" + ADVISORY: "Lesen Sie den Hinweis unter {advisories} und spielen Sie die genannten Updates ein.",
        "ack": "Bitte bestätigen Sie, dass Sie diesen Hinweis erhalten haben: {link}",
        "bye": "Wenn Sie Hilfe brauchen, antworten Sie auf diese Nachricht oder wenden Sie sich an {node}.",
    },
}
LANGUAGES = tuple(sorted(_TEXT))


def words(language: str) -> dict[str, str]:
    """The texts in ``language``, else its primary subtag's (``fr-CA``: ``fr``), else English."""
    return _TEXT.get(language, _TEXT.get(language.split("-")[0], _TEXT["en"]))


def render(org: str, node: str, language: str, items: Sequence[Item], link: str, advisories: str) -> tuple[str, str]:
    """The subject and plain-text body of a digest: one paragraph and what to do per item."""
    w = words(language)
    parts = [w["hello"].format(org=org, node=node)]
    for n, item in enumerate(items, 1):
        said = w[item.reason].format(value=item.value, count=item.count, first=item.first_seen[:10],
                                     last=item.last_seen[:10])
        todo = w["do_" + item.reason].format(advisories=advisories)
        parts.append(f"{n}. {said}\n   {todo}")
    parts += [w["ack"].format(link=link), w["bye"].format(node=node)]
    return w["subject"].format(org=org, n=len(items)), "\n\n".join(parts) + "\n"
