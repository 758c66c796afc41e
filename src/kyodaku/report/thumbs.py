"""Thumbnails for the report's evidence rows, as ``data:`` URIs (the report is one
offline file): the scanned item next to the registered reference, and for video a frame
of each side at the start of the matched segment.

Scanned items are read back the way the scan read them: a plain path, or a sample of a
WebDataset shard / a row of a manifest (``SHARD.tar#KEY``), fetched with one streaming pass
per container over :mod:`kyodaku.corpus` that stops once the wanted keys are found.
Decoding goes through the scanner's own hardened readers (:func:`load_image`,
:func:`sample_frames`), so a hostile or vanished file gives a "thumbnail unavailable"
note with the reason, never a crash.
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kyodaku.corpus import Item, iter_items
from kyodaku.media.images import load_image
from kyodaku.media.sniff import SNIFF_BYTES, VIDEO_SUFFIX, sniff_format
from kyodaku.media.types import MediaError
from kyodaku.workspace import Workspace, media_kind

#: longest side of a thumbnail (pixels) and its JPEG quality: about 5-10 kB each
THUMB_SIDE = 200
JPEG_QUALITY = 72
_CONTAINERS = (".tar", ".parquet", ".jsonl")


@dataclass(frozen=True)
class Thumb:
    """A thumbnail (``uri``) or why there is none (``note``); ``at`` is the video time."""

    uri: str | None = None
    note: str | None = None
    at: float | None = None
    width: int = 0
    height: int = 0


def encode(rgb: np.ndarray, at: float | None = None) -> Thumb:
    """A JPEG ``data:`` URI of an RGB array, downscaled to :data:`THUMB_SIDE`."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    im.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Thumb(uri=uri, at=at, width=im.width, height=im.height)


def _unavailable(exc: BaseException) -> Thumb:
    if isinstance(exc, MediaError):
        return Thumb(note=f"thumbnail unavailable: {exc}")
    return Thumb(note=f"thumbnail unavailable: {type(exc).__name__}: {str(exc)[:160]}")


def image_thumb(source: str | Path | bytes) -> Thumb:
    try:
        return encode(load_image(source, max_side=THUMB_SIDE * 2).rgb)
    except Exception as exc:  # noqa: BLE001 - one unreadable file is a note in the report
        return _unavailable(exc)


def frames_at(path: str | Path, times: Iterable[float]) -> list[tuple[float, np.ndarray]]:
    """The sampled frame nearest to each of ``times`` (seconds), in their order, from one
    decoding pass from the start (bounded by the latest time)."""
    from kyodaku.video.decode import sample_frames

    wanted = [max(0.0, float(t)) for t in times]
    if not wanted:
        return []
    best: list[tuple[float, np.ndarray] | None] = [None] * len(wanted)
    last = max(wanted)
    for ft, rgb in sample_frames(path, fps=8.0, max_side=THUMB_SIDE * 2, max_seconds=last + 1.0):
        for i, t in enumerate(wanted):
            b = best[i]
            if b is None or (b[0] <= t and abs(ft - t) < abs(b[0] - t)):
                best[i] = (ft, rgb)
        if ft > last:
            break
    if any(b is None for b in best):  # sample_frames raises before yielding nothing
        raise MediaError("no decodable video frame")
    return [b for b in best if b is not None]


def video_thumbs(source: str | Path | bytes, times: list[float], ext: str | None = "mp4") -> list[Thumb]:
    """One thumbnail per time of ``times``, from one decoding pass."""
    try:
        if isinstance(source, bytes):  # a video inside a shard: the decoder wants a file
            # named for what its bytes are, not for the member's extension
            suffix = VIDEO_SUFFIX.get(sniff_format(source[:SNIFF_BYTES]) or "", f".{ext or 'mp4'}")
            with tempfile.NamedTemporaryFile(suffix=suffix if "/" not in suffix else ".mp4") as tmp:
                tmp.write(source)
                tmp.flush()
                frames = frames_at(tmp.name, times)
        else:
            frames = frames_at(source, times)
        return [encode(rgb, at=ft) for ft, rgb in frames]
    except Exception as exc:  # noqa: BLE001 - one unreadable file is a note in the report
        return [_unavailable(exc)] * len(times)


def video_thumb(source: str | Path | bytes, t: float, ext: str | None = "mp4") -> Thumb:
    return video_thumbs(source, [t], ext)[0]


# ------------------------------------------------------------------ scanned items
def split_id(item_id: str) -> tuple[Path, str] | None:
    """``(container, key)`` of an item inside a shard or manifest, else None (a path)."""
    start = 0
    while (i := item_id.find("#", start)) >= 0:
        container = Path(item_id[:i])
        if container.suffix.lower() in _CONTAINERS and container.is_file():
            return container, item_id[i + 1:]
        start = i + 1
    return None


def fetch_items(ids: Iterable[str]) -> dict[str, Item]:
    """The items with these ids; plain paths are not read here, contained items are read
    with their bytes (one pass per container, ending once all its wanted keys are found).
    Ids not found are missing from the result."""
    found: dict[str, Item] = {}
    wanted: dict[Path, set[str]] = defaultdict(set)
    for item_id in ids:
        where = split_id(item_id)
        if where is None:
            found[item_id] = Item(item_id, media_kind(item_id), path=item_id,
                                  ext=Path(item_id).suffix.lower().lstrip("."))
        else:
            wanted[where[0]].add(item_id)
    for container, keys in wanted.items():
        left = set(keys)
        try:
            for item in iter_items([container]):
                if item.id in left:
                    found[item.id] = item
                    left.discard(item.id)
                    if not left:
                        break
        except Exception:  # noqa: BLE001, S110 - an unreadable container: its items get notes
            pass
    return found


def item_thumb(item: Item | None, media: str | None, t: float | None) -> Thumb:
    """The thumbnail of a scanned item (a frame at ``t`` for a video)."""
    if item is None:
        return Thumb(note="thumbnail unavailable: the item is no longer in its shard or manifest")
    if item.error is not None:
        return Thumb(note=f"thumbnail unavailable: {item.error}")
    source: str | bytes | None = item.data if item.data is not None else item.path
    if source is None:
        return Thumb(note="thumbnail unavailable: the item has no media")
    if (media or item.kind) == "video":
        return video_thumb(source, t or 0.0, item.ext)
    return image_thumb(source)


# ------------------------------------------------------------------ references
class ReferenceThumbs:
    """Thumbnails of registered works' reference files, made once per (work, time)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._cache: dict[tuple[str, str | None, float | None], tuple[Thumb, str | None]] = {}

    def get(self, work_id: str, media: str | None, t: float | None) -> tuple[Thumb, str | None]:
        """(thumbnail, reference file name) of ``work_id``, a frame at ``t`` for video."""
        key = (work_id, media, None if t is None else round(t, 2))
        if key not in self._cache:
            self._cache[key] = self._make(work_id, media, t)
        return self._cache[key]

    def _make(self, work_id: str, media: str | None, t: float | None) -> tuple[Thumb, str | None]:
        refs = self.workspace.registry.list_media(work_id)
        if not refs:
            return Thumb(note=f"reference unavailable: {work_id} has no reference file in this registry"), None
        ref = next((m for m in refs if m.kind == media), refs[0])
        name = ref.original_name + (f" (1 of {len(refs)} reference files)" if len(refs) > 1 else "")
        path = self.workspace.media_path(ref)
        if ref.kind == "video":
            return video_thumb(path, t or 0.0), name
        return image_thumb(path), name
