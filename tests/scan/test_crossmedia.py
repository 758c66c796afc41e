"""Cross-media matching: a video showing a registered picture for a few seconds is found
as the picture (with the seconds of the query that show it), one frame of it is review at
most, and keyframes stand for a video's shots."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, check_file
from kyodaku.scan.references import fingerprint_pending
from kyodaku.video.keyframes import select_keyframes
from tests import art
from tests.video import clips

LICENSEE = "acme"
ON = date(2026, 6, 1)


def _still(seed: int, seconds: float, fps: float = 2.0) -> list[tuple[float, np.ndarray]]:
    pic = art.artwork(seed, size=(180, 320))
    return [(i / fps, pic) for i in range(int(seconds * fps))]


def test_a_static_shot_is_one_keyframe_and_each_cut_starts_another():
    frames = _still(1, 2.0) + _still(2, 2.0) + [(t + 4.0, f) for t, f in _still(1, 1.5)]
    frames = [(round(i * 0.5, 3), f) for i, (_t, f) in enumerate(frames)]
    shot = select_keyframes(frames)
    assert len(shot) == 3
    assert shot[0].segments == [[0.0, 2.0]] and shot[0].frames == 4
    assert shot[2].segments == [[4.0, 5.5]] and shot[2].frames == 3


def test_featureless_frames_stand_for_nothing():
    black = np.zeros((180, 320, 3), np.uint8)
    frames = [(0.0, black), (0.5, black)] + [(1.0 + t, f) for t, f in _still(3, 1.0)]
    kept = select_keyframes(frames)
    assert len(kept) == 1 and kept[0].t == 1.0


@pytest.fixture
def registered(workspace, tmp_path):
    reg = workspace.registry
    reg.add_holder("kumo", "Kumo", "JP")
    refs = tmp_path / "refs"
    refs.mkdir()
    # an episode of three shots, and a picture that appears in no episode
    clips.write(refs / "ep.mp4", clips.episode([11, 12, 13], seconds=2.0, size=(320, 180)))
    register_work(reg, workspace, "kumo", "episode 1", [refs / "ep.mp4"], work_id="ep1")
    art.save(art.artwork(21, size=(360, 480)), refs / "pic.png")
    register_work(reg, workspace, "kumo", "key visual", [refs / "pic.png"], work_id="kv1")
    fingerprint_pending(workspace, progress=False, workers=0)
    return workspace


def test_a_video_showing_a_registered_picture_is_the_picture(registered, tmp_path):
    pic = art.artwork(21, size=(360, 480))
    noise = [clips.shot(40 + i, 1.0, size=(320, 180)) for i in range(2)]
    shown = [clips.shown(pic)] * 36  # 3 s at 12 fps
    frames = noise[0] + noise[1] + shown + clips.shot(50, 2.0, size=(320, 180))
    path = clips.write(tmp_path / "gen.mp4", frames)
    line = check_file(registered, path, ScanOptions(LICENSEE, "generation", ON))
    assert line["verdict"] == "blocked", json.dumps(line["matches"], indent=1)
    top = line["matches"][0]
    assert top["work_id"] == "kv1" and top["evidence"]["picture_in_video"]
    q0, q1 = top["query_segment"]
    assert 1.5 <= q0 <= 2.5 and 4.5 <= q1 <= 5.5


def test_one_frame_of_a_picture_in_a_video_is_review_at_most(registered, tmp_path):
    pic = art.artwork(21, size=(360, 480))
    flash = [clips.shown(pic)] * 4  # 1/3 s
    frames = clips.shot(40, 2.0, size=(320, 180)) + flash + clips.shot(50, 2.0, size=(320, 180))
    path = clips.write(tmp_path / "flash.mp4", frames)
    line = check_file(registered, path, ScanOptions(LICENSEE, "generation", ON))
    kv = [m for m in line["matches"] if m["work_id"] == "kv1"]
    assert line["verdict"] in ("review", "cleared"), line
    if kv:
        assert kv[0]["score"] <= 0.3 and kv[0]["evidence"].get("single_frame")


def _decoded_apart(path):
    """The video method's query fingerprint and the keyframes, each from its own decoding."""
    from kyodaku.video.keyframes import video_keyframes
    from kyodaku.video.method import VideoFrames

    return VideoFrames().query_video(path), video_keyframes(path)[0]


def test_one_decoding_pass_gives_the_video_method_and_the_keyframes_what_two_did(tmp_path):
    from kyodaku.video.keyframes import KEYFRAME_FPS, KEYFRAME_MAX_SECONDS, KeyframeSelector
    from kyodaku.video.method import VideoFrames

    frames = clips.shot(40, 1.5, size=(320, 180)) + [clips.shown(art.artwork(21, size=(360, 480)))] * 24 \
        + clips.shot(50, 1.5, size=(320, 180))
    path = clips.write(tmp_path / "gen.mp4", frames)
    fp_apart, kf_apart = _decoded_apart(path)
    selector = KeyframeSelector()
    fp = VideoFrames().query_video_sharing(path, selector.view(), KEYFRAME_FPS, KEYFRAME_MAX_SECONDS)
    assert fp is not None and len(fp) > 0
    assert np.array_equal(fp.vectors, fp_apart.vectors) and np.array_equal(fp.points, fp_apart.points)
    assert fp.info == fp_apart.info
    assert len(selector.kept) == len(kf_apart) >= 3
    for a, b in zip(selector.kept, kf_apart, strict=True):
        assert (a.t, a.segments, a.frames) == (b.t, b.segments, b.frames) and np.array_equal(a.rgb, b.rgb)
    # a method sampling at another rate does not share (the caller decodes the keyframes)
    assert VideoFrames(fps=4.0).query_video_sharing(path, selector.view(), KEYFRAME_FPS, KEYFRAME_MAX_SECONDS) is None


def test_keyframes_on_threads_match_as_on_one(registered, tmp_path):
    from kyodaku.scan.crossmedia import match_video
    from kyodaku.scan.matcher import Matcher
    from kyodaku.scan.refset import ReferenceSet

    pic = art.artwork(21, size=(360, 480))
    frames = clips.shot(40, 1.0, size=(320, 180)) + [clips.shown(pic)] * 24 + clips.episode([12, 13], seconds=1.5,
                                                                                          size=(320, 180))
    path = clips.write(tmp_path / "mix.mp4", frames)
    ws = registered
    refs = ReferenceSet(ws.fingerprints_dir, ws.index_dir)

    def matched(threads: int):
        return [(m.work_id, m.score, m.method, m.query_segment, m.ref_segment, json.dumps(m.evidence, sort_keys=True))
                for m in match_video(Matcher(refs, frame_threads=threads), path)]

    one = matched(1)
    assert {w for w, *_ in one} >= {"kv1", "ep1"}
    assert matched(3) == one
