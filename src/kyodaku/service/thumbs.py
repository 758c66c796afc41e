"""Evidence thumbnails for pages: a small JPEG of an image, or of a video's frame at a
given second (the start of the matched segment), decoded with the same hardened loaders
as the scan.  Anything unreadable gives None (the page says "unavailable")."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from kyodaku.media.images import load_image
from kyodaku.media.types import MediaError
from kyodaku.workspace import media_kind

__all__ = ["thumbnail_jpeg"]

THUMB_SIDE = 320


def _jpeg(rgb: np.ndarray) -> bytes:
    im = Image.fromarray(rgb)
    im.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=82)
    return buf.getvalue()


def _video_frame(path: Path, at: float) -> np.ndarray | None:
    from kyodaku.video.decode import sample_frames

    best = None
    sampler = sample_frames(path, fps=2.0, max_side=THUMB_SIDE, max_seconds=at + 2.0)
    try:
        for t, rgb in sampler:
            best = rgb
            if t >= at:
                break
    finally:
        sampler.close()
    return best


def thumbnail_jpeg(path: str | Path | None, at: float | None = None) -> bytes | None:
    if path is None or not Path(path).is_file():
        return None
    try:
        if media_kind(path) == "video":
            frame = _video_frame(Path(path), max(0.0, at or 0.0))
            return _jpeg(frame) if frame is not None else None
        return _jpeg(load_image(str(path), max_side=THUMB_SIDE * 2).rgb)
    except (MediaError, OSError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - a hostile file must not break the page
        return None
