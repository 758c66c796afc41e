"""Keyframes: the few pictures that stand for a video's stretches of near-identical
frames, so that a video is matched against registered pictures with the image methods.

A generated video shows a registered key visual or character for a few seconds.  The
image methods (PDQ, local features, the appearance check) find a picture in a picture;
these keyframes are what they are given of a video (:mod:`kyodaku.scan.crossmedia`).

Selection, on frames sampled at ``fps`` (2/s) and downscaled to ``side`` px:

* a frame with no PDQ hash of quality (black, a fade, a flat gradient) shows nothing to
  find and stands for nothing;
* a frame within ``max_distance`` PDQ bits of the last keyframe is a near-duplicate of it
  (the same shot, moved a little): it is not kept, and the keyframe's segment grows to
  cover it; a frame farther away (a cut, or a pan that has moved on) starts a new one.

Each keyframe keeps the frame itself, the seconds it stands for (``segments``, the end
widened by one sample period) and how many sampled frames that is (``frames``: a match on
one sampled frame is no temporal evidence, and is capped by the policy's
``single_frame_cap``).  Measured in docs/matching.md, "Cross-media".
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import pdqhash

from kyodaku.fingerprint.pdq import MIN_QUALITY
from kyodaku.media.types import LoadedImage

from .decode import FrameView, sample_frames

#: keyframes are sampled at this rate (per second of video)
KEYFRAME_FPS = 2.0
#: and decoded with their longer side at most this many px (the image methods work at
#: 256-640 px; an episode's frame is matched as a picture of this size)
KEYFRAME_SIDE = 640
#: and up to this many seconds of a video
KEYFRAME_MAX_SECONDS = 4 * 3600.0
#: a frame within this many PDQ bits (of 256) of the last keyframe is a near-duplicate
#: of it and matched through it.  Tighter than PDQ's usual match threshold (31): a
#: keyframe's match counts for every frame it stands for.
KEYFRAME_DISTANCE = 24
#: PDQ hashes at most this side (PDQ downsamples to 64 px itself)
_HASH_SIDE = 128


@dataclass
class Keyframe:
    """One picture of a video and the times it stands for."""

    t: float
    rgb: np.ndarray
    bits: np.ndarray  # PDQ hash, 256 bools packed to 32 bytes
    segments: list[list[float]] = field(default_factory=list)
    frames: int = 1

    def image(self, source: str = "") -> LoadedImage:
        return LoadedImage.from_array(self.rgb, source=source)


def frame_hash(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """PDQ hash (packed) and quality of one frame."""
    h, w = rgb.shape[:2]
    s = _HASH_SIDE / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) \
        if s < 1 else rgb
    bits, quality = pdqhash.compute(np.ascontiguousarray(small))
    return np.packbits(np.asarray(bits, dtype=np.uint8)), float(quality)


def _distance(a: np.ndarray, b: np.ndarray) -> int:
    """Hamming distance between two packed hashes (32 bytes each)."""
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


class KeyframeSelector:
    """Keyframes of frames handed to :meth:`add` one at a time, in time order, sampled at
    ``fps`` (:func:`select_keyframes` over an iterable; a :class:`~.decode.FrameView`
    sink beside the video method's decoding)."""

    def __init__(self, *, fps: float = KEYFRAME_FPS, max_distance: int = KEYFRAME_DISTANCE) -> None:
        self.fps = float(fps)
        self.period = 1.0 / fps
        self.max_distance = max_distance
        self.kept: list[Keyframe] = []
        self._current: Keyframe | None = None  # the keyframe the previous frame belonged to

    def add(self, t: float, rgb: np.ndarray) -> None:
        bits, quality = frame_hash(rgb)
        if quality < MIN_QUALITY:
            self._current = None  # featureless: ends the stretch, stands for nothing
            return
        t = float(t)
        current = self._current
        if current is not None and _distance(bits, current.bits) <= self.max_distance:
            # still the same shot: its segment grows
            current.segments[-1][1] = t + self.period
            current.frames += 1
            return
        self._current = Keyframe(t, np.ascontiguousarray(rgb), bits, [[t, t + self.period]], 1)
        self.kept.append(self._current)

    def view(self, side: int = KEYFRAME_SIDE) -> FrameView:
        """A view for :func:`~.decode.sample_frames` (``also=``) that feeds this selector
        RGB frames of ``side`` px."""
        return FrameView(side, "rgb24", self.add)


def select_keyframes(frames: Iterable[tuple[float, np.ndarray]], *, fps: float = KEYFRAME_FPS,
                     max_distance: int = KEYFRAME_DISTANCE) -> list[Keyframe]:
    """Keyframes of ``(t, rgb)`` frames sampled at ``fps``, each standing for one stretch
    of time."""
    selector = KeyframeSelector(fps=fps, max_distance=max_distance)
    for t, rgb in frames:
        selector.add(t, rgb)
    return selector.kept


def video_keyframes(path: str | os.PathLike, *, fps: float = KEYFRAME_FPS,
                    side: int = KEYFRAME_SIDE, max_seconds: float = KEYFRAME_MAX_SECONDS,
                    max_distance: int = KEYFRAME_DISTANCE) -> tuple[list[Keyframe], dict[str, Any]]:
    """Keyframes of a video file and the sampler's info (duration, size, partial...);
    raises MediaError for a file that is not a decodable video."""
    sampler = sample_frames(path, fps=fps, max_side=side, max_seconds=max_seconds)
    keyframes = select_keyframes(sampler, fps=fps, max_distance=max_distance)
    info = {k: v for k, v in sampler.info.items() if k != "frames_decoded"}
    return keyframes, info
