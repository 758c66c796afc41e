"""Shared CLI plumbing: the ``--home`` option, opening the workspace, one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from kyodaku.policy.decide import PolicyError
from kyodaku.registry.base import RegistryError
from kyodaku.registry.importers import ImportFailed
from kyodaku.scan.raymap import RayUnavailable
from kyodaku.settings import Settings, SettingsError, load_settings
from kyodaku.workspace import Workspace, WorkspaceError

#: --help text is Markdown: paragraphs reflow to the terminal instead of keeping the
#: docstrings' line breaks
HELP_MARKUP = "markdown"

#: click's type names, which --help showed before typer 0.2x wrote ``<str>``, ``<bool>``...
_CLICK_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "int range": "INTEGER",
                     "float range": "FLOAT", "path": "PATH", "file": "FILE", "dir": "DIR", "datetime": "DATE"}


def _help_type(self: Any, ctx: Any) -> str | None:
    """The type column of --help, as click and git show it: nothing for a flag (``--force``),
    the metavar when one is given, else ``TEXT`` / ``INTEGER`` / ``FILE`` / ``DIR`` or the
    choices; typer's ``<bool>`` / ``<str>`` labels are dropped."""
    if getattr(self, "is_flag", False) and not getattr(self, "count", False):
        return None
    if self.metavar is not None:
        return str(self.metavar)
    label = self.display_type(ctx)
    label = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    many = getattr(self, "nargs", 1) != 1 or bool(getattr(self, "multiple", False))
    if label.startswith("list[") and label.endswith("]"):
        label, many = label[5:-1], True
    shown = label if "|" in label else _CLICK_TYPE_NAMES.get(label, label.upper())
    return shown + "..." if many else shown


def _plain_help_types() -> None:
    """Every command's --help, at the root: typer's rich help asks each parameter for
    ``display_type_rich``; kyodaku's answer is :func:`_help_type`."""
    import typer.core

    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        cls.display_type_rich = _help_type  # type: ignore[method-assign,assignment]


_plain_help_types()

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Workspace folder (default: $KYODAKU_HOME, else ./kyodaku-data).",
        show_default=False,
        file_okay=False,
    ),
]

#: ``kyodaku --home DIR COMMAND``: the root's --home, the default of every command's own
#: (set by the root callback on every invocation; a command's own --home wins)
ROOT_HOME: ContextVar[Path | None] = ContextVar("kyodaku_root_home", default=None)

F = TypeVar("F", bound=Callable[..., Any])
EXPECTED_ERRORS = (WorkspaceError, ImportFailed, RegistryError, PolicyError, SettingsError, RayUnavailable)


def console() -> Console:
    return Console(soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """One red line on stderr, exit code 1."""
    err_console().print(f"[bold red]error:[/bold red] [red]{escape(message)}[/red]")
    raise typer.Exit(1)


def friendly_errors(fn: F) -> F:
    """Turn expected kyodaku errors into :func:`fail` (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def settings_for(home: Path | None) -> Settings:
    """Settings with the workspace folder of the command's --home, else the root's
    (``kyodaku --home DIR ...``), else $KYODAKU_HOME, else ./kyodaku-data."""
    return load_settings(home=home if home is not None else ROOT_HOME.get())


def open_workspace(home: Path | None) -> Workspace:
    settings = settings_for(home)
    return Workspace.open(settings.home, settings.database_url)


def unknown_licensee(workspace: Workspace, licensee: str) -> str | None:
    """None when a permit of this workspace (granted, expired or revoked) names
    ``licensee``; else a sentence saying so, with the closest registered licensee names
    (a mistyped ``acme-video-aj`` would otherwise have every match blocked, silently)."""
    from rapidfuzz import fuzz, process, utils

    names = sorted({p.licensee for p in workspace.registry.list_permits()})
    if licensee in names:
        return None
    close = [n for n, _score, _i in process.extract(licensee, names, scorer=fuzz.ratio, processor=utils.default_process,
                                                    limit=3, score_cutoff=60)]
    text = f"no permit in this workspace names licensee {licensee!r}"
    if close:
        text += "; did you mean " + " or ".join(repr(n) for n in close) + "?"
    elif names:
        text += f" (registered licensees: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
    else:
        text += " (no permit is registered yet)"
    return text + " Without a permit, nothing it uses counts as permitted."


def check_licensee(workspace: Workspace, licensee: str, *, strict: bool) -> None:
    """Warn (on stderr) about a licensee no permit names; ``--strict`` makes it an error."""
    problem = unknown_licensee(workspace, licensee)
    if problem is None:
        return
    if strict:
        fail(problem + " (--strict)")
    err_console().print(f"[yellow]warning:[/yellow] {escape(problem)} (--strict makes this an error)")


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return url


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not a date (YYYY-MM-DD): {value!r}")


def fingerprint_new_media(workspace: Workspace) -> None:
    """Fingerprint every reference file not fingerprinted yet, with a progress bar."""
    from kyodaku.scan.references import fingerprint_pending

    summary = fingerprint_pending(workspace, progress=True)
    console().print(str(summary))
