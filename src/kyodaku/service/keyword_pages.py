"""The desk's page of a work's keyword sets (``/works/{work_id}/keywords``): the
descriptive words that together call the work up without its name, which the generation
guard screens prompts with (:meth:`kyodaku.guard.screen.Guard.screen_prompt`).

The work's holder adds a set (a language and 1 to 12 keywords of at most 60 characters,
typed as one text separated by commas or 、) and removes one; operators and auditors
read; another holder's work is "not found".  Every change goes through
:mod:`kyodaku.desk.catalog` (the registry writes the set and its audit entry), and the
page answers a wrong form with what to fix, in the page's language, saving nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kyodaku.desk import catalog
from kyodaku.desk.auth import Forbidden
from kyodaku.registry.base import NotFound, RegistryError
from kyodaku.registry.names import InvisibleCharacter, visible_text
from kyodaku.service.api.common import Id
from kyodaku.service.deps import Desk, Page, PostedPage
from kyodaku.service.pages import render, translator

__all__ = ["LANGS", "MAX_KEYWORD_CHARS", "MAX_KEYWORDS", "keyword_errors", "router", "split_keywords"]

router = APIRouter(include_in_schema=False)

#: the languages a set is added in on the page (the CLI and the API take any language tag)
LANGS = ("ja", "en")
#: the API's limits (``KeywordSetIn``) and the registry's
MAX_KEYWORDS, MAX_KEYWORD_CHARS = 12, 60
#: what separates the keywords typed in one field: commas (ASCII, full-width), 、 and new lines
_SEPARATORS = re.compile(r"[,，、\r\n]")
#: what the page says after a change (``?saved=...``, post-redirect-get): message keys only
SAVED = ("added", "unchanged", "removed")

WorkId = Annotated[str, Path(min_length=1, max_length=64)]


def split_keywords(text: str) -> list[str]:
    """The keywords of the form's text: split at the separators, trimmed, empty ones dropped."""
    return [w.strip() for w in _SEPARATORS.split(text) if w.strip()]


def keyword_errors(t: Any, lang: str, words: list[str]) -> list[str]:
    """What is wrong with a set as typed, in the page's language (empty when nothing is)."""
    errors: list[str] = []
    if lang not in LANGS:
        errors.append(t("keyword_err_lang"))
    if not words:
        errors.append(t("keyword_err_none"))
    elif len(words) > MAX_KEYWORDS:
        errors.append(t("keyword_err_too_many", n=len(words), max=MAX_KEYWORDS))
    for i, word in enumerate(words, 1):
        try:
            shown = visible_text(word, "keyword")
        except InvisibleCharacter as exc:
            errors.append(t("keyword_err_hidden", i=i, code=exc.code, name=exc.char_name, pos=exc.position))
            continue
        if len(shown) > MAX_KEYWORD_CHARS:
            errors.append(t("keyword_err_too_long", i=i, n=len(shown), max=MAX_KEYWORD_CHARS))
    return errors


def _url(work_id: str, saved: str = "") -> str:
    return f"/works/{quote(work_id, safe='')}/keywords" + (f"?saved={saved}" if saved else "")


def _keywords_page(request: Request, service: Any, session: Any, work_id: str, *, status: int = 200,
                   errors: list[str] | None = None, form: dict[str, str] | None = None,
                   saved: str = "") -> HTMLResponse:
    actor = session.actor
    work = catalog.get_work(service, actor, work_id)  # another holder's work: not found
    return render(request, "keywords.html", session, status=status, work=work, langs=LANGS,
                  sets=catalog.list_keyword_sets(service, actor, work_id), errors=errors or [],
                  form=form or {}, saved=saved, max_keywords=MAX_KEYWORDS, max_chars=MAX_KEYWORD_CHARS,
                  can_edit=actor.role == "holder" and work.holder in actor.holder_slugs)


@router.get("/works/{work_id}/keywords", response_class=HTMLResponse)
def keywords_page(request: Request, work_id: WorkId, service: Desk, session: Page, saved: str = "") -> HTMLResponse:
    return _keywords_page(request, service, session, work_id, saved=saved if saved in SAVED else "")


@router.post("/works/{work_id}/keywords")
def add_keywords_page(request: Request, work_id: WorkId, service: Desk, session: PostedPage,
                      lang: Annotated[str, Form(max_length=20)] = "",
                      keywords: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Add a keyword set; a wrong form comes back (422) as it was typed, with what to fix."""
    actor = session.actor
    work = catalog.get_work(service, actor, work_id)  # 404 before anything is said of the form
    actor.own_holder(work.holder)  # operators and auditors only read (403)
    t = translator(session.lang)
    words = split_keywords(keywords)
    errors = keyword_errors(t, lang, words)
    if not errors:
        before = {k.id for k in catalog.list_keyword_sets(service, actor, work_id)}
        try:
            kset = catalog.add_keyword_set(service, actor, work_id, lang, words)
        except (Forbidden, NotFound):
            raise
        except RegistryError as exc:
            errors.append(t("keyword_not_added", reason=str(exc)))
    if errors:
        return _keywords_page(request, service, session, work_id, status=422, errors=errors,
                              form={"lang": lang, "keywords": keywords})
    return RedirectResponse(_url(work_id, "unchanged" if kset.id in before else "added"), status_code=303)


@router.post("/works/{work_id}/keywords/{set_id}/remove")
def remove_keywords_page(work_id: WorkId, set_id: Id, service: Desk, session: PostedPage) -> Response:
    catalog.remove_keyword_set(service, session.actor, work_id, set_id)
    return RedirectResponse(_url(work_id, "removed"), status_code=303)
