"""``kyodaku works keywords add|list|remove``: a work's descriptive keyword sets, which
the generation guard matches in prompts (:mod:`kyodaku.guard.keywords`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kyodaku.audit import registry as audit
from kyodaku.cli.common import HELP_MARKUP, HomeOption, console, friendly_errors, open_workspace

keywords_app = typer.Typer(help="Descriptive keyword sets of works (prompt screening).", no_args_is_help=True,
                           rich_markup_mode=HELP_MARKUP)


def _registry(home: Path | None):  # type: ignore[no-untyped-def]
    ws = open_workspace(home)
    ws.registry.default_actor = audit.cli_actor()
    return ws.registry


@keywords_app.command("add")
@friendly_errors
def keywords_add(
    work_id: Annotated[str, typer.Argument(help="The work.")],
    keywords: Annotated[list[str], typer.Argument(help="The keywords of one set; a prompt with all of them is a hit.")],
    lang: Annotated[str, typer.Option("--lang", help="Language of the set (ja, en, ...).")] = "en",
    home: HomeOption = None,
) -> None:
    """Add a keyword set to WORK_ID: a prompt holding every one of KEYWORDS calls the work up."""
    k = _registry(home).add_keyword_set(work_id, lang, keywords)
    console().print(f"keyword set {k.id} of {k.work_id} ({k.lang}): {escape(', '.join(k.keywords))}")


@keywords_app.command("list")
@friendly_errors
def keywords_list(
    work_id: Annotated[str | None, typer.Option("--work", help="Only this work's sets.")] = None,
    holder: Annotated[str | None, typer.Option(help="Only this holder's works.")] = None,
    home: HomeOption = None,
) -> None:
    """List keyword sets."""
    sets = _registry(home).list_keyword_sets(work_id, holder)
    table = Table(title=f"{len(sets)} keyword set(s)")
    for c in ("set", "work", "holder", "lang", "keywords"):
        table.add_column(c, overflow="fold")
    for k in sets:
        table.add_row(str(k.id), k.work_id, k.holder, k.lang, escape(", ".join(k.keywords)))
    console().print(table)


@keywords_app.command("remove")
@friendly_errors
def keywords_remove(
    set_id: Annotated[int, typer.Argument(help="Set id (see `kyodaku works keywords list`).")],
    home: HomeOption = None,
) -> None:
    """Remove a keyword set."""
    k = _registry(home).remove_keyword_set(set_id)
    console().print(f"removed keyword set {k.id} of {k.work_id}: {escape(', '.join(k.keywords))}")
