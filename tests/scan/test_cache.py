"""The scan cache: content already matched against the same references is not
fingerprinted again; renamed and duplicated files hit, changed files and new references
miss; verdicts are always decided again; errors are never cached."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from kyodaku.scan.cache import ScanCache
from kyodaku.scan.pipeline import ScanOptions, check_file, scan_paths
from tests import art

LICENSEE = "acme"
ON = date(2026, 6, 1)


@pytest.fixture
def corpus(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 401)
    folder = tmp_path / "corpus"
    folder.mkdir()
    art.save(art.crop(art.artwork(401)), folder / "copy.png")
    for seed in (901, 902, 903):
        art.save(art.resized(art.artwork(seed), 0.5), folder / f"other-{seed}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return folder


def _scan(workspace, folder, tmp_path, name="r.jsonl", **kw):
    out = tmp_path / name
    with open(out, "w") as f:
        summary = scan_paths(workspace, [folder], ScanOptions(LICENSEE, "training", ON, workers=kw.pop("workers", 1),
                                                              **kw), out=f)
    return summary, {Path(x["path"]).name: x for x in map(json.loads, out.read_text().splitlines())}


def _strip(lines):
    return {k: {f: v for f, v in x.items() if f != "path"} for k, x in lines.items()}


def test_second_scan_fingerprints_nothing_and_gives_the_same_lines(workspace, corpus, tmp_path):
    first, lines1 = _scan(workspace, corpus, tmp_path, "a.jsonl")
    assert first.cache == {"hits": 0, "misses": 5, "stored": 4}  # the broken file is not stored
    assert lines1["copy.png"]["verdict"] == "blocked" and lines1["broken.png"]["verdict"] == "error"
    second, lines2 = _scan(workspace, corpus, tmp_path, "b.jsonl")
    assert second.cache == {"hits": 4, "misses": 1, "stored": 0}  # only the error is tried again
    assert lines2 == lines1
    assert len(ScanCache.for_workspace(workspace)) == 4


def test_no_cache_bypasses_it(workspace, corpus, tmp_path):
    _scan(workspace, corpus, tmp_path, "a.jsonl")
    summary, _ = _scan(workspace, corpus, tmp_path, "b.jsonl", cache=False)
    assert summary.cache == {}


def test_renamed_and_duplicated_files_hit_a_changed_file_misses(workspace, corpus, tmp_path):
    _scan(workspace, corpus, tmp_path, "a.jsonl")
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(corpus / "copy.png", moved / "renamed.png")
    shutil.copy(corpus / "copy.png", moved / "duplicate.png")
    art.save(art.crop(art.artwork(401), x0=0.1), moved / "changed.png")
    summary, lines = _scan(workspace, moved, tmp_path, "b.jsonl")
    assert summary.cache == {"hits": 2, "misses": 1, "stored": 1}
    assert {k: x["verdict"] for k, x in lines.items()} == {"renamed.png": "blocked", "duplicate.png": "blocked",
                                                           "changed.png": "blocked"}


def test_adding_a_reference_invalidates(workspace, corpus, tmp_path):
    _scan(workspace, corpus, tmp_path, "a.jsonl")
    art.register_artwork(workspace, tmp_path, 902, holder="hoshi")  # other-902.png is a copy of it now
    summary, lines = _scan(workspace, corpus, tmp_path, "b.jsonl")
    assert summary.cache["hits"] == 0 and summary.cache["misses"] == 5
    assert lines["other-902.png"]["verdict"] == "blocked"
    assert lines["other-902.png"]["matches"][0]["work_id"] == "w902"
    # the entries of the old reference set are gone
    assert len(ScanCache.for_workspace(workspace)) == 4


def test_verdicts_are_decided_again_on_cached_matches(workspace, corpus, tmp_path):
    """A permit granted after the first scan clears the copy, though its matches come
    from the cache."""
    before = check_file(workspace, corpus / "copy.png", ScanOptions(LICENSEE, "training", ON))
    assert before["verdict"] == "blocked"
    workspace.registry.grant_permit("kumo", LICENSEE, "training", valid_from=date(2025, 1, 1),
                                    valid_until=date(2030, 12, 31))
    summary, lines = _scan(workspace, corpus, tmp_path)
    assert summary.cache["hits"] >= 1
    after = lines["copy.png"]
    assert after["verdict"] == "cleared" and after["permit_id"] is not None
    assert after["matches"][0]["score"] == before["matches"][0]["score"]


def test_the_cache_is_bounded(tmp_path):
    cache = ScanCache(tmp_path / "c.sqlite", scope="s", max_entries=3)
    for i in range(5):
        cache.put(f"d{i}", {"media": "image", "matches": [], "signals": []})
    cache.put("bad", {"media": "image", "error": "cannot decode"})
    assert cache.stored == 5
    cache.close()
    again = ScanCache(tmp_path / "c.sqlite", scope="s", max_entries=3)
    assert len(again) == 3
    assert again.get("d0") is None and again.get("bad") is None and again.get("d4") is not None
    other = ScanCache(tmp_path / "c.sqlite", scope="t")
    assert other.get("d4") is None  # another reference set never sees these
    again.close()
    other.close()
