"""``accord advisory``: draft, review and publish plain-language public advisories (docs/advisories.md).

A draft comes from a joint incident (``--incident``) or a file (``--file``, JSON: ``language``,
``texts`` per language with ``title``, ``what_happened``, ``who_is_affected``, ``what_to_do``,
``how_to_check``, and optional ``sectors`` and ``software``). ``accord advisory show ID --json``
prints the same shape under ``content``, which ``edit --file`` takes back. Only ``approve``, by an
administrator, publishes; every step is in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accord.cli.common import node_options, out, store_for
from accord.cli.coordination import acting
from accord.config import Settings
from accord.domain import advisories as adv
from accord.domain.errors import InvalidInput

if TYPE_CHECKING:
    from accord.services.advisories import Advisory


def content_file(path: str) -> adv.Content:
    """The content JSON of ``path``; a parse error names the file and the line, a wrong field the file."""
    import json

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if isinstance(raw, dict) and isinstance(raw.get("content"), dict):
        raw = raw["content"]  # what ``accord advisory show --json`` prints
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path}:1: expected a JSON object with 'language' and 'texts'")
    try:
        return adv.content_from(raw)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None


def _principal(settings: Settings, account: str) -> Any:
    from accord.services import admin

    return admin.principal_for(store_for(settings), account)


def _report(a: Advisory, verb: str) -> None:
    from rich.markup import escape

    title = a.content.texts[a.content.language].title
    out().message(escape(f"{a.id} {verb} ({a.state}): {title}"), a.as_dict())


@click.group()
def advisory() -> None:
    """Public advisories: draft, review, approve (TLP:CLEAR, shown at /public/advisories)."""


@advisory.command("draft")
@click.option("--incident", help="Generate the draft from this joint incident (norm violation or corroborated).")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="The draft's content as JSON.")
@click.option("--language", default="en", show_default=True, help="Primary language of a generated draft.")
@acting
@node_options
def advisory_draft(settings: Settings, incident: str | None, path: str | None, language: str, account: str) -> None:
    """Record a draft for review (nothing is published)."""
    from accord.services import advisories as svc

    if (incident is None) == (path is None):
        raise click.UsageError("give either --incident ID or --file FILE.json")
    store = store_for(settings)
    principal = _principal(settings, account)
    if incident is not None:
        made = svc.draft_from_incident(store, principal, incident, language)
    else:
        assert path is not None
        made = svc.draft(store, principal, content_file(path))
    _report(made, "drafted")


@advisory.command("list")
@click.option("--state", type=click.Choice(["draft", "published", "rejected"]))
@node_options
def advisory_list(settings: Settings, state: str | None) -> None:
    """Advisories and where each stands in review."""
    from accord.services import advisories as svc

    found = svc.list_all(store_for(settings), state)
    out().table("Advisories", ["id", "state", "title", "languages", "source", "published"],
                [(a.id, a.state, a.content.texts[a.content.language].title, ",".join(sorted(a.content.texts)),
                  a.source, a.published or "") for a in found], [a.as_dict() for a in found])


@advisory.command("show")
@click.argument("advisory_id")
@node_options
def advisory_show(settings: Settings, advisory_id: str) -> None:
    """One advisory's text in every language (``--json``: the shape ``edit --file`` takes)."""
    from accord.services import advisories as svc

    a = svc.show(store_for(settings), advisory_id)
    if out().as_json:
        out().data(a.as_dict())
        return
    lines = [f"{a.id}  {a.state}  source: {a.source}  published: {a.published or '-'}"]
    if a.reason:
        lines.append(f"reason: {a.reason}")
    for lang in [a.content.language, *sorted(set(a.content.texts) - {a.content.language})]:
        text = a.content.texts[lang]
        heads = adv.HEADINGS.get(lang.split("-")[0], adv.HEADINGS["en"])
        lines += ["", f"({lang}) {text.title}", *(f"  {heads[s]}: {text.section(s)}" for s in adv.SECTIONS)]
    if a.content.sectors or a.content.software:
        lines += ["", f"sectors: {', '.join(a.content.sectors)}  software: {', '.join(a.content.software)}"]
    from rich.markup import escape

    out().message(escape("\n".join(lines)), a.as_dict())  # the text is the writer's, not rich markup


@advisory.command("edit")
@click.argument("advisory_id")
@click.option("--file", "path", type=click.Path(dir_okay=False), required=True, help="The new content as JSON.")
@acting
@node_options
def advisory_edit(settings: Settings, advisory_id: str, path: str, account: str) -> None:
    """Replace a draft's text (a published advisory gets a revision to review)."""
    from accord.services import advisories as svc

    _report(svc.edit(store_for(settings), _principal(settings, account), advisory_id, content_file(path)), "edited")


@advisory.command("approve")
@click.argument("advisory_id")
@acting
@node_options
def advisory_approve(settings: Settings, advisory_id: str, account: str) -> None:
    """Publish a draft (administrators): a TLP:CLEAR report, on the public page and feed."""
    from accord.services import advisories as svc

    _report(svc.approve(store_for(settings), _principal(settings, account), advisory_id), "approved")


@advisory.command("reject")
@click.argument("advisory_id")
@click.option("--reason", required=True, help="Why (kept in the review record and the audit log).")
@acting
@node_options
def advisory_reject(settings: Settings, advisory_id: str, reason: str, account: str) -> None:
    """Turn a draft down (administrators)."""
    from accord.services import advisories as svc

    _report(svc.reject(store_for(settings), _principal(settings, account), advisory_id, reason), "rejected")


commands = [advisory]
