"""The documentation keeps up with the code: every CLI command is in docs/cli.md, every
``KYODAKU_*`` setting in docs/settings.md, every API route in docs/api.md, and the README
stays a short user's guide (issue 21, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from kyodaku.cli.main import app as cli_app
from kyodaku.service.app import create_app
from kyodaku.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_MAX_LINES = 400


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# --- the CLI ---------------------------------------------------------------------------

def cli_commands() -> list[str]:
    """Every command and subcommand path of the typer app ("scan", "audit verify", ...)."""
    paths: list[str] = []

    def walk(command: object, path: list[str]) -> None:
        if path:
            paths.append(" ".join(path))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, path + [name])

    walk(typer.main.get_command(cli_app), [])
    return paths


def test_the_cli_has_the_commands_the_walk_expects() -> None:
    commands = cli_commands()
    assert {"scan", "check", "serve", "audit verify", "desk account-add", "works lookalikes"} <= set(commands)


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_in_docs_cli(command: str) -> None:
    # listed on its own as `kyodaku COMMAND` (so "check" is not found inside "check-text",
    # nor a command in an example of its options)
    assert f"`kyodaku {command}`" in _text("cli.md"), f"`kyodaku {command}` is not in docs/cli.md"


# --- settings --------------------------------------------------------------------------

def env_names() -> list[str]:
    """Every field of Settings as its env name, plus other KYODAKU_ names read in src/, the
    demo and the benchmarks (benchmarks/evalset.py reads KYODAKU_EVAL_DIR)."""
    names = {f"KYODAKU_{field.upper()}" for field in Settings.model_fields}
    read = re.compile(r"""(?:environ\.get|environ\[|getenv)\(?\s*["'](KYODAKU_[A-Z0-9_]+)["']""")
    paths = [*(ROOT / "src" / "kyodaku").rglob("*.py"), *(ROOT / "demo").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    for path in paths:
        names.update(read.findall(path.read_text(encoding="utf-8")))
    return sorted(names)


def test_the_settings_walk_finds_fields_and_environment_reads() -> None:
    names = env_names()
    assert {"KYODAKU_HOME", "KYODAKU_MAX_BODY_KB", "KYODAKU_EVAL_DIR"} <= set(names)


@pytest.mark.parametrize("name", env_names())
def test_every_setting_is_in_docs_settings(name: str) -> None:
    assert re.search(r"`" + re.escape(name) + r"`", _text("settings.md")), f"{name} is not in docs/settings.md"


# --- the API ---------------------------------------------------------------------------

def _walk_routes(routes: list, prefix: str = ""):
    for route in routes:
        context = getattr(route, "include_context", None)  # FastAPI's included routers
        if context is not None:
            yield from _walk_routes(route.original_router.routes, prefix + context.prefix)
        elif getattr(route, "methods", None):
            yield prefix + route.path, route.methods
        elif getattr(route, "routes", None) and hasattr(route, "path"):  # a mounted router
            yield from _walk_routes(route.routes, prefix + route.path)


def api_routes() -> list[str]:
    """Every "METHOD /api/..." the desk serves, from the app create_app builds."""
    import tempfile

    with tempfile.TemporaryDirectory() as home:
        app = create_app(Settings(home=Path(home), delivery_interval=0))
        found = {f"{method} {path}" for path, methods in _walk_routes(app.routes)
                 for method in methods - {"HEAD", "OPTIONS"} if path.startswith("/api/")}
    return sorted(found)


ROUTES = api_routes()


def test_the_route_walk_finds_every_router() -> None:
    prefixes = {r.split()[1].split("/")[3] for r in ROUTES if r.split()[1].startswith("/api/v1/")}
    assert {"holder", "operator", "auditor", "me"} <= prefixes
    assert len(ROUTES) > 20


@pytest.mark.parametrize("route", ROUTES)
def test_every_api_route_is_in_docs_api(route: str) -> None:
    # as `METHOD /api/path`, method and path together
    assert f"`{route}`" in _text("api.md"), f"`{route}` is not in docs/api.md"


# --- the README ------------------------------------------------------------------------

def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail to docs/"


def test_the_readme_links_resolve() -> None:
    for base, name in [(ROOT, "README.md"), *((DOCS, p.name) for p in DOCS.glob("*.md")), (ROOT, "CHANGELOG.md")]:
        text = (base / name).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (base / target).exists(), f"{name} links to {target}, which does not exist"
