"""Registry commands: holders, works (catalog), permits and reservations."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kyodaku.audit import registry as audit
from kyodaku.cli.common import (
    HELP_MARKUP,
    HomeOption,
    console,
    fail,
    fingerprint_new_media,
    friendly_errors,
    open_workspace,
    parse_date,
    settings_for,
)
from kyodaku.registry.base import ALL_WORKS
from kyodaku.registry.importers import (
    ImportSummary,
    import_catalog,
    import_holders,
    import_permits,
    import_reservations,
    parse_alias,
    register_work,
)


class UseChoice(StrEnum):
    training = "training"
    generation = "generation"


class KindChoice(StrEnum):
    image = "image"
    video = "video"


FileArg = Annotated[Path, typer.Argument(help="A .jsonl or .csv file.", show_default=False)]
NoFingerprint = Annotated[
    bool, typer.Option("--no-fingerprint", help="Do not fingerprint the new reference media now.")
]

holders_app = typer.Typer(help="Import and list rights holders.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
holder_app = typer.Typer(help="Add one rights holder.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
catalog_app = typer.Typer(help="Import works with their reference media.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
works_app = typer.Typer(help="List registered works.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
work_app = typer.Typer(help="Add one work with its reference media.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
permits_app = typer.Typer(help="Import and list permits.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
permit_app = typer.Typer(help="Grant or revoke one permit.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
reservation_app = typer.Typer(help="Opt-out reservations (for opt-out jurisdictions).", no_args_is_help=True, rich_markup_mode=HELP_MARKUP)


def _table(*columns: str, title: str | None = None) -> Table:
    """A table whose cells fold instead of being cut (ids and slugs stay whole)."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c, overflow="fold")
    return table


def _open(home: Path | None) -> Any:
    """The workspace, its registry changes logged as by ``cli:USER`` (the registry writes
    each change's audit entry in the change's own transaction)."""
    ws = open_workspace(home)
    ws.registry.default_actor = audit.cli_actor()
    return ws


def _works_arg(works: str | None) -> str | list[str]:
    if works is None or works.strip() == ALL_WORKS:
        return ALL_WORKS
    ids = [w.strip() for w in works.split(",") if w.strip()]
    if not ids:
        fail("--works: give '*' or comma-separated work ids")
    return ids


# -- holders -----------------------------------------------------------------------------------
@holders_app.command("import")
@friendly_errors
def holders_import(file: FileArg, home: HomeOption = None) -> None:
    """Import holders (holder, name, jurisdiction) from JSONL or CSV."""
    ws = _open(home)
    summary = ImportSummary()
    import_holders(ws.registry, file, summary)
    _print_summary("holder", file, summary)


@holders_app.command("list")
@friendly_errors
def holders_list(home: HomeOption = None) -> None:
    """List holders with their jurisdiction and consent model."""
    from kyodaku.policy.decide import Policy

    ws = _open(home)
    policy = Policy.load(settings_for(home).policy_file)
    table = _table("holder", "name", "jurisdiction", "consent model")
    for h in ws.registry.list_holders():
        code, consent = policy.consent_model(h.jurisdiction)
        table.add_row(h.slug, h.name, h.jurisdiction, f"{consent} ({code})")
    console().print(table)


