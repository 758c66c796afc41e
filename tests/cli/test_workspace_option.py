"""``--home DIR`` before or after the command, as ``git -C`` / ``git --git-dir``: the
command's own wins, the root's beats $KYODAKU_HOME, which beats ./kyodaku-data."""

from __future__ import annotations

from typer.testing import CliRunner

from kyodaku.cli.main import app

runner = CliRunner()
NO_DB = {"KYODAKU_DATABASE_URL": None, "KYODAKU_HOME": None}  # each workspace its own SQLite file


def _cli(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env={**NO_DB, **(env or {})})


def test_home_before_or_after_the_command(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _cli("--home", str(a), "init").exit_code == 0
    assert _cli("init", "--home", str(b)).exit_code == 0
    assert _cli("--home", str(a), "holder", "add", "studio-a").exit_code == 0
    assert _cli("holder", "add", "studio-b", "--home", str(b)).exit_code == 0

    listed = _cli("--home", str(a), "holders", "list")
    assert listed.exit_code == 0, listed.output
    assert "studio-a" in listed.output and "studio-b" not in listed.output
    assert "studio-a" in _cli("holders", "list", "--home", str(a)).output
    # both: the command's own wins
    both = _cli("--home", str(b), "holders", "list", "--home", str(a)).output
    assert "studio-a" in both and "studio-b" not in both
    # the root's beats the environment, which is used when neither is given
    assert "studio-a" in _cli("--home", str(a), "holders", "list", env={"KYODAKU_HOME": str(b)}).output
    assert "studio-b" in _cli("holders", "list", env={"KYODAKU_HOME": str(b)}).output
    # one invocation's root --home does not leak into the next
    r = _cli("holders", "list", env={"KYODAKU_HOME": str(tmp_path / "none")})
    assert r.exit_code == 1 and "no kyodaku workspace" in r.output


def test_root_help_names_home():
    r = _cli("--help")
    assert r.exit_code == 0 and "--home" in r.output
