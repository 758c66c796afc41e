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

Shards and manifests are streamed (``webdataset``'s tar iterators, ``pyarrow`` record
batches), never held whole.  A shard or manifest that cannot be read becomes an error
item; so does a sample without media.  Manifest columns (url, licence, recorded
TDMRep / X-Robots-Tag values) travel with the item for the rights-signal readers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kyodaku.media.sniff import IMAGE_EXTS, VIDEO_EXTS
from kyodaku.media.walk import iter_media

#: manifest columns that may name a local file, and that may hold the media bytes
PATH_COLUMNS = ("path", "filepath", "file_path", "image_path", "local_path", "video_path")
BYTES_COLUMNS = ("jpg", "jpeg", "png", "webp", "image", "image_bytes", "bytes", "mp4")
CAPTION_COLUMNS = ("caption", "txt", "text", "alt", "title")
#: a manifest row's ``status`` other than this (img2dataset) has no media to scan
OK_STATUS = "success"


@dataclass(frozen=True)
class Item:
    id: str
    kind: str | None = None  # "image" | "video"
    path: str | None = None  # a file to read ...
    data: bytes | None = field(default=None, repr=False)  # ... or the media itself
    ext: str | None = None
    caption: str | None = None
    columns: dict[str, Any] | None = None  # manifest row / sample metadata (signals)
    error: str | None = None


def _kind(ext: str | None) -> str | None:
    if not ext:
        return None
    ext = ext.lower().lstrip(".")
    if f".{ext}" in IMAGE_EXTS:
        return "image"
    if f".{ext}" in VIDEO_EXTS:
        return "video"
    return None


def iter_items(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Item]:
    """Items of files, folders, shards and manifests, in the order given."""
    for raw in paths:
        p = Path(raw)
        suffix = p.suffix.lower()
        if p.is_file() and suffix == ".tar":
            yield from webdataset_items(p)
        elif p.is_file() and suffix == ".parquet":
            yield from parquet_items(p)
        elif p.is_file() and suffix == ".jsonl":
            yield from jsonl_items(p)
        else:
            for w in iter_media([p]):
                yield Item(str(w.path), w.kind, path=str(w.path), ext=w.path.suffix.lower().lstrip("."),
                           error=w.error)


# ------------------------------------------------------------------ WebDataset
def webdataset_items(shard: Path) -> Iterator[Item]:
    from webdataset import tariterators

    errors: list[str] = []

    def handler(exc: Exception) -> bool:
        errors.append(f"{type(exc).__name__}: {exc}")
        return False  # stop reading this shard

    samples = tariterators.tarfile_samples([{"url": str(shard)}], handler=handler)
    try:
        for sample in samples:
            yield _sample_item(shard, sample)
    except Exception as exc:  # noqa: BLE001 - a broken shard is an error item, not a crash
        errors.append(f"{type(exc).__name__}: {exc}")
    for e in errors:
        yield Item(f"{shard}#", error=f"cannot read the shard: {e}")


def _sample_item(shard: Path, sample: dict[str, Any]) -> Item:
    key = sample.get("__key__", "?")
    item_id = f"{shard}#{key}"
    media = [(ext, data) for ext, data in sample.items() if not ext.startswith("__") and _kind(ext)]
    meta: dict[str, Any] = {}
    if "json" in sample:
        try:
            meta = json.loads(sample["json"])
            if not isinstance(meta, dict):
                meta = {"json": meta}
        except (ValueError, UnicodeDecodeError):
            meta = {"json_error": "unparseable KEY.json"}
    caption = sample["txt"].decode("utf-8", "replace") if isinstance(sample.get("txt"), bytes) else None
    if not media:
        return Item(item_id, columns=meta, caption=caption,
                    error=f"sample has no image or video member ({', '.join(k for k in sample if not k.startswith('__'))})")
    ext, data = media[0]
    return Item(item_id, _kind(ext), data=data, ext=ext, caption=caption, columns=meta)


# ------------------------------------------------------------------ manifests
def row_key(n: int, row: dict[str, Any]) -> str:
    """A manifest row's key: its ``key`` column, else its position."""
    return str(row.get("key") or row.get("__key__") or f"row-{n}")


def _row_item(manifest: Path, n: int, row: dict[str, Any]) -> Item:
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
            return Item(item_id, _kind(ext), data=bytes(data), ext=ext, caption=caption, columns=columns)
    for c in PATH_COLUMNS:
        if row.get(c):
            path = Path(str(row[c]))
            if not path.is_absolute():
                path = manifest.parent / path
            ext = path.suffix.lower().lstrip(".")
            return Item(item_id, _kind(ext), path=str(path), ext=ext, caption=caption, columns=columns)
    return Item(item_id, columns=columns, caption=caption,
                error=f"row has neither a media path column ({', '.join(PATH_COLUMNS)}) nor media bytes")


def parquet_items(manifest: Path, batch_size: int = 256) -> Iterator[Item]:
    import pyarrow.parquet as pq

    n = 0
    try:
        reader = pq.ParquetFile(manifest)
        for batch in reader.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                yield _row_item(manifest, n, row)
                n += 1
    except Exception as exc:  # noqa: BLE001 - a broken manifest is an error item
        yield Item(f"{manifest}#", error=f"cannot read the manifest after {n} row(s): {type(exc).__name__}: {exc}")


def jsonl_items(manifest: Path) -> Iterator[Item]:
    with open(manifest, encoding="utf-8") as f:
        for n, text in enumerate(f):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield Item(f"{manifest}#line-{n + 1}", error=f"{manifest.name}:{n + 1}: not a manifest row ({exc})")
                continue
            yield _row_item(manifest, n, row)
