"""Reference fingerprints on disk: one folder per method with NumPy arrays and JSON.

    fingerprints/<method>/vectors.npy   (N, width)  all reference vectors, stacked
    fingerprints/<method>/points.npy    (N, p)      per-vector geometry / times
    fingerprints/<method>/offsets.npy   (R + 1,)    reference r owns rows offsets[r]:offsets[r+1]
    fingerprints/<method>/refs.json     {"method": key, "refs": [{"media_id", "work_id", "info"}, ...]}

The arrays are memory-mapped when read, so scan workers share the pages.  Nothing is
pickled.  Row numbers are the labels of the method's vector index.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kyodaku.fingerprint.base import Fingerprint, FingerprintMethod


class StaleFingerprints(RuntimeError):
    """Stored reference fingerprints were made by another version of their method."""


def stored_meta(directory: Path) -> dict | None:
    """The ``refs.json`` of the fingerprints in ``directory`` (``method``: the key,
    name@version, that made them; ``refs``: one entry per reference), or None."""
    meta = Path(directory) / "refs.json"
    return json.loads(meta.read_text()) if meta.exists() else None


def is_keyframe(entry: dict) -> bool:
    """Whether a stored reference entry (one of ``refs.json``'s ``refs``) is a keyframe of a
    registered video (its fingerprint's info carries ``keyframe``: ``t``, ``segments``)."""
    return "keyframe" in (entry.get("info") or {})


@dataclass
class RefEntry:
    media_id: int
    work_id: str
    fingerprint: Fingerprint


class MethodStore:
    """The reference fingerprints of one method."""

    def __init__(self, directory: Path, method: FingerprintMethod) -> None:
        self.directory = Path(directory)
        self.method = method
        self._load()

    def _load(self) -> None:
        meta_path = self.directory / "refs.json"
        width = self.method.dim // 8 if self.method.vector_kind == "binary" else self.method.dim
        dtype = np.uint8 if self.method.vector_kind == "binary" else np.float32
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("method") != self.method.key:
                raise StaleFingerprints(f"fingerprints in {self.directory} were made by {meta.get('method')}, "
                                        f"not {self.method.key}")
            self.refs: list[dict] = meta["refs"]
            self.vectors = np.load(self.directory / "vectors.npy", mmap_mode="r")
            self.points = np.load(self.directory / "points.npy", mmap_mode="r")
            self.offsets = np.load(self.directory / "offsets.npy")
        else:
            self.refs = []
            self.vectors = np.zeros((0, width), dtype)
            self.points = np.zeros((0, 0), np.float32)
            self.offsets = np.zeros(1, np.int64)
        self.owner = np.repeat(np.arange(len(self.refs), dtype=np.int64), np.diff(self.offsets))

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def n_vectors(self) -> int:
        return int(self.offsets[-1])

    def get(self, ref: int) -> Fingerprint:
        a, b = int(self.offsets[ref]), int(self.offsets[ref + 1])
        return Fingerprint(self.method.name, np.asarray(self.vectors[a:b]), np.asarray(self.points[a:b]),
                           self.refs[ref].get("info", {}))

    def work_of(self, ref: int) -> str:
        return self.refs[ref]["work_id"]

    def append(self, entries: list[RefEntry]) -> range:
        """Add reference fingerprints; returns the new rows (the labels to index)."""
        if not entries:
            return range(self.n_vectors, self.n_vectors)
        start = self.n_vectors
        new_vecs = [e.fingerprint.vectors for e in entries]
        p = max([self.points.shape[1] if len(self.refs) else 0] + [e.fingerprint.points.shape[1] for e in entries])
        new_pts = [_pad_cols(e.fingerprint.points, p) for e in entries]
        vectors = np.concatenate([np.asarray(self.vectors)] + new_vecs) if len(self.refs) else np.concatenate(new_vecs)
        points = np.concatenate([_pad_cols(np.asarray(self.points), p)] + new_pts) if len(self.refs) \
            else np.concatenate(new_pts)
        lengths = np.array([len(e.fingerprint) for e in entries], np.int64)
        offsets = np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(lengths)])
        refs = self.refs + [{"media_id": e.media_id, "work_id": e.work_id, "info": e.fingerprint.info}
                            for e in entries]
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_save(self.directory / "vectors.npy", vectors)
        _atomic_save(self.directory / "points.npy", points.astype(np.float32))
        _atomic_save(self.directory / "offsets.npy", offsets)
        tmp = self.directory / "refs.json.tmp"
        tmp.write_text(json.dumps({"method": self.method.key, "refs": refs}))
        os.replace(tmp, self.directory / "refs.json")
        self._load()
        return range(start, self.n_vectors)


def _pad_cols(a: np.ndarray, p: int) -> np.ndarray:
    if a.ndim != 2:
        a = a.reshape(len(a), -1) if a.size else np.zeros((len(a), 0), np.float32)
    if a.shape[1] == p:
        return a
    out = np.zeros((a.shape[0], p), np.float32)
    out[:, : a.shape[1]] = a
    return out


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, np.ascontiguousarray(array))
    os.replace(tmp, path)
