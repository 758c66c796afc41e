"""Behaviour every :class:`~kyodaku.index.base.VectorIndex` must have.

:class:`IndexContract` holds the tests; each ``Test*`` subclass at the bottom runs them
against one implementation / configuration.  Approximate configurations (``exact =
False``) are held to the same contract on the small, well-separated data used here, and
to a recall floor (not equality) when compared with the exact reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kyodaku.index import load_index, make_index
from kyodaku.index.base import QueryResult, VectorIndex
from kyodaku.index.exact import ExactIndex
from kyodaku.index.faiss_index import FaissIndex
from kyodaku.index.mih import MIHIndex


def flip_bits(codes: np.ndarray, nflips: np.ndarray | int, rng: np.random.Generator) -> np.ndarray:
    """Copies of packed binary codes with exactly ``nflips`` random bits flipped in each."""
    bits = np.unpackbits(codes, axis=1)
    nflips = np.broadcast_to(np.asarray(nflips), (codes.shape[0],))
    order = np.argsort(rng.random(bits.shape), axis=1)  # a random permutation per row
    mask = np.zeros(bits.shape, bool)
    rows = np.repeat(np.arange(codes.shape[0]), nflips)
    cols = order[rows, np.concatenate([np.arange(f) for f in nflips]).astype(int)] if rows.size else rows
    mask[rows, cols] = True
    return np.packbits(bits ^ mask, axis=1)


class IndexContract:
    """The conformance tests.  Subclasses set ``kind`` / ``dim`` and implement ``make``."""

    kind = "binary"
    dim = 256
    #: results must equal the exact reference's (distances equal, labels up to ties)
    exact = True

    def make(self) -> VectorIndex:
        raise NotImplementedError

    # ------------------------------------------------------------------ data
    @property
    def width(self) -> int:
        return self.dim // 8 if self.kind == "binary" else self.dim

    def vectors(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.kind == "binary":
            return rng.integers(0, 256, (n, self.width), dtype=np.uint8)
        return rng.standard_normal((n, self.dim)).astype(np.float32)

    def at_distance(self, base: np.ndarray, distances: list[float], seed: int = 1) -> np.ndarray:
        """One vector per entry of ``distances`` at exactly that distance from ``base`` (1, w)."""
        rng = np.random.default_rng(seed)
        base = np.repeat(base, len(distances), axis=0)
        if self.kind == "binary":
            return flip_bits(base, np.array(distances, int), rng)
        directions = rng.standard_normal(base.shape)
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        return (base + directions * np.array(distances)[:, None]).astype(np.float32)

    def near_radius(self) -> float:
        return 12 if self.kind == "binary" else 1.5

    def queries_near(self, stored: np.ndarray, seed: int = 2) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.kind == "binary":
            return flip_bits(stored, rng.integers(0, 11, stored.shape[0]), rng)
        return (stored + 0.1 * rng.standard_normal(stored.shape)).astype(np.float32)

    def assert_result_shape(self, res: QueryResult, n: int, k: int) -> None:
        assert isinstance(res, QueryResult)
        assert res.labels.shape == (n, k) and res.labels.dtype == np.int64
        assert res.distances.shape == (n, k) and res.distances.dtype == np.float32
        assert not np.isnan(res.distances).any()
        finite = np.where(np.isinf(res.distances), np.float32(3e38), res.distances)
        assert (np.diff(finite, axis=1) >= 0).all(), "distances must be ascending"
        assert ((res.labels == -1) == np.isinf(res.distances)).all(), "-1 labels pair with +inf distances"

    def zero(self) -> float:
        return 0.0 if self.kind == "binary" else 1e-4

    # ------------------------------------------------------------------ tests
    def test_empty_index(self) -> None:
        index = self.make()
        assert len(index) == 0
        assert (index.kind, index.dim) == (self.kind, self.dim)
        res = index.query(self.vectors(2), k=3)
        self.assert_result_shape(res, 2, 3)
        assert (res.labels == -1).all() and np.isinf(res.distances).all()
        res = index.query(self.vectors(2), k=3, max_distance=5)
        assert (res.labels == -1).all()

    def test_zero_queries(self) -> None:
        index = self.make()
        index.add(self.vectors(10), np.arange(10))
        res = index.query(np.zeros((0, self.width), self.vectors(1).dtype), k=4)
        self.assert_result_shape(res, 0, 4)

    def test_self_is_nearest_at_distance_zero(self) -> None:
        x = self.vectors(600)
        labels = np.arange(600, dtype=np.int64) * 7 + 3
        index = self.make()
        index.add(x, labels)
        assert len(index) == 600
        for max_distance in (None, self.near_radius()):
            res = index.query(x, k=3, max_distance=max_distance)
            self.assert_result_shape(res, 600, 3)
            hit = res.labels[:, 0] == labels
            assert hit.mean() >= (1.0 if self.exact else 0.99)
            assert (res.distances[hit, 0] <= self.zero()).all()

    def test_labels_preserved(self) -> None:
        x = self.vectors(300, seed=5)
        rng = np.random.default_rng(5)
        labels = rng.choice(np.arange(2**40, 2**40 + 10**6), size=300, replace=False).astype(np.int64)
        index = self.make()
        index.add(x, labels)
        res = index.query(x[::7], k=2, max_distance=self.near_radius())
        assert (res.labels[:, 0] == labels[::7]).all()
        assert set(res.labels[res.labels >= 0].tolist()) <= set(labels.tolist())
        # labels given as another integer dtype (and a list) are accepted
        other = self.make()
        other.add(x[:5], [0, 1, 2, 3, 4])
        other.add(x[5:10], np.arange(5, 10, dtype=np.uint16))
        assert other.query(x[7:8], k=1).labels[0, 0] == 7

    def test_padding_when_fewer_than_k(self) -> None:
        x = self.vectors(3, seed=9)
        index = self.make()
        index.add(x, np.array([10, 20, 30]))
        res = index.query(x[:1], k=5)
        self.assert_result_shape(res, 1, 5)
        assert res.labels[0, 0] == 10
        assert sorted(res.labels[0, :3].tolist()) == [10, 20, 30]
        assert (res.labels[0, 3:] == -1).all() and np.isinf(res.distances[0, 3:]).all()
        assert np.isfinite(res.distances[0, :3]).all()
        res = index.query(x[:1], k=5, max_distance=self.near_radius())
        assert res.labels[0].tolist() == [10, -1, -1, -1, -1]

    def test_max_distance_filter(self) -> None:
        base = self.vectors(1, seed=11)
        if self.kind == "binary":
            steps, limit, inside = [0, 3, 8, 12, 40], 8, 3
        else:
            steps, limit, inside = [0.0, 0.5, 1.0, 3.0, 6.0], 1.5, 3
        near = self.at_distance(base, steps)
        index = self.make()
        index.add(self.vectors(200, seed=12), np.arange(1000, 1200))
        index.add(near, np.arange(len(steps)))
        res = index.query(base, k=10, max_distance=limit)
        found = res.labels[0][res.labels[0] >= 0]
        assert found.tolist() == list(range(inside)), "exactly the vectors within max_distance, nearest first"
        np.testing.assert_allclose(res.distances[0, :inside], steps[:inside], atol=1e-4)
        assert (res.distances[0, :inside] <= limit).all()
        # the boundary is inclusive (float vectors sit at their distance only to rounding)
        res = index.query(base, k=10, max_distance=steps[2] + (0 if self.kind == "binary" else 1e-4))
        assert res.labels[0, :3].tolist() == [0, 1, 2]
        # max_distance=0 keeps only exact duplicates; inf means no limit
        assert index.query(base, k=3, max_distance=0).labels[0].tolist() == [0, -1, -1]
        assert (index.query(base, k=3, max_distance=float("inf")).labels[0] >= 0).all()

    def test_duplicates_with_different_labels(self) -> None:
        x = self.vectors(50, seed=13)
        index = self.make()
        index.add(x, np.arange(50))
        index.add(x[:5], np.arange(100, 105))
        res = index.query(x[:5], k=2, max_distance=self.near_radius())
        for i in range(5):
            assert sorted(res.labels[i].tolist()) == [i, 100 + i]
            assert (res.distances[i] <= self.zero()).all()

    def test_matches_exact_reference(self) -> None:
        x = self.vectors(800, seed=21)
        labels = np.arange(800) + 5
        index, ref = self.make(), ExactIndex(self.kind, self.dim)
        index.add(x, labels)
        ref.add(x, labels)
        queries = np.concatenate([self.queries_near(x[:150]), self.vectors(50, seed=22)])
        for max_distance in (None, self.near_radius()):
            got = index.query(queries, k=4, max_distance=max_distance)
            want = ref.query(queries, k=4, max_distance=max_distance)
            self.assert_result_shape(got, 200, 4)
            if self.exact:
                np.testing.assert_allclose(got.distances, want.distances, atol=1e-4)
                assert (got.labels[:, 0] == want.labels[:, 0]).mean() >= 0.99  # ties may swap
            else:
                within = want.labels[:, 0] >= 0
                assert (got.labels[within, 0] == want.labels[within, 0]).mean() >= 0.95

    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        x = self.vectors(700, seed=31)
        index = self.make()
        index.add(x[:400], np.arange(400) * 2)
        index.add(x[400:], np.arange(400, 700) * 2)
        queries = np.concatenate([self.queries_near(x[::10]), self.vectors(20, seed=32)])
        before = [index.query(queries, k=5, max_distance=m) for m in (None, self.near_radius())]
        index.save(tmp_path / "idx")
        assert (tmp_path / "idx" / "meta.json").is_file()
        assert not list((tmp_path / "idx").glob("*.pkl"))
        for loaded in (load_index(tmp_path / "idx"), type(index).load(tmp_path / "idx")):
            assert type(loaded) is type(index)
            assert len(loaded) == len(index) and (loaded.kind, loaded.dim) == (index.kind, index.dim)
            for m, want in zip((None, self.near_radius()), before):
                got = loaded.query(queries, k=5, max_distance=m)
                np.testing.assert_array_equal(got.labels, want.labels)
                np.testing.assert_array_equal(got.distances, want.distances)
        # a loaded index keeps growing
        loaded = load_index(tmp_path / "idx")
        extra = self.vectors(5, seed=33)
        loaded.add(extra, np.arange(9000, 9005))
        assert len(loaded) == 705
        assert loaded.query(extra, k=1).labels[:, 0].tolist() == list(range(9000, 9005))

    def test_save_load_empty(self, tmp_path: Path) -> None:
        index = self.make()
        index.save(tmp_path / "empty")
        loaded = load_index(tmp_path / "empty")
        assert len(loaded) == 0 and type(loaded) is type(index)
        assert (loaded.query(self.vectors(1), k=2).labels == -1).all()

    def test_add_in_batches(self) -> None:
        x = self.vectors(900, seed=41)
        labels = np.arange(900) + 1
        whole = self.make()
        whole.add(x, labels)
        parts = self.make()
        for a, b in [(0, 1), (1, 1), (1, 250), (250, 251), (251, 600), (600, 900)]:
            parts.add(x[a:b], labels[a:b])  # includes an empty batch
        assert len(parts) == 900
        queries = self.queries_near(x[::9])
        for m in (None, self.near_radius()):
            got = parts.query(queries, k=3, max_distance=m)
            want = whole.query(queries, k=3, max_distance=m)
            assert (got.labels[:, 0] == labels[::9]).mean() >= (1.0 if self.exact else 0.97)
            if self.exact:
                np.testing.assert_allclose(got.distances, want.distances, atol=1e-4)

    def test_validation_errors(self) -> None:
        index = self.make()
        good = self.vectors(4)
        other_dtype = good.astype(np.float32) if self.kind == "binary" else (good > 0).astype(np.uint8)
        with pytest.raises(TypeError, match="uint8" if self.kind == "binary" else "float"):
            index.add(other_dtype, np.arange(4))
        with pytest.raises(ValueError, match=r"shape \(n, %d\)" % self.width):
            index.add(good[:, :-1], np.arange(4))
        with pytest.raises(ValueError, match="single vector"):
            index.add(good[0], np.arange(1))
        with pytest.raises(ValueError, match="labels must have shape"):
            index.add(good, np.arange(3))
        with pytest.raises(ValueError, match=">= 0"):
            index.add(good, np.array([0, 1, -1, 2]))
        with pytest.raises(TypeError, match="labels must be integers"):
            index.add(good, np.arange(4.0))
        assert len(index) == 0, "a rejected add stores nothing"
        index.add(good, np.arange(4))
        with pytest.raises(ValueError, match="k must be a positive integer"):
            index.query(good, k=0)
        with pytest.raises(ValueError, match="max_distance"):
            index.query(good, k=1, max_distance=-1)
        with pytest.raises(ValueError, match="shape"):
            index.query(good[:, :-1], k=1)
        with pytest.raises(TypeError):
            index.query(other_dtype, k=1)
        if self.kind == "binary":
            with pytest.raises(TypeError, match="np.packbits"):
                index.add(np.zeros((1, self.dim), bool), np.arange(1))
        else:
            bad = good.copy()
            bad[0, 0] = np.nan
            with pytest.raises(ValueError, match="NaN"):
                index.add(bad, np.arange(4))
            # other float widths are accepted and converted
            index.add(good.astype(np.float64), np.arange(4))
        assert len(index) == (4 if self.kind == "binary" else 8)


# ---------------------------------------------------------------------- configurations
class TestExactBinary(IndexContract):
    def make(self) -> VectorIndex:
        return ExactIndex("binary", 256)


class TestExactBinaryOddWidth(IndexContract):
    dim = 72  # 9 bytes: not a whole number of uint64 words

    def make(self) -> VectorIndex:
        return ExactIndex("binary", 72, block_bytes=4096)  # tiny blocks: exercises chunking


class TestExactFloat(IndexContract):
    kind, dim = "float", 32

    def make(self) -> VectorIndex:
        return ExactIndex("float", 32, block_bytes=8192)


class TestMIHTables(IndexContract):
    """Every query goes through the hash tables (rebuilt whenever rows were added)."""

    def make(self) -> VectorIndex:
        return MIHIndex("binary", 256, b=16, tail_min=0, tail_fraction=0)


class TestMIHTailOddWidth(IndexContract):
    """12-bit substrings straddling uint64 words, and an unindexed tail scanned by brute force."""

    dim = 72

    def make(self) -> VectorIndex:
        return MIHIndex("binary", 72, b=12, tail_min=100, tail_fraction=0.5)


class TestAutoSmallBinary(IndexContract):
    def make(self) -> VectorIndex:
        return make_index("binary", 256)


class TestFaissBinaryFlat(IndexContract):
    def make(self) -> VectorIndex:
        return FaissIndex("binary", 256, structure="flat")


class TestFaissBinaryMultiHash(IndexContract):
    def make(self) -> VectorIndex:
        return FaissIndex("binary", 256, structure="multihash")


class TestFaissBinaryHNSW(IndexContract):
    exact = False

    def make(self) -> VectorIndex:
        return FaissIndex("binary", 256, structure="hnsw", M=16, ef_construction=40, ef_search=64)


class TestFaissBinaryIVF(IndexContract):
    """Trains once 300 vectors exist, so batches cross the flat-buffer -> IVF switch."""

    exact = False

    def make(self) -> VectorIndex:
        return FaissIndex("binary", 256, structure="ivf", nlist=8, nprobe=6, train_size=300)


class TestFaissFloatFlat(IndexContract):
    kind, dim = "float", 32

    def make(self) -> VectorIndex:
        return FaissIndex("float", 32, structure="flat")


class TestFaissFloatHNSW(IndexContract):
    kind, dim, exact = "float", 32, False

    def make(self) -> VectorIndex:
        return FaissIndex("float", 32, structure="hnsw", M=16, ef_construction=40, ef_search=64)


class TestFaissFloatIVF(IndexContract):
    kind, dim, exact = "float", 32, False

    def make(self) -> VectorIndex:
        return FaissIndex("float", 32, structure="ivf", nlist=8, nprobe=4, train_size=300)
