"""Video thumbnails: a screening's evidence frames come from one decoding pass
(:func:`kyodaku.report.thumbs.frames_at`), and each is the frame that decoding the video
for that time alone gives."""

from __future__ import annotations

import numpy as np

from kyodaku.report.thumbs import THUMB_SIDE, frames_at, video_thumbs
from kyodaku.video.decode import sample_frames
from tests.video import clips


def _alone(path, t: float):
    """The sampled frame nearest to ``t``, decoding for ``t`` alone."""
    best = None
    for ft, rgb in sample_frames(path, fps=8.0, max_side=THUMB_SIDE * 2, max_seconds=t + 1.0):
        if best is None or abs(ft - t) < abs(best[0] - t):
            best = (ft, rgb)
        if ft > t:
            break
    return best


def test_frames_at_one_pass_equals_each_time_alone(tmp_path):
    path = clips.write(tmp_path / "ep.mp4", clips.episode([3, 4, 5], seconds=2.0))
    times = [4.9, 0.0, 2.06, 0.3, 5.5, 2.06, 40.0]
    got = frames_at(path, times)
    assert len(got) == len(times)
    for t, (ft, rgb) in zip(times, got, strict=True):
        want_t, want = _alone(path, t)
        assert ft == want_t and np.array_equal(rgb, want), t
    assert [round(ft, 2) for ft, _ in got[:3]] == [4.92, 0.0, 2.0]  # 12 frames a second
    assert got[-1][0] == max(ft for ft, _ in got)  # past the end: the last frame


def test_video_thumbs_one_note_per_time_for_a_broken_file(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    thumbs = video_thumbs(bad, [0.0, 1.0, 2.0])
    assert len(thumbs) == 3
    assert all(th.uri is None and th.note and th.note.startswith("thumbnail unavailable") for th in thumbs)
