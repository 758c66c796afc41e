"""Keyframes: the few pictures that stand for a video's shots, so that image and video
are matched in one picture space.

A registered episode reaches image corpora as still frames (screenshots, caps,
wallpapers cut from a scene); a generated video shows a registered key visual or
character for a few seconds.  The image methods (PDQ, local features, the appearance
check) find a picture in a picture; these keyframes are what they are given of a video.

Selection, on frames sampled at ``fps`` (2/s) and downscaled to ``side`` px:

* a frame with no PDQ hash of quality (black, a fade, a flat gradient) shows nothing to
  find and stands for nothing;
* a frame within ``max_distance`` PDQ bits of the last kept keyframe is a near-duplicate
  of it (the same shot, moved a little): it is not kept, and the keyframe's segment grows
  to cover it; a frame farther away (a cut, or a pan that has moved on) starts a new one;
* references only (``dedup="global"``): a shot seen again (a repeated cut, a recap, an
  opening) within ``max_distance`` of any keyframe kept before adds its span to that
  keyframe's ``segments`` instead of a new picture.

Each keyframe keeps the frame itself, the times it stands for (``segments``, seconds,
the end widened by one sample period) and how many sampled frames that is (``frames``:
a video query's match on one sampled frame is no temporal evidence, and is capped by the
policy's ``single_frame_cap``).

Measured (``benchmarks/bench_keyframes.py``): see docs/matching.md, "Cross-media".
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

from .decode import sample_frames

#: keyframes are sampled at this rate (per second of video)
KEYFRAME_FPS = 2.0
#: and decoded with their longer side at most this many px (the image methods work at
#: 256-640 px; an episode's frame is matched as a picture of this size)
KEYFRAME_SIDE = 640
#: a frame within this many PDQ bits (of 256) of a kept keyframe is a near-duplicate
#: of it.  Tighter than PDQ's usual match threshold (31): the appearance check compares a
#: copy's pixels with its keyframe's, and a character that moved on by more than a few
#: pixels reads as a part drawn differently.  Measured in docs/matching.md.
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

    def info(self) -> dict[str, Any]:
        """What a reference store keeps of it (JSON)."""
        return {"t": round(self.t, 3), "segments": [[round(a, 3), round(b, 3)] for a, b in self.segments],
                "frames": self.frames}


def frame_hash(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """PDQ hash (packed) and quality of one frame."""
    h, w = rgb.shape[:2]
    s = _HASH_SIDE / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) \
        if s < 1 else rgb
    bits, quality = pdqhash.compute(np.ascontiguousarray(small))
    return np.packbits(np.asarray(bits, dtype=np.uint8)), float(quality)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between packed hash ``a`` (32,) and each row of ``b`` (n, 32)."""
    return np.unpackbits(np.bitwise_xor(b, a[None, :]), axis=1).sum(1)


def select_keyframes(frames: Iterable[tuple[float, np.ndarray]], *, fps: float = KEYFRAME_FPS,
                     max_distance: int = KEYFRAME_DISTANCE, dedup: str = "shot") -> list[Keyframe]:
    """Keyframes of ``(t, rgb)`` frames sampled at ``fps``; ``dedup`` ``"shot"`` compares a
    frame with the last keyframe only (queries: each keyframe stands for one stretch of
    time), ``"global"`` with every keyframe kept (references: a repeated shot is stored
    once)."""
    if dedup not in ("shot", "global"):
        raise ValueError("dedup must be 'shot' or 'global'")
    period = 1.0 / fps
    kept: list[Keyframe] = []
    hashes = np.zeros((0, 32), np.uint8)
    current: Keyframe | None = None  # the keyframe the previous frame belonged to
    for t, rgb in frames:
        bits, quality = frame_hash(rgb)
        if quality < MIN_QUALITY:
            current = None  # featureless: ends the stretch, stands for nothing
            continue
        t = float(t)
        if current is not None and int(_distance(bits, current.bits[None, :])[0]) <= max_distance:
            # still the same shot: its segment grows
            current.segments[-1][1] = t + period
            current.frames += 1
            continue
        if dedup == "global" and len(kept):
            d = _distance(bits, hashes)
            j = int(np.argmin(d))
            if d[j] <= max_distance:
                current = kept[j]
                current.segments.append([t, t + period])
                current.frames += 1
                continue
        current = Keyframe(t, np.ascontiguousarray(rgb), bits, [[t, t + period]], 1)
        kept.append(current)
        hashes = np.vstack([hashes, bits[None, :]])
    return kept


def video_keyframes(path: str | os.PathLike, *, dedup: str = "shot", fps: float = KEYFRAME_FPS,
                    side: int = KEYFRAME_SIDE, max_seconds: float = 4 * 3600,
                    max_distance: int = KEYFRAME_DISTANCE) -> tuple[list[Keyframe], dict[str, Any]]:
    """Keyframes of a video file and the sampler's info (duration, size, partial...);
    raises MediaError for a file that is not a decodable video."""
    sampler = sample_frames(path, fps=fps, max_side=side, max_seconds=max_seconds)
    keyframes = select_keyframes(sampler, fps=fps, max_distance=max_distance, dedup=dedup)
    info = {k: v for k, v in sampler.info.items() if k != "frames_decoded"}
    return keyframes, info
