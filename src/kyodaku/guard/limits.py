"""The guard's size limits, checked from the headers before anything is decoded: the
largest picture (pixels) and the longest video (seconds) it screens.  The request size
is capped before this, by the desk (``KYODAKU_MAX_UPLOAD_MB``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kyodaku.media.sniff import FORMAT_KIND, SNIFF_BYTES, read_head, sniff_format
from kyodaku.video.decode import container_seconds

__all__ = ["Refusal", "check_limits"]


@dataclass(frozen=True)
class Refusal:
    message: str
    status: int
    kind: str | None


def _image_pixels(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except Image.DecompressionBombError:
        return (1 << 20, 1 << 20)
    except Exception:  # noqa: BLE001 - unreadable: the matcher says why (an error, never a clear)
        return None


def check_limits(path: Path, *, max_pixels: int, max_seconds: float) -> Refusal | None:
    """Why ``path`` is too large to screen (status 413), or None."""
    try:
        fmt = sniff_format(read_head(str(path), SNIFF_BYTES))
    except (OSError, ValueError):
        return None
    kind = FORMAT_KIND.get(fmt) if fmt else None
    if kind == "image":
        size = _image_pixels(path)
        if size is not None and size[0] * size[1] > max_pixels:
            return Refusal(f"the image is {size[0]}x{size[1]} pixels, more than the guard's limit of "
                           f"{max_pixels:,} (KYODAKU_SCREEN_MAX_PIXELS)", 413, kind)
    elif kind == "video":
        seconds = container_seconds(path)
        if seconds is not None and seconds > max_seconds:
            return Refusal(f"the video is {seconds:.0f} s long, more than the guard's limit of {max_seconds:g} s "
                           f"(KYODAKU_SCREEN_MAX_SECONDS)", 413, kind)
    return None
