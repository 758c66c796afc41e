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
    assert r.exit_code == 2 and json.loads(r.stdout)["matches"][0]["work_id"] == "w201"  # warnings go to stderr
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
             "--allow-outside", str(corpus), "--force", "--name", "allowed")
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text().splitlines()[0])["verdict"] == "blocked"
    assert "--allow-outside" in " ".join(_run(workspace, "scan", "--help").output.split())


def _flat(output: str) -> str:
    return " ".join(output.split())


def test_scan_never_overwrites_results_or_reuses_a_recorded_name(workspace, tmp_path):
    """The results file is continued (--resume) or replaced (--force), never silently
    overwritten; a scan name already recorded needs --append-to-record or another --name."""
    from kyodaku.records.store import Records

    corpus = _setup(workspace, tmp_path)
    out = tmp_path / "results.jsonl"
    scan = ["scan", str(corpus), "--licensee", "acme", "--out", str(out), "-j", "1"]
    assert _run(workspace, *scan).exit_code == 0
    before = out.read_text()
    assert len(before.splitlines()) == 3

    r = _run(workspace, *scan)
    assert r.exit_code == 1
    assert "already exists and holds 3 line(s)" in _flat(r.output)
    assert "--resume" in r.output and "--force" in r.output
    assert out.read_text() == before

    r = _run(workspace, *scan, "--force")  # the file may go, but the name "results" is taken
    assert r.exit_code == 1
    flat = _flat(r.output)
    assert "a scan named 'results' (the --out file's name) is already recorded" in flat
    assert "--name NAME" in flat and "--append-to-record" in flat and "not the record" in flat
    assert out.read_text() == before

    records = Records(workspace.session)
    assert _run(workspace, *scan, "--force", "--name", "second").exit_code == 0
    assert len(records.scans("results")) == 1 and len(records.scans("second")) == 1
    assert _run(workspace, *scan, "--force", "--append-to-record").exit_code == 0
    assert len(records.scans("results")) == 2
    assert len(out.read_text().splitlines()) == 3  # replaced, not appended

    r = _run(workspace, *scan, "--resume", "--force")
    assert r.exit_code == 1 and "contradict" in r.output
    # resuming a finished scan continues its record rather than adding a third "results"
    r = _run(workspace, *scan, "--resume")
    assert r.exit_code == 0, r.output
    assert len(records.scans("results")) == 2 and len(out.read_text().splitlines()) == 3

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert _run(workspace, "scan", str(corpus), "--licensee", "acme", "--out", str(empty), "-j", "1").exit_code == 0
    r = _run(workspace, "scan", str(corpus), "--licensee", "acme", "--out", str(tmp_path), "-j", "1")
    assert r.exit_code == 1 and "is a folder" in r.output


def test_scans_without_out_are_named_by_their_inputs(workspace, tmp_path):
    corpus = _setup(workspace, tmp_path)
    assert _run(workspace, "scan", str(corpus), "--licensee", "acme", "-j", "1").exit_code == 0
    r = _run(workspace, "scan", str(corpus), "--licensee", "acme", "-j", "1")
    assert r.exit_code == 1 and "the inputs, without --out or --name" in _flat(r.output)
    assert _run(workspace, "scan", str(corpus), "--licensee", "acme", "-j", "1", "--append-to-record").exit_code == 0
