"""Recall of the approximate (and the hashing) structures against the exact reference on
synthetic data with planted near-duplicates: random 256-bit codes queried with stored codes
carrying 0..24 flipped bits (plus random non-matching queries), and random float vectors
queried with noisy copies.  Recall = share of the (query, stored vector) pairs within the
radius, found by :class:`ExactIndex`, that the index also returns."""

from __future__ import annotations

import numpy as np
import pytest

from kyodaku.index import make_index
from kyodaku.index.base import QueryResult, VectorIndex
from kyodaku.index.exact import ExactIndex
from kyodaku.index.faiss_index import FaissIndex
from tests.index.test_conformance import flip_bits

RADIUS_BITS = 31  # PDQ's usual match threshold
K = 10


def recall(got: QueryResult, want: QueryResult) -> float:
    pairs = found = 0
    for g, w in zip(got.labels, want.labels):
        truth = set(w[w >= 0].tolist())
        pairs += len(truth)
        found += len(truth & set(g.tolist()))
    assert pairs > 0
    return found / pairs


@pytest.fixture(scope="module")
def binary_data() -> dict[str, object]:
    rng = np.random.default_rng(2024)
    codes = rng.integers(0, 256, (50_000, 32), dtype=np.uint8)
    labels = rng.permutation(10**6)[: codes.shape[0]].astype(np.int64)
    src = rng.choice(codes.shape[0], 500, replace=False)
    queries = np.concatenate(
        [flip_bits(codes[src], rng.integers(0, 25, 500), rng), rng.integers(0, 256, (200, 32), dtype=np.uint8)]
    )
    truth = {}
    for n in (10_000, 50_000):
        ref = ExactIndex("binary", 256)
        ref.add(codes[:n], labels[:n])
        truth[n] = ref.query(queries, K, max_distance=RADIUS_BITS)
    # every planted query's source is within the radius; random queries match nothing
    assert (truth[50_000].labels[:500, 0] == labels[src]).all()
    assert (truth[50_000].labels[500:] == -1).all()
    return {"codes": codes, "labels": labels, "queries": queries, "truth": truth}


def _binary_recall(data: dict, index: VectorIndex, n: int) -> float:
    index.add(data["codes"][:n], data["labels"][:n])
    got = index.query(data["queries"], K, max_distance=RADIUS_BITS)
    return recall(got, data["truth"][n])


@pytest.mark.parametrize(
    "name, n, factory",
    [
        ("mih (exact by pigeonhole)", 50_000, lambda: make_index("binary", 256, expected_size=50_000)),
        ("faiss multihash", 50_000, lambda: FaissIndex("binary", 256, structure="multihash")),
        (
            "faiss ivf (make_index defaults)",
            50_000,
            lambda: make_index("binary", 256, expected_size=50_000, backend="faiss", structure="ivf"),
        ),
        # HNSW builds slowly on one thread (~10 s for 50k codes): measured on 10k here,
        # at 0.1M-1M codes by benchmarks/bench_index.py
        ("faiss hnsw (defaults)", 10_000, lambda: FaissIndex("binary", 256, structure="hnsw")),
    ],
)
def test_binary_recall(binary_data: dict, name: str, n: int, factory) -> None:
    index = factory()
    r = _binary_recall(binary_data, index, n)
    assert getattr(index, "trained", True), "the IVF must have trained on its data"
    assert r >= 0.99, f"{name}: recall {r:.4f} within {RADIUS_BITS} bits"
    if name.startswith(("mih", "faiss multihash")):
        assert r == 1.0, "multi-index hashing is exact within the radius"


def test_float_recall() -> None:
    rng = np.random.default_rng(7)
    n, dim = 20_000, 64
    x = rng.standard_normal((n, dim)).astype(np.float32)
    labels = np.arange(n, dtype=np.int64) * 3
    src = rng.choice(n, 400, replace=False)
    queries = np.concatenate(
        [
            x[src] + 0.15 * rng.standard_normal((400, dim)).astype(np.float32),  # ~1.2 away
            rng.standard_normal((100, dim)).astype(np.float32),  # ~11 away from everything
        ]
    )
    radius = 2.0
    ref = ExactIndex("float", dim)
    ref.add(x, labels)
    truth = ref.query(queries, K, max_distance=radius)
    assert (truth.labels[:400, 0] == labels[src]).all() and (truth.labels[400:] == -1).all()
    for name, index in [
        ("faiss hnsw", FaissIndex("float", dim, structure="hnsw")),
        ("faiss ivf", make_index("float", dim, expected_size=5000, backend="faiss", structure="ivf")),
    ]:
        index.add(x, labels)
        assert getattr(index, "trained", True)
        got = index.query(queries, K, max_distance=radius)
        r = recall(got, truth)
        assert r >= 0.99, f"{name}: recall {r:.4f}"
        same = (got.labels == truth.labels) & (got.labels >= 0)
        # distances are the exact L2 of the returned vectors, as the reference computes them
        np.testing.assert_allclose(got.distances[same], truth.distances[same], atol=1e-4)
