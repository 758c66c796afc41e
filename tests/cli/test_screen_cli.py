"""``kyodaku screen``: the guard's calls from the command line (the desk's verdicts, the
check's exit codes, a recorded decision)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kyodaku.cli.main import app
from kyodaku.records.store import Records
from tests import art

runner = CliRunner()
LICENSEE = "acme-video-ai"


def _run(workspace, *args: str):
    return runner.invoke(app, ["screen", *args, "--home", str(workspace.home)],
                         env={"KYODAKU_DATABASE_URL": workspace.database_url, "KYODAKU_LICENSEE": LICENSEE,
                              "COLUMNS": "200"})


def test_screen_blocks_a_copy_clears_a_clean_output_and_records_both(workspace, tmp_path) -> None:
    art.register_artwork(workspace, tmp_path, 402, holder="kumo")
    copy, clean = tmp_path / "copy.png", tmp_path / "clean.png"
    art.save(art.crop(art.artwork(402)), copy)
    art.save(art.artwork(499), clean)
    blocked = _run(workspace, str(copy), "--prompt", "a harbour", "--json")
    assert blocked.exit_code == 2, blocked.output
    body = json.loads(blocked.stdout)
    assert body["verdict"] == "blocked" and body["works"][0]["work_id"] == "w402"
    assert Records(workspace.session).decision(body["decision_id"]).source == "screen"
    cleared = _run(workspace, str(clean))
    assert cleared.exit_code == 0 and "CLEARED" in cleared.output


def test_screen_of_a_file_that_is_no_media_exits_4(workspace, tmp_path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    r = _run(workspace, str(bad), "--json")
    assert r.exit_code == 4 and json.loads(r.stdout)["verdict"] == "error"


def test_screen_a_prompt_alone(workspace, tmp_path) -> None:
    art.register_artwork(workspace, tmp_path, 402, holder="kumo")
    workspace.registry.set_aliases("w402", ["Harbour of Kumo"])
    r = _run(workspace, "--prompt", "the Harbour of Kumo at night", "--json")
    assert r.exit_code == 3, r.output
    assert json.loads(r.stdout)["verdict"] == "review"
    assert _run(workspace).exit_code == 1  # neither a file nor a prompt
