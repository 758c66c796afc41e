"""Multi-index hashing (Norouzi, Punjani & Fleet, "Fast exact search in Hamming space with
multi-index hashing", TPAMI 2014) in NumPy: the fast index for large binary registries
(PDQ hashes), exact for radius queries.

How it works.  A ``dim``-bit code is cut into ``nhash = dim // b`` disjoint substrings of
``b`` bits.  For each substring position there is a table mapping every ``b``-bit value
to the stored rows that have it, laid out as one sorted array of row ids plus an offset
array of ``2**b + 1`` entries (CSR).  By the pigeonhole principle, a stored code within
Hamming distance ``r`` of the query differs from it by at most ``r // nhash`` bits in at
least one substring, so probing every table with all values within ``r // nhash`` bit
flips of the query's substring finds every code within ``r``: the search is exact, not
approximate.  Candidates are then verified with the full Hamming distance.

Why not ``faiss.IndexBinaryMultiHash``, which implements the same idea?  It stores its
tables as ``std::unordered_map`` of ``std::vector`` and collects candidates in an
``std::unordered_set``.  Measured with ``benchmarks/bench_index.py`` on a shared 2-core
machine, 8M random 256-bit codes (1M references x 8 dihedral hashes), radius 31, one
query on one thread, two runs: IndexBinaryMultiHash p50 19-36 ms and 1.7 GB RSS (flat
scan: 30-54 ms, 0.3 GB); this CSR layout p50 2.3-2.5 ms and 0.8 GB, exact (recall 1.0).

Queries without ``max_distance`` (plain k-NN), or with a radius so large that the probes
would touch more than a quarter of the table entries, fall back to an exact brute-force
scan, so results are always exact; only their speed depends on the radius.

Incremental adds.  ``add`` only appends rows; they form an unindexed *tail* that queries
scan by brute force.  The tables are (re)built on the next query once the tail exceeds
``max(tail_min, tail_fraction * indexed rows)`` rows, or explicitly by :meth:`build`.
A catalog imported in many batches with no queries in between is therefore indexed once;
interleaving single adds and queries costs a rebuild every ``tail_fraction`` growth.
The tables are saved with the index, so loading does not rebuild them.

Not safe for concurrent ``add`` and ``query`` from several threads; concurrent queries are
fine (the lazy rebuild is guarded by a lock).
"""

from __future__ import annotations

import itertools
import math
import threading
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
    hamming_radius,
    load_array,
    popcount64,
    read_meta,
    save_array,
    to_words,
    words_to_codes,
    write_meta,
)
from kyodaku.index.base import QueryResult, VectorIndex
from kyodaku.index.exact import hamming_topk

_STRIDE = np.int64(1) << 40


def default_substring_bits(expected_size: int | None) -> int:
    """Substring width for an expected number of stored codes.

    Norouzi et al. suggest ``b ~ log2(n)``; the offset arrays cost ``4 * 2**b`` bytes per
    table, so b is capped at 20 (measured for 8M codes, radius 31, on a 2-core machine:
    b=20 2.2 ms, b=16 4.6 ms, b=24 2.5 ms with 0.6 GB more; at 1M codes b=16 and b=20
    are within 15% of each other)."""
    if expected_size is None or expected_size < 2_000_000:
        return 16
    return 20


def _substring(words: np.ndarray, t: int, b: int) -> np.ndarray:
    """Value of substring ``t`` (bits t*b .. t*b+b-1 of the little-endian words), int64."""
    bit = t * b
    lo, off = bit >> 6, bit & 63
    v = words[:, lo] >> np.uint64(off)
    if off + b > 64:
        v = v | (words[:, lo + 1] << np.uint64(64 - off))
    return (v & np.uint64((1 << b) - 1)).astype(np.int64)


