"""The conformance test base class every fingerprint method's tests inherit (as
python-threatexchange does with SignalType): shapes and dtypes, determinism, a copy
matches, unrelated art does not, degenerate inputs do not crash, scores stay in 0..1,
the reference store gives back what it was given, and a method that maps pixels
(:class:`~kyodaku.fingerprint.base.MapsPixels`) maps a copy so that the appearance check
finds it intact.  ``tests/fingerprint/test_registry.py`` fails when a registered method
has no subclass of this base.

A subclass sets ``method`` and may override the input hooks (video methods make videos).
"""

from __future__ import annotations

import json

import numpy as np

from kyodaku.fingerprint.base import ChecksAppearance, Fingerprint, FingerprintMethod, MapsPixels
from kyodaku.fingerprint.registry import all_methods
from kyodaku.fingerprint.store import MethodStore, RefEntry
from tests import art


class MethodConformance:
    method: FingerprintMethod

    # ---- input hooks -------------------------------------------------------------
    def original(self, seed: int):
        return art.loaded(art.artwork(seed))

    def copy_of(self, seed: int):
        """A mild copy every method must find (downscaled, recompressed)."""
        return art.loaded(art.jpeg(art.resized(art.artwork(seed), 0.6), 40))

    def degenerate_inputs(self):
        return [art.loaded(np.zeros((1, 1, 3), np.uint8)), art.loaded(np.full((50, 400, 3), 128, np.uint8)),
                art.loaded(np.zeros((3000, 8, 3), np.uint8))]

    def ref(self, x) -> Fingerprint:
        return self.method.reference(x)

    def query(self, x) -> Fingerprint:
        return self.method.query(x)

    # ---- the contract ------------------------------------------------------------
    def test_registered_once_with_versioned_key(self):
        assert all_methods()[self.method.name].__class__ is self.method.__class__
        assert self.method.key == f"{self.method.name}@{self.method.version}"
        assert self.method.vector_kind in ("binary", "float")
        assert self.method.media in ("image", "video")

    def test_fingerprint_shapes_and_dtypes(self):
        for fp in (self.ref(self.original(1)), self.query(self.original(1))):
            assert fp.method == self.method.name
            assert len(fp) > 0
            if self.method.vector_kind == "binary":
                assert fp.vectors.dtype == np.uint8 and fp.vectors.shape[1] == self.method.dim // 8
            else:
                assert fp.vectors.dtype == np.float32 and fp.vectors.shape[1] == self.method.dim
            assert fp.points.shape[0] == len(fp) and fp.points.dtype == np.float32

    def test_deterministic(self):
        a, b = self.ref(self.original(2)), self.ref(self.original(2))
        assert np.array_equal(a.vectors, b.vectors)

    def test_copy_matches(self):
        c = self.method.compare(self.query(self.copy_of(3)), self.ref(self.original(3)))
        assert c.score >= 0.8, c

    def test_unrelated_does_not_match(self):
        for other in (4, 5, 6):
            c = self.method.compare(self.query(self.original(other)), self.ref(self.original(3)))
            assert c.score < 0.3, (other, c)

    def test_scores_in_unit_interval_and_evidence_is_json(self):
        import json

        c = self.method.compare(self.query(self.copy_of(7)), self.ref(self.original(7)))
        assert 0.0 <= c.score <= 1.0
        json.dumps(c.evidence)

    def test_degenerate_inputs_do_not_crash(self):
        ref = self.ref(self.original(8))
        for x in self.degenerate_inputs():
            fp = self.query(x)
            c = self.method.compare(fp, ref)
            assert 0.0 <= c.score < 0.3

    def test_store_gives_back_what_it_was_given(self, tmp_path):
        fps = [self.ref(self.original(9)), self.ref(self.original(10))]
        store = MethodStore(tmp_path / self.method.name, self.method)
        store.append([RefEntry(i + 1, f"w{i}", fp) for i, fp in enumerate(fps)])
        again = MethodStore(tmp_path / self.method.name, self.method)  # from disk
        assert len(again) == 2 and again.work_of(1) == "w1"
        for i, fp in enumerate(fps):
            got = again.get(i)
            assert got.method == self.method.name and np.array_equal(got.vectors, fp.vectors)
            assert np.array_equal(got.points[:, :fp.points.shape[1]], fp.points)
            assert got.info == json.loads(json.dumps(fp.info))
            c = self.method.compare(self.query(self.copy_of(9 + i)), got)
            assert c.score >= 0.8, c

    def test_pixel_map_lets_the_appearance_check_find_a_copy_intact(self):
        if not isinstance(self.method, MapsPixels):
            return  # this method's matches are not checked pixel by pixel (declared so)
        checker = all_methods()["appearance"]
        assert isinstance(checker, ChecksAppearance)
        original, copy = self.original(11), self.copy_of(11)
        q, r = self.query(copy), self.ref(original)
        to_ref = self.method.pixel_map(q, r, self.method.compare(q, r))
        assert to_ref is not None and to_ref.shape == (3, 3) and np.isfinite(to_ref).all()
        found = checker.check(copy, checker.reference(original), to_ref)
        assert found is not None and found.shows_copy, found
