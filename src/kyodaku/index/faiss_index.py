"""FAISS-backed indexes.

Structures (``structure=``), with what ``benchmarks/bench_index.py`` measured for random
256-bit codes at radius 31 (one query, one thread, shared 2-core machine):

* binary ``flat`` (IndexBinaryFlat): exact scan; p50 1.3-1.6 ms at 1M codes, 30-54 ms
  at 8M (two runs; the machine is shared).
* binary ``multihash`` (IndexBinaryMultiHash, what Meta's HMA uses for PDQ): exact for
  radius queries (pigeonhole, see below); 1.9 ms at 1M, 19-36 ms and 1.7 GB RSS at 8M.
  :class:`kyodaku.index.mih.MIHIndex` does the same in 2.3-2.5 ms and 0.7-0.8 GB.
* binary ``hnsw`` (IndexBinaryHNSW): approximate graph, no range search (k-NN + filter);
  recall ~1.0 but a slow build (20 s for 80k codes on one thread) and 8x the memory.
* binary ``ivf`` (IndexBinaryIVF): approximate, trained lazily (below); fastest, but
  recall 0.97-0.99 at radius 31 with sqrt(n) lists and nprobe 64.
* float ``flat`` (IndexFlatL2, exact), ``hnsw`` (IndexHNSWFlat, approximate, no
  training), ``ivf`` (IndexIVFFlat, approximate, trained lazily).

Labels are kept in a side int64 array indexed by FAISS's sequential ids (every structure
gets the same treatment, and ``IndexBinaryMultiHash`` / HNSW have no ID-map support of
their own).

Distances: Hamming bits for binary; Euclidean L2 (not FAISS's squared L2) for float.  For
float structures the k survivors are re-measured exactly in float64 from the stored
vectors, so a stored vector queried with itself is at distance 0.

``max_distance`` (inclusive): binary ``flat`` / ``ivf`` / ``multihash`` use FAISS range
search (``radius = floor(max_distance) + 1``, FAISS's bound being strict); ``hnsw`` and
float structures search the k nearest and drop those beyond.  ``multihash`` sets
``nflip = radius // nhash`` per query, which by the pigeonhole principle makes it exact
within the radius; without ``max_distance`` or for a radius needing too many probes it
scans its flat storage instead (exact, slower).

IVF training.  An IVF index needs k-means centroids before it can hold vectors, but a
registry is imported in batches.  ``FaissIndex`` therefore keeps added vectors in a flat
(exact) FAISS index until ``train_size`` vectors exist (default ``39 * nlist``, FAISS's
own minimum), then trains the IVF on all of them, moves them in and drops the flat
buffer; later adds go straight to the IVF (its centroids are never retrained, so data
whose distribution drifts a lot should be rebuilt).  Until then queries are exact.

Threads: FAISS searches are thread-safe, but ``multihash`` stores ``nflip`` on the shared
FAISS object before each radius query, so concurrent queries with different
``max_distance`` values must not share one ``FaissIndex``; ``add`` must not run
concurrently with anything.

Query batches of fewer than ``SMALL_BATCH`` (20,000) vectors, which is every query of
one image or video, run FAISS on one OpenMP thread: see :data:`SMALL_BATCH` and
:func:`single_thread_if` for the measurements behind it.

Saving: ``faiss.serialize_index`` / ``serialize_index_binary`` give FAISS's own portable
byte format as a uint8 array, stored as ``faiss_index.npy``; labels in ``labels.npy``;
``meta.json`` has backend, kind, dim, structure, params, training state and versions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from kyodaku.index._common import (
    LabelBuffer,
    check_k,
    check_labels,
    check_max_distance,
    check_vectors,
    empty_result,
    finish,
    hamming_radius,
    load_array,
    read_meta,
    row_width,
    save_array,
    write_meta,
)
from kyodaku.index.base import QueryResult, VectorIndex

STRUCTURES: dict[str, tuple[str, ...]] = {
    "binary": ("flat", "multihash", "hnsw", "ivf"),
    "float": ("flat", "hnsw", "ivf"),
}

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "flat": {},
    # b=16 substrings: what Meta's HMA uses for PDQ (IndexBinaryMultiHash(256, 16, 16))
    "multihash": {"b": 16},
    "hnsw": {"M": 32, "ef_construction": 80, "ef_search": 128},
    # nprobe None: 64 for binary (random-like codes spread over many lists), 16 for float
    # train_max None: k-means on every buffered vector (FAISS itself keeps at most 256 a list)
    "ivf": {"nlist": 1024, "nprobe": None, "train_size": None, "train_max": None},
}

_APPROXIMATE = {"hnsw", "ivf"}

#: queries of fewer vectors than this run on one OpenMP thread (see single_thread_if):
#: one image's descriptors (~1,500) and one video's (~10,000 for a minute) included.  A
#: scan's parallelism is its worker processes (each on one thread); the desk and the
#: guard serve requests from threads; an OpenMP team per query only adds contention.
#: Measured on the 2-core dev box under load (benchmarks' doc, docs/guard.md): a
#: picture-in-video screening of an 8 s clip 20.0 s with 2 threads vs 4.8 s with 1, an
#: image query 517 ms vs 401 ms (same process, alternating).
SMALL_BATCH = 20_000


@contextmanager
def single_thread_if(condition: bool) -> Iterator[None]:
    """Run FAISS on one OpenMP thread for small query batches.

    Several FAISS searches open an OpenMP team even for one query (IndexBinaryIVF always
    does).  On a loaded machine that is ruinous: measured on the 2-core dev box with other
    jobs running, one IndexBinaryIVF range query took 60-80 ms with 2 threads and 0.02 ms
    with 1.  ``omp_set_num_threads`` sets the calling thread's OpenMP setting, so other
    Python threads are unaffected; the previous value is restored."""
    if not condition:
        yield
        return
    before = faiss.omp_get_max_threads()
    if before == 1:
        yield
        return
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class FaissIndex(VectorIndex):
    """A FAISS index plus a side label array.  See the module docstring for structures."""

    backend = "faiss"
    # an IVF's coarse quantizer, held here so that it lives as long as the IVF (set by _new_index)
    _quantizer: faiss.IndexBinaryFlat | faiss.IndexFlatL2

    def __init__(self, kind: str, dim: int, *, structure: str = "flat", **params: Any) -> None:
        super().__init__(kind, dim)
        if structure not in STRUCTURES[kind]:
            raise ValueError(
                f"FAISS structure {structure!r} is not available for {kind} vectors; "
                f"choose one of {', '.join(STRUCTURES[kind])}"
            )
        unknown = set(params) - set(DEFAULT_PARAMS[structure])
        if unknown:
            raise ValueError(f"unknown parameter(s) for FAISS {structure}: {', '.join(sorted(unknown))}")
        self.structure = structure
        self.params: dict[str, Any] = {**DEFAULT_PARAMS[structure], **params}
        if structure == "multihash":
            b = int(self.params["b"])
            if not 1 <= b <= min(dim, 63):
                raise ValueError(f"multihash substring bits b must be in 1..{min(dim, 63)}; got {b}")
            self.params["b"] = b
            self.nhash = dim // b
        if structure == "ivf":
            self.params["nlist"] = int(self.params["nlist"])
            if self.params["nprobe"] is None:
                self.params["nprobe"] = 64 if kind == "binary" else 16
            if self.params["train_size"] is None:
                self.params["train_size"] = 39 * self.params["nlist"]
            self.params["train_size"] = max(int(self.params["train_size"]), self.params["nlist"])
            if self.params["train_max"] is not None:
                self.params["train_max"] = max(int(self.params["train_max"]), self.params["train_size"])
        self._width = row_width(kind, dim)
        self._labels = LabelBuffer()
        self._trained = structure != "ivf"
        self._index = self._new_index(trained_form=self._trained)
        self._apply_search_params()

    @property
    def approximate(self) -> bool:
        """Whether results may miss true neighbours (HNSW / trained IVF)."""
        return self.structure in _APPROXIMATE and (self.structure != "ivf" or self._trained)

    @property
    def trained(self) -> bool:
        """False while an IVF index still buffers its vectors in a flat index."""
        return self._trained

    # ------------------------------------------------------------------ construction
    def _new_index(self, trained_form: bool) -> Any:
        d, p = self.dim, self.params
        binary = self.kind == "binary"
        s = self.structure if trained_form else "flat"
        if s == "flat":
            return faiss.IndexBinaryFlat(d) if binary else faiss.IndexFlatL2(d)
        if s == "multihash":
            return faiss.IndexBinaryMultiHash(d, self.nhash, p["b"])
        if s == "hnsw":
            index = faiss.IndexBinaryHNSW(d, int(p["M"])) if binary else faiss.IndexHNSWFlat(d, int(p["M"]))
            index.hnsw.efConstruction = int(p["ef_construction"])
            return index
        # ivf
        if binary:
            binary_quantizer = self._quantizer = faiss.IndexBinaryFlat(d)
            return faiss.IndexBinaryIVF(binary_quantizer, d, p["nlist"])
        float_quantizer = self._quantizer = faiss.IndexFlatL2(d)
        return faiss.IndexIVFFlat(float_quantizer, d, p["nlist"], faiss.METRIC_L2)

    def _apply_search_params(self) -> None:
        if self.structure == "hnsw":
            self._index.hnsw.efSearch = int(self.params["ef_search"])
        elif self.structure == "ivf" and self._trained:
            self._index.nprobe = int(self.params["nprobe"])

    def _stored_vectors(self) -> np.ndarray:
        """All vectors of a flat FAISS index (used to train the IVF)."""
        index = self._index
        if self.kind == "binary":
            return faiss.vector_to_array(index.xb).reshape(index.ntotal, self._width)
        stored: np.ndarray = index.reconstruct_n(0, index.ntotal)
        return stored

    def _train_ivf(self) -> None:
        vectors = self._stored_vectors()
        ivf = self._new_index(trained_form=True)
        most = self.params["train_max"]
        # k-means costs vectors x lists: past ``train_max`` it runs on an even spread of them
        ivf.train(vectors if most is None or len(vectors) <= most
                  else vectors[np.linspace(0, len(vectors) - 1, most).astype(np.int64)])
        ivf.add(vectors)
        if self.kind == "float":
            ivf.make_direct_map()  # lets query() reconstruct survivors to re-measure them
        self._index = ivf
        self._trained = True
        self._apply_search_params()

    # ------------------------------------------------------------------ interface
    def __len__(self) -> int:
        return len(self._labels)

    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        vectors = check_vectors(self.kind, self.dim, vectors)
        labels = check_labels(labels, vectors.shape[0])
        if vectors.shape[0] == 0:
            return
        self._index.add(vectors)
        self._labels.append(labels)
        if not self._trained and self._index.ntotal >= self.params["train_size"]:
            self._train_ivf()

    def query(self, vectors: np.ndarray, k: int, max_distance: float | None = None) -> QueryResult:
        vectors = check_vectors(self.kind, self.dim, vectors, "queries")
        k = check_k(k)
        max_distance = check_max_distance(max_distance)
        n = vectors.shape[0]
        if len(self) == 0 or n == 0:
            return empty_result(n, k)
        with single_thread_if(n < SMALL_BATCH):
            if self.kind == "binary":
                ids, dist = self._query_binary(vectors, k, hamming_radius(max_distance))
            else:
                ids, dist = self._query_float(vectors, k)
        return finish(ids, dist, self._labels.array, max_distance)

    def _query_binary(self, q: np.ndarray, k: int, radius: int | None) -> tuple[np.ndarray, np.ndarray]:
        index = self._index
        s = self.structure if self._trained else "flat"
        if s == "multihash":
            storage = index.storage
            if radius is None:
                index = storage
            else:
                nflip = radius // self.nhash
                probes = sum(math.comb(self.params["b"], i) for i in range(min(nflip, self.params["b"]) + 1))
                if self.nhash * probes * 4 <= (1 << self.params["b"]):
                    index.nflip = nflip
                else:
                    index = storage
        if s == "hnsw":
            index.hnsw.efSearch = max(int(self.params["ef_search"]), k)
        if radius is None or s == "hnsw":
            dist, ids = index.search(q, k)
            return ids.astype(np.int64), np.where(ids >= 0, dist, np.inf).astype(np.float64)
        lims, dist, ids = index.range_search(q, radius + 1)
        return _top_k_of_ranges(lims, dist, ids, k)

    def _query_float(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        index = self._index
        if self.structure == "hnsw":
            index.hnsw.efSearch = max(int(self.params["ef_search"]), k)
        _, ids = index.search(q, k)
        ids = ids.astype(np.int64)
        dist = np.full(ids.shape, np.inf)
        found = ids >= 0
        if found.any():
            stored = index.reconstruct_batch(ids[found]).astype(np.float64)
            rows = np.nonzero(found)[0]
            diff = stored - q[rows].astype(np.float64)
            dist[found] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        return ids, dist

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_array(directory, "faiss_index.npy", self._serialize())
        save_array(directory, "labels.npy", self._labels.array)
        write_meta(
            directory,
            {
                "backend": self.backend,
                "kind": self.kind,
                "dim": self.dim,
                "count": len(self),
                "structure": self.structure,
                "params": self.params,
                "trained": self._trained,
                "faiss_class": type(self._index).__name__,
                "faiss_version": faiss.__version__,
            },
        )

    @classmethod
    def load(cls, directory: Path) -> "FaissIndex":
        directory = Path(directory)
        meta = read_meta(directory, cls.backend)
        index = cls(meta["kind"], int(meta["dim"]), structure=meta.get("structure", "flat"), **meta.get("params", {}))
        n = int(meta["count"])
        blob = load_array(directory, "faiss_index.npy", np.uint8, (None,))
        labels = load_array(directory, "labels.npy", np.int64, (n,))
        inner: faiss.Index | faiss.IndexBinary
        if index.kind == "binary":
            inner = faiss.deserialize_index_binary(blob)
        else:
            inner = faiss.deserialize_index(blob)
        trained = bool(meta.get("trained", True))
        expected = type(index._new_index(trained_form=trained))
        if not isinstance(inner, expected) or inner.ntotal != n or inner.d != index.dim:
            raise ValueError(
                f"{directory}: FAISS index is {type(inner).__name__} with {inner.ntotal} vectors of dim "
                f"{inner.d}; meta.json describes {expected.__name__} with {n} vectors of dim {index.dim}"
            )
        index._index, index._trained = inner, trained
        index._labels = LabelBuffer(labels)
        index._apply_search_params()
        return index

    # ------------------------------------------------------------------ extras
    def _serialize(self) -> np.ndarray:
        if self.kind == "binary":
            return faiss.serialize_index_binary(self._index)
        return faiss.serialize_index(self._index)

    @property
    def labels(self) -> np.ndarray:
        return self._labels.array

    @property
    def faiss_index(self) -> Any:
        """The underlying FAISS object (a flat one while an IVF is untrained)."""
        return self._index

    def nbytes(self) -> int:
        """Size of FAISS's serialized index plus the labels: close to, not exactly, the
        memory it holds (hash-table and allocator overheads are not counted)."""
        return int(self._serialize().nbytes + self._labels.nbytes)


def _top_k_of_ranges(
    lims: np.ndarray, dist: np.ndarray, ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """FAISS range-search results -> (ids, distances) (nq, k) keeping each query's k best
    by (distance, id), -1 / +inf padded."""
    nq = lims.shape[0] - 1
    out_ids = np.full((nq, k), -1, np.int64)
    out_d = np.full((nq, k), np.inf)
    counts = np.diff(lims).astype(np.int64)
    if counts.sum() == 0:
        return out_ids, out_d
    qid = np.repeat(np.arange(nq), counts)
    ids = ids.astype(np.int64)
    dist = dist.astype(np.float64)
    order = np.lexsort((ids, dist, qid))
    qid, ids, dist = qid[order], ids[order], dist[order]
    rank = np.arange(qid.shape[0]) - lims[:-1].astype(np.int64)[qid]
    keep = rank < k
    out_ids[qid[keep], rank[keep]] = ids[keep]
    out_d[qid[keep], rank[keep]] = dist[keep]
    return out_ids, out_d
