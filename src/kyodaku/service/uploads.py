"""Uploaded files, as the API and the pages both receive them: copied to temporary files
(size-capped), handed to the desk by path, and removed when the request is done."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from kyodaku.registry.base import RegistryError

__all__ = ["MAX_UPLOAD", "saved_upload", "saved_uploads"]

MAX_UPLOAD = 256 * 1024 * 1024
_CHUNK = 1 << 20


def _copy(upload: UploadFile, dest: Path) -> Path:
    with dest.open("wb") as out:
        shutil.copyfileobj(upload.file, out, _CHUNK)
    if dest.stat().st_size > MAX_UPLOAD:
        raise RegistryError(f"{upload.filename or 'the upload'} is larger than 256 MiB")
    return dest


@contextmanager
def saved_uploads(uploads: Sequence[UploadFile]) -> Iterator[list[Path]]:
    """The uploads as files in a temporary folder, keeping their names (the registry
    records a reference's original name and tells images from videos by extension)."""
    folder = Path(tempfile.mkdtemp(prefix="kyodaku-upload-"))
    try:
        yield [_copy(u, folder / f"{i}-{Path(u.filename or 'upload').name[:200]}") for i, u in enumerate(uploads)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def saved_upload(upload: UploadFile) -> Iterator[Path]:
    with saved_uploads([upload]) as (path,):
        yield path
