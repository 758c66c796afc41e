"""``kyodaku audit``: check, browse and publish the key of the tamper-evident audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kyodaku.audit.keys import (
    AuditKeyError,
    fingerprint,
    load_or_create_signing_key,
    public_pem,
)
from kyodaku.audit.log import AUDIT_DIR, LOG_FILE, read_entries, verify
from kyodaku.cli.common import (
    HELP_MARKUP,
    HomeOption,
    console,
    err_console,
    fail,
    friendly_errors,
    open_workspace,
    settings_for,
)

audit_app = typer.Typer(help="The tamper-evident audit log of scans and verdicts.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)


def _log_path(home: Path | None) -> Path:
    return settings_for(home).home.expanduser().resolve() / AUDIT_DIR / LOG_FILE


@audit_app.command("verify")
@friendly_errors
def verify_cmd(
    home: HomeOption = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Verify with this public key PEM (an auditor's pinned copy) instead of the "
        "workspace's key.", dir_okay=False)] = None,
    file_only: Annotated[bool, typer.Option(
        "--file-only", help="Check the log file alone, not the workspace's database against it.")] = False,
) -> None:
    """Check every entry's hash, signature and chain link, and the signed head; on a workspace,
    first append audit entries a crash left committed but unlogged, then check that every change
    in its database (claims and their steps, permits, works, holders, accounts, API keys,
    webhooks, inquiries, reservations) has its entry.  Exit 1 on any problem."""
    from kyodaku.audit.coverage import verify_workspace
    from kyodaku.workspace import Workspace, WorkspaceError

    settings = settings_for(home)
    path = settings.home.expanduser().resolve() / AUDIT_DIR / LOG_FILE
    ws = None
    if not file_only:
        try:
            ws = Workspace.open(settings.home, settings.database_url)
        except WorkspaceError as exc:
            if not str(exc).startswith("no kyodaku workspace"):  # there is one, but it cannot be checked
                fail(f"{exc} (or pass --file-only to check the log file alone)")
            err_console().print(f"[yellow]note:[/yellow] no workspace database at {escape(str(settings.home))}; "
                                "checking the log file alone")
    try:
        report = verify_workspace(ws, public_key) if ws is not None else verify(path, public_key)
    except AuditKeyError as exc:
        fail(str(exc))
    finally:
        if ws is not None:
            ws.dispose()
    for warning in report.warnings:
        err_console().print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if report.ok:
        console().print(f"[green]{escape(str(report))}[/green]")
        return
    err = err_console()
    err.print(f"[bold red]audit log {escape(str(path))}: {len(report.problems)} problem(s)[/bold red]")
    for problem in report.problems:
        err.print(f"  [red]- {escape(problem.message)}[/red]")
    raise typer.Exit(1)


@audit_app.command("show")
@friendly_errors
def show_cmd(
    home: HomeOption = None,
    tail: Annotated[int, typer.Option("--tail", "-n", help="Show the last N entries (0: all).", min=0)] = 20,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only entries of this kind.")] = None,
) -> None:
    """List the latest audit entries (not a verification: use `kyodaku audit verify`)."""
    path = _log_path(home)
    if not path.exists():
        fail(f"no audit log at {path}")
    rows = [(n, e) for n, e in read_entries(path) if kind is None or e["kind"] == kind]
    if tail:
        rows = rows[-tail:]
    table = Table(title=f"audit log {path}", title_justify="left")
    for col in ("seq", "at", "kind", "data"):
        table.add_column(col, overflow="fold")
    for _lineno, entry in rows:
        data = json.dumps(entry["data"], ensure_ascii=False, sort_keys=True)
        table.add_row(str(entry["seq"]), entry["at"], escape(entry["kind"]),
                      escape(data if len(data) <= 200 else data[:199] + "…"))
    console().print(table)


@audit_app.command("key")
@friendly_errors
def key_cmd(home: HomeOption = None) -> None:
    """Print the workspace's audit public key (PEM) and its fingerprint, to pin it elsewhere."""
    ws = open_workspace(home)
    try:
        key = load_or_create_signing_key(ws.home).public_key()
    except AuditKeyError as exc:
        fail(str(exc))
    out = console()
    out.print(public_pem(key).decode("ascii").rstrip(), markup=False, highlight=False)
    out.print(f"fingerprint {fingerprint(key)}", markup=False, highlight=False)
