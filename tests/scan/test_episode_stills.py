"""A still frame of a registered episode is found as the episode (issue 19, item 1): the
episode's keyframes are stored as pictures of it, a match names the episode's seconds
(``ref_segment``), and a copy of the frame ranks above the scene art the episode pans
over, while a copy of that scene art is not held against the episode (item 3)."""

from __future__ import annotations

import json
from datetime import date

import av
import numpy as np
import pytest

from kyodaku.fingerprint.registry import all_methods
from kyodaku.fingerprint.store import MethodStore
from kyodaku.registry.importers import register_work
from kyodaku.scan import references
from kyodaku.scan.pipeline import ScanOptions, check_file
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.video import clips

LICENSEE = "acme"
ON = date(2026, 6, 1)
SIZE = (320, 180)
#: the episode's shots pan over these pictures, two seconds each
SHOTS = [11, 12, 13]


def _frame_at(path, t: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t} s in {path}")


@pytest.fixture
def registered(workspace, tmp_path):
    """An unpermitted episode of three shots, and, by another holder with a training
    permit, the picture its second shot pans over."""
    reg = workspace.registry
    reg.add_holder("kumo", "Kumo", "JP")
    reg.add_holder("sora", "Sora", "JP")
    refs = tmp_path / "refs"
    refs.mkdir()
    clips.write(refs / "ep.mp4", clips.episode(SHOTS, seconds=2.0, size=SIZE))
    register_work(reg, workspace, "kumo", "episode 1", [refs / "ep.mp4"], work_id="ep1")
    art.save(art.artwork(SHOTS[1], size=(270, 480)), refs / "scene.png")
    register_work(reg, workspace, "sora", "scene art", [refs / "scene.png"], work_id="scene")
    reg.grant_permit("sora", LICENSEE, "training", valid_from=date(2025, 1, 1))
    fingerprint_pending(workspace, progress=False, workers=0)
    return workspace, refs


def _check(workspace, path):
    return check_file(workspace, path, ScanOptions(LICENSEE, "training", ON))


def test_the_episode_is_stored_as_keyframes_with_their_seconds(registered):
    workspace, _refs = registered
    for name, method in all_methods().items():
        if method.media != "image":
            continue
        store = MethodStore(workspace.fingerprints_dir / name, method)
        frames = [r["info"]["keyframe"] for r in store.refs if r["work_id"] == "ep1"]
        assert frames, name
        starts = sorted(f["segments"][0][0] for f in frames)
        # every shot has its keyframes, and each stands for its own stretch of time
        assert starts[0] < 0.5 and any(2.0 <= s < 4.0 for s in starts) and starts[-1] >= 4.0
        assert all(f["segments"][0][0] <= f["t"] < f["segments"][-1][1] for f in frames)
    video = MethodStore(workspace.fingerprints_dir / "video_frames", all_methods()["video_frames"])
    assert video.refs[0]["info"]["keyframes"] == len(frames)
    # an episode's frames are no picture registered on its own: no look-alike pair with the scene
    assert workspace.registry.list_lookalikes() == []


def test_a_still_of_the_episode_is_blocked_as_the_episode_with_its_seconds(registered, tmp_path):
    workspace, refs = registered
    still = art.jpeg(art.resized(_frame_at(refs / "ep.mp4", 3.0), 1.5), quality=80)
    art.save(still, tmp_path / "cap.png")
    line = _check(workspace, tmp_path / "cap.png")
    assert line["verdict"] == "blocked", json.dumps(line["matches"], indent=1)
    top = line["matches"][0]
    assert top["work_id"] == "ep1" and top["evidence"]["video_frame"]
    r0, r1 = top["ref_segment"]
    assert r0 <= 3.0 < r1 and r1 - r0 <= 1.0
    # the episode's frame shows the permitted scene too, and ranks above it
    scene = [m for m in line["matches"] if m["work_id"] == "scene"]
    assert not scene or scene[0]["score"] < top["score"]


def test_a_still_between_keyframes_is_never_cleared(registered, tmp_path):
    """Between two stored keyframes the character has moved against the background: the
    pixels of the nearest keyframe differ at its edges, so the still may read as partly
    redrawn, which a person reviews; it is never cleared."""
    workspace, refs = registered
    art.save(_frame_at(refs / "ep.mp4", 3.1), tmp_path / "between.png")
    line = _check(workspace, tmp_path / "between.png")
    assert line["verdict"] in ("blocked", "review"), json.dumps(line["matches"], indent=1)
    episode = [m for m in line["matches"] if m["work_id"] == "ep1"]
    assert episode and episode[0]["verdict"] in ("blocked", "review")


def test_a_copy_of_the_scene_art_is_not_held_against_the_episode(registered, tmp_path):
    workspace, refs = registered
    copy = art.jpeg(art.resized(art.artwork(SHOTS[1], size=(270, 480)), 0.9), quality=85)
    art.save(copy, tmp_path / "scene-copy.png")
    line = _check(workspace, tmp_path / "scene-copy.png")
    assert line["verdict"] == "cleared", json.dumps(line["matches"], indent=1)
    assert line["matches"][0]["work_id"] == "scene"
    episode = [m for m in line["matches"] if m["work_id"] == "ep1"]
    if episode:
        assert episode[0]["evidence"]["explained_by"] == "scene"


def test_a_video_fingerprinted_before_keyframes_were_stored_gets_them(workspace, tmp_path, monkeypatch):
    """A workspace whose episodes were fingerprinted by a kyodaku that stored no keyframes:
    the next fingerprinting queues those videos again and adds their keyframes, once."""
    reg = workspace.registry
    reg.add_holder("kumo", "Kumo", "JP")
    clips.write(tmp_path / "ep.mp4", clips.episode(SHOTS, seconds=2.0, size=SIZE))
    register_work(reg, workspace, "kumo", "episode 1", [tmp_path / "ep.mp4"], work_id="ep1")
    current = references.fingerprint_file

    def before(path: str, kind: str):
        fps = current(path, kind)
        if kind == "video":
            fps = {name: fp for name, fp in fps.items() if all_methods()[name].media == "video"}
            for fp in fps.values():
                fp[0].info.pop("keyframes")
        return fps

    monkeypatch.setattr(references, "fingerprint_file", before)
    fingerprint_pending(workspace, progress=False, workers=0)
    pdq = all_methods()["pdq"]
    assert len(MethodStore(workspace.fingerprints_dir / "pdq", pdq)) == 0
    monkeypatch.setattr(references, "fingerprint_file", current)
    summary = fingerprint_pending(workspace, progress=False, workers=0)
    assert summary.done == 1
    stored = MethodStore(workspace.fingerprints_dir / "pdq", pdq)
    assert len(stored) > 0 and all(r["work_id"] == "ep1" for r in stored.refs)
    video = MethodStore(workspace.fingerprints_dir / "video_frames", all_methods()["video_frames"])
    assert len(video) == 1  # the video's own fingerprint is not added twice
    assert fingerprint_pending(workspace, progress=False, workers=0).done == 0
