"""Uploaded files, as the API and the pages both receive them: copied to temporary files
(size-capped while copying), handed to the desk by path, and removed when the request is
done.  A temporary copy is named for what its bytes are (``0-photo.mp4`` holding a PNG
becomes ``0-photo.mp4.png``), so the registry, which tells images from videos by extension,
and the bytes agree.

The whole request is capped before this (``kyodaku.service.limits.BodyLimit``, at
``KYODAKU_MAX_UPLOAD_MB``): an oversized upload is refused while it streams in and never
lands whole on disk.  :data:`MAX_UPLOAD` is the default of that setting.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from kyodaku.desk.storage import TooLarge, extension_for
from kyodaku.media.sniff import kind_for_name

__all__ = ["MAX_UPLOAD", "saved_upload", "saved_uploads"]

MAX_UPLOAD = 256 * 1024 * 1024
_CHUNK = 1 << 20


def _copy(upload: UploadFile, dest: Path, limit: int) -> Path:
    name = upload.filename or "the upload"
    copied = 0
    with dest.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            copied += len(chunk)
            if copied > limit:
                raise TooLarge("upload_over_limit", name=name, limit=limit >> 20)
            out.write(chunk)
    ext = extension_for(dest)
    if ext is not None and kind_for_name(dest) != kind_for_name("x" + ext):  # the name says otherwise, or nothing
        dest = dest.rename(dest.with_name(dest.name + ext))
    return dest


@contextmanager
def saved_uploads(uploads: Sequence[UploadFile], limit: int | None = None) -> Iterator[list[Path]]:
    """The uploads as files in a temporary folder, keeping their names (the registry
    records a reference's original name), with the extension their bytes call for.
    ``limit``: bytes per file (default :data:`MAX_UPLOAD`)."""
    folder = Path(tempfile.mkdtemp(prefix="kyodaku-upload-"))
    try:
        yield [_copy(u, folder / f"{i}-{Path(u.filename or 'upload').name[:200]}", limit or MAX_UPLOAD)
               for i, u in enumerate(uploads)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def saved_upload(upload: UploadFile, limit: int | None = None) -> Iterator[Path]:
    with saved_uploads([upload], limit) as (path,):
        yield path
