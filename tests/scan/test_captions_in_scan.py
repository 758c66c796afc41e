"""Captions in a real scan: a WebDataset sample whose caption names a registered work
(by its Japanese alias, or in kana, or asking for its style) is flagged; the verdict is
review for a holder who gave no permit and unchanged for a permitted one."""

from __future__ import annotations

import io
import json
from datetime import date

import cv2
import pytest
import webdataset as wds

from kyodaku.audit import AuditLog
from kyodaku.registry import Alias
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, check_file, scan_paths
from kyodaku.scan.references import fingerprint_pending
from tests import art

ON = date(2026, 6, 1)


def _png(rgb) -> bytes:
    return cv2.imencode(".png", rgb[:, :, ::-1].copy())[1].tobytes()


@pytest.fixture
def registered(workspace, tmp_path):
    """kumo (JP) gave acme nothing; hoshi (JP) permits acme to train on all its works."""
    reg = workspace.registry
    reg.add_holder("kumo", "Manga Kumo", "JP")
    reg.add_holder("hoshi", "Studio Hoshi", "JP")
    for seed, holder, title, alias in ((301, "kumo", "Hoshizora Tantei", "星空探偵"),
                                       (302, "hoshi", "Kumo no Shiro", "雲の城")):
        art.save(art.artwork(seed), tmp_path / f"{seed}.png")
        register_work(reg, workspace, holder, title, [tmp_path / f"{seed}.png"], work_id=f"w{seed}",
                      aliases=[Alias(alias, "ja")])
    reg.grant_permit("hoshi", "acme", "training", valid_from=date(2025, 1, 1))
    fingerprint_pending(workspace, progress=False, workers=0)
    return workspace


def _shard(path, samples):
    with wds.TarWriter(str(path)) as sink:
        for s in samples:
            sink.write(s)
    return path


def _scan(workspace, shard, use="training"):
    out = io.StringIO()
    scan_paths(workspace, [shard], ScanOptions("acme", use, ON, workers=0), out=out)
    return {json.loads(x)["path"].rsplit("#", 1)[1]: json.loads(x) for x in out.getvalue().splitlines()}


def test_caption_flags_in_a_webdataset_scan(registered, tmp_path):
    shard = _shard(tmp_path / "shard-000.tar", [
        {"__key__": "s1", "png": _png(art.artwork(701)), "txt": "星空探偵のファンアート"},
        {"__key__": "s2", "png": _png(art.artwork(702)), "txt": "雲の城 ポスター"},
        {"__key__": "s3", "png": _png(art.artwork(703)), "txt": "a cat on a sofa", "json": {"title": "sunset"}},
        {"__key__": "s4", "png": _png(art.artwork(704)), "json": {"title": "ほしぞらたんてい風のイラスト"}},
        {"__key__": "s5", "png": _png(art.crop(art.artwork(301))), "txt": "雲の城"},
        {"__key__": "s6", "png": _png(art.artwork(705)), "txt": "a swordfish", "json": {"caption": "by Manga Kumo"}},
    ])
    lines = _scan(registered, shard)
    s1 = lines["s1"]
    # the picture matches nothing registered: at most a chance alignment of a few
    # keypoints, far under the review threshold, is listed; the caption decides
    assert s1["verdict"] == "review" and all(m["score"] < 0.2 for m in s1["matches"])
    [c] = s1["captions"]
    assert (c["work_id"], c["holder"], c["alias"], c["text"], c["kind"], c["score"], c["field"], c["verdict"]) == \
        ("w301", "kumo", "星空探偵", "星空探偵", "names_work", 1.0, "caption", "review")
    assert s1["reason"].startswith("the caption names w301")

    s2 = lines["s2"]  # hoshi permits acme: recorded, verdict unchanged
    assert s2["verdict"] == "cleared" and s2["captions"][0]["work_id"] == "w302"
    assert s2["captions"][0]["verdict"] == "cleared" and s2["captions"][0]["permit_id"] is not None

    assert lines["s3"]["verdict"] == "cleared" and "captions" not in lines["s3"]

    s4 = lines["s4"]  # KEY.json title, kana, asking for the style
    assert s4["verdict"] == "review"
    assert [(c["work_id"], c["kind"], c["field"], c["text"]) for c in s4["captions"]] == \
        [("w301", "asks_style", "title", "ほしぞらたんてい")]

    s5 = lines["s5"]  # a copy of kumo's work stays blocked whatever the caption says
    assert s5["verdict"] == "blocked" and s5["captions"][0]["verdict"] == "cleared"

    s6 = lines["s6"]  # the holder's style, asked in KEY.json's caption
    assert s6["verdict"] == "review"
    assert [(c["work_id"], c["holder"], c["kind"]) for c in s6["captions"]] == [(None, "kumo", "asks_style")]

    # for generation, hoshi gave no permit: the same caption now goes to review
    assert _scan(registered, shard, use="generation")["s2"]["verdict"] == "review"

    verdicts = [e["data"] for e in map(json.loads, AuditLog.for_workspace(registered).path.read_text().splitlines())
                if e["kind"] == "verdict"]
    assert {d["path"].rsplit("#", 1)[1]: d["captions"] for d in verdicts}["s1"] == [["w301", "kumo", "星空探偵",
                                                                                       "names_work"]]


def test_manifest_caption_columns_and_check_file(registered, tmp_path):
    img = tmp_path / "x.png"
    art.save(art.artwork(710), img)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"key": "r1", "path": str(img), "caption": "cute",
                                    "alt": "Hoshizora Tantai poster"}) + "\n", encoding="utf-8")
    line = check_file(registered, manifest, ScanOptions("acme", "training", ON))
    assert line["verdict"] == "review"
    assert [(c["work_id"], c["field"], c["text"]) for c in line["captions"]] == [("w301", "alt", "Hoshizora Tantai")]
    assert 0.9 < line["captions"][0]["score"] < 1.0
