"""The pieces behind bounded uploads and holder views, on their own: what a claim upload
or reference must be (real media by its bytes), and what one holder is told of a
decision that matched several holders' works."""

from __future__ import annotations

import numpy as np
import pytest

from kyodaku.desk.storage import UnusableMedia, check_media, extension_for
from kyodaku.records.holder_view import holder_verdict, scrub_item


def _mp4(path, frames: int = 12):
    av = pytest.importorskip("av")
    c = av.open(str(path), "w")
    s = c.add_stream("libx264", rate=10)
    s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
    for i in range(frames):
        for pk in s.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 10, np.uint8), format="rgb24")):
            c.mux(pk)
    for pk in s.encode():
        c.mux(pk)
    c.close()
    return path


def test_a_real_video_is_media_and_a_truncated_one_is_refused_without_server_paths(tmp_path):
    video = _mp4(tmp_path / "clip.mp4")
    assert check_media(video, "clip.mp4") == "video" and extension_for(video) == ".mp4"
    cut = tmp_path / "0-cut.mp4"
    cut.write_bytes(video.read_bytes()[:200])
    with pytest.raises(UnusableMedia) as e:
        check_media(cut, "cut.mp4")
    assert str(e.value).startswith("cut.mp4: cannot be read as a video") and str(tmp_path) not in str(e.value)


def _m(holder, work, verdict, reason, score=0.9, permit_id=None):
    return {"holder": holder, "work_id": work, "verdict": verdict, "reason": reason, "score": score,
            "permit_id": permit_id}


def test_a_holder_is_told_its_own_block_and_only_its_own_reasons():
    matches = [_m("a", "a1", "blocked", "no permit: x has no training permit from a for a1"),
               _m("b", "b1", "blocked", "no permit: x has no training permit from b for b1")]
    v = holder_verdict("blocked", matches, {"a"})
    assert (v["verdict"], v["own_verdict"], v["grounds"]) == ("blocked", "blocked", "your_works")
    assert v["reason"] == "no permit: x has no training permit from a for a1"
    assert [m["work_id"] for m in v["matches"]] == ["a1"]


def test_another_holders_block_is_other_grounds_and_its_permit_is_not_shown():
    matches = [_m("a", "a1", "review", "possible copy (score 0.40) and no permit: x has no permit from a for a1",
                  0.4), _m("b", "b1", "blocked", "no permit from b for b1")]
    v = holder_verdict("blocked", matches, {"a"})
    assert v["grounds"] == "other" and v["own_verdict"] == "review"
    assert v["reason"] == "blocked on other grounds (your works' matches alone: review)" and "b1" not in v["reason"]
    cleared_by_b = holder_verdict("cleared", [_m("a", "a1", "cleared", "score 0.06 for a1 is below", 0.06),
                                              _m("b", "b1", "cleared", "permit 7 (b -> x)", 0.9, 7)], {"a"},
                                  permit_id=7)
    assert cleared_by_b["permit_id"] is None and cleared_by_b["reason"] == "score 0.06 for a1 is below"
    mine = holder_verdict("cleared", [_m("a", "a1", "cleared", "permit 3 (a -> x)", 0.9, 3)], {"a"}, permit_id=3)
    assert mine["permit_id"] == 3 and mine["grounds"] == "your_works"


def test_a_caption_naming_another_holder_is_other_grounds():
    v = holder_verdict("review", [_m("a", "a1", "cleared", "permit 3 (a -> x)", 0.9, 3)], {"a"},
                       captions=[{"holder": "b", "work_id": "b1", "verdict": "review", "reason": "names b1"}])
    assert v["grounds"] == "other" and v["captions"] == [] and "b1" not in v["reason"]


def test_a_stored_item_with_the_items_reason_is_rebuilt():
    old = {"verdict": "blocked", "reason": "no permit from b for b1", "permit_id": 9,
           "works": [{"work_id": "a1", "score": 0.06, "verdict": "cleared", "permit_id": None}]}
    new = scrub_item(old, {"a"})
    assert new["grounds"] == "other" and "b1" not in new["reason"] and new["permit_id"] is None
    own = scrub_item({**old, "works": [{"work_id": "a1", "score": 0.9, "verdict": "blocked", "permit_id": None}]},
                     {"a"})
    assert own["grounds"] == "your_works" and own["reason"] == "blocked: your work(s) a1"
