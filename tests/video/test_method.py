"""VideoFrames: the conformance contract, and copies found (or not) in tiny videos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kyodaku.fingerprint.base import Comparison
from kyodaku.media.types import LoadedImage, MediaError
from kyodaku.video import VideoFrames, explain_away
from tests.fingerprint.conformance import MethodConformance
from tests.video import clips

METHOD = VideoFrames()
SEG_TOL = 0.6  # seconds


class TestVideoFramesConformance(MethodConformance):
    method = METHOD

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _folder(cls, tmp_path_factory):
        cls.folder = tmp_path_factory.mktemp("video_conformance")

    def original(self, seed: int) -> Path:
        path = self.folder / f"orig{seed}.mp4"
        if not path.exists():
            clips.write(path, clips.episode([seed * 10 + 1, seed * 10 + 2], 2.0))
        return path

    def copy_of(self, seed: int) -> Path:
        """Re-encoded smaller and at a lower quality."""
        path = self.folder / f"copy{seed}.mp4"
        if not path.exists():
            import cv2

            frames = [cv2.resize(f, (128, 72), interpolation=cv2.INTER_AREA)
                      for f in clips.episode([seed * 10 + 1, seed * 10 + 2], 2.0)]
            clips.write(path, frames, crf=32)
        return path

    def degenerate_inputs(self):
        out = []
        for name, frames in [("gray", [np.full((90, 160, 3), 128, np.uint8)] * 12),
                             ("one_frame", clips.shot(99, 1 / clips.FPS)),
                             ("tiny", [np.random.default_rng(i).integers(0, 255, (16, 16, 3), np.uint8)
                                       for i in range(12)])]:
            path = self.folder / f"degenerate_{name}.mp4"
            if not path.exists():
                clips.write(path, frames)
            out.append(path)
        return out


# ------------------------------------------------------------------------------ copies
@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("video_copies")
    ref = clips.episode([11, 12, 13], 2.0)  # 6 s, 72 frames
    filler_a, filler_b = clips.episode([31], 2.0), clips.episode([32], 2.0)
    excerpt = ref[18:54]  # 1.5 s .. 4.5 s of the reference
    made = {
        "ref": ref,
        "excerpt": filler_a + excerpt + filler_b,  # at 2.0 s .. 5.0 s of the query
        "hflip": clips.mirrored(ref),
        "pip": clips.pip(ref),
        "crop": clips.crop_resize(ref),
        "caption": clips.color_caption(filler_a + excerpt + filler_b),
        "unrelated": clips.episode([21, 22, 23], 2.0),
    }
    return {k: clips.write(d / f"{k}.mp4", v, crf=26) for k, v in made.items()}


@pytest.fixture(scope="module")
def ref_fp(videos):
    return METHOD.reference_video(videos["ref"])


def _seg_close(seg, expected) -> bool:
    return seg is not None and abs(seg[0] - expected[0]) <= SEG_TOL and abs(seg[1] - expected[1]) <= SEG_TOL


@pytest.mark.parametrize("name", ["hflip", "pip", "crop"])
def test_whole_video_copies_are_found_and_located(videos, ref_fp, name):
    c = METHOD.compare(METHOD.query_video(videos[name]), ref_fp)
    assert c.score >= 0.8, c
    assert _seg_close(c.query_segment, (0.0, 6.0)) and _seg_close(c.ref_segment, (0.0, 6.0)), c
    assert c.evidence["mirrored"] is (name == "hflip")
    json.dumps(c.evidence)


@pytest.mark.parametrize("name", ["excerpt", "caption"])
def test_excerpt_between_unrelated_footage(videos, ref_fp, name):
    c = METHOD.compare(METHOD.query_video(videos[name]), ref_fp)
    assert c.score >= 0.8, c
    assert _seg_close(c.query_segment, (2.0, 5.0)), c
    assert _seg_close(c.ref_segment, (1.5, 4.5)), c
    assert abs(c.evidence["offset"] - 0.5) <= 0.3


def test_unrelated_video_does_not_match(videos, ref_fp):
    c = METHOD.compare(METHOD.query_video(videos["unrelated"]), ref_fp)
    assert c.score < 0.3, c


def test_fingerprint_layout(videos, ref_fp):
    q = METHOD.query_video(videos["excerpt"])
    assert ref_fp.vectors.dtype == np.uint8 and ref_fp.vectors.shape[1] == 32
    assert ref_fp.points.shape == (len(ref_fp), 4) and ref_fp.points.dtype == np.float32
    assert set(np.unique(ref_fp.points[:, 3])) == {0.0}  # references: frames as they are
    assert set(np.unique(q.points[:, 3])) == {0.0, 1.0}  # queries: also mirrored
    times = np.unique(ref_fp.points[:, 0])
    assert 10 <= len(times) <= 13 and times[0] == 0.0
    assert ref_fp.info["frames"] == len(ref_fp.info["frame_times"])
    json.dumps(ref_fp.info)
    # the same method reached through the image interface: a path, or one still frame
    assert np.array_equal(METHOD.reference(videos["ref"]).vectors, ref_fp.vectors)
    still = METHOD.reference(LoadedImage.from_array(clips.shot(11, 1.0)[0]))
    assert len(still) > 0 and still.info["frames"] == 1


def test_unreadable_video_raises_media_error(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(MediaError):
        METHOD.query_video(tmp_path / "bad.mp4")


# ------------------------------------------------------------------------ look-alikes
def test_resolve_explains_away_an_episode_that_shares_a_shot(tmp_path):
    """Episode B reuses episode A's middle shot; a copy of A's 2nd..3rd shots matches
    B on the shared shot only.  resolve() keeps A and scores B down; a second
    registration of A itself keeps its score."""
    a = clips.episode([41, 42, 43], 2.0)
    b = clips.episode([51], 2.0) + clips.shot(42, 2.0) + clips.episode([53], 2.0)
    query = clips.episode([61], 2.0) + a[24:72] + clips.episode([62], 2.0)
    pa = clips.write(tmp_path / "a.mp4", a)
    pb = clips.write(tmp_path / "b.mp4", b)
    pa2 = clips.write(tmp_path / "a2.mp4", a, crf=28)
    pq = clips.write(tmp_path / "q.mp4", query, crf=28)
    q = METHOD.query_video(pq)
    comps = {k: METHOD.compare(q, METHOD.reference_video(p)) for k, p in [("A", pa), ("B", pb), ("A2", pa2)]}
    assert comps["A"].score >= 0.8 and comps["A2"].score >= 0.8
    resolved = METHOD.resolve(comps)
    assert resolved["A"].score == comps["A"].score or resolved["A2"].score == comps["A2"].score
    assert min(resolved["A"].score, resolved["A2"].score) >= 0.8  # the same footage twice: both kept
    assert resolved["B"].score < 0.5, (comps["B"], resolved["B"])
    if resolved["B"].score < comps["B"].score:
        assert resolved["B"].evidence["explained_by"] in ("A", "A2")


def test_explain_away_rules():
    strong = [(t, 1.0) for t in np.arange(2.0, 6.0, 0.5)]
    inside = [(t, 0.9) for t in np.arange(3.0, 4.5, 0.5)]  # within the strong span, shorter
    twin = [(t, 0.99) for t in np.arange(2.0, 6.0, 0.5)]  # the same run, as good
    apart = [(t, 0.8) for t in np.arange(8.0, 10.0, 0.5)]  # elsewhere in the query
    out = explain_away({"s": strong, "i": inside, "t": twin, "a": apart}, ratio=0.95, period=0.5)
    assert out["s"] == (8.0, 8, None)
    assert out["i"][1] == 0 and out["i"][2] == "s"
    assert out["t"][1] == 8
    assert out["a"][1] == 4 and out["a"][2] is None


def test_empty_fingerprints_compare_to_zero(ref_fp):
    empty = METHOD.empty()
    assert METHOD.compare(empty, ref_fp).score == 0.0
    assert METHOD.compare(ref_fp, empty).score == 0.0
    assert METHOD.resolve({"x": Comparison(0.0)})["x"].score == 0.0


def test_mirrored_frame_descriptors_are_those_of_the_mirrored_frame():
    """A query's mirrored variant reuses the frame's keypoints, mirrored, and describes
    them on the mirrored frame.  Each must be the keypoint detection finds on the
    mirrored frame, with its descriptor: mirrored about the coarse pyramid levels' own
    widths, not about the frame's, or their patches were a level pixel or two off."""
    frame = np.ascontiguousarray(clips.shot(5, 1.0, size=(481, 271))[0])
    (_, _), (points, descriptors) = METHOD.frame_features(frame, mirrored=True)
    ((found, found_descriptors),) = METHOD.frame_features(np.ascontiguousarray(frame[:, ::-1]))
    assert len(points) >= 100
    bits = []
    for p, d in zip(points, descriptors):
        j = int(np.argmin(np.abs(found - p).max(axis=1)))
        if np.abs(found[j] - p).max() < 0.6:  # the same keypoint (the spreading may keep others)
            bits.append(int(np.unpackbits(d ^ found_descriptors[j]).sum()))
    assert len(bits) >= 0.9 * len(points)
    assert np.mean(bits) < 1.0 and np.percentile(bits, 95) <= 2, bits


