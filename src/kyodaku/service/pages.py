"""The desk's server-rendered pages (Jinja2, no JavaScript), in Japanese and English.

Sign-in makes a server-side session (cookie: HttpOnly, SameSite=Lax, Secure in server
mode); every form carries the session's CSRF token and a post without it is refused.
The pages call the same :class:`~kyodaku.desk.DeskService` functions as the API.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from kyodaku.desk import catalog
from kyodaku.desk.auth import Forbidden
from kyodaku.desk.inquiries import answer_letter
from kyodaku.desk.lifecycle import ACTIONS, InvalidTransition, actions_for, local_and_utc
from kyodaku.desk.listing import parse_filter
from kyodaku.desk.report import claims_log, corpus_report
from kyodaku.records.reasons import evidence_reasons, match_reason
from kyodaku.records.store import weekly_screen_counts
from kyodaku.registry.base import NotFound, RegistryError
from kyodaku.registry.names import InvisibleCharacter, visible_text
from kyodaku.report.thumbs import ReferenceThumbs
from kyodaku.service.api.common import Id, inquiry_csv_response
from kyodaku.service.claim_view import match_rows
from kyodaku.service.deps import LANG_COOKIE, SESSION_COOKIE, Desk, Page, PostedPage, optional_session, request_lang
from kyodaku.service.list_pages import claims_listing, inquiries_listing
from kyodaku.service.refusals import is_refusal, not_possible, refusal_text
from kyodaku.service.uploads import saved_upload, saved_uploads

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "kyodaku_login_csrf"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@lru_cache(maxsize=2)
def _messages(lang: str) -> dict[str, str]:
    text = resources.files("kyodaku.service").joinpath(f"locales/{lang}.json").read_text(encoding="utf-8")
    return json.loads(text)


def translator(lang: str) -> Any:
    ja, en = _messages("ja"), _messages("en")

    def t(key: str, **kw: Any) -> str:
        msg = (ja if lang == "ja" else en).get(key) or en.get(key) or key
        return msg.format(**kw) if kw else msg

    return t


@lru_cache(maxsize=1)
def _templates() -> Jinja2Templates:
    folder = resources.files("kyodaku.service").joinpath("templates")
    return Jinja2Templates(directory=str(folder))


def _say(t: Any, key: str, params: dict[str, Any]) -> str:
    """One reason in the page's language: its message with the use and verdict words
    translated too."""
    params = dict(params)
    if params.get("use") in ("training", "generation"):
        params["use"] = t(f"use_{params['use']}")
    if "own" in params:
        params["own"] = t(f"verdict_{params['own']}")
    return t(key, **params)


_SOURCE = re.compile(r"^(scan|check|claim|screen) decision (\d+)$")


def page_helpers(lang: str, tz: Any) -> dict[str, Any]:
    """What templates use to show data in the page's language: ``reason(match)``,
    ``reasons(evidence)`` (message keys, :mod:`kyodaku.records.reasons`), ``source(text)``
    (where evidence came from) and ``when(datetime)`` (the desk's time zone, JST, beside UTC)."""
    t = translator(lang)

    def source(text: str | None) -> str:
        if text == "check of the uploaded file":
            return t("source_upload")
        m = _SOURCE.match(text or "")
        return t("source_decision", kind=t(f"source_{m.group(1)}"), id=m.group(2)) if m else (text or "")

    def when(at: datetime | None) -> str:
        return local_and_utc(at, tz)

    def summary(inq: Any, holder_view: bool = True) -> str:
        answer = inq.answer or {}
        counts = answer.get("summary_counts")
        if not answer:
            return t(f"state_{inq.state}")
        if not answer.get("scans"):
            return t("inquiry_no_scan", corpus=inq.corpus)
        if not counts:
            return str(answer.get("summary") or "")
        if holder_view:
            return t("inquiry_summary", n=counts["matched"], scans=counts["scans"], blocked=counts["blocked"])
        return t("inquiry_summary_of", holder=inq.holder_name, n=counts["matched"], scans=counts["scans"],
                 blocked=counts["blocked"])

    return {"reason": lambda m: _say(t, *match_reason(m)), "summary": summary,
            "reasons": lambda ev: "; ".join(_say(t, k, p) for k, p in evidence_reasons(ev)),
            "source": source, "when": when}


def letter_sayings(lang: str, tz: Any) -> dict[str, Any]:
    """What an inquiry's letter says in ``lang`` (:func:`kyodaku.desk.inquiries.answer_letter`):
    its items' reasons, its summary, and the verdict and use words (a key without a text
    as the stored word)."""
    helpers, t = page_helpers(lang, tz), translator(lang)

    def words(key: str) -> str:
        said = str(t(key))
        return key.split("_", 1)[-1] if said == key else said

    return {"reasons": helpers["reasons"], "summary": helpers["summary"], "words": words}


def render(request: Request, name: str, session: Any, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = session.lang if session is not None else request_lang(request)
    desk = request.app.state.desk
    ctx.update(request=request, s=session, actor=session.actor if session else None, lang=lang,
               t=translator(lang), csrf=session.csrf if session else "", now=desk.clock(),
               **page_helpers(lang, getattr(desk.deadlines, "tz", UTC)))
    return _templates().TemplateResponse(request, name, ctx, status_code=status)


#: statuses whose detail says nothing a reader needs beyond the page's own explanation
_GENERIC_ERRORS = (401, 403, 404, 429)


def error_page(request: Request, status: int, message: str, *, exc: BaseException | None = None,
               said: Any = None) -> HTMLResponse:
    """An error page in the reader's language: the status explained in it; the detail in
    it too where it has message keys (``said(t)``, or ``exc`` a storage refusal), else the
    service's own detail (English) kept, marked as English, only where it says what to
    fix (not for 401, 403, 404, 429) or when the page is English."""
    session = optional_session(request, request.app.state.desk)
    lang = session.lang if session is not None else request_lang(request)
    t = translator(lang)
    explained = t(f"error_text_{status}")
    if explained == f"error_text_{status}":
        explained = ""
    if said is None and exc is not None and is_refusal(exc):
        said = partial(refusal_text, exc=exc)
    if said is not None:
        return render(request, "error.html", session, status=status, status_code=status, message=said(t),
                      explained=explained, translated=True)
    detail = message if lang == "en" or status not in _GENERIC_ERRORS or not explained else ""
    return render(request, "error.html", session, status=status, status_code=status, message=detail,
                  explained=explained, translated=False)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


# -- sign in / out, language -------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    token = secrets.token_urlsafe(32)
    resp = render(request, "login.html", None, next=_safe_next(next), login_csrf=token)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                    secure=bool(request.app.state.settings.cookie_secure))
    return resp


@router.post("/login")
def login(request: Request, service: Desk, username: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)], csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    # the TCP peer only: a forwarded-for header is the client's word and would let anyone
    # sign in as a fresh client (or lock out someone else's)
    found = service.login(username, password, client=request.client.host if request.client else "unknown")
    if found is None:
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html", None, status=401, next=_safe_next(next), login_csrf=token,
                      failed=True, username=username)
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=bool(request.app.state.settings.cookie_secure))
        return resp
    _, token, _ = found
    resp = _back(_safe_next(next))
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                    secure=bool(request.app.state.settings.cookie_secure), max_age=12 * 3600)
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, service: Desk, session: PostedPage) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.logout(token)
    resp = _back("/login")
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/lang/{lang}")
def set_lang(lang: str, next: str = "/") -> Response:  # noqa: A002
    resp = _back(_safe_next(next))
    if lang in ("ja", "en"):
        resp.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 24 * 3600)
    return resp


