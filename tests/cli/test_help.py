"""--help as click and git show it: no typer ``<bool>`` / ``<str>`` labels, nothing after a
flag, TEXT / INTEGER / FILE / DIR or the choices after an option that takes a value."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from kyodaku.cli.main import app

runner = CliRunner()


def _commands() -> list[list[str]]:
    out: list[list[str]] = [[]]

    def walk(command: object, path: list[str]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            out.append([*path, name])
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return out


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "kyodaku")
def test_no_typer_type_labels_in_help(command: list[str]) -> None:
    r = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    labels = re.findall(r"<(?:bool|str|int|float|path|file|dir|int range|float range|list\[[a-z]+\])>", r.output)
    assert not labels, (command, labels)
    help_line = next(line for line in r.output.splitlines() if "--help" in line and "Show this message" in line)
    assert re.search(r"--help\s+Show this message", help_line), help_line


def test_flags_show_no_type_and_values_show_click_names() -> None:
    r = runner.invoke(app, ["scan", "--help"], env={"COLUMNS": "200"})
    lines: dict[str, str] = {}
    for m in re.finditer(r"^\S\s+\*?\s*(--[a-z-]+)(?:\s+-[a-z])?\s+(\S+)", r.output, re.M):  # a row's first option
        lines.setdefault(m.group(1), m.group(2))
    assert lines["--licensee"] == "TEXT" and lines["--workers"] == "INTEGER" and lines["--home"] == "DIR"
    assert lines["--policy"] == "FILE" and lines["--ray"] == "auto|ADDRESS"
    assert lines["--force"] == "Replace" and lines["--resume"] == "Continue"  # the help text follows the flag
    assert "PATH..." in r.output  # the PATHS argument takes many
