"""``kyodaku scan``'s progress: a count of a known total with a time remaining (folders,
files, Parquet / JSONL manifests), a spinner when the total is unknown (shards)."""

from __future__ import annotations

import io
import json
import re
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from kyodaku.cli.main import app
from kyodaku.cli.progress import known_total
from tests import art

runner = CliRunner()


def _run(workspace, *args: str):
    return runner.invoke(app, [*args, "--home", str(workspace.home)],
                         env={"KYODAKU_DATABASE_URL": workspace.database_url, "COLUMNS": "200"})


def test_known_total_counts_items_without_reading_them(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.png", "b.png", "sub/c.png"):
        (folder / name).write_bytes(b"x")
    manifest = tmp_path / "m.parquet"
    pq.write_table(pa.table({"key": [str(i) for i in range(7)], "path": ["a.png"] * 7}), manifest)
    lines = tmp_path / "m.jsonl"
    lines.write_text('{"key": "1"}\n\n{"key": "2"}\n')
    single = tmp_path / "one.png"
    single.write_bytes(b"x")
    assert known_total([folder]) == 3
    assert known_total([manifest]) == 7  # from the Parquet footer
    assert known_total([lines]) == 2
    assert known_total([folder, manifest, lines, single, tmp_path / "missing.png"]) == 3 + 7 + 2 + 1 + 1
    shard = tmp_path / "s.tar"
    with tarfile.open(shard, "w"):
        pass
    assert known_total([folder, shard]) is None


def test_scan_shows_n_of_total_and_eta_for_a_folder(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 201)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    art.save(art.crop(art.artwork(201)), corpus / "copy.png")
    art.save(art.artwork(202), corpus / "other.png")
    (corpus / "notes.txt").write_text("no media: skipped, and the bar still ends full")
    r = _run(workspace, "scan", str(corpus), "--licensee", "acme", "--out", str(tmp_path / "r.jsonl"), "-j", "1")
    assert r.exit_code == 0, r.output
    bar = next(line for line in r.output.splitlines() if line.startswith("scanning"))
    assert "2/2 files" in bar and "1 blocked" in bar and "ETA" in bar


def test_scan_of_a_shard_is_a_spinner_with_a_count(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 201)
    shard = tmp_path / "s.tar"
    png = io.BytesIO()
    art.save(art.artwork(203), tmp_path / "x.png")
    png.write((tmp_path / "x.png").read_bytes())
    with tarfile.open(shard, "w") as tar:
        for key in ("000", "001"):
            info = tarfile.TarInfo(f"{key}.png")
            info.size = len(png.getvalue())
            tar.addfile(info, io.BytesIO(png.getvalue()))
            meta = json.dumps({"caption": "x"}).encode()
            info = tarfile.TarInfo(f"{key}.json")
            info.size = len(meta)
            tar.addfile(info, io.BytesIO(meta))
    r = _run(workspace, "scan", str(shard), "--licensee", "acme", "--out", str(tmp_path / "r.jsonl"), "-j", "1")
    assert r.exit_code == 0, r.output
    bar = next(line for line in r.output.splitlines() if "scanning" in line)
    assert "2 files" in bar and not re.search(r"\d+/\d+", bar) and "ETA" not in bar
