"""A reference set: for every fingerprint method, the stored reference fingerprints and
the vector index over them.  It lives in the workspace (``fingerprints/`` and ``index/``)
and is opened read-only by each scan worker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from kyodaku.fingerprint.base import FingerprintMethod
from kyodaku.fingerprint.registry import all_methods
from kyodaku.fingerprint.store import MethodStore, RefEntry
from kyodaku.index import load_index, make_index
from kyodaku.index.base import VectorIndex
from kyodaku.index.faiss_index import FaissIndex

#: k-NN methods: exact FAISS flat search below this many vectors, IVF above
KNN_FLAT_MAX = 20_000
#: IVF: about this many vectors per list, and lists probed per query.  Measured on the
#: dev set's ORB descriptors (40k): nearest-neighbour recall 0.98 at 16 probes, 5x faster
#: than flat search (see the README's index section).
KNN_LIST_SIZE = 200
KNN_NPROBE = 16
#: an IVF's lists are planned for the size it was built at, and its centroids are never
#: retrained as vectors are added.  A registry grows by imports and one-off works, so an
#: IVF first built at 20k vectors (100 lists) would end up scanning 16% of everything per
#: descriptor; it is rebuilt (lists re-planned, re-trained) once it holds this many times
#: the vectors its lists were planned for.  Measured with benchmarks/bench_local_index.py
#: (README, "Index"): at 1M descriptors, 100 lists take 324 ms per query image, 5,000
#: lists 18 ms.
KNN_REGROW = 4
#: most IVF lists, and most vectors k-means is trained on: training costs vectors x lists
#: (7.6M real ORB descriptors: 16,384 lists trained on 1M of them in 354 s on 2 threads;
#: all 7.6M into 38,000 lists would take hours)
KNN_NLIST_MAX = 16_384
KNN_TRAIN_MAX = 1_000_000


def _structure(method: FingerprintMethod, n: int) -> str:
    if method.search == "knn":
        return "flat" if n < KNN_FLAT_MAX else "ivf"
    return "auto"


def new_index(method: FingerprintMethod, n: int) -> VectorIndex:
    """The index a method's search needs at ``n`` vectors: radius methods (PDQ) get the
    auto choice (exact, then multi-index hashing); k-NN methods (local descriptors,
    frames) get FAISS flat, then IVF."""
    structure = _structure(method, n)
    if structure == "auto":
        return make_index(method.vector_kind, method.dim, expected_size=n)
    if structure == "flat":
        return make_index(method.vector_kind, method.dim, expected_size=n, backend="faiss", structure="flat")
    return make_index(method.vector_kind, method.dim, expected_size=n, backend="faiss", structure="ivf",
                      nlist=knn_lists(n), nprobe=KNN_NPROBE, train_max=KNN_TRAIN_MAX)


def knn_lists(n: int) -> int:
    """IVF lists for ``n`` vectors: about :data:`KNN_LIST_SIZE` vectors a list."""
    return int(min(KNN_NLIST_MAX, max(16, n // KNN_LIST_SIZE)))


def outgrown(method: FingerprintMethod, index: VectorIndex, n: int) -> bool:
    """Whether ``index`` should be built again to hold ``n`` vectors: a flat one past
    :data:`KNN_FLAT_MAX`, or an IVF holding :data:`KNN_REGROW` times what its lists were
    planned for."""
    if _structure(method, n) != _structure(method, len(index)):
        return True
    if not isinstance(index, FaissIndex):
        return False  # exact and MIH indexes have no lists to plan
    return _replan(index.structure, index.params, n)


def _replan(structure: str | None, params: dict, n: int) -> bool:
    if structure != "ivf" or "nlist" not in params:
        return False
    return knn_lists(n) > params["nlist"] and n > KNN_REGROW * params["nlist"] * KNN_LIST_SIZE


def replan_outgrown(fingerprints_dir: Path, index_dir: Path) -> list[str]:
    """Build again, here and now, every k-NN index its method's references have outgrown
    (an IVF saved by a kyodaku that kept the lists planned when it first became one), so
    that scan workers, which each open the reference set read-only, find it planned.
    Reads each index's ``meta.json`` only (its plan and its count).  Returns the methods
    rebuilt."""
    stale = []
    for name, method in all_methods().items():
        meta_path = Path(index_dir) / name / "meta.json"
        if method.search != "knn" or not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        if _replan(meta.get("structure"), meta.get("params", {}), int(meta.get("count", 0))):
            shutil.rmtree(meta_path.parent)
            stale.append(name)
    if stale:
        ReferenceSet(Path(fingerprints_dir), Path(index_dir))  # builds the missing indexes
    return stale


class ReferenceSet:
    def __init__(self, fingerprints_dir: Path, index_dir: Path,
                 methods: list[FingerprintMethod] | None = None) -> None:
        self.fingerprints_dir = Path(fingerprints_dir)
        self.index_dir = Path(index_dir)
        self.methods = {m.name: m for m in (methods or list(all_methods().values()))}
        self.stores = {name: MethodStore(self.fingerprints_dir / name, m) for name, m in self.methods.items()}
        self.indexes: dict[str, VectorIndex] = {}
        for name, store in self.stores.items():
            if self.methods[name].search == "none":
                continue  # verification data, not searched
            idx_dir = self.index_dir / name
            if len(store) and (idx_dir / "meta.json").exists():
                index = load_index(idx_dir)
                if len(index) == store.n_vectors:
                    self.indexes[name] = index
                    continue
            if len(store):
                self.indexes[name] = self._build(name)

    def _build(self, name: str) -> VectorIndex:
        store, method = self.stores[name], self.methods[name]
        index = new_index(method, store.n_vectors)
        if store.n_vectors:
            index.add(np.asarray(store.vectors), np.arange(store.n_vectors, dtype=np.int64))
        index.save(self.index_dir / name)
        return index

    def add(self, name: str, entries: list[RefEntry]) -> None:
        """Store new reference fingerprints of one method and index them."""
        if not entries:
            return
        rows = self.stores[name].append(entries)
        if self.methods[name].search == "none":
            return
        index = self.indexes.get(name)
        if index is None:
            self.indexes[name] = self._build(name)
            return
        if outgrown(self.methods[name], index, rows.stop):
            self.indexes[name] = self._build(name)  # grown past what this index was planned for
            return
        vectors = np.asarray(self.stores[name].vectors[rows.start:rows.stop])
        index.add(vectors, np.arange(rows.start, rows.stop, dtype=np.int64))
        index.save(self.index_dir / name)
