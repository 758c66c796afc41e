"""A reference set: for every fingerprint method, the stored reference fingerprints and
the vector index over them.  It lives in the workspace (``fingerprints/`` and ``index/``)
and is opened read-only by each scan worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kyodaku.fingerprint.base import FingerprintMethod
from kyodaku.fingerprint.registry import all_methods
from kyodaku.fingerprint.store import MethodStore, RefEntry
from kyodaku.index import load_index, make_index
from kyodaku.index.base import VectorIndex


#: k-NN methods: exact FAISS flat search below this many vectors, IVF above
KNN_FLAT_MAX = 20_000
#: IVF: about this many vectors per list, and lists probed per query.  Measured on the
#: dev set's ORB descriptors (40k): nearest-neighbour recall 0.98 at 16 probes, 5x faster
#: than flat search (see the README's index section).
KNN_LIST_SIZE = 200
KNN_NPROBE = 16


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
    nlist = int(min(65536, max(16, n // KNN_LIST_SIZE)))
    return make_index(method.vector_kind, method.dim, expected_size=n, backend="faiss", structure="ivf",
                      nlist=nlist, nprobe=KNN_NPROBE)


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
        if _structure(self.methods[name], rows.stop) != _structure(self.methods[name], len(index)):
            self.indexes[name] = self._build(name)  # grown past what this structure is for
            return
        vectors = np.asarray(self.stores[name].vectors[rows.start:rows.stop])
        index.add(vectors, np.arange(rows.start, rows.stop, dtype=np.int64))
        index.save(self.index_dir / name)
