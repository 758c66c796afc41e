"""``kyodaku scan`` and ``kyodaku check`` as a user runs them (real workspace, real files)."""

from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from kyodaku.cli.main import app
from tests import art

runner = CliRunner()


def _run(workspace, *args: str):
    """The CLI against this workspace, with its database as a user would pass it."""
    return runner.invoke(app, [*args, "--home", str(workspace.home)],
                         env={"KYODAKU_DATABASE_URL": workspace.database_url})


def _setup(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 201)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    art.save(art.crop(art.artwork(201)), corpus / "copy.png")
    art.save(art.artwork(202), corpus / "other.png")
    (corpus / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return corpus


def test_scan_writes_results_and_summary(workspace, tmp_path):
    corpus = _setup(workspace, tmp_path)
    out = tmp_path / "results.jsonl"
    r = _run(workspace, "scan", str(corpus), "--licensee", "acme", "--out", str(out), "--workers", "1")
    assert r.exit_code == 0, r.output
    assert "blocked" in r.output and "3 files" in r.output
    verdicts = {json.loads(x)["path"].rsplit("/", 1)[1]: json.loads(x)["verdict"] for x in out.read_text().splitlines()}
    assert verdicts == {"broken.png": "error", "copy.png": "blocked", "other.png": "cleared"}


def test_check_exit_status_follows_the_verdict(workspace, tmp_path):
    corpus = _setup(workspace, tmp_path)
    assert _run(workspace, "check", str(corpus / "copy.png"), "--licensee", "acme").exit_code == 2
    assert _run(workspace, "check", str(corpus / "other.png"), "--licensee", "acme").exit_code == 0
    r = _run(workspace, "check", str(corpus / "broken.png"), "--licensee", "acme")
    assert r.exit_code == 4 and "ERROR" in r.output
    r = _run(workspace, "check", str(corpus / "copy.png"), "--licensee", "acme", "--json")
    assert r.exit_code == 2 and json.loads(r.output)["matches"][0]["work_id"] == "w201"
    workspace.registry.grant_permit("kumo", "acme", "training", valid_from=date(2020, 1, 1))
    assert _run(workspace, "check", str(corpus / "copy.png"), "--licensee", "acme").exit_code == 0


def test_bad_use_is_a_usage_error(workspace, tmp_path):
    r = _run(workspace, "check", str(tmp_path), "--licensee", "a", "--use", "train")
    assert r.exit_code == 1 and "training" in r.output


def test_scan_cleared_out_writes_the_cleared_file_list(workspace, tmp_path):
    corpus = _setup(workspace, tmp_path)
    out, cleared = tmp_path / "r.jsonl", tmp_path / "cleared"
    r = _run(workspace, "scan", str(corpus), "--licensee", "acme", "--out", str(out), "--cleared-out", str(cleared),
             "--workers", "1")
    assert r.exit_code == 0, r.output
    assert "1 files kept; 2 excluded" in r.output
    assert (cleared / "cleared-files.txt").read_text().strip().endswith("other.png")
    assert _run(workspace, "scan", str(corpus), "--licensee", "a", "--cleared-out", str(cleared)).exit_code == 1


def test_scan_allow_outside_and_the_skipped_count(workspace, tmp_path):
    """A manifest row pointing outside its folder is an error line unless --allow-outside
    names that folder; files whose bytes are no media are skipped and counted."""
    corpus = _setup(workspace, tmp_path)
    (corpus / "notes.txt").write_text("not media")
    manifest = tmp_path / "m" / "m.jsonl"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps({"key": "x", "path": str(corpus / "copy.png")}) + "\n")
    out = tmp_path / "r.jsonl"
    r = _run(workspace, "scan", str(manifest), str(corpus), "--licensee", "acme", "--out", str(out), "-j", "1")
    assert r.exit_code == 0, r.output
    lines = {x["path"].rsplit("/", 1)[1]: x for x in map(json.loads, out.read_text().splitlines())}
    assert lines["m.jsonl#x"]["verdict"] == "error"
    assert lines["m.jsonl#x"]["reason"].startswith("path outside the manifest's folder")
    assert "1 file(s) whose bytes are no image or video" in " ".join(r.output.split())
    r = _run(workspace, "scan", str(manifest), "--licensee", "acme", "--out", str(out), "-j", "1",
             "--allow-outside", str(corpus))
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text().splitlines()[0])["verdict"] == "blocked"
    assert "--allow-outside" in " ".join(_run(workspace, "scan", "--help").output.split())
