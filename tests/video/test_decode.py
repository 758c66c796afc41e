"""Sparse video decoding: sampling, timestamps, bounds, and hostile files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from kyodaku.media.types import MediaError
from kyodaku.video import sample_frames
from tests.video import clips


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("decode")
    return clips.write(d / "clip.mp4", clips.episode([1, 2, 3], 2.0))  # 6 s, 12 fps


@pytest.fixture(scope="module")
def clip_faststart(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("decode_fs")
    return clips.write(d / "clip_fs.mp4", clips.episode([4, 5, 6], 2.0), movflags="faststart")


def test_samples_two_frames_a_second_with_true_timestamps(clip):
    s = sample_frames(clip, fps=2.0, max_side=128)
    frames = list(s)
    ts = np.array([t for t, _ in frames])
    assert ts[0] == 0.0
    assert 11 <= len(frames) <= 13
    assert np.all(np.diff(ts) > 0.3) and np.all(np.diff(ts) < 0.7)
    assert ts[-1] <= 6.0
    h, w, c = frames[0][1].shape
    assert (w, h, c) == (128, 72, 3) and frames[0][1].dtype == np.uint8
    assert s.info["width"] == 160 and s.info["height"] == 90 and not s.info["partial"]
    assert abs(s.info["duration"] - 6.0) < 0.2
    # the decoder skipped frames nothing depends on
    assert s.info["frames_decoded"] < 72


def test_decoder_shortcuts_keep_the_sampled_times_close(clip):
    fast = [t for t, _ in sample_frames(clip, pix_format="gray")]
    full = [t for t, _ in sample_frames(clip, pix_format="gray", skip_nonref=False, skip_loop_filter=False,
                                        skip_gop_tails=False)]
    assert len(fast) == len(full)
    assert max(abs(a - b) for a, b in zip(fast, full)) <= 0.25


def test_gray_and_small_frames(clip):
    _t, g = next(iter(sample_frames(clip, max_side=64, pix_format="gray")))
    assert g.ndim == 2 and max(g.shape) == 64


def test_bounds_stop_early_and_say_so(clip):
    s = sample_frames(clip, max_seconds=2.0)
    frames = list(s)
    assert frames and frames[-1][0] <= 2.0
    assert s.info["partial"] and s.info["stopped"] == "max_seconds"
    s = sample_frames(clip, max_frames=10)
    assert list(s) and s.info["stopped"] == "too many frames"


def _raises_quickly(path, match: str | None = None) -> str:
    t0 = time.perf_counter()
    with pytest.raises(MediaError) as err:
        list(sample_frames(path))
    assert time.perf_counter() - t0 < 3.0
    if match:
        assert match in str(err.value), str(err.value)
    assert len(str(err.value)) < 200
    return str(err.value)


def test_missing_empty_and_not_regular(tmp_path):
    _raises_quickly(tmp_path / "nope.mp4", "cannot read")
    (tmp_path / "empty.mp4").write_bytes(b"")
    _raises_quickly(tmp_path / "empty.mp4", "empty file")
    (tmp_path / "dir.mp4").mkdir()
    _raises_quickly(tmp_path / "dir.mp4", "not a regular file")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.mp4")
        _raises_quickly(tmp_path / "pipe.mp4", "not a regular file")


def test_garbage_and_text(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "noise.mp4").write_bytes(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    _raises_quickly(tmp_path / "noise.mp4")
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 100)
    _raises_quickly(tmp_path / "text.mp4")


def test_truncated(tmp_path, clip, clip_faststart):
    data = clip.read_bytes()  # the index (moov) is at the end: a cut file has none
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    _raises_quickly(tmp_path / "cut.mp4")
    (tmp_path / "cut_header.mp4").write_bytes(data[:40])
    _raises_quickly(tmp_path / "cut_header.mp4")
    # index first: the first half still decodes; what is sampled is kept
    data = clip_faststart.read_bytes()
    (tmp_path / "cut_fs.mp4").write_bytes(data[: len(data) // 2])
    s = sample_frames(tmp_path / "cut_fs.mp4")
    frames = list(s)
    assert 1 <= len(frames) < 12


def test_audio_only(tmp_path):
    import av

    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as out:
        st = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for p in st.encode(frame):
            out.mux(p)
        for p in st.encode():
            out.mux(p)
    _raises_quickly(path, "no video stream")


def test_absurd_dimensions(tmp_path):
    # a raw YUV4MPEG2 stream claiming 60000 x 60000 pixels, with a few bytes of "frame"
    path = tmp_path / "huge.y4m"
    path.write_bytes(b"YUV4MPEG2 W60000 H60000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x80" * 4096)
    _raises_quickly(path)
    # one FFmpeg accepts, but wider than any real video: refused before decoding
    path = tmp_path / "wide.y4m"
    path.write_bytes(b"YUV4MPEG2 W17000 H64 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x80" * (17000 * 96))
    _raises_quickly(path, "too large")


def test_playlists_are_refused(tmp_path, clip):
    path = tmp_path / "list.m3u8"
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n{clip}\n#EXT-X-ENDLIST\n")
    _raises_quickly(path, "refused")
    path = tmp_path / "list.ffconcat"
    path.write_text(f"ffconcat version 1.0\nfile '{clip}'\n")
    _raises_quickly(path)


def test_a_sampler_that_fails_to_open_is_collected_quietly(tmp_path, monkeypatch):
    """A constructor that raised (bad arguments, a file that is not a video) leaves an
    object that is still collected; closing it must not raise ("Exception ignored in
    FrameSampler.__del__" on stderr for every bad file in a scan)."""
    import gc
    import sys

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(ValueError):
        sample_frames(tmp_path / "x.mp4", fps=0)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(MediaError):
        sample_frames(tmp_path / "empty.mp4")
    gc.collect()
    assert unraisable == []
