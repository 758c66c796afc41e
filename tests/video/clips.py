"""Tiny synthetic videos for the video tests (160x90, H.264, a few seconds).

An "episode" is a sequence of shots; a shot pans slowly over one textured picture
(``tests.art.artwork``) with a moving disc on it, so that frames change over time and
shots differ from each other.  Queries are built from the very same frames, transformed
(mirrored, boxed in a window, cropped), or cut into unrelated footage.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests import art

SIZE = (160, 90)
FPS = 12


def shown(pic: np.ndarray) -> np.ndarray:
    """A picture fitted into a 320x180 frame on a grey ground (a clip that shows it)."""
    small = art.resized(pic, 180 / pic.shape[0])
    frame = np.full((180, 320, 3), 90, np.uint8)
    x = (320 - small.shape[1]) // 2
    frame[:, x:x + small.shape[1]] = small[:180, :320]
    return frame


def shot(seed: int, seconds: float, size=SIZE, fps: int = FPS) -> list[np.ndarray]:
    w, h = size
    pic = art.artwork(seed, size=(int(h * 1.5), int(w * 1.5)))
    ph, pw = pic.shape[:2]
    n = round(seconds * fps)
    rng = np.random.default_rng(seed)
    dx, dy = rng.uniform(-1, 1, 2)
    x0, y0, vx = rng.uniform(0.2, 0.8), rng.uniform(0.3, 0.7), rng.uniform(-0.4, 0.4)
    frames = []
    for i in range(n):
        t = i / max(1, n - 1)
        x = int((pw - w) * (0.5 + 0.4 * dx * (t - 0.5)))
        y = int((ph - h) * (0.5 + 0.4 * dy * (t - 0.5)))
        f = pic[y:y + h, x:x + w].copy()
        cx, cy = int(w * (x0 + vx * t)), int(h * y0)  # a moving "character"
        cv2.circle(f, (cx, cy), h // 6, (250, 250, 250), -1)
        cv2.circle(f, (cx, cy), h // 12, (20, 40, 200), -1)
        frames.append(f)
    return frames


def episode(seeds, seconds: float = 2.0, **kw) -> list[np.ndarray]:
    return [f for s in seeds for f in shot(s, seconds, **kw)]


def write(path: Path, frames, fps: int = FPS, crf: int = 23, **options: str) -> Path:
    import av

    path = Path(path)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", options=options or None) as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.options = {"crf": str(crf), "preset": "veryfast", "g": str(2 * fps)}
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


def mirrored(frames):
    return [np.ascontiguousarray(f[:, ::-1]) for f in frames]


def pip(frames, scale: float = 0.6):
    """The frames in a window at ``scale`` over a dark background (a reaction video)."""
    out = []
    for f in frames:
        h, w = f.shape[:2]
        canvas = np.full_like(f, 0)
        canvas[:] = (20, 20, 30)
        small = cv2.resize(f, (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2), interpolation=cv2.INTER_AREA)
        y, x = h // 8, w // 20
        canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
        out.append(canvas)
    return out


def crop_resize(frames, f: float = 0.75, x0: float = 0.15, y0: float = 0.1):
    out = []
    for fr in frames:
        h, w = fr.shape[:2]
        cw, ch = int(w * f), int(h * f)
        x, y = int(w * x0), int(h * y0)
        out.append(cv2.resize(fr[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_LINEAR))
    return out


def color_caption(frames):
    out = []
    for f in frames:
        g = np.clip(f.astype(np.float32) * 1.2 + 15, 0, 255).astype(np.uint8)
        cv2.putText(g, "LOL EPIC", (8, g.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1)
        out.append(g)
    return out