@holder_app.command("add")
@friendly_errors
def holder_add(
    slug: Annotated[str, typer.Argument(help="Short id, e.g. question-studio.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
    jurisdiction: Annotated[str, typer.Option(help="ISO country code, e.g. JP, US, EU.")] = "JP",
    home: HomeOption = None,
) -> None:
    """Add one rights holder."""
    from kyodaku.registry.importers import JURISDICTION, SLUG

    if not SLUG.match(slug):
        fail(f"holder slug must be lowercase letters, digits, '.', '_' or '-', got {slug!r}")
    if not JURISDICTION.match(jurisdiction.upper()):
        fail(f"--jurisdiction must be an ISO country code like 'JP' or 'EU', got {jurisdiction!r}")
    ws = _open(home)
    h = ws.registry.add_holder(slug, name or slug, jurisdiction.upper())
    console().print(f"added holder {escape(h.slug)} ({escape(h.name)}, {h.jurisdiction})")


# -- works -------------------------------------------------------------------------------------
@catalog_app.command("import")
@friendly_errors
def catalog_import(file: FileArg, no_fingerprint: NoFingerprint = False, home: HomeOption = None) -> None:
    """Import works (work_id, holder, title, kind, media, aliases); media paths are relative to FILE."""
    ws = _open(home)
    summary = ImportSummary()
    media_ids = import_catalog(ws.registry, ws, file, summary)
    _print_summary("work", file, summary, f" with {len(media_ids)} reference file(s)")
    if not no_fingerprint:
        fingerprint_new_media(ws)


@work_app.command("add")
@friendly_errors
def work_add(
    holder: Annotated[str, typer.Argument(help="Holder slug.")],
    title: Annotated[str, typer.Argument(help="Title of the work.")],
    files: Annotated[list[Path], typer.Argument(help="Reference image or video files.", show_default=False)],
    work_id: Annotated[str | None, typer.Option("--work-id", help="Default: w + next number.")] = None,
    kind: Annotated[KindChoice | None, typer.Option(help="Default: from the files.")] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Another title; 'text@ja' sets the language.")
    ] = None,
    no_fingerprint: NoFingerprint = False,
    home: HomeOption = None,
) -> None:
    """Register one work of HOLDER with its reference FILES."""
    ws = _open(home)
    aliases = [parse_alias(a) for a in alias or []]
    work, media_ids = register_work(
        ws.registry,
        ws,
        holder,
        title,
        files,
        kind=kind.value if kind else None,
        work_id=work_id,
        aliases=aliases,
    )
    console().print(
        f"added work {work.work_id} ({escape(work.title)}, {work.kind}) with {len(media_ids)} file(s)"
    )
    if not no_fingerprint:
        fingerprint_new_media(ws)


@works_app.command("list")
@friendly_errors
def works_list(
    holder: Annotated[str | None, typer.Option(help="Only this holder's works.")] = None,
    home: HomeOption = None,
) -> None:
    """List registered works with their reference media."""
    ws = _open(home)
    works = ws.registry.list_works(holder)
    table = _table(
        "work", "holder", "title", "kind", "aliases", "media", "fingerprinted", title=f"{len(works)} work(s)"
    )
    for w in works:
        done = sum(m.fingerprinted_at is not None for m in w.media)
        errors = sum(m.fingerprint_error is not None for m in w.media)
        plain = sum(m.fingerprint_note is not None for m in w.media)
        fp = (f"{done}/{len(w.media)}" + (f" [red]({errors} failed)[/red]" if errors else "")
              + (f" [yellow]({plain} too plain)[/yellow]" if plain else ""))
        aliases = ", ".join(a.text + (f" ({a.lang})" if a.lang else "") for a in w.aliases)
        table.add_row(w.work_id, w.holder, escape(w.title), w.kind, escape(aliases), str(len(w.media)), fp)
    console().print(table)


@works_app.command("lookalikes")
@friendly_errors
def works_lookalikes(
    holder: Annotated[str | None, typer.Option(help="Only pairs with a work of this holder.")] = None,
    conflicts: Annotated[bool, typer.Option("--conflicts", help="Only pairs whose holders differ.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Look every reference up again first (a workspace "
                                          "fingerprinted before kyodaku recorded pairs).")] = False,
    home: HomeOption = None,
) -> None:
    """List near-identical reference pictures of different works (found on fingerprinting).

    Copies of either picture match both works.  A pair whose holders differ is a
    [bold]conflict[/bold]: two holders claim the same picture, and the registry's operator
    should settle who holds it.  Exits 1 when --conflicts finds any (for scripts)."""
    ws = _open(home)
    if refresh:
        from kyodaku.scan.references import refresh_lookalikes

        refresh_lookalikes(ws)
    pairs = [p for p in ws.registry.list_lookalikes(holder) if p.conflict or not conflicts]
    table = _table("work", "holder", "registered before", "its holder", "PDQ distance", "conflict",
                   title=f"{len(pairs)} near-identical pair(s)")
    for p in pairs:
        table.add_row(p.work_id, p.holder, p.other_work_id, p.other_holder, f"{p.distance}/256",
                      "[red]yes[/red]" if p.conflict else "no")
    console().print(table)
    if conflicts and pairs:
        raise typer.Exit(1)


# -- permits -----------------------------------------------------------------------------------
def _print_summary(what: str, file: Path, summary: ImportSummary, detail: str = "") -> None:
    """``imported 2 work(s) with 2 reference file(s) from F: 2 new, 40 unchanged, 0 changed``"""
    console().print(f"imported {summary.new} {what}(s){detail} from {escape(str(file))}: {summary}")


@permits_app.command("import")
@friendly_errors
def permits_import(file: FileArg, home: HomeOption = None) -> None:
    """Import permits (holder, licensee, use, works, valid_from, valid_until)."""
    ws = _open(home)
    summary = ImportSummary()
    import_permits(ws.registry, file, summary)  # unchanged: already granted with the same terms
    _print_summary("permit", file, summary)


@permits_app.command("list")
@friendly_errors
def permits_list(
    licensee: Annotated[str | None, typer.Option(help="Only this licensee's permits.")] = None,
    holder: Annotated[str | None, typer.Option(help="Only this holder's permits.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Status on this date (default: today).")] = None,
    home: HomeOption = None,
) -> None:
    """List every permit, revoked and expired ones included, with its history."""
    ws = _open(home)
    day = parse_date(on, "--on") or date.today()
    permits = ws.registry.list_permits(licensee=licensee, holder=holder)
    events: dict[int, list[str]] = {}
    for e in ws.registry.permit_events():
        text = f"{e.event} {e.at:%Y-%m-%d %H:%M}" + (f": {e.reason}" if e.reason else "")
        events.setdefault(e.permit_id, []).append(text)
    table = _table(
        "id", "holder", "licensee", "use", "works", "valid", "status", "history", title=f"status on {day}"
    )
    colours = {"active": "green", "revoked": "red", "expired": "yellow", "not yet valid": "yellow"}
    for p in permits:
        status = p.status(day)
        until = p.valid_until.isoformat() if p.valid_until else "open"
        table.add_row(
            str(p.id),
            p.holder,
            p.licensee,
            p.use,
            p.scope,
            f"{p.valid_from}..{until}",
            f"[{colours[status]}]{status}[/]",
            escape("\n".join(events.get(p.id, []))),
        )
    console().print(table)


@permit_app.command("grant")
@friendly_errors
def permit_grant(
    holder: Annotated[str, typer.Argument(help="Holder slug.")],
    licensee: Annotated[str, typer.Argument(help="Who may use the works, e.g. acme-video-ai.")],
    use: Annotated[UseChoice, typer.Option("--use", help="training or generation.")],
    works: Annotated[
        str | None, typer.Option("--works", help="Comma-separated work ids (default: '*', all).")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--from", help="First valid day (default: today).")
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--until", help="Last valid day (default: open-ended).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Grant LICENSEE a permit for HOLDER's works."""
    from kyodaku.registry.importers import SLUG

    if not SLUG.match(licensee):
        fail(f"licensee must be lowercase letters, digits, '.', '_' or '-', got {licensee!r}")
    start = parse_date(valid_from, "--from") or date.today()
    end = parse_date(valid_until, "--until")
    ws = _open(home)
    p = ws.registry.grant_permit(
        holder, licensee, use.value, _works_arg(works), valid_from=start, valid_until=end
    )
    console().print(f"granted {escape(p.describe())}")


@permit_app.command("revoke")
@friendly_errors
def permit_revoke(
    permit_id: Annotated[int, typer.Argument(help="Permit id (see `kyodaku permits list`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked (kept in the history).")],
    home: HomeOption = None,
) -> None:
    """Revoke a permit from now on; it stays in the history."""
    ws = _open(home)
    p = ws.registry.revoke_permit(permit_id, reason)
    console().print(f"revoked {escape(p.describe())}: {escape(reason)}")


# -- reservations ------------------------------------------------------------------------------
@reservation_app.command("declare")
@friendly_errors
def reservation_declare(
    holder: Annotated[str, typer.Argument(help="Holder slug.")],
    use: Annotated[UseChoice, typer.Option("--use", help="training or generation.")],
    works: Annotated[
        str | None, typer.Option("--works", help="Comma-separated work ids (default: '*').")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Record that HOLDER reserved a use of their works (effective from now)."""
    ws = _open(home)
    r = ws.registry.declare_reservation(holder, use.value, _works_arg(works))
    console().print(f"reservation {r.id}: {escape(r.holder)} reserved {r.use} of {escape(r.scope)}")


@reservation_app.command("import")
@friendly_errors
def reservations_import(file: FileArg, home: HomeOption = None) -> None:
    """Import opt-out reservations (holder, use, works: '*' or a list) from JSONL or CSV."""
    ws = _open(home)
    summary = ImportSummary()
    import_reservations(ws.registry, file, summary)  # unchanged: already in force
    _print_summary("reservation", file, summary)


@reservation_app.command("withdraw")
@friendly_errors
def reservation_withdraw(
    reservation_id: Annotated[int, typer.Argument(help="Reservation id.")], home: HomeOption = None
) -> None:
    """Withdraw a reservation from now on (kept in the history)."""
    ws = _open(home)
    r = ws.registry.withdraw_reservation(reservation_id)
    console().print(f"withdrew reservation {r.id} of {escape(r.holder)}")


@reservation_app.command("list")
@friendly_errors
def reservation_list(home: HomeOption = None) -> None:
    """List reservations, withdrawn ones included."""
    ws = _open(home)
    table = _table("id", "holder", "use", "works", "declared", "withdrawn")
    for r in ws.registry.list_reservations():
        withdrawn = f"{r.withdrawn_at:%Y-%m-%d %H:%M}" if r.withdrawn_at else ""
        table.add_row(str(r.id), r.holder, r.use, r.scope, f"{r.declared_at:%Y-%m-%d %H:%M}", withdrawn)
    console().print(table)


from kyodaku.cli.keyword_cmds import keywords_app  # noqa: E402

works_app.add_typer(keywords_app, name="keywords")
