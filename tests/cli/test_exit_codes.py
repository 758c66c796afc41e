"""Exit codes as a shell sees them: 0, 2, 3 and 4 are ``kyodaku check``'s verdicts, and
every usage or workspace error is 1 (click's own usage-error code, 2, read as "blocked")."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kyodaku.cli.main import app

runner = CliRunner()


def _kyodaku(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODAKU_")}
    return subprocess.run([sys.executable, "-m", "kyodaku.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_missing_licensee_exits_1_not_blocked(tmp_path):
    """The real process: `kyodaku check FILE` without --licensee."""
    r = _kyodaku("check", str(tmp_path / "x.png"), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "Missing option '--licensee'" in r.stderr


@pytest.mark.parametrize("args", [
    ["check"],                                               # a missing argument
    ["scan", "x", "--licensee", "a", "--workers", "many"],   # a bad value
    ["check", "x.png", "--licensee", "a", "--no-such-option"],
    ["no-such-command"],
    ["holders", "import"],                                   # a subcommand of a group
    ["works", "list", "--bogus"],
    ["--bogus"],                                             # the root's own options
    [],                                                      # no command: help, as git does, and 1
])
def test_every_usage_error_exits_1(args, tmp_path):
    r = runner.invoke(app, args, env={"KYODAKU_HOME": str(tmp_path / "ws")})
    assert r.exit_code == 1, (args, r.output)


def test_help_and_version_exit_0():
    assert runner.invoke(app, ["--help"]).exit_code == 0
    assert runner.invoke(app, ["check", "--help"]).exit_code == 0
    assert runner.invoke(app, ["--version"]).exit_code == 0


def test_a_missing_workspace_exits_1(tmp_path):
    r = _kyodaku("works", "list", "--home", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert r.returncode == 1 and "error:" in r.stderr
