"""A compact local-feature index: visual vocabulary, inverted file, Hamming embedding.

What large-scale image search uses for local descriptors instead of a k-NN search of
every descriptor (Jégou, Douze, Schmid 2008, "Hamming embedding and weak geometric
consistency for large scale image search"; for binary descriptors, the vocabulary tree
of Gálvez-López and Tardós 2012, "Bags of binary words").  Binary vectors only (ORB's
256 bits).

Vocabulary.  A two-level tree: ``nlist1`` top words and ``nlist2`` sub-words under each
(``nlist1 * nlist2`` words, 65,536 by default).  Both levels are k-means on the unpacked
bits (``faiss.Kmeans``, float L2 on 0/1 vectors = Hamming) with the centroids rounded to
bits (majority), as FAISS's own ``IndexBinaryIVF.train`` does; assigning a descriptor
costs ``nlist1 + nlist2`` Hamming distances instead of one per word.  A stored
descriptor goes to one word (nearest top word, then its nearest sub-word); a query
descriptor is multi-assigned to ``ma`` words: that same greedy word first, then the
nearest sub-words under its ``ma1`` nearest top words.

Inverted file.  Per word, the stored descriptors' rows and a ``sig_bits``-bit
signature: the bits of the descriptor at the ``sig_bits`` positions
that vary most among that word's training descriptors (p(1-p) largest; the binary analogue
of HE's per-word median thresholds: a bit constant inside a word says nothing about which
of its members is nearer).  A query descriptor's signature in a word is taken at the same
positions; list entries further than ``ht`` signature bits are dropped (HE's threshold),
the rest ranked by signature distance.  The lists are a FAISS ``IndexBinaryIVF`` over the
signatures, filled with ``add_core`` and searched with ``search_preassigned`` (words
chosen here on the full descriptors; each (query descriptor, word) pair is one FAISS
query with its own signature), so the scan runs in C++.  RAM per stored descriptor:
sig_bits / 8 + 8 bytes (FAISS keeps int64 ids): 16 for 64 bits, 12 for 32, plus the
vocabulary (~6.3 MB at 65,536 words: sub-words 2 MB, bit selections 4 MB).  uint32 row ids would save 4 more (a list layout
of our own: not done yet).

Distances.  With ``rerank`` > 0 (default 16) each query descriptor's ``rerank`` best
candidates by signature are re-measured on the full descriptors, so the distances
returned are exact Hamming bits (only the candidate set is approximate).  With
``rerank=0`` they are estimates on the full 256-bit scale: signature distance x the
word's ``scale`` (expected full / signature distance between two of its training
descriptors); ``max_distance`` then filters estimates.

Full descriptors.  Kept for the re-ranking and for geometric verification, not for the
search: in RAM while an index is built, saved as ``descriptors.npy`` and memory-mapped
on load (read only for candidates; ``mapped_nbytes()``).  Labels equal to the row
numbers (what ``ReferenceSet`` adds: ``np.arange(n)``) are not stored at all; other
labels go to ``labels.npy``, memory-mapped too.

Training.  Until ``train_size`` vectors were added (default 16 per word) they sit in an
:class:`~kyodaku.index.exact.ExactIndex` and queries are exact; then the vocabulary is
trained on (at most ``train_max``, an even spread of) them and every vector goes into
the lists.  :meth:`train` trains it explicitly on a sample.  The vocabulary is never
retrained: data that drifts a lot should be rebuilt.  With the default 65,536 words an
index stays exact (and slow) below 1M vectors: choose fewer words for small sets.

Measured on real ORB descriptors (``benchmarks/bench_he_index.py``, docs/index.md): at
1,000 pictures 0.41x the reference set's IVF query time and 1/3 of its RAM, with lower
descriptor recall (vote recall 0.47 vs 0.82) and the same top picture by votes.

Saved as ``.npy`` arrays plus ``meta.json`` (never pickled).  Not thread-safe for ``add``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from kyodaku.index._common import (
    LabelBuffer,
    RowBuffer,
    check_k,
    check_labels,
    check_max_distance,
    check_vectors,
    empty_result,
    finish,
    load_array,
    popcount64,
    read_meta,
    to_words,
    write_meta,
)
from kyodaku.index.base import QueryResult, VectorIndex
from kyodaku.index.exact import ExactIndex
from kyodaku.index.faiss_index import single_thread_if

DEFAULT_PARAMS: dict[str, Any] = {
    "nlist1": 256, "nlist2": 256, "ma": 3, "ma1": 2, "sig_bits": 64, "ht": None,
    "rerank": 16, "train_size": None, "train_max": None, "seed": 1234,
}
_SIG_DTYPES = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}
_CHUNK = 1 << 18  # rows unpacked to bits at a time


class _Identity:
    """Labels equal to row numbers: ``labels[rows]`` is ``rows``."""

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(rows, np.int64)


def _kmeans_bits(x: np.ndarray, k: int, seed: int, niter: int = 20) -> np.ndarray:
    """k binary centroids (majority-rounded float k-means on the bits) of packed ``x``."""
    bits = np.unpackbits(x, axis=1).astype(np.float32)
    k = max(1, min(k, len(np.unique(x, axis=0))))
    if k == 1:
        return np.packbits(bits.mean(0, keepdims=True) > 0.5, axis=1)
    km = faiss.Kmeans(bits.shape[1], k, niter=niter, seed=seed, verbose=False,
                      min_points_per_centroid=1, max_points_per_centroid=256)
    km.train(bits)
    centroids = km.centroids  # faiss's stub: None until train() has run
    assert centroids is not None
    return np.packbits(centroids > 0.5, axis=1)


def _flat(codes: np.ndarray) -> Any:
    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(np.ascontiguousarray(codes))
    return index


def _save(directory: Path, name: str, array: np.ndarray) -> None:
    """np.save through a temporary file: the old file may be memory-mapped by this index."""
    tmp = directory / (name + ".tmp.npy")
    np.save(tmp, np.ascontiguousarray(array), allow_pickle=False)
    os.replace(tmp, directory / name)


def _mapped(directory: Path, name: str, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    array: np.ndarray = np.load(directory / name, mmap_mode="r", allow_pickle=False)
    if array.dtype != np.dtype(dtype) or array.shape != shape:
        raise ValueError(f"{directory / name}: expected {np.dtype(dtype)} {shape}, got {array.dtype} {array.shape}")
    return array


class HammingIndex(VectorIndex):
    """Vocabulary tree + inverted file + Hamming-embedding signatures (module docstring)."""

    backend = "he"
    structure = "he"

    def __init__(self, kind: str, dim: int, **params: Any) -> None:
        super().__init__(kind, dim)
        if kind != "binary":
            raise ValueError("the Hamming-embedding index holds binary vectors only")
        unknown = set(params) - set(DEFAULT_PARAMS)
        if unknown:
            raise ValueError(f"unknown parameter(s) for the he index: {', '.join(sorted(unknown))}")
        p = {**DEFAULT_PARAMS, **params}
        for key in ("nlist1", "nlist2", "ma", "ma1", "sig_bits", "rerank", "seed"):
            p[key] = int(p[key])
        if p["sig_bits"] not in _SIG_DTYPES or p["sig_bits"] > dim:
            raise ValueError(f"sig_bits must be 8, 16, 32 or 64 (and <= dim); got {p['sig_bits']}")
        if min(p["nlist1"], p["nlist2"], p["ma"], p["ma1"]) < 1 or p["rerank"] < 0:
            raise ValueError("nlist1, nlist2, ma, ma1 must be >= 1 and rerank >= 0")
        p["ht"] = int(p["ht"]) if p["ht"] is not None else int(np.ceil(0.375 * p["sig_bits"]))
        nwords = p["nlist1"] * p["nlist2"]
        p["train_size"] = 16 * nwords if p["train_size"] is None else max(1, int(p["train_size"]))
        p["train_max"] = max(int(p["train_max"] or 32 * nwords), p["train_size"])
        self.params = p
        self.nwords = nwords
        self._width = dim // 8
        self._sig_dtype = _SIG_DTYPES[p["sig_bits"]]
        self._exact: ExactIndex | None = ExactIndex(kind, dim)  # the buffer until trained
        self._disk: np.ndarray | None = None  # memory-mapped descriptors (after load)
        self._tail = RowBuffer(self._width, np.uint8)  # descriptors in RAM
        self._labels: Any = _Identity()  # or a LabelBuffer / memory-mapped int64 array
        self._count = 0
        # the vocabulary, once trained: top words, sub-words, each word's bit selection and scale
        self._top: np.ndarray | None = None
        self._sub: np.ndarray | None = None
        self._sel: np.ndarray | None = None
        self._scale: np.ndarray | None = None
        self._lists: Any = None  # faiss.IndexBinaryIVF over the signatures (see _new_lists)
        self._top_index: Any = None
        self._sub_index: dict[int, Any] = {}

    @property
    def trained(self) -> bool:
        return self._exact is None

    @property
    def approximate(self) -> bool:
        return self.trained

    def __len__(self) -> int:
        return self._count

    # ------------------------------------------------------------------ training
    def train(self, vectors: np.ndarray) -> None:
        """Train the vocabulary on ``vectors`` (a sample of the descriptors to come) and
        move any buffered vectors into the inverted lists."""
        if self.trained:
            raise ValueError("the he index is trained already (its vocabulary is never retrained)")
        x = check_vectors(self.kind, self.dim, vectors)
        if len(x) == 0:
            raise ValueError("cannot train on zero vectors")
        p = self.params
        if len(x) > p["train_max"]:
            x = x[np.linspace(0, len(x) - 1, p["train_max"]).astype(np.int64)]
        rng = np.random.default_rng(p["seed"])
        n1, n2, sb = p["nlist1"], p["nlist2"], p["sig_bits"]
        sample = x if len(x) <= 256 * n1 else x[np.sort(rng.choice(len(x), 256 * n1, replace=False))]
        top = _kmeans_bits(sample, n1, p["seed"])
        top = np.concatenate([top, np.repeat(~top[:1], n1 - len(top), axis=0)])  # far padding
        _, assign = _flat(top).search(x, 1)
        sub = np.empty((n1, n2, self._width), np.uint8)
        sel = np.empty((n1 * n2, sb), np.uint8)
        scale = np.empty(n1 * n2, np.float32)
        for t in range(n1):
            members = x[assign[:, 0] == t]
            if len(members) == 0:
                members = top[t:t + 1]
            cents = _kmeans_bits(members, min(n2, max(1, len(members) // 4)), p["seed"] + t)
            sub[t, : len(cents)] = cents
            sub[t, len(cents):] = ~top[t]  # padding words: far from this top word's descriptors
            _, a = _flat(cents).search(members, 1)
            bits = np.unpackbits(members, axis=1).astype(np.float32)
            onehot = np.zeros((n2, len(members)), np.float32)
            onehot[a[:, 0], np.arange(len(members))] = 1
            ones, count = onehot @ bits, onehot.sum(1, keepdims=True)
            prior = bits.mean(0, keepdims=True)
            prob = (ones + 8 * prior) / (count + 8)  # smoothed towards the top word's bits
            var = prob * (1 - prob) + 1e-9
            chosen = np.sort(np.argsort(-var, axis=1, kind="stable")[:, :sb], axis=1)
            sel[t * n2:(t + 1) * n2] = chosen
            scale[t * n2:(t + 1) * n2] = var.sum(1) / np.take_along_axis(var, chosen, 1).sum(1)
        self._top, self._sub, self._sel, self._scale = top, sub, sel, scale
        self._build_quantizers()
        exact, self._exact = self._exact, None
        if exact is not None and len(exact):
            self._tail.append(exact.vectors)
            labels = exact.labels
            if not np.array_equal(labels, np.arange(len(labels))):
                self._labels = LabelBuffer(labels)
        self._lists = self._new_lists()
        if exact is not None and len(exact):
            self._add_lists(exact.vectors, 0)

    def _new_lists(self) -> Any:
        """The inverted lists: a FAISS ``IndexBinaryIVF`` over the ``sig_bits``-bit
        signatures with one list per word.  Its own quantizer is never used (words are
        assigned on the full descriptors with the vocabulary tree, then passed to
        ``add_core`` / ``search_preassigned``); FAISS scans the lists in C++."""
        self._lists_quantizer = faiss.IndexBinaryFlat(self.params["sig_bits"])
        lists = faiss.IndexBinaryIVF(self._lists_quantizer, self.params["sig_bits"], self.nwords)
        lists.is_trained = True
        lists.nprobe = 1
        return lists

    def _vocabulary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The trained vocabulary (top, sub, sel, scale): set by train() and load()."""
        if self._top is None or self._sub is None or self._sel is None or self._scale is None:
            raise RuntimeError("the he index has no vocabulary before it is trained")
        return self._top, self._sub, self._sel, self._scale

    def _build_quantizers(self) -> None:
        self._top_index = _flat(self._vocabulary()[0])
        self._sub_index = {}

    def _sub_flat(self, t: int) -> Any:
        index = self._sub_index.get(t)
        if index is None:
            index = self._sub_index[t] = _flat(self._vocabulary()[1][t])
        return index

    def _sub_search(self, x: np.ndarray, tops: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row, its ``k`` nearest sub-words under top word ``tops[i]``: (words, dist)."""
        n2 = self.params["nlist2"]
        words = np.empty((len(x), k), np.int64)
        dist = np.empty((len(x), k), np.int64)
        order = np.argsort(tops, kind="stable")
        sorted_tops = tops[order]
        cuts = np.flatnonzero(np.diff(sorted_tops)) + 1
        for part in np.split(order, cuts):
            if len(part) == 0:
                continue
            t = int(tops[part[0]])
            d, i = self._sub_flat(t).search(x[part], k)
            words[part], dist[part] = t * n2 + i, d
        return words, dist

    def _assign(self, x: np.ndarray) -> np.ndarray:
        """The one word each stored descriptor goes to."""
        _, top = self._top_index.search(x, 1)
        return self._sub_search(x, top[:, 0], 1)[0][:, 0]

    def _signatures(self, x: np.ndarray, words: np.ndarray) -> np.ndarray:
        out = np.empty(len(x), self._sig_dtype)
        sel = self._vocabulary()[2]
        for a in range(0, len(x), _CHUNK):
            bits = np.unpackbits(x[a:a + _CHUNK], axis=1)
            picked = np.take_along_axis(bits, sel[words[a:a + _CHUNK]].astype(np.intp), axis=1)
            out[a:a + _CHUNK] = np.packbits(picked, axis=1, bitorder="little").view(self._sig_dtype)[:, 0]
        return out

    def _add_lists(self, x: np.ndarray, first_row: int) -> None:
        for a in range(0, len(x), _CHUNK):
            part = np.ascontiguousarray(x[a:a + _CHUNK])
            words = np.ascontiguousarray(self._assign(part), dtype=np.int64)
            sigs = np.ascontiguousarray(self._signatures(part, words)).view(np.uint8)
            ids = np.arange(first_row + a, first_row + a + len(part), dtype=np.int64)
            self._lists.add_core(len(part), faiss.swig_ptr(sigs), faiss.swig_ptr(ids), faiss.swig_ptr(words))

    # ------------------------------------------------------------------ interface
    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        vectors = check_vectors(self.kind, self.dim, vectors)
        labels = check_labels(labels, vectors.shape[0])
        m = len(vectors)
        if m == 0:
            return
        if self._count + m >= 2**32:
            raise ValueError("an he index holds fewer than 2**32 vectors (shard past that)")
        if self._exact is not None:
            self._exact.add(vectors, labels)
            self._count += m
            if self._count >= self.params["train_size"]:
                self.train(self._exact.vectors)
            return
        if isinstance(self._labels, _Identity) and not np.array_equal(labels, np.arange(self._count, self._count + m)):
            self._labels = LabelBuffer(np.arange(self._count, dtype=np.int64))
        if not isinstance(self._labels, (LabelBuffer, _Identity)):  # memory-mapped: copy to grow
            self._labels = LabelBuffer(np.asarray(self._labels))
        if not isinstance(self._labels, _Identity):
            self._labels.append(labels)
        self._add_lists(vectors, self._count)
        self._tail.append(vectors)
        self._count += m

    def descriptors(self, rows: np.ndarray) -> np.ndarray:
        """Full stored descriptors of ``rows`` (from the memory-mapped file where saved)."""
        rows = np.asarray(rows, np.int64)
        picked: np.ndarray
        if self._exact is not None:
            picked = self._exact.vectors[rows]
            return picked
        disk = self._disk
        on_disk = 0 if disk is None else len(disk)
        if disk is None or on_disk == 0:
            picked = self._tail.array[rows]
            return picked
        out = np.empty((len(rows), self._width), np.uint8)
        low = rows < on_disk
        out[low] = disk[rows[low]]
        out[~low] = self._tail.array[rows[~low] - on_disk]
        return out

    def query(self, vectors: np.ndarray, k: int, max_distance: float | None = None) -> QueryResult:
        q = check_vectors(self.kind, self.dim, vectors, "queries")
        k = check_k(k)
        max_distance = check_max_distance(max_distance)
        n = len(q)
        if self._count == 0 or n == 0:
            return empty_result(n, k)
        if self._exact is not None:
            return self._exact.query(q, k, max_distance)
        with single_thread_if(True):  # many tiny FAISS searches: OpenMP teams only cost
            ids, dist = self._search(q, k)
        labels = self._labels.array if isinstance(self._labels, LabelBuffer) else self._labels
        res = finish(ids, dist, labels, max_distance)
        return QueryResult(np.ascontiguousarray(res.labels[:, :k]), np.ascontiguousarray(res.distances[:, :k]))

    def _probe_words(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, word) pairs: the greedy word first, then the nearest others."""
        p, n = self.params, len(q)
        ma1, ma = min(p["ma1"], p["nlist1"]), min(p["ma"], p["nlist1"] * p["nlist2"])
        _, tops = self._top_index.search(q, ma1)
        kk = min(ma, p["nlist2"])
        qi = np.repeat(np.arange(n), ma1)
        words, dist = self._sub_search(q[qi], tops.reshape(-1), kk)
        dist = dist.reshape(n, ma1 * kk)
        words = words.reshape(n, ma1 * kk)
        dist[:, 0] = -1  # greedy path: where a stored copy of this descriptor would be
        order = np.argsort(dist, axis=1, kind="stable")[:, :ma]
        chosen = np.take_along_axis(words, order, axis=1)  # distinct: (top, sub) pairs differ
        return np.repeat(np.arange(n), chosen.shape[1]), chosen.reshape(-1)

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and distances (n, >= k), unsorted, -1 / inf padded."""
        p, n = self.params, len(q)
        pq, pw = self._probe_words(q)
        ma = len(pw) // n
        short = max(p["rerank"], k)
        qsig = np.ascontiguousarray(self._signatures(q[pq], pw)).view(np.uint8).reshape(len(pw), -1)
        d, ids = self._lists.search_preassigned(qsig, short, pw.reshape(-1, 1), np.zeros((len(pw), 1), np.int32))
        d = np.where((ids < 0) | (d > p["ht"]), np.iinfo(np.int32).max, d).reshape(n, ma * short)
        ids = ids.reshape(n, ma * short)
        if ma * short > short:  # each query's `short` best over its probed words
            part = np.argpartition(d, short - 1, axis=1)[:, :short]
            d, ids = np.take_along_axis(d, part, 1), np.take_along_axis(ids, part, 1)
            word_of = np.take_along_axis(np.repeat(pw.reshape(n, ma), short, axis=1), part, 1)
        else:
            word_of = np.repeat(pw.reshape(n, ma), short, axis=1)
        found = d < np.iinfo(np.int32).max
        ids = np.where(found, ids, -1)
        dist = np.full(ids.shape, np.inf)
        if not found.any():
            return ids, dist
        if p["rerank"]:
            full = to_words(self.descriptors(ids[found]))
            qrow = np.nonzero(found)[0]
            dist[found] = popcount64(full ^ to_words(q)[qrow]).sum(axis=1, dtype=np.int64)
        else:
            dist[found] = d[found] * self._vocabulary()[3][word_of[found]].astype(np.float64)
        return ids, dist

    # ------------------------------------------------------------------ files
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        identity = isinstance(self._labels, _Identity)
        if self._exact is not None:
            _save(directory, "descriptors.npy", self._exact.vectors)
            labels = self._exact.labels
            identity = bool(np.array_equal(labels, np.arange(len(labels))))
            if not identity:
                _save(directory, "labels.npy", labels)
        else:
            _save(directory, "descriptors.npy", self.descriptors(np.arange(self._count)))
            if not identity:
                _save(directory, "labels.npy", np.asarray(
                    self._labels.array if isinstance(self._labels, LabelBuffer) else self._labels))
            top, sub, sel, scale = self._vocabulary()
            for name, array in (("vocab_top.npy", top), ("vocab_sub.npy", sub), ("select.npy", sel),
                                ("scale.npy", scale), ("lists.npy", faiss.serialize_index_binary(self._lists))):
                _save(directory, name, array)
        for stale in ("labels.npy",) if identity else ():
            (directory / stale).unlink(missing_ok=True)
        write_meta(directory, {"backend": self.backend, "kind": self.kind, "dim": self.dim,
                               "count": self._count, "params": self.params, "trained": self.trained,
                               "identity_labels": identity, "faiss_version": faiss.__version__})

    @classmethod
    def load(cls, directory: Path) -> "HammingIndex":
        directory = Path(directory)
        meta = read_meta(directory, cls.backend)
        index = cls(meta["kind"], int(meta["dim"]), **meta.get("params", {}))
        n, w, p = int(meta["count"]), index._width, index.params
        desc = _mapped(directory, "descriptors.npy", np.uint8, (n, w))
        labels = np.arange(n) if meta["identity_labels"] else _mapped(directory, "labels.npy", np.int64, (n,))
        if not meta["trained"]:
            index.add(np.asarray(desc), np.asarray(labels))
            return index
        n1, n2, nw = p["nlist1"], p["nlist2"], index.nwords
        index._top = load_array(directory, "vocab_top.npy", np.uint8, (n1, w))
        index._sub = load_array(directory, "vocab_sub.npy", np.uint8, (n1, n2, w))
        index._sel = load_array(directory, "select.npy", np.uint8, (nw, p["sig_bits"]))
        index._scale = load_array(directory, "scale.npy", np.float32, (nw,))
        lists = faiss.deserialize_index_binary(load_array(directory, "lists.npy", np.uint8, (None,)))
        if not isinstance(lists, faiss.IndexBinaryIVF) or lists.ntotal != n or lists.nlist != nw:
            raise ValueError(f"{directory}: lists.npy holds {lists.ntotal} rows in {getattr(lists, 'nlist', '?')} "
                             f"lists; meta.json says {n} rows, {nw} words")
        lists.nprobe = 1
        index._lists = lists
        index._exact, index._disk, index._count = None, desc, n
        if not meta["identity_labels"]:
            index._labels = labels
        index._build_quantizers()
        return index

    # ------------------------------------------------------------------ sizes
    def nbytes(self) -> int:
        """Bytes held in RAM: inverted lists (rows + signatures), vocabulary, bit
        selections, word scales, rows not yet merged, and descriptors / labels held in RAM
        (before a save + load, or added since).  Memory-mapped files are not counted
        (:meth:`mapped_nbytes`)."""
        if self._exact is not None:
            return self._exact.nbytes()
        # FAISS lists: a signature and an int64 id per entry (vector slack not counted)
        total = self._lists.ntotal * (self._lists.code_size + 8) + self._tail.nbytes
        total += sum(a.nbytes for a in self._vocabulary())
        if isinstance(self._labels, LabelBuffer):
            total += self._labels.nbytes
        return int(total)

    def mapped_nbytes(self) -> int:
        """Bytes of the memory-mapped files (full descriptors, labels) read for candidates."""
        total = 0 if self._disk is None else self._disk.nbytes
        if isinstance(self._labels, np.memmap):
            total += self._labels.nbytes
        return int(total)
