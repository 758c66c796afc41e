"""The reference set's indexes as the registry grows."""

from __future__ import annotations

import numpy as np

from kyodaku.fingerprint.base import Fingerprint
from kyodaku.fingerprint.local import OrbMethod
from kyodaku.fingerprint.store import RefEntry
from kyodaku.scan.refset import KNN_LIST_SIZE, ReferenceSet


def _entries(rng: np.random.Generator, first: int, count: int, per_ref: int) -> list[RefEntry]:
    return [RefEntry(first + i, f"w{first + i}",
                     Fingerprint("orb", rng.integers(0, 256, (per_ref, 32), dtype=np.uint8),
                                 np.zeros((per_ref, 4), np.float32)))
            for i in range(count)]


def test_an_ivf_is_planned_again_when_the_registry_outgrows_it(tmp_path) -> None:
    """Added to in batches, the descriptor index is re-planned (more lists) once it holds
    four times what its lists were planned for, not left with the lists of the size at
    which it first became an IVF; the new plan is what a later open loads."""
    rng = np.random.default_rng(7)
    refs = ReferenceSet(tmp_path / "fingerprints", tmp_path / "index", methods=[OrbMethod()])
    refs.add("orb", _entries(rng, 0, 25, 1000))  # 25k vectors: past the flat limit
    first = refs.indexes["orb"]
    assert first.structure == "ivf" and first.params["nlist"] == 25_000 // KNN_LIST_SIZE
    refs.add("orb", _entries(rng, 25, 60, 1000))  # 85k: within four times the plan
    assert refs.indexes["orb"] is first and first.params["nlist"] == 125
    refs.add("orb", _entries(rng, 85, 20, 1000))  # 105k: past it
    grown = refs.indexes["orb"]
    assert grown is not first and grown.params["nlist"] == 105_000 // KNN_LIST_SIZE and grown.trained
    assert len(grown) == 105_000
    probe = np.asarray(refs.stores["orb"].vectors[[3, 50_000, 104_999]])
    found = grown.query(probe, 1)
    assert [int(x) for x in found.labels[:, 0]] == [3, 50_000, 104_999]
    reopened = ReferenceSet(tmp_path / "fingerprints", tmp_path / "index", methods=[OrbMethod()])
    assert reopened.indexes["orb"].params["nlist"] == 525 and len(reopened.indexes["orb"]) == 105_000


def test_an_outgrown_index_saved_by_an_older_kyodaku_is_rebuilt_before_a_scan(tmp_path) -> None:
    """An IVF left with the lists planned at 25k vectors while 105k were added (what
    kyodaku did before it re-planned as the registry grows) is rebuilt by the main
    process before workers open it; a planned one is left alone."""
    from kyodaku.index import make_index
    from kyodaku.scan.refset import replan_outgrown

    rng = np.random.default_rng(8)
    fps, ixs = tmp_path / "fingerprints", tmp_path / "index"
    refs = ReferenceSet(fps, ixs, methods=[OrbMethod()])
    refs.add("orb", _entries(rng, 0, 105, 1000))
    assert replan_outgrown(fps, ixs) == []
    stuck = make_index("binary", 256, backend="faiss", structure="ivf", nlist=125, nprobe=16)
    stuck.add(np.asarray(refs.stores["orb"].vectors), np.arange(105_000, dtype=np.int64))
    stuck.save(ixs / "orb")
    assert replan_outgrown(fps, ixs) == ["orb"]
    reopened = ReferenceSet(fps, ixs, methods=[OrbMethod()])
    assert reopened.indexes["orb"].params["nlist"] == 525 and len(reopened.indexes["orb"]) == 105_000
