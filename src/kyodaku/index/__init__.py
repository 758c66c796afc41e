"""Nearest-neighbour indexes over fingerprint vectors: an exact default and FAISS.

Backends
--------
``exact``  :class:`~kyodaku.index.exact.ExactIndex`, brute force in NumPy: the reference,
           and the default below :data:`EXACT_MAX` vectors.
``mih``    :class:`~kyodaku.index.mih.MIHIndex`, multi-index hashing in NumPy (binary
           only): exact for ``max_distance`` queries and the fastest exact structure
           measured for large PDQ registries (p50 2.3 ms/query at 8M codes = 1M
           references x 8, radius 31, one thread; FAISS IndexBinaryFlat 30 ms,
           IndexBinaryMultiHash 19 ms, same run).
``faiss``  :class:`~kyodaku.index.faiss_index.FaissIndex`: IndexBinaryFlat /
           IndexBinaryMultiHash / IndexBinaryHNSW / IndexBinaryIVF, IndexFlatL2 /
           IndexHNSWFlat / IndexIVFFlat.
``he``     :class:`~kyodaku.index.hamming.HammingIndex` (binary only, opt-in: never chosen
           by "auto"): visual vocabulary + inverted file + Hamming-embedding signatures
           for local descriptors (16 bytes of RAM a descriptor with 64-bit signatures;
           full descriptors memory-mapped on disk).

``make_index(kind, dim, expected_size=..., backend="auto")`` picks by expected size:
below :data:`EXACT_MAX` vectors ``exact``; above, ``mih`` for binary vectors and FAISS for
float vectors (``flat`` up to :data:`FLOAT_FLAT_MAX`, ``hnsw`` beyond).  Without an
``expected_size`` the index is exact, which stays correct but gets slow past ~1M vectors.
The choice is what ``benchmarks/bench_index.py`` measured on a 2-core machine.

``add`` may be called any number of times (catalog imports come in batches).  ``mih``
indexes the new rows lazily on the next query; FAISS IVF buffers vectors in a flat index
until it has enough to train (see each module's docstring).

Indexes are saved as ``.npy`` arrays plus ``meta.json`` (never pickled);
:func:`load_index` reads ``meta.json`` and returns the right class.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kyodaku.index._common import read_meta
from kyodaku.index.base import QueryResult, VectorIndex
from kyodaku.index.exact import ExactIndex
from kyodaku.index.mih import MIHIndex, default_substring_bits

if TYPE_CHECKING:
    from kyodaku.index.faiss_index import FaissIndex

#: below this many vectors, "auto" uses the exact NumPy index
EXACT_MAX = 20_000
#: float vectors: FAISS flat (exact) up to this many, HNSW above (measured, 128-d, one
#: thread: flat 9.5 ms/query at 200k vectors, HNSW 0.24 ms with recall 0.998)
FLOAT_FLAT_MAX = 50_000
#: binary vectors, backend="faiss": IndexBinaryFlat up to this many, IndexBinaryMultiHash above
BINARY_FLAT_MAX = 2_000_000

BACKENDS = ("auto", "exact", "mih", "faiss", "he")


def faiss_structure(kind: str, expected_size: int | None) -> str:
    """The FAISS structure ``make_index(backend="faiss")`` uses for this size."""
    n = expected_size or 0
    if kind == "binary":
        return "flat" if n <= BINARY_FLAT_MAX else "multihash"
    return "flat" if n <= FLOAT_FLAT_MAX else "hnsw"


def make_index(
    kind: str,
    dim: int,
    *,
    expected_size: int | None = None,
    backend: str = "auto",
    structure: str | None = None,
    **params: Any,
) -> VectorIndex:
    """A new, empty index for ``kind`` ("binary" / "float") vectors of ``dim`` bits / floats.

    ``expected_size``: how many vectors it will hold (all fingerprint vectors, e.g. 8 PDQ
    hashes per reference image), used to pick the backend and its parameters.
    ``backend``: "auto", "exact", "mih", "faiss" or "he" (Hamming embedding, binary
    only; "auto" never picks it).  ``structure``: FAISS structure
    ("flat", "multihash", "hnsw", "ivf"; default by size).  Other keyword arguments go to
    the index class (e.g. ``b=`` for mih, ``nprobe=`` for FAISS IVF)."""
    if backend not in BACKENDS:
        raise ValueError(f"index backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if expected_size is not None and expected_size < 0:
        raise ValueError("expected_size must be >= 0")
    if backend == "auto":
        if structure is not None:
            backend = "faiss"
        elif expected_size is None or expected_size < EXACT_MAX:
            backend = "exact"
        else:
            backend = "mih" if kind == "binary" else "faiss"
    if backend == "exact":
        return ExactIndex(kind, dim, **params)
    if backend == "he":
        from kyodaku.index.hamming import HammingIndex

        return HammingIndex(kind, dim, **params)
    if backend == "mih":
        params.setdefault("b", default_substring_bits(expected_size))
        return MIHIndex(kind, dim, **params)
    from kyodaku.index.faiss_index import FaissIndex

    structure = structure or faiss_structure(kind, expected_size)
    if structure == "ivf" and expected_size and "nlist" not in params:
        # ~4 sqrt(n) lists, as the FAISS guidelines suggest for up to a few million
        params["nlist"] = int(min(65536, max(16, 4 * math.sqrt(expected_size))))
    return FaissIndex(kind, dim, structure=structure, **params)


def load_index(directory: str | Path) -> VectorIndex:
    """Load an index saved with ``save(directory)``, whichever backend wrote it."""
    directory = Path(directory)
    backend = read_meta(directory).get("backend")
    if backend == "exact":
        return ExactIndex.load(directory)
    if backend == "mih":
        return MIHIndex.load(directory)
    if backend == "faiss":
        from kyodaku.index.faiss_index import FaissIndex

        return FaissIndex.load(directory)
    if backend == "he":
        from kyodaku.index.hamming import HammingIndex

        return HammingIndex.load(directory)
    raise ValueError(f"{directory / 'meta.json'}: unknown index backend {backend!r}")


def __getattr__(name: str) -> Any:
    if name == "FaissIndex":  # imported lazily: importing faiss takes a moment
        from kyodaku.index.faiss_index import FaissIndex

        return FaissIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "EXACT_MAX",
    "ExactIndex",
    "FaissIndex",
    "MIHIndex",
    "QueryResult",
    "VectorIndex",
    "faiss_structure",
    "load_index",
    "make_index",
]
