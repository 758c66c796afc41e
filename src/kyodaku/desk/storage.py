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

Each refusal is data as well as an English sentence: its ``key`` and ``params`` (the
desk's pages say it in their language, :func:`refusals`); ``str()`` is the English the
API answers with.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kyodaku.registry.base import RegistryError

__all__ = ["DEFAULT_QUOTA", "MESSAGES", "QuotaExceeded", "Refusal", "TooLarge", "UnusableMedia", "check_media",
           "check_quota", "extension_for", "holder_usage", "quota_of", "refusals"]

MiB = 1 << 20
DEFAULT_QUOTA = 2048 * MiB

#: the English of each refusal, by message key (the pages' locales hold the same keys)
MESSAGES = {
    "media_unreadable": "{name}: cannot be read ({error})",
    "media_empty": "{name}: empty file (0 bytes)",
    "media_not_media": "{name}: not an image or video by its contents (JPEG, PNG, WebP, GIF, BMP, TIFF, "
                       "MP4/MOV, MKV/WebM or AVI are read; SVG and other formats are not)",
    "media_bad_image": "{name}: cannot be read as an image: {detail}",
    "media_bad_video": "{name}: cannot be read as a video: {detail}",
    "media_none": "at least one reference file is needed",
    "upload_too_large": "{name} is {size}; an upload is at most {limit}",
    "upload_over_limit": "{name} is larger than {limit} MiB, the upload limit",
    "quota_exceeded": "storage quota exceeded: {holder} keeps {used} of its {quota}, and this upload needs "
                      "{adding} more; delete old material or ask the operator for a larger quota",
}

#: why a decoder refused a file, from its (English) words: ``params["cause"]`` of
#: media_bad_image / media_bad_video, so a page can say it without the decoder's English
_CAUSES = (("too_large", re.compile(r"too large|out of memory|decompression bomb")),
           ("unsupported", re.compile(r"unsupported|refused container|not a recognised|not an image: the content")),
           ("no_video", re.compile(r"no video stream|no frame size|no decodable video frame")),
           ("corrupt", re.compile(r"corrupt|truncated|invalid|not a readable|cannot decode|header")))


def _cause(detail: str) -> str:
    return next((name for name, pattern in _CAUSES if pattern.search(detail)), "other")


class Refusal(RegistryError):
    """A refusal with its message ``key`` (in :data:`MESSAGES`) and ``params``."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(MESSAGES[key].format(**params))
        self.key: str | None = key
        self.params: dict[str, Any] = params


class QuotaExceeded(Refusal):
    """Keeping this would take the holder over its storage quota (HTTP 413)."""


class TooLarge(Refusal):
    """An upload over the size limit (HTTP 413)."""


class UnusableMedia(Refusal):
    """An upload that is not an image or video kyodaku can read (HTTP 422).  Also raised
    with a sentence of its own (``UnusableMedia("not registered: ...")``): ``key`` None."""

    def __init__(self, key: str, **params: Any) -> None:
        if key in MESSAGES:
            super().__init__(key, **params)
        else:
            RegistryError.__init__(self, key)
            self.key, self.params = None, {}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("^" + "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                                    for i, p in enumerate(parts)) + "$")


_PATTERNS = {key: _pattern(text) for key, text in MESSAGES.items()}


def _read_back(text: str) -> tuple[str, dict[str, Any]] | None:
    for key, pattern in _PATTERNS.items():
        if m := pattern.match(text):
            params: dict[str, Any] = m.groupdict()
            if key in ("media_bad_image", "media_bad_video"):
                params["cause"] = _cause(params["detail"])
            return key, params
    return None


def refusals(exc: BaseException | str) -> list[tuple[str, dict[str, Any]]]:
    """The message keys and parameters of a refusal: its own (a :class:`Refusal`), or
    read back from this module's wording (``"not registered: "`` and each file's
    refusal, as the catalog joins them); wording of no known form is
    ``("refusal_text", {"text": ...})``."""
    key = getattr(exc, "key", None)
    if key is not None:
        return [(key, dict(getattr(exc, "params", {})))]
    text = str(exc)
    prefix = "not registered: "
    if not text.startswith(prefix):
        found = _read_back(text)
        return [found or ("refusal_text", {"text": text})]
    pieces: list[str] = []
    for piece in text[len(prefix):].split("; "):  # a piece no refusal starts with belongs to the last one
        if pieces and _read_back(piece) is None:
            pieces[-1] += "; " + piece
        else:
            pieces.append(piece)
    return [("media_not_registered", {})] + [_read_back(p) or ("refusal_text", {"text": p}) for p in pieces]


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
        raise QuotaExceeded("quota_exceeded", holder=holder, used=_mib(used), quota=_mib(quota),
                            adding=_mib(adding))


def check_size(path: Path, name: str, limit: int) -> int:
    size = path.stat().st_size
    if size > limit:
        raise TooLarge("upload_too_large", name=name, size=_mib(size), limit=_mib(limit))
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
        raise UnusableMedia("media_unreadable", name=name, error=str(exc.strerror or exc)) from None
    if size == 0:
        raise UnusableMedia("media_empty", name=name)
    kind = sniff_kind(path)
    if kind is None:
        raise UnusableMedia("media_not_media", name=name)
    bad = "media_bad_image" if kind == "image" else "media_bad_video"
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
        raise UnusableMedia(bad, name=name, detail=reason, cause=_cause(reason)) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a reason, not a crash
        raise UnusableMedia(bad, name=name, detail=type(exc).__name__, cause="other") from None
    return kind
