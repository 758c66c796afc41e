"""Helpers shared by the index implementations: input validation, result assembly,
popcount, a growable row buffer and the ``meta.json`` reader / writer.

Nothing here is pickled: indexes are saved as ``.npy`` arrays (loaded with
``allow_pickle=False``) plus a JSON file.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np

from kyodaku.index.base import QueryResult

#: ``meta.json`` ``format`` value and the version of the on-disk layout
FORMAT = "kyodaku-index"
FORMAT_VERSION = 1
META_FILE = "meta.json"

# --------------------------------------------------------------------------- popcount
HAVE_BITWISE_COUNT = hasattr(np, "bitwise_count")  # NumPy >= 2.0
_POPCOUNT_LUT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(words: np.ndarray) -> np.ndarray:
    """Bits set in each element of a uint64 array (same shape, small unsigned ints)."""
    counts: np.ndarray
    if HAVE_BITWISE_COUNT:
        counts = np.bitwise_count(words)
    else:
        as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(words.shape + (8,))
        counts = _POPCOUNT_LUT[as_bytes].sum(axis=-1, dtype=np.uint8)
    return counts


def code_words(nbytes: int) -> int:
    """uint64 words needed to hold a packed binary code of ``nbytes`` bytes."""
    return (nbytes + 7) // 8


def to_words(codes: np.ndarray) -> np.ndarray:
    """(n, nbytes) uint8 -> (n, ceil(nbytes / 8)) little-endian uint64, zero padded.

    The padding bits are zero in every stored and query code, so XOR + popcount over
    the words equals the Hamming distance over the bytes."""
    n, nbytes = codes.shape
    pad = (-nbytes) % 8
    if pad:
        codes = np.concatenate([codes, np.zeros((n, pad), np.uint8)], axis=1)
    return np.ascontiguousarray(codes).view("<u8").reshape(n, (nbytes + pad) // 8)


def words_to_codes(words: np.ndarray, nbytes: int) -> np.ndarray:
    n, nwords = words.shape
    return np.ascontiguousarray(words).view(np.uint8).reshape(n, nwords * 8)[:, :nbytes]


# --------------------------------------------------------------------------- validation
def row_width(kind: str, dim: int) -> int:
    return dim // 8 if kind == "binary" else dim


def check_vectors(kind: str, dim: int, vectors: Any, what: str = "vectors") -> np.ndarray:
    """Return ``vectors`` as a C-contiguous (n, width) uint8 (binary) or float32 (float)
    array, or raise ``TypeError`` (wrong dtype) / ``ValueError`` (wrong shape, NaN)."""
    width = row_width(kind, dim)
    if not isinstance(vectors, np.ndarray):
        vectors = np.asarray(vectors)
    if kind == "binary":
        if vectors.dtype != np.uint8:
            hint = " (pack 0/1 bits with np.packbits(bits, axis=1))" if vectors.dtype == np.bool_ else ""
            raise TypeError(
                f"binary index {what} must be uint8 packed bits of shape (n, {width}) for dim={dim}; "
                f"got dtype {vectors.dtype}{hint}"
            )
    else:
        if not np.issubdtype(vectors.dtype, np.floating):
            raise TypeError(
                f"float index {what} must be a floating-point array (float32) of shape (n, {width}); "
                f"got dtype {vectors.dtype}"
            )
    if vectors.ndim != 2 or vectors.shape[1] != width:
        hint = " (use vectors[None, :] for a single vector)" if vectors.ndim == 1 else ""
        unit = "bytes of packed bits" if kind == "binary" else "floats"
        raise ValueError(
            f"{kind} index {what} must have shape (n, {width}) ({width} {unit} for dim={dim}); "
            f"got shape {vectors.shape}{hint}"
        )
    if kind == "float":
        floats: np.ndarray = np.ascontiguousarray(vectors, dtype=np.float32)
        if floats.size and not np.isfinite(floats).all():
            raise ValueError(f"float index {what} contain NaN or infinite values")
        return floats
    packed: np.ndarray = np.ascontiguousarray(vectors)
    return packed


def check_labels(labels: Any, n: int) -> np.ndarray:
    """Return ``labels`` as a (n,) int64 array of non-negative ids or raise."""
    if not isinstance(labels, np.ndarray):
        labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},), one per vector; got shape {labels.shape}")
    if n == 0:
        return np.zeros(0, np.int64)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers (int64); got dtype {labels.dtype}")
    if labels.dtype == np.uint64 and int(labels.max()) > np.iinfo(np.int64).max:
        raise ValueError("labels must fit in int64")
    labels = labels.astype(np.int64, copy=False)
    if int(labels.min()) < 0:
        raise ValueError("labels must be >= 0 (-1 marks 'no neighbour' in query results)")
    return np.ascontiguousarray(labels)


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or int(k) < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    return int(k)


def check_max_distance(max_distance: Any) -> float | None:
    """None, or a finite non-negative float (``inf`` means no limit, i.e. None)."""
    if max_distance is None:
        return None
    if isinstance(max_distance, bool) or not isinstance(max_distance, numbers.Real):
        raise ValueError(f"max_distance must be a non-negative number or None; got {max_distance!r}")
    value = float(max_distance)
    if math.isnan(value) or value < 0:
        raise ValueError(f"max_distance must be a non-negative number or None; got {max_distance!r}")
    if math.isinf(value):
        return None
    return value


def hamming_radius(max_distance: float | None) -> int | None:
    """Largest integer Hamming distance allowed by ``max_distance`` (inclusive)."""
    return None if max_distance is None else int(math.floor(max_distance))


# --------------------------------------------------------------------------- results
def empty_result(n: int, k: int) -> QueryResult:
    return QueryResult(np.full((n, k), -1, np.int64), np.full((n, k), np.inf, np.float32))


def finish(ids: np.ndarray, dist: np.ndarray, labels: np.ndarray, max_distance: float | None) -> QueryResult:
    """Turn internal row ids (n, k) (-1 = none) and distances into a :class:`QueryResult`:
    drop neighbours beyond ``max_distance``, sort each row by (distance, row id), map row
    ids to labels, pad with label -1 / distance +inf."""
    ids = np.asarray(ids, np.int64)
    dist = np.asarray(dist, np.float64).copy()
    missing = ids < 0
    if max_distance is not None:
        missing |= dist > max_distance
    dist[missing] = np.inf
    ids = np.where(missing, np.iinfo(np.int64).max, ids)
    if ids.size:
        order = np.lexsort((ids, dist), axis=-1)
        ids = np.take_along_axis(ids, order, axis=1)
        dist = np.take_along_axis(dist, order, axis=1)
    missing = ~np.isfinite(dist)
    out_labels = np.full(ids.shape, -1, np.int64)
    out_labels[~missing] = labels[ids[~missing]]
    return QueryResult(out_labels, dist.astype(np.float32))


def pad_columns(ids: np.ndarray, dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad (n, m) candidate arrays to (n, k) with -1 / +inf (m <= k)."""
    n, m = ids.shape
    if m >= k:
        return ids, dist
    pid = np.full((n, k), -1, np.int64)
    pd = np.full((n, k), np.inf, np.float64)
    pid[:, :m] = ids
    pd[:, :m] = dist
    return pid, pd