# -- home -------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request, service: Desk, session: Page) -> HTMLResponse:
    actor = session.actor
    claims = service.claims(actor)
    open_claims = [c for c in claims if c.state not in ("upheld", "resolved")]
    overdue = [c for c in claims if c.overdue(service.clock())]
    return render(request, "home.html", session, claims=open_claims[:20], overdue=overdue,
                  inquiries=service.inquiries(actor)[-10:])


# -- claims -----------------------------------------------------------------------------
def _claims_page(request: Request, service: Any, session: Any, *, status: int = 200,
                 form: dict[str, Any] | None = None,
                 bulk: list[tuple[int, Any, str | None]] | None = None) -> HTMLResponse:
    """The claims list (searched, filtered and paged from the query string:
    :func:`~kyodaku.service.list_pages.claims_listing`), with the claim form (holders) or
    the bulk actions (operators); ``form``: the claim form as it comes back (fields,
    errors, warnings, matched works)."""
    listed = claims_listing(request, service, session)
    works = catalog.list_works(service, session.actor) if session.actor.role == "holder" else []
    return render(request, "claims.html", session, status=status, works=works, overdue=listed["flt"].overdue,
                  form=form or {}, bulk=bulk, bulk_actions=BULK_ACTIONS, **listed,
                  bulk_failed=any(why for _, _, why in bulk or ()))