def test_a_featureless_stretch_does_not_cut_a_copy_in_two(tmp_path):
    """A shot, three seconds of a plain gradient (no keypoints at all), another shot: a
    copy of the whole is found whole.  The gradient's frames cannot match or fail to
    match; counted as a gap they ended the run after the first shot."""
    w, h = clips.SIZE
    ramp = np.linspace(60, 220, h, dtype=np.float32)[:, None, None]
    gradient = [np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8)] * (3 * clips.FPS)
    frames = clips.shot(41, 1.5) + gradient + clips.shot(42, 1.5)  # 6 s
    ref = METHOD.reference_video(clips.write(tmp_path / "ref.mp4", frames))
    c = METHOD.compare(METHOD.query_video(clips.write(tmp_path / "copy.mp4", clips.mirrored(frames), crf=28)), ref)
    assert c.score >= 0.8, c
    assert _seg_close(c.query_segment, (0.0, 6.0)) and _seg_close(c.ref_segment, (0.0, 6.0)), c


def test_a_single_frame_is_capped_at_the_policys_single_frame_cap():
    """A run of one frame is no temporal evidence: it scores at most the loaded policy's
    single_frame_cap (0.3 packaged); a matcher's copy under another policy caps at its
    number, and the shared method keeps the packaged one."""
    from kyodaku.policy import Policy, default_policy

    method = VideoFrames()
    assert method.single_frame_cap == default_policy().matching.single_frame_cap == 0.3
    assert method.score_of(10.0, 1) == 0.3 and method.score_of(10.0, 2) > 0.99
    assert method.under_rules(default_policy().matching) is method
    rules = Policy.from_dict({**Policy.packaged_data(), "matching": {
        **Policy.packaged_data()["matching"], "single_frame_cap": 0.4}}).matching
    capped = method.under_rules(rules)
    assert capped.score_of(10.0, 1) == 0.4 and capped.score_of(10.0, 2) == method.score_of(10.0, 2)
    assert method.score_of(10.0, 1) == 0.3
