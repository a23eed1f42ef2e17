"""The advisory editor and review in the console (issue 18): draft, edit, approve, reject.

Every step is a use case of :mod:`accord.services.advisories`, with the signed-in principal, so the
console can do exactly what ``accord advisory`` can and no more: contributors draft and edit (only
their own organisation's drafts are theirs to see before publication), administrators approve
(which publishes a TLP:CLEAR report version, signed and federated like any object) or reject with a
reason. The page previews the text as the public page will show it, in every language. What the
public then reads is :func:`accord.services.advisories.published`, nothing else.

The form has one block per language (STIX 2.1 section 7.1 language content: the first block is the
report's own language, the others become its translations) and always one empty block to add a
language; a translation whose texts are all emptied is dropped.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.domain import advisories as adv
from accord.domain.errors import AccordError, Conflict, InvalidInput, NotAllowed, NotFound
from accord.domain.sharing import Role
from accord.services import advisories as svc
from accord.web.ui.frame import Page, checked_form, current_principal, field, render, sentence, store_of

PARTS = ("title", *adv.SECTIONS)
LABELS = {"title": "Title", **adv.HEADINGS["en"]}
MAX_BLOCKS = 20
TITLE_LIMIT = 300
SECTOR_LIMIT = 100


def _refused(request: Request, exc: NotAllowed) -> Response:
    return render(request, "error.html", status_code=403, title="Not allowed", message=sentence(exc.message))


def _gone(request: Request) -> Response:
    return render(request, "error.html", status_code=404, title="No such advisory",
                  message="There is no advisory with this id that you may review.")


# --- the form -------------------------------------------------------------------------------------

def _blank_block(lang: str = "") -> dict[str, str]:
    return {"lang": lang, **dict.fromkeys(PARTS, "")}


def sent_of(content: adv.Content) -> dict[str, Any]:
    """The form's values for an advisory's content: its language first, then its translations."""
    langs = [content.language, *sorted(k for k in content.texts if k != content.language)]
    blocks = [{"lang": lang, **content.texts[lang].as_dict()} for lang in langs]
    return {"blocks": [*blocks, _blank_block()], "sectors": ", ".join(content.sectors),
            "software": "\n".join(content.software)}


def _sent(form: FormData) -> dict[str, Any]:
    blocks = []
    for i in range(MAX_BLOCKS + 1):
        names = [f"{p}-{i}" for p in ("lang", *PARTS)]
        if not any(n in form for n in names):
            break
        blocks.append({p: field(form, f"{p}-{i}", adv.MAX_TEXT + 1) for p in ("lang", *PARTS)})
    if not blocks:
        blocks = [_blank_block("en")]
    return {"blocks": blocks, "sectors": field(form, "sectors", 2_001), "software": field(form, "software", 10_001)}


def _text_error(name: str, value: str) -> str | None:
    if "\x00" in value:
        return "NUL characters are not allowed."
    if not value.strip():
        return f"Write the {LABELS[name].lower()}." if name != "title" else "Give the advisory a title."
    limit = TITLE_LIMIT if name == "title" else adv.MAX_TEXT
    if len(value) > limit:
        return f"At most {limit:,} characters."
    return None


def checked(sent: dict[str, Any]) -> tuple[dict[str, str], adv.Content | None]:
    """Field errors (keyed by field name) and, when there are none, the content the form describes."""
    errors: dict[str, str] = {}
    texts: dict[str, adv.Text] = {}
    primary = ""
    blocks = sent["blocks"]
    if len(blocks) > MAX_BLOCKS:
        errors[f"lang-{MAX_BLOCKS}"] = f"At most {MAX_BLOCKS} languages."
    for i, block in enumerate(blocks[:MAX_BLOCKS]):
        if i > 0 and not any(block[p].strip() for p in PARTS):
            continue  # an empty translation: not added, or dropped
        try:
            lang = adv.parse_language(block["lang"][:40]) if "\x00" not in block["lang"] else ""
        except InvalidInput:
            lang = ""
        if not lang:
            errors[f"lang-{i}"] = "A language tag such as en, fr or pt-BR."
        elif lang in texts:
            errors[f"lang-{i}"] = f"{lang} is given twice."
        block_errors = {f"{p}-{i}": e for p in PARTS if (e := _text_error(p, block[p])) is not None}
        errors.update(block_errors)
        if lang and not block_errors and f"lang-{i}" not in errors:
            texts[lang] = adv.Text(*(block[p] for p in PARTS))
        if i == 0:
            primary = lang
    sectors = [s.strip() for s in sent["sectors"].split(",") if s.strip()]
    if "\x00" in sent["sectors"] or any(len(s) > SECTOR_LIMIT for s in sectors) or len(sent["sectors"]) > 2_000:
        errors["sectors"] = f"Sector names (at most {SECTOR_LIMIT} characters each), separated by commas."
    software = [s.strip() for s in sent["software"].replace(",", "\n").splitlines() if s.strip()]
    if len(sent["software"]) > 10_000:
        errors["software"] = "At most 10,000 characters."
    for name in software:
        try:
            adv.parse_software(name)
        except InvalidInput:
            errors.setdefault("software", f"{name[:80]!r} is neither a CPE 2.3 name (cpe:2.3:a:vendor:product:…) "
                                          "nor vendor:product.")
    if errors or primary not in texts:
        return errors, None
    raw = {"language": primary, "texts": {k: v.as_dict() for k, v in texts.items()}, "sectors": sectors,
           "software": software}
    try:
        return errors, adv.content_from(raw)
    except InvalidInput as exc:
        return {"form": sentence(exc.message)}, None


def _form(request: Request, sent: dict[str, Any], errors: dict[str, str], editing: svc.Advisory | None,
          status: int = 200) -> Response:
    blocks = list(sent["blocks"])
    if (len(blocks) == 1 or any(blocks[-1][p].strip() for p in PARTS)) and len(blocks) < MAX_BLOCKS:
        blocks.append(_blank_block())  # always one empty block, to add a language
    return render(request, "advisory_form.html", status_code=status,
                  title=f"Edit advisory: {editing.content.texts[editing.content.language].title}" if editing
                  else "New advisory", sent={**sent, "blocks": blocks}, errors=errors, editing=editing,
                  parts=PARTS, labels=LABELS, title_limit=TITLE_LIMIT)


# --- pages ----------------------------------------------------------------------------------------

async def advisory_list(request: Request, errors: dict[str, str] | None = None, incident: str = "",
                        status: int = 200) -> Response:
    principal = await current_principal(request)
    asked = request.query_params.getlist("state")
    state = asked[0] if asked and asked[0] else None
    errors = dict(errors or {})
    try:
        rows = await run_in_threadpool(svc.reviewable, store_of(request), principal, state)
    except NotAllowed as exc:
        return _refused(request, exc)
    except InvalidInput as exc:
        errors["state"] = sentence(exc.message)
        rows, status = [], 400
    return render(request, "advisories.html", status_code=status, title="Advisories", rows=rows, state=state or "",
                  states=svc.STATES, errors=errors, incident=incident,
                  can_approve=principal.role is Role.ADMINISTRATOR)


async def new_advisory(request: Request) -> Response:
    principal = await current_principal(request)
    if not principal.role.can_write:
        return _refused(request, NotAllowed("drafting an advisory needs the contributor role"))
    return _form(request, {"blocks": [_blank_block("en"), _blank_block()], "sectors": "", "software": ""}, {}, None)


async def create_advisory(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    sent = _sent(form)
    errors, content = checked(sent)
    if content is None:
        return _form(request, sent, errors, None, 400)
    try:
        made = await run_in_threadpool(svc.draft, store_of(request), principal, content)
    except NotAllowed as exc:
        return _refused(request, exc)
    except AccordError as exc:
        return _form(request, sent, {"form": sentence(exc.message)}, None, 400)
    return RedirectResponse(f"/advisories/{made.id}", status_code=303)


async def draft_from_incident(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    incident, language = field(form, "incident", 200).strip(), field(form, "language", 40).strip() or "en"
    errors: dict[str, str] = {}
    if not incident.startswith("incident--") or "\x00" in incident:
        errors["incident"] = "The id of a joint incident (incident--…); the Incidents page lists them."
    try:
        adv.parse_language(language.replace("\x00", "?"))
    except InvalidInput:
        errors["language"] = "A language tag such as en, fr or de."
    if not errors:
        try:
            made = await run_in_threadpool(svc.draft_from_incident, store_of(request), principal, incident, language)
        except NotAllowed as exc:
            return _refused(request, exc)
        except NotFound:
            errors["incident"] = "There is no joint incident with this id that you may read."
        except (InvalidInput, Conflict) as exc:
            errors["incident"] = sentence(exc.message)
        else:
            return RedirectResponse(f"/advisories/{made.id}", status_code=303)
    return await advisory_list(request, errors, incident, 404 if "no joint incident" in errors.get("incident", "")
                               else 400)


async def _reviewed(request: Request) -> svc.Advisory | Response:
    """The advisory the path names, or the page that says the principal may not review it."""
    principal = await current_principal(request)
    try:
        return await run_in_threadpool(svc.review, store_of(request), principal, request.path_params["advisory_id"])
    except NotAllowed as exc:
        return _refused(request, exc)
    except NotFound:
        return _gone(request)


def _page(request: Request, a: svc.Advisory, errors: dict[str, str] | None = None, status: int = 200,
          reason: str = "") -> Response:
    principal = request.state.principal
    c = a.content
    langs = [c.language, *sorted(k for k in c.texts if k != c.language)]
    previews = [{"lang": lang, "text": c.texts[lang],
                 "headings": adv.HEADINGS.get(lang.split("-")[0], adv.HEADINGS["en"])} for lang in langs]
    return render(request, "advisory.html", status_code=status, title=c.texts[c.language].title, a=a,
                  previews=previews, sections=adv.SECTIONS, errors=errors or {}, reason=reason,
                  can_approve=principal.role is Role.ADMINISTRATOR and a.state == svc.DRAFT,
                  can_edit=a.state in (svc.DRAFT, svc.PUBLISHED))


async def advisory_page(request: Request) -> Response:
    a = await _reviewed(request)
    if isinstance(a, Response):
        return a
    return _page(request, a)


async def edit_advisory(request: Request) -> Response:
    a = await _reviewed(request)
    if isinstance(a, Response):
        return a
    return _form(request, sent_of(a.content), {}, a)


async def save_advisory(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    a = await _reviewed(request)
    if isinstance(a, Response):
        return a
    sent = _sent(form)
    errors, content = checked(sent)
    if content is None:
        return _form(request, sent, errors, a, 400)
    try:
        await run_in_threadpool(svc.edit, store_of(request), principal, a.id, content)
    except NotAllowed as exc:
        return _refused(request, exc)
    except AccordError as exc:
        return _form(request, sent, {"form": sentence(exc.message)}, a, 409 if isinstance(exc, Conflict) else 400)
    return RedirectResponse(f"/advisories/{a.id}", status_code=303)


async def approve_advisory(request: Request) -> Response:
    principal = await current_principal(request)
    await checked_form(request)
    a = await _reviewed(request)
    if isinstance(a, Response):
        return a
    try:
        await run_in_threadpool(svc.approve, store_of(request), principal, a.id)
    except NotAllowed as exc:
        return _refused(request, exc)
    except AccordError as exc:
        return _page(request, a, {"form": sentence(exc.message)}, 409 if isinstance(exc, Conflict) else 400)
    return RedirectResponse(f"/advisories/{a.id}?approved=1", status_code=303)


async def reject_advisory(request: Request) -> Response:
    principal = await current_principal(request)
    form = await checked_form(request)
    a = await _reviewed(request)
    if isinstance(a, Response):
        return a
    reason = field(form, "reason", 2_001)
    if "\x00" in reason or not reason.strip() or len(reason) > 2_000:
        message = "Say why the draft is rejected (at most 2,000 characters, no NUL)."
        return _page(request, a, {"reason": message}, 400, reason)
    try:
        await run_in_threadpool(svc.reject, store_of(request), principal, a.id, reason)
    except NotAllowed as exc:
        return _refused(request, exc)
    except AccordError as exc:
        return _page(request, a, {"form": sentence(exc.message)}, 409 if isinstance(exc, Conflict) else 400, reason)
    return RedirectResponse(f"/advisories/{a.id}", status_code=303)


routes = [
    Page("/advisories", advisory_list, methods=["GET"]),
    Page("/advisories/new", new_advisory, methods=["GET"]),
    Page("/advisories/new", create_advisory, methods=["POST"]),
    Page("/advisories/from-incident", draft_from_incident, methods=["POST"]),
    Page("/advisories/{advisory_id:str}", advisory_page, methods=["GET"]),
    Page("/advisories/{advisory_id:str}/edit", edit_advisory, methods=["GET"]),
    Page("/advisories/{advisory_id:str}/edit", save_advisory, methods=["POST"]),
    Page("/advisories/{advisory_id:str}/approve", approve_advisory, methods=["POST"]),
    Page("/advisories/{advisory_id:str}/reject", reject_advisory, methods=["POST"]),
]
