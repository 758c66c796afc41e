"""Exact brute-force search in NumPy: the reference implementation, and the default for
small registries (below a few tens of thousands of vectors).

Binary vectors are stored as little-endian uint64 words (the packed bytes zero-padded to a
multiple of 8) and compared with XOR + popcount (``np.bitwise_count`` on NumPy >= 2, a
256-entry lookup table otherwise).  Float vectors are compared with the
``|q|^2 - 2 q.x + |x|^2`` expansion (one BLAS product per block), and the k survivors
are re-measured exactly in float64, so a stored vector queried with itself is at
distance 0.  Distances are Hamming bits (binary) or Euclidean L2, not squared (float).

Work is done in blocks of queries x stored rows so temporary memory stays around
``block_bytes`` (default 1 MiB for binary, 32 MiB for float) whatever the index size.  Ties are broken by insertion
order (the vector added first comes first).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kyodaku.index._common import (
    LabelBuffer,
    RowBuffer,
    check_k,
    check_labels,
    check_max_distance,
    check_vectors,
    code_words,
    empty_result,
    finish,
    load_array,
    pad_columns,
    popcount64,
    read_meta,
    row_width,
    save_array,
    to_words,
    words_to_codes,
    write_meta,
)
from kyodaku.index.base import QueryResult, VectorIndex

#: ids are packed with distances into one int64 sort key: key = distance * _STRIDE + id
_ID_BITS = 40
_STRIDE = np.int64(1) << _ID_BITS
_NO_KEY = np.iinfo(np.int64).max


def hamming_block(qw: np.ndarray, xw: np.ndarray) -> np.ndarray:
    """Hamming distances (a, b) int32 between word-packed codes qw (a, W) and xw (b, W)."""
    dist = np.zeros((qw.shape[0], xw.shape[0]), np.int32)
    for j in range(qw.shape[1]):
        dist += popcount64(qw[:, j, None] ^ xw[None, :, j])
    return dist


def hamming_topk(
    qw: np.ndarray,
    xw: np.ndarray,
    k: int,
    *,
    radius: int | None = None,
    id_offset: int = 0,
    block_pairs: int = 1 << 15,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows of ``xw`` for each row of ``qw`` (Hamming, word-packed codes),
    optionally only those within ``radius`` (inclusive).

    Returns (ids (nq, k) int64 with -1 padding, distances (nq, k) float64 with +inf
    padding), sorted by (distance, id).  ``id_offset`` is added to the row numbers."""
    nq, n = qw.shape[0], xw.shape[0]
    if xw.shape[0] >= _STRIDE:
        raise ValueError("too many vectors for the exact index")
    m = min(k, n)
    if nq == 0 or n == 0:
        return pad_columns(np.zeros((nq, 0), np.int64), np.zeros((nq, 0)), k)
    chunk = min(n, max(1024, block_pairs // max(1, min(nq, 64))))
    qblock = max(1, block_pairs // chunk)
    out_keys = np.empty((nq, m), np.int64)
    for q0 in range(0, nq, qblock):
        q = qw[q0 : q0 + qblock]
        best = None
        for x0 in range(0, n, chunk):
            dist = hamming_block(q, xw[x0 : x0 + chunk]).astype(np.int64)
            keys = dist * _STRIDE + np.arange(x0, x0 + dist.shape[1], dtype=np.int64)
            if radius is not None:
                keys[dist > radius] = _NO_KEY
            if keys.shape[1] > m:
                keys = np.partition(keys, m - 1, axis=1)[:, :m]
            if best is not None:
                keys = np.concatenate([best, keys], axis=1)
                if keys.shape[1] > m:
                    keys = np.partition(keys, m - 1, axis=1)[:, :m]
            best = keys
        assert best is not None  # n > 0 (returned above otherwise): the loop ran
        out_keys[q0 : q0 + qblock] = np.sort(best, axis=1)
    found = out_keys != _NO_KEY
    ids = np.where(found, (out_keys % _STRIDE) + id_offset, -1)
    dist = np.where(found, (out_keys // _STRIDE).astype(np.float64), np.inf)
    return pad_columns(ids, dist, k)


def l2_topk(
    q: np.ndarray,
    x: np.ndarray,
    k: int,
    *,
    x_sqnorm: np.ndarray | None = None,
    block_pairs: int = 1 << 22,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows of ``x`` (float32) for each row of ``q`` by Euclidean distance.

    Returns (ids (nq, k) int64 -1 padded, L2 distances (nq, k) float64 +inf padded),
    sorted by (distance, id); distances of the survivors are recomputed exactly."""
    nq, n = q.shape[0], x.shape[0]
    m = min(k, n)
    if nq == 0 or n == 0:
        return pad_columns(np.zeros((nq, 0), np.int64), np.zeros((nq, 0)), k)
    if x_sqnorm is None:
        x_sqnorm = np.einsum("ij,ij->i", x, x, dtype=np.float32)
    chunk = min(n, max(1024, block_pairs // max(1, min(nq, 64))))
    qblock = max(1, block_pairs // chunk)
    out_ids = np.empty((nq, m), np.int64)
    for q0 in range(0, nq, qblock):
        qb = q[q0 : q0 + qblock]
        q_sqnorm = np.einsum("ij,ij->i", qb, qb, dtype=np.float32)[:, None]
        best_d = best_i = None
        for x0 in range(0, n, chunk):
            xb = x[x0 : x0 + chunk]
            # few queries: einsum, not BLAS; OpenBLAS threads on a busy 2-core machine made
            # a (1 x 128) @ (128 x 5000) product take 12 ms instead of 0.03 ms
            prod = np.einsum("ij,kj->ik", qb, xb) if qb.shape[0] < 16 else qb @ xb.T
            d2 = (q_sqnorm - 2.0 * prod) + x_sqnorm[None, x0 : x0 + chunk]
            ids = np.broadcast_to(np.arange(x0, x0 + xb.shape[0], dtype=np.int64), d2.shape)
            if best_d is not None:
                d2 = np.concatenate([best_d, d2], axis=1)
                ids = np.concatenate([best_i, ids], axis=1)
            if d2.shape[1] > m:
                part = np.argpartition(d2, m - 1, axis=1)[:, :m]
                d2 = np.take_along_axis(d2, part, axis=1)
                ids = np.take_along_axis(ids, part, axis=1)
            best_d, best_i = d2, np.ascontiguousarray(ids)
        out_ids[q0 : q0 + qblock] = best_i
    # exact re-measure of the m survivors (float64), then sort by (distance, id)
    diff = x[out_ids].astype(np.float64) - q[:, None, :].astype(np.float64)
    dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    order = np.lexsort((out_ids, dist), axis=-1)
    ids = np.take_along_axis(out_ids, order, axis=1)
    dist = np.take_along_axis(dist, order, axis=1)
    return pad_columns(ids, dist, k)


class ExactIndex(VectorIndex):
    """Exact brute-force index (NumPy only).  ``block_bytes`` bounds temporary memory."""

    backend = "exact"

    def __init__(self, kind: str, dim: int, *, block_bytes: int | None = None) -> None:
        super().__init__(kind, dim)
        if block_bytes is None:
            # binary: cache-sized blocks are fastest (measured: 1M codes, one query, 16 ms
            # with ~1 MiB blocks vs 45 ms with 32 MiB); float: big blocks feed BLAS better
            block_bytes = 1 << 20 if kind == "binary" else 32 << 20
        self.block_bytes = int(block_bytes)
        self._width = row_width(kind, dim)
        if kind == "binary":
            self._rows = RowBuffer(code_words(self._width), np.uint64)
        else:
            self._rows = RowBuffer(dim, np.float32)
            self._sqnorm = RowBuffer(1, np.float32)  # |x|^2 of each stored row
        self._labels = LabelBuffer()

    # ------------------------------------------------------------------ interface
    def __len__(self) -> int:
        return len(self._labels)

    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        vectors = check_vectors(self.kind, self.dim, vectors)
        labels = check_labels(labels, vectors.shape[0])
        if self.kind == "binary":
            self._rows.append(to_words(vectors))
        else:
            self._rows.append(vectors)
            self._sqnorm.append(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float32)[:, None])
        self._labels.append(labels)

    def query(self, vectors: np.ndarray, k: int, max_distance: float | None = None) -> QueryResult:
        vectors = check_vectors(self.kind, self.dim, vectors, "queries")
        k = check_k(k)
        max_distance = check_max_distance(max_distance)
        if len(self) == 0 or vectors.shape[0] == 0:
            return empty_result(vectors.shape[0], k)
        ids, dist = self.search_rows(vectors, k, max_distance)
        return finish(ids, dist, self._labels.array, max_distance)

    def search_rows(
        self, vectors: np.ndarray, k: int, max_distance: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Validated queries -> (row ids, distances), both (n, k), -1 / +inf padded."""
        if self.kind == "binary":
            radius = None if max_distance is None else int(np.floor(max_distance))
            pairs = max(1024, self.block_bytes // 24)
            return hamming_topk(to_words(vectors), self._rows.array, k, radius=radius, block_pairs=pairs)
        pairs = max(1024, self.block_bytes // 12)
        return l2_topk(vectors, self._rows.array, k, x_sqnorm=self._sqnorm.array[:, 0], block_pairs=pairs)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_array(directory, "vectors.npy", self.vectors)
        save_array(directory, "labels.npy", self._labels.array)
        write_meta(
            directory,
            {
                "backend": self.backend,
                "kind": self.kind,
                "dim": self.dim,
                "count": len(self),
                "params": {"block_bytes": self.block_bytes},
            },
        )

    @classmethod
    def load(cls, directory: Path) -> "ExactIndex":
        meta = read_meta(Path(directory), cls.backend)
        index = cls(meta["kind"], int(meta["dim"]), **meta.get("params", {}))
        n = int(meta["count"])
        dtype = np.uint8 if index.kind == "binary" else np.float32
        vectors = load_array(Path(directory), "vectors.npy", dtype, (n, index._width))
        labels = load_array(Path(directory), "labels.npy", np.int64, (n,))
        index.add(vectors, labels)
        return index

    # ------------------------------------------------------------------ extras
    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors, as added: (n, dim // 8) uint8 or (n, dim) float32."""
        if self.kind == "binary":
            return words_to_codes(self._rows.array, self._width)
        return self._rows.array

    @property
    def labels(self) -> np.ndarray:
        return self._labels.array

    def nbytes(self) -> int:
        total = self._rows.nbytes + self._labels.nbytes
        if self.kind == "float":
            total += self._sqnorm.nbytes
        return total
