"""``kyodaku serve``: the desk as a web service (FastAPI).  Routers per role:

- ``/api/v1``           read endpoints every role has (filtered by tenancy)
- ``/api/v1/holder``    what rights holders do: claims, disputes, inquiries, catalog, permits
- ``/api/v1/operator``  what the AI developer's compliance staff do: claim steps, overdue
- ``/api/v1/auditor``   read-only reports
- ``/``                 the server-rendered pages (Japanese and English)

The API authenticates with API keys (``Authorization: Bearer kyd_...``), the pages with
a session cookie and a CSRF token in every form.  :func:`create_app` builds everything
from settings; nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kyodaku import __version__
from kyodaku.desk import DeadlinePolicy, DeskService, Forbidden, InvalidTransition
from kyodaku.desk.outbox import SmtpSettings
from kyodaku.desk.storage import QuotaExceeded, TooLarge
from kyodaku.registry.base import Conflict, NotFound, RegistryError, utcnow
from kyodaku.service.limits import BodyLimit, RateLimit
from kyodaku.service.refusals import api_lang, invalid_input
from kyodaku.settings import Settings, load_settings
from kyodaku.workspace import Workspace

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("kyodaku.service")

_STATUS = ((QuotaExceeded, 413), (TooLarge, 413), (NotFound, 404), (Forbidden, 403), (InvalidTransition, 409),
           (Conflict, 409), (RegistryError, 422))


def _status_of(exc: Exception) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def create_app(settings: Settings | None = None, *, workspace: Workspace | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    from kyodaku.guard.screen import Guard
    from kyodaku.service import keyword_pages, pages
    from kyodaku.service.api import auditor, common, holder, operator, screen

    settings = settings or load_settings()
    ws = workspace or Workspace.from_settings(settings, create=True)
    desk = DeskService(ws, licensee=settings.licensee, deadlines=DeadlinePolicy.load(settings.deadlines_file),
                       clock=clock or utcnow, smtp=smtp_settings(settings),
                       allow_private_webhooks=settings.webhook_allow_private)
    app = FastAPI(lifespan=_lifespan(desk, settings.delivery_interval), title="kyodaku desk", version=__version__, openapi_url="/api/openapi.json",
                  docs_url="/api/docs", redoc_url=None,
                  description="Claims and inquiries of rights holders, answered from kyodaku's records.")
    #: per-holder storage quota and upload cap (kyodaku.desk.storage reads them)
    desk.holder_quota_bytes = settings.holder_quota_mb << 20  # type: ignore[attr-defined]
    desk.max_upload_bytes = settings.max_upload_bytes  # type: ignore[attr-defined]
    app.state.desk = desk
    app.state.settings = settings
    app.state.guard = Guard(ws, settings.licensee, policy_file=settings.policy_file,
                            keep_prompts=settings.screen_keep_prompts, max_pixels=settings.screen_max_pixels,
                            max_seconds=settings.screen_max_seconds, clock=clock or utcnow,
                            background_drain=True)  # audit file log appended off the request path
    app.include_router(common.router, prefix="/api/v1")
    app.include_router(holder.router, prefix="/api/v1/holder")
    app.include_router(operator.router, prefix="/api/v1/operator")
    app.include_router(auditor.router, prefix="/api/v1/auditor")
    app.include_router(screen.router, prefix="/api/v1/screen")
    app.include_router(pages.router)
    app.include_router(keyword_pages.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("kyodaku.service").joinpath("static"))),
              name="static")

    @app.exception_handler(RegistryError)
    async def _registry_error(request: Request, exc: RegistryError) -> Response:
        status = _status_of(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return pages.error_page(request, status, str(exc), exc=exc)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> Response:
        # Input that passed validation but the database refuses to store: PostgreSQL has no
        # NUL character in text, and fixed-length columns refuse longer values.  The
        # transaction was rolled back; the caller gets a 422 with a reason, not a 500.
        message = "a value the database cannot store (a NUL character, or too long for its field)"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=422)
        return pages.error_page(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or exc.status_code in (301, 302, 303, 307):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return pages.error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # each error said from its pydantic type in the reader's language (refusals.invalid_input);
        # the API keeps its structured detail list for machines and adds the words for people
        if request.url.path.startswith("/api/"):
            said = invalid_input(pages.translator(api_lang(request)), exc.errors())
            detail = [{**e, "message": m} for e, m in zip(jsonable_errors(exc), said, strict=True)]
            return JSONResponse({"detail": detail, "message": " ".join(said)}, status_code=422)
        return pages.error_page(request, 422, "; ".join(str(e.get("msg")) for e in exc.errors()),
                                said=lambda t: " ".join(invalid_input(t, exc.errors())))

    # the limits run before any route reads a body (outermost after the security headers)
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst,
                       login_per_minute=settings.login_rate_per_minute)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy",
                                        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                        "form-action 'self'; frame-ancestors 'none'")
        return response

    return app


def _lifespan(desk: DeskService, interval: float) -> Callable[[FastAPI], Any]:
    """Deliver due notifications every ``interval`` seconds while the server runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if interval > 0:
            async def loop() -> None:
                while True:
                    await asyncio.sleep(interval)
                    try:
                        await asyncio.to_thread(desk.deliver)
                    except Exception:  # noqa: BLE001 - a database hiccup must not stop the loop
                        log.exception("notification delivery failed; retrying in %.0f s", interval)

            task = asyncio.create_task(loop())
        yield
        if task is not None:
            task.cancel()

    return lifespan


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    if not settings.smtp_host:
        return None
    return SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_username,
                        settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                        settings.smtp_sender)


def app_from_env() -> FastAPI:
    """The uvicorn factory of ``kyodaku serve`` (settings from ``KYODAKU_*``)."""
    return create_app(load_settings())


def jsonable_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()]
