"""``kyodaku serve`` and ``kyodaku desk ...``: run the rights holders' desk, manage its
accounts, deliver its notifications.  Same functions as the service
(:class:`kyodaku.desk.DeskService`)."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer
from rich.markup import escape

from kyodaku.cli.common import (
    HELP_MARKUP,
    HomeOption,
    console,
    err_console,
    fail,
    friendly_errors,
    open_workspace,
    settings_for,
    unknown_licensee,
)
from kyodaku.desk import DeskService
from kyodaku.workspace import WorkspaceError

desk_app = typer.Typer(help="The rights holders' desk: accounts, API keys, notifications.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)


def _service(home: object) -> DeskService:
    settings = settings_for(home)  # type: ignore[arg-type]
    return DeskService(open_workspace(home), licensee=settings.licensee)  # type: ignore[arg-type]


@desk_app.command("account-add")
@friendly_errors
def account_add(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option("--role", help="holder, operator or auditor.")],
    holder: Annotated[list[str] | None, typer.Option("--holder", help="A holder this account acts for "
                                                     "(repeat for an association).")] = None,
    display_name: Annotated[str | None, typer.Option("--name", help="Shown on pages.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Notifications go here (with SMTP set).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="ja or en.")] = "en",
    password_env: Annotated[str | None, typer.Option("--password-env", help="Read the password from this "
                                                     "environment variable (else it is asked for).")] = None,
    api_key: Annotated[bool, typer.Option("--api-key", help="Also create an API key and print it once.")] = False,
    home: HomeOption = None,
) -> None:
    """Create a desk account (its password is hashed with argon2)."""
    if password_env:
        password = os.environ.get(password_env) or fail(f"${password_env} is not set")
    else:
        password = getpass.getpass("password: ")
    service = _service(home)
    actor = service.add_account(username, role, password=password, holders=holder or (),
                                display_name=display_name, email=email, lang=lang)
    console().print(f"account {escape(username)} ({role}) created")
    if api_key:
        _, key = service.add_api_key(actor, "created with the account")
        console().print(f"API key (shown once): {key}", soft_wrap=True)


@desk_app.command("deliver")
@friendly_errors
def deliver(home: HomeOption = None) -> None:
    """Deliver due notifications (webhooks, email); run it from cron or a timer."""
    from kyodaku.service.app import smtp_settings

    settings = settings_for(home)
    service = DeskService(open_workspace(home), licensee=settings.licensee, smtp=smtp_settings(settings),
                          allow_private_webhooks=settings.webhook_allow_private)
    counts = service.deliver()
    console().print(f"{counts['delivered']} delivered, {counts['failed']} failed (retried later)")


@friendly_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    home: HomeOption = None,
) -> None:
    """Run the desk (pages and API) with uvicorn.  In production set KYODAKU_MODE=server,
    KYODAKU_SECRET_KEY, KYODAKU_DATABASE_URL (PostgreSQL) and KYODAKU_LICENSEE (the AI
    developer whose scans and outputs the desk answers for)."""
    import uvicorn

    from kyodaku.settings import UNNAMED_LICENSEE

    settings = settings_for(home)
    if host not in ("127.0.0.1", "localhost", "::1") and settings.mode != "server":
        fail("listening beyond this machine needs KYODAKU_MODE=server (secure settings)")
    if not settings.licensee_given:
        if settings.mode == "server":
            fail("server mode needs KYODAKU_LICENSEE: the licensee (AI developer) the desk answers for; "
                 "claims' evidence is checked against its permits")
        err_console().print(f"[yellow]warning:[/yellow] KYODAKU_LICENSEE is not set: the desk checks claims' "
                            f"evidence for licensee {UNNAMED_LICENSEE!r}, which no permit names; set it to the "
                            "AI developer's licensee name")
    else:
        try:
            problem = unknown_licensee(open_workspace(home), settings.licensee)
        except WorkspaceError:  # the desk reports that itself; the licensee cannot be looked up here
            problem = None
        if problem:
            err_console().print(f"[yellow]warning:[/yellow] KYODAKU_LICENSEE: {escape(problem)}")
    os.environ["KYODAKU_HOME"] = str(settings.home)  # the app factory reads the environment
    console().print(f"kyodaku desk on http://{host}:{port}/ (API docs at /api/docs)")
    uvicorn.run("kyodaku.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True)


def register(app: typer.Typer) -> None:
    app.add_typer(desk_app, name="desk")
    app.command("serve")(serve)
