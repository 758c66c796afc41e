"""The index interface: add / query / save / load.  Comparing two fingerprints is the
fingerprint method's job; an index only finds the nearest stored vectors at scale.

Vectors are either ``binary`` (uint8 arrays of shape (n, dim // 8), Hamming distance)
or ``float`` (float32 arrays of shape (n, dim), L2 distance).  Every stored vector has
an int64 label chosen by the caller (e.g. the row of a reference fingerprint).

Indexes are saved as NumPy arrays plus a ``meta.json`` (never pickled).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class QueryResult:
    """For n query vectors and k neighbours: ``labels`` (n, k) int64 with -1 where fewer
    than k were found, and ``distances`` (n, k) float32 (Hamming bits or L2), ascending."""

    labels: np.ndarray
    distances: np.ndarray


class VectorIndex(ABC):
    backend: str = ""

    def __init__(self, kind: str, dim: int) -> None:
        if kind not in ("binary", "float"):
            raise ValueError(f"index kind must be 'binary' or 'float', not {kind!r}")
        if kind == "binary" and dim % 8:
            raise ValueError("binary dimension must be a multiple of 8 bits")
        self.kind = kind
        self.dim = dim

    @abstractmethod
    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None: ...

    @abstractmethod
    def query(self, vectors: np.ndarray, k: int, max_distance: float | None = None) -> QueryResult: ...

    @abstractmethod
    def save(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> "VectorIndex": ...

    @abstractmethod
    def __len__(self) -> int: ...

    def nbytes(self) -> int:
        """Approximate bytes held by the stored vectors, labels and search structures
        (for capacity planning and benchmarks; implementations document what they count)."""
        raise NotImplementedError