#: the operator's actions the claims list offers on several claims at once
BULK_ACTIONS = ("acknowledge", "start_review", "reject")


@router.get("/claims", response_class=HTMLResponse)
def claims_page(request: Request, service: Desk, session: Page) -> HTMLResponse:
    form: dict[str, Any] = {}
    decision = request.query_params.get("decision", "").strip()
    if decision and session.actor.role == "holder":
        form = {"decision_id": decision}
        if decision.isdigit():  # the works the decision matched come pre-selected
            try:
                form["matched"] = service.subject_matches(session.actor, decision_id=int(decision))
            except RegistryError:
                form["matched"] = []
            form["selected"] = [m["work_id"] for m in form["matched"]]
    return _claims_page(request, service, session, form=form)


@router.post("/claims")
def file_claim_page(request: Request, service: Desk, session: PostedPage,
                    work_ids: Annotated[list[str], Form()] = [],  # noqa: B006
                    description: Annotated[str, Form(max_length=10_000)] = "",
                    decision_id: Annotated[str, Form(max_length=12)] = "",
                    pending: Annotated[str, Form(max_length=100)] = "",
                    pending_name: Annotated[str, Form(max_length=1000)] = "",
                    confirm: Annotated[str, Form(max_length=10)] = "",
                    step: Annotated[str, Form(max_length=10)] = "",
                    file: Annotated[UploadFile | None, File()] = None) -> Response:
    """File a claim.  A form that cannot be filed comes back with what to fix beside each
    field, in the reader's language, and the upload kept (422); one whose chosen works
    are not among those the output matched comes back with a warning to confirm (200);
    ``step=check`` only checks the output and pre-selects the works it matched."""
    actor = session.actor
    actor.require("holder")
    t = translator(session.lang)
    errors: dict[str, str] = {}
    upload: Any = None
    decision: int | None = None
    try:
        if file is not None and file.filename:
            with saved_upload(file) as tmp:
                pending = service.hold_claim_upload(actor, tmp, file.filename)
            pending_name = file.filename
        if pending:
            upload = service.pending_upload(actor, pending)
    except NotFound:
        errors["file"] = t("claim_err_upload_gone")
        pending = pending_name = ""
    except Forbidden:
        raise
    except RegistryError as exc:
        errors["file"] = t("claim_err_upload", reason=refusal_text(t, exc))
        pending = pending_name = ""
    if upload is None and "file" not in errors:
        text = decision_id.strip()
        if not text:
            errors["file"] = t("claim_err_no_subject")
        elif not text.isdigit():
            errors["decision_id"] = t("claim_err_decision_id", value=text)
        else:
            decision = int(text)
    matched: list[dict[str, Any]] = []
    if upload is not None or decision is not None:
        try:
            matched = service.subject_matches(actor, upload=upload, decision_id=decision if upload is None else None)
        except NotFound:
            errors["decision_id"] = t("claim_err_no_decision", id=decision)
    matched_ids = [m["work_id"] for m in matched]
    own = {w.work_id for w in catalog.list_works(service, actor)}
    chosen = list(dict.fromkeys(w.strip() for w in work_ids if w.strip()))
    if not chosen:
        if step != "check":
            errors["work_ids"] = t("claim_err_no_work")
    elif unknown := [w for w in chosen if w not in own]:
        errors["work_ids"] = t("claim_err_unknown_work", works=", ".join(unknown))
    warnings: list[str] = []
    missed = [w for w in chosen if w not in matched_ids]
    if chosen and missed and (upload is not None or decision is not None) and not errors:
        warnings.append(t("claim_warn_not_matched", works=", ".join(missed),
                          matched=", ".join(matched_ids) or t("claim_matched_none")))
    form = {"decision_id": decision_id.strip() if upload is None else "", "description": description,
            "pending": pending if upload is not None else "", "pending_name": pending_name if upload is not None else "",
            "matched": matched, "selected": chosen or matched_ids, "errors": errors, "warnings": warnings,
            "checked": upload is not None or decision is not None}
    if errors or step == "check" or (warnings and not confirm):
        return _claims_page(request, service, session, status=422 if errors else 200, form=form)
    try:
        claim = service.file_claim(actor, work_ids=chosen, description=description, upload=upload,
                                   upload_name=pending_name or None, decision_id=decision if upload is None else None)
    except Forbidden:
        raise
    except RegistryError as exc:
        errors["form"] = t("claim_not_filed", reason=refusal_text(t, exc))
        return _claims_page(request, service, session, status=422, form=form)
    if pending:
        service.drop_pending_upload(actor, pending)
    return _back(f"/claims/{claim.id}")


