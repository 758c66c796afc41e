"""Corpus items: what the scanner reads, whatever the container.

==========================  ===============================  ==========================
input                       an item per                      id (stable across runs)
==========================  ===============================  ==========================
a folder / a media file     media file                       its path
``*.tar`` (WebDataset,      sample (``KEY.jpg|png|webp|mp4``  ``SHARD.tar#KEY``
img2dataset)                with ``KEY.txt``, ``KEY.json``)
``*.parquet``               row (a path column or an          ``MANIFEST.parquet#KEY``
                            image bytes column)               (the ``key`` column, else
                                                              ``row-N``)
``*.jsonl``                 line (a path column)              ``MANIFEST.jsonl#KEY``
==========================  ===============================  ==========================

Shards and manifests are streamed (Python's ``tarfile`` in stream mode, ``pyarrow``
record batches), never held whole.  A shard or manifest that cannot be read becomes an
error item; so does a sample without media.  Manifest columns (url, licence, recorded
TDMRep / X-Robots-Tag values) travel with the item for the rights-signal readers.

What an item is comes from its bytes, never its name (:mod:`kyodaku.media.sniff`):

* a shard sample's media member is the member whose bytes are an image or a video,
  whatever its extension (``KEY.txt`` holding a PNG is the sample's picture).  A sample
  with no such member is an error (naming a member called like media whose bytes are
  not), and so is one with two or more (kyodaku scans one picture or video per sample:
  the other would go through unscanned);
* tar members that are not regular files (symbolic and hard links, directories named
  like media, FIFOs, devices) each give one error item, ``SHARD.tar#MEMBER-NAME``, and
  are never read; so does a member over :data:`MAX_MEMBER_BYTES`.  A key that comes
  back after other samples gives an error item with the same id (its samples are
  excluded from ``--cleared-out``);
* a manifest's bytes column is sniffed the same way; a path column must resolve
  (symlinks followed) inside the manifest's own folder, or under one of the
  ``allow_outside`` folders, else the row is an error "path outside the manifest's
  folder".  The worker sniffs a path row's file when it reads it.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kyodaku.media.sniff import (
    FORMAT_KIND,
    IMAGE_EXTS,
    NOT_MEDIA,
    SNIFF_BYTES,
    VIDEO_EXTS,
    kind_for_name,
    sniff_format,
    unsupported_reason,
)
from kyodaku.media.walk import iter_media

#: manifest columns that may name a local file, and that may hold the media bytes
PATH_COLUMNS = ("path", "filepath", "file_path", "image_path", "local_path", "video_path")
BYTES_COLUMNS = ("jpg", "jpeg", "png", "webp", "image", "image_bytes", "bytes", "mp4")
CAPTION_COLUMNS = ("caption", "txt", "text", "alt", "title")
#: a manifest row's ``status`` other than this (img2dataset) has no media to scan
OK_STATUS = "success"
#: a shard member larger than this is an error item, not read into memory
MAX_MEMBER_BYTES = 1 << 30
#: what the manifest error says
OUTSIDE = "path outside the manifest's folder"


@dataclass(frozen=True)
class Item:
    id: str
    kind: str | None = None  # "image" | "video", from the bytes (None: not known yet)
    path: str | None = None  # a file to read ...
    data: bytes | None = field(default=None, repr=False)  # ... or the media itself
    ext: str | None = None
    caption: str | None = None
    columns: dict[str, Any] | None = None  # manifest row / sample metadata (signals)
    error: str | None = None
    media_format: str | None = None  # "PNG", "ISOBMFF"... from the bytes


def _kind(ext: str | None) -> str | None:
    """The kind an extension promises (only ever used to name things, never to decide)."""
    if not ext:
        return None
    ext = ext.lower().lstrip(".")
    if f".{ext}" in IMAGE_EXTS:
        return "image"
    if f".{ext}" in VIDEO_EXTS:
        return "video"
    return None


def media_problem(fmt: str | None, head: bytes) -> str | None:
    """Why bytes starting with ``head`` (sniffed as ``fmt``) cannot be scanned, or None."""
    if fmt is None:
        return "empty file (0 bytes)" if not head else NOT_MEDIA
    return unsupported_reason(fmt)


def iter_items(paths: Iterable[str | os.PathLike[str]], *, allow_outside: Iterable[str | os.PathLike[str]] = (),
               stats: Counter[str] | None = None) -> Iterator[Item]:
    """Items of files, folders, shards and manifests, in the order given.  Manifest paths
    may point under ``allow_outside`` folders too; files skipped inside folders are
    counted in ``stats`` (see :func:`~kyodaku.media.walk.iter_media`)."""
    allowed = tuple(_resolved(Path(a)) for a in allow_outside)
    for raw in paths:
        p = Path(raw)
        suffix = p.suffix.lower()
        if p.is_file() and suffix == ".tar":
            yield from webdataset_items(p)
        elif p.is_file() and suffix == ".parquet":
            yield from parquet_items(p, allowed=allowed)
        elif p.is_file() and suffix == ".jsonl":
            yield from jsonl_items(p, allowed=allowed)
        else:
            for w in iter_media([p], stats=stats):
                yield Item(str(w.path), w.kind, path=str(w.path), ext=w.path.suffix.lower().lstrip("."),
                           error=w.error, media_format=w.format)


# ------------------------------------------------------------------ WebDataset
_SKIP_META = re.compile(r"__[^/]*__($|/)")  # webdataset's own: metadata members, never samples


def member_key(name: str) -> tuple[str, str]:
    """(key, extension) as webdataset splits a member name; a name without a dot is its
    own key with no extension."""
    m = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", name)
    return (m.group(1), m.group(2).lower()) if m else (name, "")


def _not_regular(member: tarfile.TarInfo) -> str | None:
    """Why a member is not read (None: a regular file, or a plain directory entry)."""
    if member.isreg():
        return None
    if member.issym():
        return f"a symbolic link (to {member.linkname!r})"
    if member.islnk():
        return f"a hard link (to {member.linkname!r})"
    if member.isdir():
        return "a directory named like media" if kind_for_name(member.name.rstrip("/")) else None
    if member.isfifo():
        return "a FIFO"
    if member.ischr() or member.isblk():
        return "a device"
    return f"not a regular file (tar type {member.type!r})"


def webdataset_items(shard: Path) -> Iterator[Item]:
    """One item per sample (consecutive members sharing a key), one error item per
    member that is not a regular file, and one for a shard that cannot be read further."""
    seen: set[str] = set()
    current: dict[str, Any] | None = None
    error: str | None = None
    try:
        with tarfile.open(shard, "r|*") as tar:
            for member in tar:
                name = member.name
                if "/" not in name and name.startswith("__") and name.endswith("__") or _SKIP_META.match(name):
                    continue
                what = _not_regular(member)
                if what is not None:
                    yield Item(f"{shard}#{name}", error=f"tar member {name!r} is {what}: only regular files "
                                                         "are read from a shard, so it is not scanned")
                    continue
                if member.isdir():
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    yield Item(f"{shard}#{name}", error=f"tar member {name!r} is {member.size} bytes, over the "
                                                         f"limit of {MAX_MEMBER_BYTES} bytes: not scanned")
                    continue
                key, ext = member_key(name)
                f = tar.extractfile(member)
                data = f.read() if f is not None else b""
                tar.members = []  # type: ignore[attr-defined]  # stream mode: keep no member list (TarFile.members is undocumented, so not in typeshed)
                if current is None or key != current["__key__"]:
                    if current is not None:
                        yield _sample_item(shard, current)
                    current = {"__key__": key}
                    if key in seen:
                        current["__error__"] = (f"key {key!r} occurs again in the shard after other samples: "
                                                "its samples are excluded")
                    seen.add(key)
                if ext in current:
                    current["__error__"] = f"duplicate member {name!r} in the sample"
                current[ext] = data
    except Exception as exc:  # noqa: BLE001 - a broken shard is an error item, not a crash
        error = f"{type(exc).__name__}: {exc}"
    if current is not None:
        yield _sample_item(shard, current)
    if error is not None:
        yield Item(f"{shard}#", error=f"cannot read the shard: {error}")


def _sample_item(shard: Path, sample: dict[str, Any]) -> Item:
    key = sample["__key__"]
    item_id = f"{shard}#{key}"
    members = {ext: data for ext, data in sample.items() if not ext.startswith("__")}
    sniffed = {ext: sniff_format(data[:SNIFF_BYTES]) for ext, data in members.items()}
    media = [ext for ext, fmt in sniffed.items() if fmt is not None]
    meta: dict[str, Any] = {}
    if "json" in members and "json" not in media:
        try:
            meta = json.loads(members["json"])
            if not isinstance(meta, dict):
                meta = {"json": meta}
        except (ValueError, UnicodeDecodeError):
            meta = {"json_error": "unparseable KEY.json"}
    txt = members.get("txt")
    caption = txt.decode("utf-8", "replace") if isinstance(txt, bytes) and "txt" not in media else None
    if "__error__" in sample:
        return Item(item_id, columns=meta, caption=caption, error=sample["__error__"])
    if len(media) > 1:
        return Item(item_id, columns=meta, caption=caption,
                    error=f"sample has {len(media)} image or video members ({', '.join(media)}): kyodaku scans "
                          "one per sample, so the sample is not cleared")
    if not media:
        named = [ext for ext in members if _kind(ext) or _kind(ext.rsplit(".", 1)[-1])]
        if named:
            ext = named[0]
            return Item(item_id, columns=meta, caption=caption, ext=ext,
                        error=f"{key}.{ext}: {media_problem(None, members[ext][:SNIFF_BYTES])}")
        return Item(item_id, columns=meta, caption=caption,
                    error=f"sample has no image or video member ({', '.join(members) or 'no members'})")
    ext = media[0]
    fmt = sniffed[ext]
    assert fmt is not None  # media holds only the members whose format was sniffed
    data = members[ext]
    return Item(item_id, FORMAT_KIND[fmt], data=data, ext=ext, caption=caption, columns=meta,
                error=unsupported_reason(fmt), media_format=fmt)


# ------------------------------------------------------------------ manifests
def row_key(n: int, row: dict[str, Any]) -> str:
    """A manifest row's key: its ``key`` column, else its position."""
    return str(row.get("key") or row.get("__key__") or f"row-{n}")


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare the path as written
        return Path(os.path.abspath(p))


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _row_path(manifest: Path, raw: str, allowed: tuple[Path, ...]) -> tuple[Path | None, str | None]:
    """A manifest row's path resolved (symlinks followed) and checked against the
    manifest's folder and ``allowed``: (path, None) or (None, why not)."""
    if "\0" in raw:
        return None, "invalid path in the manifest: it contains a NUL character"
    written = Path(raw)
    base = _resolved(manifest.parent)
    real = _resolved(written if written.is_absolute() else manifest.parent / written)
    if _inside(real, (base, *allowed)):
        return real, None
    return None, (f"{OUTSIDE} ({raw!r} resolves to {str(real)!r}, outside {str(base)!r}); "
                  "pass --allow-outside DIR to scan files under DIR")


