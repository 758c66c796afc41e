"""``kyodaku works keywords add|list|remove`` on a real workspace."""

from __future__ import annotations

from typer.testing import CliRunner

from kyodaku.cli.main import app
from kyodaku.workspace import Workspace

ENV = {"COLUMNS": "250", "KYODAKU_HOME": None, "KYODAKU_DATABASE_URL": None, "KYODAKU_MODE": None}


def test_keyword_sets_are_added_listed_and_removed(tmp_path) -> None:
    home = tmp_path / "home"
    ws = Workspace.init(home)
    ws.registry.add_holder("nintenbo", "Nintenbo KK", "JP")
    ws.registry.add_work("nintenbo", "Super Plumber Bros", "image", work_id="w1")
    ws.dispose()
    run = CliRunner()
    added = run.invoke(app, ["works", "keywords", "add", "w1", "videogame", "Plumber", "--home", str(home)], env=ENV)
    assert added.exit_code == 0, added.output
    assert "plumber, videogame" in added.output
    listed = run.invoke(app, ["works", "keywords", "list", "--work", "w1", "--home", str(home)], env=ENV)
    assert "1 keyword set(s)" in listed.output and "nintenbo" in listed.output
    gone = run.invoke(app, ["works", "keywords", "remove", "1", "--home", str(home)], env=ENV)
    assert gone.exit_code == 0 and "removed keyword set 1" in gone.output
    missing = run.invoke(app, ["works", "keywords", "remove", "1", "--home", str(home)], env=ENV)
    assert missing.exit_code == 1
