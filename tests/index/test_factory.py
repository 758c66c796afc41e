"""make_index / load_index, the on-disk format, and backend-specific behaviour
(multi-index hashing tables and tail, FAISS IVF lazy training)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kyodaku.index import EXACT_MAX, ExactIndex, MIHIndex, load_index, make_index
from kyodaku.index.faiss_index import FaissIndex
from tests.index.test_conformance import flip_bits


def codes(n: int, seed: int = 0, width: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, width), dtype=np.uint8)


# ---------------------------------------------------------------------- make_index
def test_auto_picks_by_expected_size() -> None:
    assert type(make_index("binary", 256)) is ExactIndex
    assert type(make_index("float", 64, expected_size=EXACT_MAX - 1)) is ExactIndex
    big = make_index("binary", 256, expected_size=8_000_000)
    assert type(big) is MIHIndex and (big.b, big.nhash) == (20, 12)
    mid = make_index("binary", 256, expected_size=100_000)
    assert type(mid) is MIHIndex and (mid.b, mid.nhash) == (16, 16)
    f = make_index("float", 128, expected_size=30_000)
    assert type(f) is FaissIndex and f.structure == "flat"
    f = make_index("float", 128, expected_size=100_000)
    assert type(f) is FaissIndex and f.structure == "hnsw"
    f = make_index("float", 128, expected_size=2_000_000)
    assert type(f) is FaissIndex and f.structure == "hnsw"


def test_explicit_backends_and_structures() -> None:
    assert type(make_index("binary", 256, backend="exact", expected_size=10**7)) is ExactIndex
    assert make_index("binary", 256, backend="faiss", expected_size=1000).structure == "flat"
    assert make_index("binary", 256, backend="faiss", expected_size=10**7).structure == "multihash"
    ivf = make_index("binary", 256, expected_size=1_000_000, structure="ivf")
    assert type(ivf) is FaissIndex and ivf.params["nlist"] == 4000 and ivf.params["nprobe"] == 64
    assert make_index("binary", 256, backend="mih", b=8).nhash == 32
    with pytest.raises(ValueError, match="backend must be one of"):
        make_index("binary", 256, backend="annoy")
    with pytest.raises(ValueError, match="not available for float"):
        make_index("float", 16, structure="multihash")
    with pytest.raises(ValueError, match="unknown parameter"):
        make_index("float", 16, structure="hnsw", nprobe=3)
    with pytest.raises(ValueError, match="needs binary"):
        make_index("float", 16, backend="mih")
    with pytest.raises(ValueError, match="multiple of 8"):
        make_index("binary", 12)
    with pytest.raises(ValueError, match="'binary' or 'float'"):
        make_index("sparse", 12)


# ---------------------------------------------------------------------- files
def test_meta_json_and_no_pickle(tmp_path: Path) -> None:
    index = FaissIndex("binary", 64, structure="multihash", b=8)
    index.add(codes(100, width=8), np.arange(100))
    index.save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["format"] == "kyodaku-index" and meta["format_version"] == 1
    assert (meta["backend"], meta["kind"], meta["dim"], meta["count"]) == ("faiss", "binary", 64, 100)
    assert meta["structure"] == "multihash" and meta["params"] == {"b": 8}
    assert meta["faiss_class"] == "IndexBinaryMultiHash" and meta["faiss_version"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faiss_index.npy", "labels.npy", "meta.json"]
    for name in ("faiss_index.npy", "labels.npy"):
        assert np.load(tmp_path / name, allow_pickle=False).dtype != object


def test_load_rejects_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_index(tmp_path / "missing")
    index = ExactIndex("binary", 256)
    index.add(codes(10), np.arange(10))
    index.save(tmp_path / "a")
    meta_path = tmp_path / "a" / "meta.json"
    meta = json.loads(meta_path.read_text())

    def broken(**changes: object) -> Path:
        meta_path.write_text(json.dumps({**meta, **changes}))
        return tmp_path / "a"

    with pytest.raises(ValueError, match="unknown index backend"):
        load_index(broken(backend="annoy"))
    with pytest.raises(ValueError, match="version"):
        load_index(broken(format_version=99))
    with pytest.raises(ValueError, match="not a kyodaku index"):
        load_index(broken(format="other"))
    with pytest.raises(ValueError, match="expected uint8 array"):
        load_index(broken(count=11))
    with pytest.raises(ValueError, match="backend is 'exact', not 'faiss'"):
        FaissIndex.load(broken())
    # an object array (which would need pickle) is refused, not unpickled
    np.save(tmp_path / "a" / "labels.npy", np.array([object()] * 10), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        load_index(broken())


def test_faiss_load_checks_the_blob_against_meta(tmp_path: Path) -> None:
    index = FaissIndex("binary", 256, structure="flat")
    index.add(codes(20), np.arange(20))
    index.save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    (tmp_path / "meta.json").write_text(json.dumps({**meta, "structure": "multihash", "params": {"b": 16}}))
    with pytest.raises(ValueError, match="IndexBinaryFlat"):
        load_index(tmp_path)


# ---------------------------------------------------------------------- mih
def test_mih_is_exact_at_every_radius() -> None:
    """Planted codes at every distance 0..70 from each query, radii around the multiples of
    nhash where the number of probed flips changes, and radii past the table limit (which
    fall back to a scan): always identical to the exact reference."""
    rng = np.random.default_rng(3)
    base = codes(20, seed=3)
    planted = np.concatenate([flip_bits(base, np.full(20, d), rng) for d in range(0, 71, 2)])
    stored = np.concatenate([planted, codes(3000, seed=4)])
    labels = np.arange(stored.shape[0])
    mih, ref = MIHIndex("binary", 256, b=16, tail_min=0), ExactIndex("binary", 256)
    mih.add(stored, labels)
    ref.add(stored, labels)
    for radius in (0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 90):
        got, want = mih.query(base, 50, max_distance=radius), ref.query(base, 50, max_distance=radius)
        np.testing.assert_array_equal(got.distances, want.distances)
        np.testing.assert_array_equal(got.labels, want.labels)
    assert mih.n_indexed == len(mih)


def test_mih_tail_is_indexed_lazily(tmp_path: Path) -> None:
    mih = MIHIndex("binary", 256, b=16, tail_min=1000, tail_fraction=0.25)
    x = codes(6000, seed=5)
    mih.add(x[:3000], np.arange(3000))
    assert mih.n_indexed == 0
    assert mih.query(x[:2], 1, max_distance=10).labels[:, 0].tolist() == [0, 1]
    assert mih.n_indexed == 3000  # tail over 1000: built on the first radius query
    mih.add(x[3000:3500], np.arange(3000, 3500))
    assert mih.query(x[3400:3401], 1, max_distance=10).labels[0, 0] == 3400
    assert mih.n_indexed == 3000  # 500-row tail: scanned, not rebuilt
    mih.save(tmp_path)
    loaded = MIHIndex.load(tmp_path)
    assert loaded.n_indexed == 3000 and len(loaded) == 3500
    loaded.add(x[3500:], np.arange(3500, 6000))
    assert loaded.query(x[5999:], 1, max_distance=10).labels[0, 0] == 5999
    assert loaded.n_indexed == 6000
    loaded.build()
    assert loaded.nbytes() > x.nbytes


# ---------------------------------------------------------------------- faiss ivf
@pytest.mark.parametrize("kind", ["binary", "float"])
def test_ivf_trains_lazily_and_saves_both_states(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    if kind == "binary":
        x, dim = codes(600, seed=6), 256
    else:
        x, dim = rng.standard_normal((600, 16)).astype(np.float32), 16
    index = FaissIndex(kind, dim, structure="ivf", nlist=4, train_size=400)
    index.add(x[:300], np.arange(300))
    assert not index.trained and not index.approximate
    assert type(index.faiss_index).__name__ in ("IndexBinaryFlat", "IndexFlatL2")
    index.save(tmp_path / "untrained")
    loaded = load_index(tmp_path / "untrained")
    assert isinstance(loaded, FaissIndex) and not loaded.trained
    loaded.add(x[300:], np.arange(300, 600))  # crosses train_size after loading
    assert loaded.trained and loaded.approximate
    assert type(loaded.faiss_index).__name__ in ("IndexBinaryIVF", "IndexIVFFlat")
    assert (loaded.query(x, 1).labels[:, 0] == np.arange(600)).mean() >= 0.99
    loaded.save(tmp_path / "trained")
    again = load_index(tmp_path / "trained")
    assert again.trained and again.params["nprobe"] == loaded.params["nprobe"]
    np.testing.assert_array_equal(again.query(x[:50], 3).labels, loaded.query(x[:50], 3).labels)


def test_faiss_small_batches_leave_thread_setting_alone() -> None:
    import faiss

    faiss.omp_set_num_threads(2)
    try:
        index = FaissIndex("binary", 256)
        index.add(codes(100), np.arange(100))
        index.query(codes(1), 1, max_distance=20)
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(1)


def test_ivf_trains_on_an_even_spread_when_told_at_most() -> None:
    """``train_max`` bounds what k-means runs on (its cost is vectors x lists); every
    vector is still indexed and found."""
    import faiss

    rng = np.random.default_rng(3)
    vectors = rng.integers(0, 256, (6_000, 32), dtype=np.uint8)
    index = make_index("binary", 256, backend="faiss", structure="ivf", nlist=40, nprobe=40, train_max=2_000)
    assert index.params["train_size"] == 1_560 and index.params["train_max"] == 2_000
    calls = []
    original = faiss.IndexBinaryIVF.train
    try:
        faiss.IndexBinaryIVF.train = lambda self, x: calls.append(len(x)) or original(self, x)
        index.add(vectors[:1_000], np.arange(1_000))
        assert not index.trained
        index.add(vectors[1_000:], np.arange(1_000, 6_000))
    finally:
        faiss.IndexBinaryIVF.train = original
    assert index.trained and calls == [2_000] and len(index) == 6_000
    found = index.query(vectors[[0, 2_999, 5_999]], 1)
    assert [int(x) for x in found.labels[:, 0]] == [0, 2_999, 5_999]
