"""Delivering notices: e-mail over SMTP with STARTTLS to the configured relay, and webhooks.

The outbox (table ``notice_outbox``) is written with its notice, in one transaction, so a message
exists before anything tries to send it. :func:`deliver` claims due messages by moving their next
attempt a lease ahead (so that two workers do not both send), sends, and marks each sent; a failure
(relay down, no STARTTLS offered, certificate refused, webhook not 2xx) schedules a retry with
exponential back-off, and after :data:`accord.domain.notices.MAX_ATTEMPTS` the message stays as
``failed`` with its last error, for an operator: never dropped. Delivery is at least once: a crash
between sending and marking sends again after the lease.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from accord.domain import notices as dom
from accord.stix.timestamps import now_micros
from accord.store.notices import NoticeRow, OutboxRow
from accord.store.repository import Store

LEASE_MICROS = 300 * 1_000_000
SMTP_TIMEOUT = 15.0


class DeliveryFailed(Exception):
    """A message could not be delivered this time (the reason is kept in the outbox)."""


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int
    sender: str
    cafile: str | None  # a private CA for the relay's certificate; None: the system's

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile or None)


def relay_of(store: Store) -> Relay | None:
    from accord.services.notices import setting

    host, sender = setting(store, "smtp_host"), setting(store, "smtp_from")
    if not host or not sender:
        return None
    return Relay(host, int(setting(store, "smtp_port")), sender, setting(store, "smtp_cafile") or None)


def message(notice: NoticeRow, relay: Relay, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = relay.sender, to, notice.subject
    msg["Date"] = format_datetime(datetime.fromtimestamp(notice.created / 1e6, UTC))
    msg["Message-ID"] = make_msgid(idstring=notice.id.split("--")[1], domain=relay.sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    msg.set_content(notice.body)  # (replaces every Content-* header: the language goes after it)
    msg["Content-Language"] = notice.language  # RFC 3282
    return msg


def send_mail(relay: Relay, msg: EmailMessage) -> None:
    """SMTP with STARTTLS (RFC 3207), required: a relay that does not offer it gets nothing."""
    try:
        with smtplib.SMTP(relay.host, relay.port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise DeliveryFailed(f"{relay.host}:{relay.port} offers no STARTTLS; not sending in clear")
            smtp.starttls(context=relay.context())
            smtp.ehlo()
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


def post_webhook(url: str, notice: NoticeRow, payload: dict[str, object]) -> None:
    import httpx

    try:
        response = httpx.post(url, json=payload, timeout=SMTP_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise DeliveryFailed(f"the webhook answered {response.status_code}")


@dataclass(frozen=True, slots=True)
class Delivered:
    sent: int
    retrying: int
    failed: int


def deliver(store: Store, now: int | None = None, mail: Callable[[Relay, EmailMessage], None] = send_mail,
            webhook: Callable[[str, NoticeRow, dict[str, object]], None] = post_webhook) -> Delivered:
    """Send what is due; each outcome is recorded before the next message is tried."""
    at = now or now_micros()
    relay = relay_of(store)
    with store.write() as tx:
        due = [m for m in tx.due_messages(at) if m.channel == "webhook" or relay is not None]
        for m in due:
            tx.update_message(m.id, next_at=at + LEASE_MICROS)
    sent = retrying = failed = 0
    for m in due:
        try:
            _send_one(store, m, relay, mail, webhook)
        except DeliveryFailed as exc:
            delay = dom.retry_delay(m.attempts + 1)
            with store.write() as tx:
                tx.update_message(m.id, attempts=m.attempts + 1, last_error=str(exc)[:2000],
                                  state="failed" if delay is None else "pending",
                                  next_at=at + (delay or 0) * 1_000_000)
                if delay is None:
                    tx.audit(None, None, "notice.undelivered", {"notice": m.notice_id, "channel": m.channel,
                                                                "attempts": m.attempts + 1})
            failed += delay is None
            retrying += delay is not None
            continue
        with store.write() as tx:
            tx.update_message(m.id, state="sent", attempts=m.attempts + 1, sent_at=now_micros(), last_error=None)
        sent += 1
    return Delivered(sent, retrying, failed)


def _send_one(store: Store, m: OutboxRow, relay: Relay | None, mail: Callable[[Relay, EmailMessage], None],
              webhook: Callable[[str, NoticeRow, dict[str, object]], None]) -> None:
    with store.read() as tx:
        notice = tx.notice(m.notice_id)
        items = tx.items_of(m.notice_id)
        org = tx.get_org(notice.org_id).name if notice else ""
    if notice is None:
        raise DeliveryFailed(f"notice {m.notice_id} is gone")
    if m.channel == "email":
        assert relay is not None
        mail(relay, message(notice, relay, m.target))
        return
    payload: dict[str, object] = {
        "notice": notice.id, "organisation": org, "language": notice.language, "subject": notice.subject,
        "text": notice.body, "items": [{"reason": i.reason, "value": i.value, "count": i.times} for i in items]}
    webhook(m.target, notice, payload)