def _row_item(manifest: Path, n: int, row: dict[str, Any], allowed: tuple[Path, ...] = ()) -> Item:
    item_id = f"{manifest}#{row_key(n, row)}"
    caption = next((str(row[c]) for c in CAPTION_COLUMNS if row.get(c) is not None), None)
    columns = {k: v for k, v in row.items() if not isinstance(v, (bytes, bytearray))}
    status = row.get("status")
    if status is not None and status != OK_STATUS:
        return Item(item_id, columns=columns, caption=caption,
                    error=f"no media: the manifest records status {status!r}"
                          + (f" ({row['error_message']})" if row.get("error_message") else ""))
    for c in BYTES_COLUMNS:
        data = row.get(c)
        if isinstance(data, (bytes, bytearray)) and data:
            ext = c if _kind(c) else "jpg"
            data = bytes(data)
            fmt = sniff_format(data[:SNIFF_BYTES])
            return Item(item_id, FORMAT_KIND.get(fmt) if fmt else None, data=data, ext=ext, caption=caption,
                        columns=columns, error=media_problem(fmt, data[:SNIFF_BYTES]), media_format=fmt)
    for c in PATH_COLUMNS:
        if row.get(c):
            raw = str(row[c])
            path, why = _row_path(manifest, raw, allowed)
            ext = Path(raw).suffix.lower().lstrip(".")
            if path is None:
                return Item(item_id, columns=columns, caption=caption, ext=ext, error=why)
            return Item(item_id, path=str(path), ext=ext, caption=caption, columns=columns)
    return Item(item_id, columns=columns, caption=caption,
                error=f"row has neither a media path column ({', '.join(PATH_COLUMNS)}) nor media bytes")


def parquet_items(manifest: Path, batch_size: int = 256, *, allowed: tuple[Path, ...] = ()) -> Iterator[Item]:
    import pyarrow.parquet as pq

    n = 0
    try:
        reader = pq.ParquetFile(manifest)
        for batch in reader.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                yield _row_item(manifest, n, row, allowed)
                n += 1
    except Exception as exc:  # noqa: BLE001 - a broken manifest is an error item
        yield Item(f"{manifest}#", error=f"cannot read the manifest after {n} row(s): {type(exc).__name__}: {exc}")


def jsonl_items(manifest: Path, *, allowed: tuple[Path, ...] = ()) -> Iterator[Item]:
    try:
        f = open(manifest, "rb")
    except OSError as exc:
        yield Item(f"{manifest}#", error=f"cannot read the manifest: {exc.strerror or exc}")
        return
    with f:
        for n, raw in enumerate(f):
            try:
                text = raw.decode("utf-8")
                if not text.strip():
                    continue
                row = json.loads(text)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:  # UnicodeDecodeError too
                yield Item(f"{manifest}#line-{n + 1}", error=f"{manifest.name}:{n + 1}: not a manifest row ({exc})")
                continue
            yield _row_item(manifest, n, row, allowed)