# --------------------------------------------------------------------------- storage
class RowBuffer:
    """An append-only 2-D array with amortised O(1) appends (capacity grows 1.5x)."""

    def __init__(self, width: int, dtype: Any, data: np.ndarray | None = None) -> None:
        self.width = width
        self.dtype = np.dtype(dtype)
        if data is None:
            data = np.zeros((0, width), self.dtype)
        self._data = np.ascontiguousarray(data, dtype=self.dtype)
        self._n: int = self._data.shape[0]

    def __len__(self) -> int:
        return self._n

    @property
    def array(self) -> np.ndarray:
        return self._data[: self._n]

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def append(self, rows: np.ndarray) -> None:
        m = rows.shape[0]
        if m == 0:
            return
        need = self._n + m
        if need > self._data.shape[0]:
            cap = need if self._n == 0 else max(need, int(self._data.shape[0] * 1.5))
            new = np.empty((cap, self.width), self.dtype)
            new[: self._n] = self._data[: self._n]
            self._data = new
        self._data[self._n : need] = rows
        self._n = need


class LabelBuffer(RowBuffer):
    def __init__(self, data: np.ndarray | None = None) -> None:
        super().__init__(1, np.int64, None if data is None else np.asarray(data, np.int64).reshape(-1, 1))

    @property
    def array(self) -> np.ndarray:
        return self._data[: self._n, 0]

    def append(self, rows: np.ndarray) -> None:
        super().append(rows.reshape(-1, 1))


# --------------------------------------------------------------------------- files
def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` last and atomically, so a half-written index has no meta."""
    from kyodaku import __version__

    full = {"format": FORMAT, "format_version": FORMAT_VERSION, "kyodaku_version": __version__, **meta}
    tmp = directory / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(full, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, directory / META_FILE)


def read_meta(directory: Path, backend: str | None = None) -> dict[str, Any]:
    path = Path(directory) / META_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no index here: {path} does not exist")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a kyodaku index meta.json")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: index format version {meta.get('format_version')!r} is not supported "
            f"(this kyodaku reads version {FORMAT_VERSION}); rebuild the index"
        )
    if backend is not None and meta.get("backend") != backend:
        raise ValueError(f"{path}: index backend is {meta.get('backend')!r}, not {backend!r}")
    for key in ("kind", "dim", "count"):
        if key not in meta:
            raise ValueError(f"{path}: missing {key!r}")
    return meta


def save_array(directory: Path, name: str, array: np.ndarray) -> None:
    np.save(directory / name, np.ascontiguousarray(array), allow_pickle=False)


def load_array(directory: Path, name: str, dtype: Any, shape: tuple[int | None, ...]) -> np.ndarray:
    """Load ``name`` (never unpickling) and check its dtype and shape (None = any)."""
    array: np.ndarray = np.load(Path(directory) / name, allow_pickle=False)
    if array.dtype != np.dtype(dtype) or array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape)
    ):
        raise ValueError(
            f"{Path(directory) / name}: expected {np.dtype(dtype)} array of shape {shape}, "
            f"got {array.dtype} {array.shape}"
        )
    return array
