"""What the desk keeps for a holder, and what it refuses to keep.

- :func:`check_media`: an uploaded file is kept only if its bytes are an image or a
  video kyodaku can read (:func:`kyodaku.media.sniff.sniff_kind`, then a real decode:
  :func:`kyodaku.media.images.load_image` with its pixel limits, or the first frames of a
  video).  A 0-byte file, an SVG, random bytes or a decompression bomb is refused with
  the reason, before anything is stored.
- :func:`check_quota`: a holder's storage quota (``KYODAKU_HOLDER_QUOTA_MB``) counted
  over what is kept for it: its claims' uploaded outputs (each stored file once) and its
  works' reference media.  Two uploads at the same moment may both pass the check: the
  quota can be overshot by at most one upload per concurrent request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kyodaku.registry.base import RegistryError

__all__ = ["DEFAULT_QUOTA", "QuotaExceeded", "TooLarge", "UnusableMedia", "check_media", "check_quota",
           "extension_for", "holder_usage", "quota_of"]

MiB = 1 << 20
DEFAULT_QUOTA = 2048 * MiB

class QuotaExceeded(RegistryError):
    """Keeping this would take the holder over its storage quota (HTTP 413)."""


class TooLarge(RegistryError):
    """An upload over the size limit (HTTP 413)."""


class UnusableMedia(RegistryError):
    """An upload that is not an image or video kyodaku can read (HTTP 422)."""


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def quota_of(service: Any) -> int:
    """The per-holder quota in bytes (0: none); the web service sets it from settings."""
    return int(getattr(service, "holder_quota_bytes", DEFAULT_QUOTA))


def holder_usage(service: Any, holder_id: int) -> int:
    """Bytes kept for one holder: its claims' stored uploads and its works' reference media."""
    from kyodaku.desk.models import ClaimRow
    from kyodaku.registry.models import MediaRow, WorkRow

    with service.workspace.session() as s:
        media = s.scalar(select(func.coalesce(func.sum(MediaRow.size_bytes), 0)).join(WorkRow)
                         .where(WorkRow.holder_id == holder_id)) or 0
        paths = set(s.scalars(select(ClaimRow.upload_path).where(ClaimRow.holder_id == holder_id,
                                                                 ClaimRow.upload_path.is_not(None))))
    uploads = 0
    for p in paths:
        try:
            uploads += (service.workspace.home / p).stat().st_size
        except OSError:
            continue
    return int(media) + uploads


def check_quota(service: Any, holder_id: int, holder: str, adding: int) -> None:
    """Raise :class:`QuotaExceeded` if keeping ``adding`` more bytes takes ``holder`` over its quota."""
    quota = quota_of(service)
    if quota <= 0:
        return
    used = holder_usage(service, holder_id)
    if used + adding > quota:
        raise QuotaExceeded(f"storage quota exceeded: {holder} keeps {_mib(used)} of its {_mib(quota)}, "
                            f"and this upload needs {_mib(adding)} more; delete old material or ask the "
                            "operator for a larger quota")


def check_size(path: Path, name: str, limit: int) -> int:
    size = path.stat().st_size
    if size > limit:
        raise TooLarge(f"{name} is {_mib(size)}; an upload is at most {_mib(limit)}")
    return size


def extension_for(path: str | os.PathLike[str]) -> str | None:
    """The extension a file's bytes call for (".png", ".mp4", ...), or None."""
    from kyodaku.media.sniff import FORMAT_SUFFIX, read_head, sniff_format

    try:
        fmt = sniff_format(read_head(path))
    except (OSError, ValueError):
        return None
    return FORMAT_SUFFIX.get(fmt) if fmt else None


def check_media(path: Path, name: str, *, fingerprint: bool = False) -> str:
    """The kind of an uploaded file judged from its bytes ("image" or "video"), after
    reading it for real; raises :class:`UnusableMedia` naming the file and the reason.
    ``fingerprint``: also compute its reference fingerprints (a work's reference must be
    one kyodaku can find copies of)."""
    from kyodaku.media.sniff import sniff_kind
    from kyodaku.media.types import MediaError

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnusableMedia(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise UnusableMedia(f"{name}: empty file (0 bytes)")
    kind = sniff_kind(path)
    if kind is None:
        raise UnusableMedia(f"{name}: not an image or video by its contents (JPEG, PNG, WebP, GIF, BMP, TIFF, "
                            "MP4/MOV, MKV/WebM or AVI are read; SVG and other formats are not)")
    try:
        if fingerprint:
            from kyodaku.scan.references import fingerprint_file

            fingerprint_file(str(path), kind)
        elif kind == "image":
            from kyodaku.media.images import load_image

            load_image(path)
        else:
            from kyodaku.video.decode import probe

            probe(path, max_seconds=60.0, max_frames=2000)
    except MediaError as exc:
        reason = str(exc).replace(f"'{path}'", "").replace(str(path), name).rstrip(": ")  # no server paths
        raise UnusableMedia(f"{name}: cannot be read as {'an image' if kind == 'image' else 'a video'}: "
                            f"{reason}") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a reason, not a crash
        raise UnusableMedia(f"{name}: cannot be read as {'an image' if kind == 'image' else 'a video'}: "
                            f"{type(exc).__name__}") from None
    return kind
