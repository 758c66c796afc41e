"""``kyodaku``: the command line.  Every command takes ``--home DIR`` (else $KYODAKU_HOME,
else ./kyodaku-data); expected errors print one red line and exit with code 1, and so do
usage errors (click's own code, 2, would read as "blocked" from ``kyodaku check``)."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from kyodaku import __version__
from kyodaku.cli import desk_cmds, report_cmds, scan_cmds, screen_cmds, verify_cmds
from kyodaku.cli.audit_cmds import audit_app
from kyodaku.cli.common import HELP_MARKUP, ROOT_HOME, HomeOption, console, friendly_errors, safe_url, settings_for
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

#: every usage error (a missing or unknown option, a bad value, an unknown command) exits
#: with this code; 0, 2, 3 and 4 are reserved for ``kyodaku check``'s verdicts
USAGE_ERROR_EXIT = 1

#: click's UsageError (BadParameter, MissingParameter, NoSuchOption, ... derive from it),
#: taken from typer: recent typer versions raise those of a click they vendor
UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class KyodakuGroup(TyperGroup):
    """The root command group: usage errors, of the root or of any subcommand (they are
    parsed inside the root's invoke), exit with :data:`USAGE_ERROR_EXIT`."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except UsageError as exc:
            exc.exit_code = USAGE_ERROR_EXIT
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            exc.exit_code = USAGE_ERROR_EXIT
            raise


app = typer.Typer(
    name="kyodaku",
    cls=KyodakuGroup,
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
screen_cmds.register(app)
verify_cmds.register(app)


def _version(value: bool) -> None:
    if value:
        console().print(f"kyodaku {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
    home: HomeOption = None,
) -> None:
    """kyodaku (許諾): consent-first copyright guard for generative image and video AI.

    `--home DIR` may come before the command (`kyodaku --home DIR works list`) or after
    it; given in both places, the command's own wins."""
    ROOT_HOME.set(home)


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