@router.post("/claims/bulk", response_class=HTMLResponse)
def bulk_act_page(request: Request, service: Desk, session: PostedPage,
                  action: Annotated[str, Form(max_length=40)] = "",
                  claim_ids: Annotated[list[int], Form()] = [],  # noqa: B006
                  note: Annotated[str, Form(max_length=10_000)] = "") -> HTMLResponse:
    """An operator's action on the claims ticked in the list: each claim moved and audited
    as a single action is; the page says which moved and why the others did not."""
    session.actor.require("operator")
    t = translator(session.lang)
    if action not in BULK_ACTIONS or not claim_ids:
        error = t("bulk_choose_action") if action not in BULK_ACTIONS else t("bulk_choose_claims")
        return _claims_page(request, service, session, status=422, bulk=[(0, None, error)])
    results = service.act_many(session.actor, [i for i in claim_ids if 0 < i < 2**31], action, note)
    return _claims_page(request, service, session, bulk=[(cid, c, None if c is not None else
                                                         _why_not(t, service, session.actor, cid, action, note, why))
                                                        for cid, c, why in results])


def _why_not(t: Any, service: Any, actor: Any, claim_id: int, action: str, note: str, why: str | None) -> str:
    """Why a claim did not take a bulk step, in the page's language where the reason is
    a known one (its state, a missing note, no such claim), else the service's words."""
    step = ACTIONS[action]
    try:
        state = service.claim(actor, claim_id).state
    except NotFound:
        return t("bulk_no_claim")
    if state not in step.sources:
        return t("bulk_not_now", state=t(f"state_{state}"),
                 needs=t("or").join(t(f"state_{s}") for s in step.sources))
    if step.needs_note and not note.strip():
        return t("bulk_needs_note")
    return why or ""


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(request: Request, claim_id: Id, service: Desk, session: Page, min_score: str = "") -> HTMLResponse:
    """A claim, its steps, and the match view: per matched work at or above
    ``?min_score=``, the output beside the reference, for video a timeline bar each side."""
    claim = service.claim(session.actor, claim_id)
    works = {w: service.workspace.registry.get_work(w) for w in
             {m["work_id"] for m in claim.evidence.get("matches", [])} | set(claim.work_ids)}
    flt, bad = parse_filter({"min_score": min_score[:20]}, states=())
    return render(request, "claim.html", session, claim=claim, works=works, min_score=flt.min_score,
                  rows=match_rows(service, claim, flt.min_score), filter_errors=bad,
                  actions=[a for a in actions_for(claim.state, session.actor.role)])