class MIHIndex(VectorIndex):
    """Exact multi-index-hashing index for binary codes (see the module docstring).

    ``b``: substring bits (the index uses ``dim // b`` tables; leftover bits are verified
    but not hashed).  ``tail_min`` / ``tail_fraction``: when to rebuild the tables."""

    backend = "mih"

    def __init__(
        self,
        kind: str,
        dim: int,
        *,
        b: int = 16,
        tail_min: int = 4096,
        tail_fraction: float = 1 / 32,
    ) -> None:
        super().__init__(kind, dim)
        if kind != "binary":
            raise ValueError("MIHIndex (multi-index hashing) needs binary vectors; use 'exact' or 'faiss' for float")
        b = int(b)
        if not 1 <= b <= 32:
            raise ValueError(f"substring bits b must be in 1..32; got {b}")
        self.b = min(b, dim)
        self.nhash = dim // self.b
        self.tail_min = int(tail_min)
        self.tail_fraction = float(tail_fraction)
        self._width = dim // 8
        self._rows = RowBuffer(code_words(self._width), np.uint64)
        self._labels = LabelBuffer()
        self._n_indexed = 0
        self._order = np.zeros((self.nhash, 0), np.int32)  # row ids sorted by substring value
        self._offsets = np.zeros((self.nhash, (1 << self.b) + 1), np.int32)
        self._flips: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ interface
    def __len__(self) -> int:
        return len(self._labels)

    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        vectors = check_vectors(self.kind, self.dim, vectors)
        labels = check_labels(labels, vectors.shape[0])
        self._rows.append(to_words(vectors))
        self._labels.append(labels)

    def query(self, vectors: np.ndarray, k: int, max_distance: float | None = None) -> QueryResult:
        vectors = check_vectors(self.kind, self.dim, vectors, "queries")
        k = check_k(k)
        max_distance = check_max_distance(max_distance)
        n = vectors.shape[0]
        if len(self) == 0 or n == 0:
            return empty_result(n, k)
        radius = hamming_radius(max_distance)
        qw = to_words(vectors)
        if radius is None or not self._tables_pay_off(radius):
            ids, dist = hamming_topk(qw, self._rows.array, k, radius=radius)
            return finish(ids, dist, self._labels.array, max_distance)
        self._maybe_build()
        ids = np.full((n, k), -1, np.int64)
        dist = np.full((n, k), np.inf, np.float64)
        for i in range(n):
            row_ids, row_d = self._search_one(qw[i], k, radius)
            ids[i, : row_ids.size] = row_ids
            dist[i, : row_ids.size] = row_d
        return finish(ids, dist, self._labels.array, max_distance)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_array(directory, "vectors.npy", self.vectors)
        save_array(directory, "labels.npy", self._labels.array)
        save_array(directory, "mih_order.npy", self._order)
        save_array(directory, "mih_offsets.npy", self._offsets)
        write_meta(
            directory,
            {
                "backend": self.backend,
                "kind": self.kind,
                "dim": self.dim,
                "count": len(self),
                "n_indexed": self._n_indexed,
                "nhash": self.nhash,
                "params": {"b": self.b, "tail_min": self.tail_min, "tail_fraction": self.tail_fraction},
            },
        )

    @classmethod
    def load(cls, directory: Path) -> "MIHIndex":
        directory = Path(directory)
        meta = read_meta(directory, cls.backend)
        index = cls(meta["kind"], int(meta["dim"]), **meta.get("params", {}))
        n, n_idx = int(meta["count"]), int(meta.get("n_indexed", 0))
        if not 0 <= n_idx <= n or int(meta.get("nhash", index.nhash)) != index.nhash:
            raise ValueError(f"{directory}: inconsistent multi-index hashing meta.json")
        index.add(
            load_array(directory, "vectors.npy", np.uint8, (n, index._width)),
            load_array(directory, "labels.npy", np.int64, (n,)),
        )
        order = np.load(directory / "mih_order.npy", allow_pickle=False)
        offsets = np.load(directory / "mih_offsets.npy", allow_pickle=False)
        ok = (
            order.dtype in (np.int32, np.int64)
            and offsets.dtype in (np.int32, np.int64)
            and order.shape == (index.nhash, n_idx)
            and offsets.shape == (index.nhash, (1 << index.b) + 1)
            and (n_idx == 0 or (int(order.min()) >= 0 and int(order.max()) < n_idx))
            and bool((offsets[:, 0] == 0).all() and (offsets[:, -1] == n_idx).all())
        )
        if not ok:
            raise ValueError(f"{directory}: multi-index hashing tables do not match meta.json")
        index._order, index._offsets, index._n_indexed = order, offsets, n_idx
        return index

    # ------------------------------------------------------------------ extras
    @property
    def vectors(self) -> np.ndarray:
        return words_to_codes(self._rows.array, self._width)

    @property
    def labels(self) -> np.ndarray:
        return self._labels.array

    @property
    def n_indexed(self) -> int:
        """Rows covered by the hash tables (the rest are scanned by brute force)."""
        return self._n_indexed

    def nbytes(self) -> int:
        return int(self._rows.nbytes + self._labels.nbytes + self._order.nbytes + self._offsets.nbytes)

    def build(self) -> None:
        """(Re)build the hash tables over every stored row now."""
        with self._lock:
            self._build_locked()

    # ------------------------------------------------------------------ internals
    def _maybe_build(self) -> None:
        tail = len(self) - self._n_indexed
        if tail > max(self.tail_min, int(self.tail_fraction * self._n_indexed)):
            with self._lock:
                tail = len(self) - self._n_indexed
                if tail > max(self.tail_min, int(self.tail_fraction * self._n_indexed)):
                    self._build_locked()

    def _build_locked(self) -> None:
        words = self._rows.array
        n = words.shape[0]
        id_dtype = np.int32 if n < 2**31 else np.int64
        order = np.empty((self.nhash, n), id_dtype)
        offsets = np.zeros((self.nhash, (1 << self.b) + 1), id_dtype)
        key_dtype = np.uint16 if self.b <= 16 else np.uint32  # uint16 keys sort by radix sort
        for t in range(self.nhash):
            key = _substring(words, t, self.b)
            order[t] = np.argsort(key.astype(key_dtype), kind="stable")
            np.cumsum(np.bincount(key, minlength=1 << self.b), out=offsets[t, 1:])
        self._order, self._offsets, self._n_indexed = order, offsets, n

    def _flip_masks(self, nflip: int) -> np.ndarray:
        """All b-bit masks with at most ``nflip`` bits set (int64)."""
        masks = self._flips.get(nflip)
        if masks is None:
            out = [0]
            for f in range(1, nflip + 1):
                for bits in itertools.combinations(range(self.b), f):
                    out.append(sum(1 << i for i in bits))
            masks = self._flips[nflip] = np.array(out, np.int64)
        return masks

    def _tables_pay_off(self, radius: int) -> bool:
        """Probing reaches about nhash * probes / 2**b of the stored rows: worth it only
        while that is well below a full scan."""
        nflip = radius // self.nhash
        probes = sum(math.comb(self.b, i) for i in range(min(nflip, self.b) + 1))
        return self.nhash * probes * 4 <= (1 << self.b)

    def _search_one(self, q: np.ndarray, k: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows within ``radius`` of one word-packed query q (W,), best k by (distance, id)."""
        words = self._rows.array
        n_idx = self._n_indexed
        parts_ids, parts_d = [], []
        if n_idx:
            masks = self._flip_masks(radius // self.nhash)
            qsub = np.array([_substring(q[None, :], t, self.b)[0] for t in range(self.nhash)], np.int64)
            probes = qsub[:, None] ^ masks[None, :]  # (nhash, P)
            rows = np.arange(self.nhash)[:, None]
            starts = self._offsets[rows, probes].astype(np.int64)
            lens = (self._offsets[rows, probes + 1] - starts).ravel()
            starts = (starts + rows * n_idx).ravel()
            hit = lens > 0
            if hit.any():
                starts, lens = starts[hit], lens[hit]
                ends = np.cumsum(lens)
                pos = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(starts - (ends - lens), lens)
                cand = self._order.reshape(-1)[pos].astype(np.int64)
                d = popcount64(words[cand] ^ q[None, :]).sum(axis=1, dtype=np.int64)
                keep = d <= radius
                parts_ids.append(cand[keep])
                parts_d.append(d[keep])
        if n_idx < words.shape[0]:
            tail = words[n_idx:]
            d = popcount64(tail ^ q[None, :]).sum(axis=1, dtype=np.int64)
            keep = np.flatnonzero(d <= radius)
            parts_ids.append(keep + n_idx)
            parts_d.append(d[keep])
        if not parts_ids:
            return np.zeros(0, np.int64), np.zeros(0)
        keys = np.unique(np.concatenate(parts_d) * _STRIDE + np.concatenate(parts_ids))[:k]
        return keys % _STRIDE, (keys // _STRIDE).astype(np.float64)


__all__ = ["MIHIndex", "default_substring_bits"]
