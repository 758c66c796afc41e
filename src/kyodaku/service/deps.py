"""Who is asking: API keys for the REST API, session cookies (with CSRF tokens) for pages."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kyodaku.desk import Actor, DeskService

__all__ = ["ApiActor", "Desk", "PageSession", "SESSION_COOKIE", "check_csrf", "desk", "page_session"]

SESSION_COOKIE = "kyodaku_session"
LANG_COOKIE = "kyodaku_lang"
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer kyd_...`")


def desk(request: Request) -> DeskService:
    return request.app.state.desk


Desk = Annotated[DeskService, Depends(desk)]


def api_actor(service: Desk, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    if credentials is None:
        raise HTTPException(401, "an API key is needed (Authorization: Bearer kyd_...)",
                            headers={"WWW-Authenticate": "Bearer"})
    actor = service.api_key_actor(credentials.credentials)
    if actor is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return actor


ApiActor = Annotated[Actor, Depends(api_actor)]


class PageSession:
    def __init__(self, actor: Actor, csrf: str, lang: str) -> None:
        self.actor, self.csrf, self.lang = actor, csrf, lang


def request_lang(request: Request, actor: Actor | None = None) -> str:
    lang = request.cookies.get(LANG_COOKIE)
    if lang in ("ja", "en"):
        return lang
    if actor is not None and actor.lang in ("ja", "en"):
        return actor.lang
    accept = request.headers.get("accept-language", "")
    return "ja" if accept.lower().startswith("ja") else "en"


def optional_session(request: Request, service: Desk) -> PageSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    found = service.session_actor(token) if token else None
    if found is None:
        return None
    return PageSession(found[0], found[1], request_lang(request, found[0]))


def page_session(request: Request, session: Annotated[PageSession | None, Depends(optional_session)]) -> PageSession:
    if session is None:
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={request.url.path}"})
    return session


Page = Annotated[PageSession, Depends(page_session)]


def check_csrf(session: Page, csrf_token: Annotated[str, Form()] = "") -> PageSession:
    """Every form post carries the session's CSRF token; a post without it is refused."""
    if not csrf_token or not hmac.compare_digest(csrf_token, session.csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return session


PostedPage = Annotated[PageSession, Depends(check_csrf)]