@router.post("/claims/{claim_id}/act")
def act_page(request: Request, claim_id: Id, service: Desk, session: PostedPage,
             action: Annotated[str, Form(max_length=40)],
             note: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    """One step of a claim; a step the claim's state or its deadline does not allow is a
    409 saying why in the page's language."""
    try:
        service.act(session.actor, claim_id, action, note)
    except InvalidTransition as exc:
        claim = service.claim(session.actor, claim_id)
        helpers = page_helpers(session.lang, getattr(service.deadlines, "tz", UTC))
        return error_page(request, 409, str(exc), said=partial(not_possible, claim=claim, action=action,
                                                               when=helpers["when"]))
    return _back(f"/claims/{claim_id}")


# -- inquiries --------------------------------------------------------------------------
@router.get("/inquiries", response_class=HTMLResponse)
def inquiries_page(request: Request, service: Desk, session: Page) -> HTMLResponse:
    works = catalog.list_works(service, session.actor) if session.actor.role == "holder" else []
    return render(request, "inquiries.html", session, works=works, **inquiries_listing(request, service, session))


@router.post("/inquiries")
def file_inquiry_page(service: Desk, session: PostedPage, corpus: Annotated[str, Form(max_length=300)],
                      work_ids: Annotated[list[str], Form()] = [],  # noqa: B006
                      question: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    inq = service.file_inquiry(session.actor, corpus=corpus, work_ids=work_ids, question=question)
    return _back(f"/inquiries/{inq.id}")


@router.get("/inquiries/{inquiry_id}", response_class=HTMLResponse)
def inquiry_page(request: Request, inquiry_id: Id, service: Desk, session: Page) -> HTMLResponse:
    return render(request, "inquiry.html", session, inq=service.inquiry(session.actor, inquiry_id))


@router.get("/inquiries/{inquiry_id}/answer.csv")
def inquiry_csv_page(inquiry_id: Id, service: Desk, session: Page) -> StreamingResponse:
    return inquiry_csv_response(service, session.actor, inquiry_id)


@router.get("/inquiries/{inquiry_id}/letter", response_class=HTMLResponse)
def inquiry_letter_page(inquiry_id: Id, service: Desk, session: Page) -> HTMLResponse:
    return HTMLResponse(answer_letter(service, session.actor, inquiry_id, session.lang,
                                      **letter_sayings(session.lang, getattr(service.deadlines, "tz", UTC))))


# -- screened outputs (the generation guard) ---------------------------------------------
@router.get("/screenings", response_class=HTMLResponse)
def screenings_page(request: Request, service: Desk, session: Page, weeks: int = 8) -> HTMLResponse:
    """Per week and work: the generator's outputs that matched it, blocked, sent to review
    or cleared by a permit (a holder sees its own works; ``GET /api/v1/screen/weekly``)."""
    weeks = min(max(weeks, 1), 104)
    actor = session.actor
    rows = weekly_screen_counts(service.workspace.session, None if actor.sees_everything else actor.holder_slugs,
                                service.clock() - timedelta(weeks=weeks))
    return render(request, "screenings.html", session, rows=rows[::-1], weeks=weeks, licensee=service.licensee)


# -- catalog and permits ----------------------------------------------------------------
@router.get("/works", response_class=HTMLResponse)
def works_page(request: Request, service: Desk, session: Page, q: str = "", page: int = 1) -> HTMLResponse:
    found = catalog.search_works(service, session.actor, q[:200], page)
    refs = ReferenceThumbs(service.workspace)
    return render(request, "works.html", session, works=found.works, found=found,
                  thumbs={w.work_id: refs.get(w.work_id, None, None)[0] for w in found.works},
                  lookalikes=catalog.lookalikes_by_work(service, session.actor))


@router.post("/works")
def add_work_page(service: Desk, session: PostedPage, title: Annotated[str, Form(max_length=500)],
                  files: Annotated[list[UploadFile], File()], aliases: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    with saved_uploads(files) as paths:
        work = catalog.add_work(service, session.actor, title=title, files=paths, aliases=aliases.splitlines())
    return _back(f"/works#{quote(work.work_id)}")


@router.post("/works/{work_id}/aliases")
def aliases_page(work_id: str, service: Desk, session: PostedPage,
                 aliases: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    catalog.set_aliases(service, session.actor, work_id, aliases.splitlines())
    return _back(f"/works#{quote(work_id)}")


def _permits_page(request: Request, service: Any, session: Any, *, status: int = 200, errors: list[str] | None = None,
                  form: dict[str, Any] | None = None) -> HTMLResponse:
    works = catalog.list_works(service, session.actor) if session.actor.role == "holder" else []
    return render(request, "permits.html", session, status=status, permits=catalog.list_permits(service, session.actor),
                  works=works, today=service.today(), errors=errors or [], form=form)


@router.get("/permits", response_class=HTMLResponse)
def permits_page(request: Request, service: Desk, session: Page) -> HTMLResponse:
    return _permits_page(request, service, session)


def _form_date(value: str) -> date | None:
    """A YYYY-MM-DD form field as a date; ValueError when it is not one."""
    text = value.strip()
    if not text:
        return None
    if not _ISO_DAY.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


@router.post("/permits")
def grant_page(request: Request, service: Desk, session: PostedPage,
               licensee: Annotated[str, Form(max_length=1000)] = "", use: Annotated[str, Form(max_length=40)] = "",
               valid_from: Annotated[str, Form(max_length=100)] = "",
               valid_until: Annotated[str, Form(max_length=100)] = "",
               work_ids: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    """Grant a permit; a wrong field answers 422 with the form as it was sent and what to
    fix, in the reader's language (never a 500)."""
    session.actor.require("holder")
    t = translator(session.lang)
    form = {"licensee": licensee, "use": use, "valid_from": valid_from, "valid_until": valid_until,
            "work_ids": work_ids}
    errors: list[str] = []
    start = until = None
    for field, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        try:
            day = _form_date(value)
        except ValueError:
            errors.append(t("permit_bad_date", field=t(field), value=value.strip()))
            continue
        if field == "valid_from":
            start = day
            if day is None:
                errors.append(t("permit_bad_date", field=t(field), value=""))
        else:
            until = day
    if start is not None and until is not None and until < start:
        errors.append(t("permit_bad_order", start=start.isoformat(), until=until.isoformat()))
    if use not in ("training", "generation"):
        errors.append(t("permit_bad_use"))
    try:
        visible_text(licensee, "licensee", max_len=200)
    except InvisibleCharacter as exc:
        errors.append(t("permit_hidden_char", code=exc.code, name=exc.char_name, pos=exc.position))
    except RegistryError as exc:
        errors.append(t("permit_bad_licensee", reason=str(exc)))
    if not errors:
        try:
            catalog.grant_permit(service, session.actor, licensee=licensee, use=use, works=work_ids or "*",
                                 valid_from=start, valid_until=until)
        except Forbidden:
            raise
        except RegistryError as exc:
            errors.append(t("permit_not_granted", reason=str(exc)))
    if errors:
        return _permits_page(request, service, session, status=422, errors=errors, form=form)
    return _back("/permits")


@router.post("/permits/{permit_id}/revoke")
def revoke_page(permit_id: Id, service: Desk, session: PostedPage,
                reason: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    catalog.revoke_permit(service, session.actor, permit_id, reason)
    return _back("/permits")


# -- auditor ----------------------------------------------------------------------------
@router.get("/report", response_class=HTMLResponse)
def report_page(request: Request, service: Desk, session: Page) -> HTMLResponse:
    session.actor.require("auditor", "operator")
    return render(request, "report.html", session, scans=service.records.scans(),
                  log=claims_log(service, session.actor))


@router.get("/report/{scan_id}", response_class=HTMLResponse)
def scan_report_page(request: Request, scan_id: Id, service: Desk, session: Page) -> HTMLResponse:
    return render(request, "scan_report.html", session, r=corpus_report(service, session.actor, scan_id))


# -- account ----------------------------------------------------------------------------
@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, service: Desk, session: Page) -> HTMLResponse:
    return render(request, "account.html", session, keys=service.api_keys(session.actor))


@router.post("/account/keys", response_class=HTMLResponse)
def new_key_page(request: Request, service: Desk, session: PostedPage,
                 label: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    _, key = service.add_api_key(session.actor, label)
    return render(request, "account.html", session, keys=service.api_keys(session.actor), new_key=key)


@router.post("/account/keys/{key_id}/revoke")
def revoke_key_page(key_id: Id, service: Desk, session: PostedPage) -> Response:
    service.revoke_api_key(session.actor, key_id)
    return _back("/account")
