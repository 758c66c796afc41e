"""``kyodaku``: the command line.  Every command takes ``--home DIR`` (else $KYODAKU_HOME,
else ./kyodaku-data); expected errors print one red line and exit with code 1."""

from __future__ import annotations

import typer
from rich.markup import escape

from kyodaku import __version__
from kyodaku.cli import desk_cmds, report_cmds, scan_cmds
from kyodaku.cli.audit_cmds import audit_app
from kyodaku.cli.common import HELP_MARKUP, HomeOption, console, friendly_errors, safe_url, settings_for
from kyodaku.cli.registry_cmds import (
    catalog_app,
    holder_app,
    holders_app,
    permit_app,
    permits_app,
    reservation_app,
    work_app,
    works_app,
)
from kyodaku.workspace import Workspace

app = typer.Typer(
    name="kyodaku",
    help="kyodaku (許諾): consent-first copyright guard for generative image and video AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=HELP_MARKUP,
)
app.add_typer(holders_app, name="holders")
app.add_typer(holder_app, name="holder")
app.add_typer(catalog_app, name="catalog")
app.add_typer(works_app, name="works")
app.add_typer(work_app, name="work")
app.add_typer(permits_app, name="permits")
app.add_typer(permit_app, name="permit")
app.add_typer(reservation_app, name="reservation")
app.add_typer(audit_app, name="audit")
scan_cmds.register(app)
desk_cmds.register(app)
report_cmds.register(app)


def _version(value: bool) -> None:
    if value:
        console().print(f"kyodaku {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """kyodaku (許諾): consent-first copyright guard for generative image and video AI."""


@app.command()
@friendly_errors
def init(home: HomeOption = None) -> None:
    """Create a workspace (or upgrade the schema of an existing one)."""
    settings = settings_for(home)
    ws = Workspace.init(settings.home, settings.database_url)
    console().print(
        f"workspace ready at {escape(str(ws.home))} (database {escape(safe_url(ws.database_url))})"
    )


if __name__ == "__main__":  # pragma: no cover
    app()
