"""The report's evidence rows are chosen for a person (issue 23, item 10): review items
first, then blocked items from the lowest score up, at least one of each verdict and medium
(image, video) per holder, videos with their timecodes as mm:ss; ``max_evidence`` stays a
cap. A real scan: kumo's copies (blocked images at ~1.0, a blocked excerpt of its episode, a
blocked shard item) and variants (a review picture, a review video showing the picture
recoloured)."""

from __future__ import annotations

import json
import re

import pytest

from kyodaku.registry.importers import register_work
from kyodaku.report.collect import collect
from kyodaku.report.html import render_scan_report
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.fingerprint.test_appearance import _recoloured, _shaded
from tests.report import scanned
from tests.report.htmltables import parse
from tests.video import clips


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    root = tmp_path_factory.mktemp("choice")
    ws, corpus, shard = scanned.setup_workspace(root)
    art.save(_shaded(21), root / "refs" / "kv.png")
    register_work(ws.registry, ws, "kumo", "Key visual", [root / "refs" / "kv.png"], work_id="kv1")
    fingerprint_pending(ws, progress=False, workers=0)
    variant = _recoloured(_shaded(21))
    art.save(variant, corpus / "variant.png")
    clips.write(corpus / "recoloured.mp4", clips.shot(40, 1.0, size=(320, 180)) + [clips.shown(variant)] * 36
                + clips.shot(50, 1.0, size=(320, 180)))
    results = root / "results.jsonl"
    with open(results, "w", encoding="utf-8") as f:
        scan_paths(ws, [corpus, shard], ScanOptions(scanned.LICENSEE, "training", scanned.ON, workers=0), out=f)
    yield ws, results
    ws.dispose()


def _kumo(results):
    """kumo's blocked and review items: {path: (verdict, media, score)}."""
    out = {}
    for text in results.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        for m in line["matches"]:
            if m["holder"] == "kumo" and m["verdict"] in ("blocked", "review"):
                out[line["path"]] = (m["verdict"], line["media"], m["score"])
                break
    return out


def test_the_scan_has_every_kind(scan):
    kinds = {(v, media) for v, media, _ in _kumo(scan[1]).values()}
    assert kinds == {("blocked", "image"), ("blocked", "video"), ("review", "image"), ("review", "video")}


def test_review_items_and_the_lowest_blocks_come_first(scan):
    ws, results = scan
    items = _kumo(results)
    blocked = sorted((s, p) for p, (v, _, s) in items.items() if v == "blocked")
    assert len(blocked) == 6 and blocked[0][0] < 0.99 < blocked[-1][0]  # most blocks score ~1.0
    rows = collect(results, max_evidence=5).holders["kumo"].evidence(5)
    got = [(r.verdict, r.media, r.item_id) for r in rows]
    assert [v for v, _, _ in got] == ["review", "review", "blocked", "blocked", "blocked"], got
    assert {m for v, m, _ in got[:2]} == {"image", "video"}  # both review items, image and video
    # then the blocks from the lowest score up; the blocked video is among them
    shown = [p for v, _, p in got[2:]]
    assert [items[p][2] for p in shown] == sorted(items[p][2] for p in shown)
    assert shown[0] == blocked[0][1] and any(items[p][1] == "video" for p in shown), got


def test_each_verdict_and_medium_at_least_once_within_the_cap(scan):
    ws, results = scan
    items = _kumo(results)
    rows = collect(results, max_evidence=4).holders["kumo"].evidence(4)
    assert {(r.verdict, r.media) for r in rows} == {("blocked", "image"), ("blocked", "video"),
                                                   ("review", "image"), ("review", "video")}
    video_block = next(r for r in rows if (r.verdict, r.media) == ("blocked", "video"))
    lowest_video = min(s for p, (v, m, s) in items.items() if (v, m) == ("blocked", "video"))
    assert video_block.score == pytest.approx(lowest_video)
    # the cap is a cap: two rows, the review items
    two = collect(results, max_evidence=2).holders["kumo"].evidence(2)
    assert [r.verdict for r in two] == ["review", "review"]
    assert collect(results, max_evidence=0).holders["kumo"].evidence(10) == []


def test_the_report_shows_the_chosen_rows_with_video_timecodes(scan):
    ws, results = scan
    page = parse(render_scan_report(ws, results, max_evidence=4))
    rows = page.table("Evidence: blocked and review items of Kumo (4 of 8)")
    decisions = [r.cells[3] for r in rows]
    assert [d.split()[0] for d in decisions] == ["review", "review", "blocked", "blocked"], decisions
    videos = [r for r in rows if ".mp4" in r.cells[0]]
    assert len(videos) == 2
    for r in videos:
        assert re.search(r"in the item \d\d:\d\d\.\d – \d\d:\d\d\.\d", r.cells[2]), r.cells[2]
        assert "frame at" in r.cells[0]
    excerpt = next(r for r in videos if "excerpt.mp4" in r.cells[0])
    assert re.search(r"in the reference 00:0\d\.\d – 00:0\d\.\d", excerpt.cells[2]), excerpt.cells[2]
    assert "lowest score" in " ".join(page.text)  # the report says how rows were chosen
