"""Each image method inherits the conformance contract, plus what it is there for."""

from __future__ import annotations

import cv2
import numpy as np

from kyodaku.fingerprint.base import Fingerprint
from kyodaku.fingerprint.local import OrbMethod
from kyodaku.fingerprint.pdq import PdqMethod, trim_borders
from tests import art
from tests.fingerprint.conformance import MethodConformance


class TestPdq(MethodConformance):
    method = PdqMethod()

    def test_dihedral_reference_finds_mirror_and_rot90(self):
        ref = self.method.reference(art.loaded(art.artwork(11)))
        for copy in (art.artwork(11)[:, ::-1], np.rot90(art.artwork(11))):
            c = self.method.compare(self.method.query(art.loaded(np.ascontiguousarray(copy))), ref)
            assert c.score >= 0.8 and c.evidence["pdq_distance"] <= 31

    def test_padding_is_trimmed(self):
        rgb = art.artwork(12)
        padded = np.pad(rgb, ((60, 60), (120, 120), (0, 0)), constant_values=200)
        inner = trim_borders(padded)
        assert inner is not None and abs(inner.shape[1] - rgb.shape[1]) <= 0.02 * rgb.shape[1]
        c = self.method.compare(self.method.query(art.loaded(padded)), self.method.reference(art.loaded(rgb)))
        assert c.evidence["trimmed"] and c.score >= 0.8


class TestOrb(MethodConformance):
    method = OrbMethod()

    def _score(self, copy, seed):
        return self.method.compare(self.method.query(art.loaded(copy)),
                                   self.method.reference(art.loaded(art.artwork(seed))))

    def test_crop_rotation_mirror_and_paste_match(self):
        rgb = art.artwork(21)
        other = art.artwork(99, (720, 960))
        for copy in (art.crop(rgb), art.rotate(rgb, 12), np.ascontiguousarray(rgb[:, ::-1]),
                     art.paste(rgb, other, 0.5)):
            c = self._score(copy, 21)
            assert c.score >= 0.8, c.evidence

    def test_mirror_is_reported(self):
        c = self._score(np.ascontiguousarray(art.artwork(22)[:, ::-1]), 22)
        assert c.evidence["mirrored"] is True

    def test_support_is_inlier_rows(self):
        q = self.method.query(art.loaded(art.crop(art.artwork(23))))
        c = self.method.compare(q, self.method.reference(art.loaded(art.artwork(23))))
        assert c.support is not None and len(c.support) == c.evidence["inliers"]
        assert c.support.max() < len(q)


def test_store_keeps_references_without_vectors(tmp_path):
    """A reference too small or flat for keypoints is stored (and matched by nothing)."""
    from kyodaku.fingerprint.store import MethodStore, RefEntry

    m = OrbMethod()
    store = MethodStore(tmp_path / "orb", m)
    empty = m.reference(art.loaded(np.full((16, 16, 3), 90, np.uint8)))
    assert len(empty) == 0
    store.append([RefEntry(1, "w1", empty)])
    store.append([RefEntry(2, "w2", m.reference(art.loaded(art.artwork(5))))])
    again = MethodStore(tmp_path / "orb", m)
    assert len(again) == 2 and len(again.get(0)) == 0 and len(again.get(1)) > 0
    assert set(again.owner.tolist()) == {1}


def test_pdq_quadrant_finds_one_tile_of_a_collage():
    """A work padded into one cell of a 2x2 grid, with other art in the other cells."""
    m = PdqMethod()
    rgb = art.artwork(31, (300, 400))
    cell = 480
    grid = np.full((2 * cell, 2 * cell, 3), 255, np.uint8)
    for i, seed in enumerate((32, 33, 34)):
        y, x = divmod(i, 2)
        grid[y * cell:(y + 1) * cell, x * cell:(x + 1) * cell] = art.artwork(seed, (cell, cell))
    grid[cell + 90:cell + 390, cell + 40:cell + 440] = rgb  # padded on white in the last cell
    ref = m.reference(art.loaded(rgb))
    q = m.query(art.loaded(grid))
    c = m.compare(q, ref)
    assert c.score >= 0.8 and c.evidence["region"] == "quadrant", c.evidence
    whole_only = Fingerprint(q.method, q.vectors[q.points[:, 0] < 2], q.points[q.points[:, 0] < 2], q.info)
    assert m.compare(whole_only, ref).score < 0.3


def test_pdq_reference_also_hashes_content_inside_transparent_margins():
    m = PdqMethod()
    sprite = np.full((600, 600, 3), 255, np.uint8)
    sprite[100:500, 150:450] = art.artwork(41, (400, 300))
    ref = m.reference(art.loaded(sprite))
    assert len(ref) == 16  # 8 dihedral of the whole, 8 of the content
    cut = art.loaded(art.jpeg(sprite[100:500, 150:450]))
    assert m.compare(m.query(cut), ref).score >= 0.8


def test_pdq_featureless_views_are_not_hashed_and_match_nothing():
    """A nearly empty picture (a layer that is almost all transparent, flattened on
    white) and an empty quadrant of a query hash to rounding noise that such views
    share: they matched each other at distance 0 across unrelated works."""
    m = PdqMethod()
    blank = np.full((400, 400, 3), 255, np.uint8)
    blank[300:302, 40:360] = 250  # one faint line
    assert len(m.reference(art.loaded(blank))) == 0
    picture = np.full((600, 800, 3), 255, np.uint8)
    picture[:300, :400] = art.artwork(35, (300, 400))  # art in one quadrant, the rest empty
    q = m.query(art.loaded(picture))
    assert sorted(q.points[:, 0].tolist()).count(2) == 1, q.points  # only the quadrant with art
    assert m.compare(m.query(art.loaded(np.full((500, 500, 3), 255, np.uint8))), m.reference(art.loaded(blank))).score == 0.0
    c = m.compare(q, m.reference(art.loaded(art.artwork(35, (300, 400)))))
    assert c.score >= 0.8 and c.evidence["region"] in ("trimmed", "quadrant"), c.evidence


def test_orb_query_keypoints_reach_a_flat_drawing_beside_busy_texture():
    """A composite: noisy texture on the left, a flat line drawing on the right.  The
    query's keypoints are spread over a grid, so the drawing gets its share."""
    rng = np.random.default_rng(5)
    img = np.full((480, 960, 3), 235, np.uint8)
    img[:, :480] = rng.integers(0, 255, (480, 480, 3), dtype=np.uint8)
    for i in range(12):  # a flat drawing: outlined shapes on a light ground
        cv2.rectangle(img, (520 + 30 * i, 60 + 25 * i), (560 + 30 * i, 120 + 25 * i), (40, 40, 40), 3)
    q = OrbMethod().query(art.loaded(img))
    right = (q.points[:, 0] >= 480 * 640 / 960).mean()
    assert right >= 0.15, right


def test_orb_aligns_a_half_turn_to_a_fraction_of_a_pixel():
    """A copy turned by 180 degrees (odd sizes, so that pyramid levels round): ORB's
    positions on coarse levels are corrected, and the fitted map is the exact one,
    x' = w - 1 - x, to well under a pixel (it was 1-2 px off)."""
    rgb = art.artwork(24, (451, 603))
    m = OrbMethod()
    q, r = m.query(art.loaded(np.ascontiguousarray(rgb[::-1, ::-1]))), m.reference(art.loaded(rgb))
    a = m.pixel_map(q, r, m.compare(q, r))
    h, w = rgb.shape[:2]
    exact = np.array([[-1.0, 0.0, w - 1.0], [0.0, -1.0, h - 1.0], [0.0, 0.0, 1.0]])
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], float).T
    assert np.abs(a @ corners - exact @ corners).max() < 0.3, a


def test_orb_finds_corners_in_a_dark_faded_picture():
    """A night-time layer spanning a dozen gray levels, softly drawn, has no corners at
    FAST's threshold (16 keypoints, and a copy went unmatched); its intensities are
    stretched first, and a copy of it matches."""
    dark = art.faded(25, 12, 1.5)
    m = OrbMethod()
    ref = m.reference(art.loaded(dark))
    assert len(ref) >= 500, len(ref)
    c = m.compare(m.query(art.loaded(art.jpeg(art.crop(dark), 85))), ref)
    assert c.score >= 0.8, c.evidence


def test_orb_finds_a_figure_pasted_small_into_a_large_scene():
    """A picture pasted at 30% into a 1024-px scene is ~190 px wide; read at 640 px it
    is ~120 px and keeps almost no keypoints.  A query read smaller than it is also gets
    keypoints from the finest levels of its own resolution, and the copy is found (it
    was not, with the fine pass off); a query no larger than 640 px gets no extra ones."""
    m, coarse = OrbMethod(), OrbMethod()
    coarse.fine_features = 0
    for seed in (26, 27, 28):
        ref = art.artwork(seed)
        scene = art.paste(ref, art.artwork(99, (768, 1024)), 0.3, (300, 400))
        found = m.compare(m.query(art.loaded(scene)), m.reference(art.loaded(ref)))
        assert found.score >= 0.9, found.evidence
        assert coarse.compare(coarse.query(art.loaded(scene)), coarse.reference(art.loaded(ref))).score < 0.5
    assert len(m.query(art.loaded(art.artwork(26, (480, 640))))) <= m.query_features * (1 + m.strongest_extra)


def test_orb_finds_a_dark_picture_inside_a_bright_screenshot():
    """A night scene (25 gray levels) shown in a bright page with text: the page spans
    the whole range, so stretching it does nothing for the picture, whose part of the
    query has no corners at the page's contrast.  Grid cells starved of keypoints are
    looked at again with the contrast equalised locally, and the copy is found (3-12
    inliers with that switched off)."""
    m, plain = OrbMethod(), OrbMethod()
    plain.starved_share = 0.0
    for seed in (29, 30, 31):
        dark = art.faded(seed, 25, 1.0)
        shot = np.full((768, 1024, 3), 235, np.uint8)
        shot[:60] = 40
        for i in range(12):
            cv2.putText(shot, "lorem ipsum dolor sit amet", (20, 100 + 40 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                        (30, 30, 30), 1, cv2.LINE_AA)
        shot = art.paste(dark, shot, 0.8, (200, 480))
        ref = m.reference(art.loaded(dark))
        found = m.compare(m.query(art.loaded(shot)), ref)
        assert found.score >= 0.9, found.evidence
        assert plain.compare(plain.query(art.loaded(shot)), ref).score < 0.5


def _correspondences(ref_xy: np.ndarray, query_xy: np.ndarray) -> tuple[Fingerprint, Fingerprint, tuple]:
    n = len(ref_xy)
    zeros = np.zeros((n, 1), np.float32)
    ref = Fingerprint("orb", np.zeros((n, 32), np.uint8), np.hstack([ref_xy, zeros]).astype(np.float32), {})
    query = Fingerprint("orb", np.zeros((n, 32), np.uint8), np.hstack([query_xy, zeros]).astype(np.float32), {})
    idx = np.arange(n)
    return query, ref, (idx, idx, np.zeros(n, np.float32))


def test_orb_inliers_are_counted_in_the_query_pixels_when_the_reference_is_enlarged():
    """A tiny patch of a reference (a sprite's few corners, 16 px) "seen" at 15x over a
    whole screenshot: RANSAC's threshold, in reference pixels, spans 120 of the query's,
    and keypoints strewn anywhere near the map agreed with it.  Counted in the query's
    pixels they do not; a real enlarged copy (2x, a pixel of noise) keeps its inliers."""
    rng = np.random.default_rng(3)
    m = OrbMethod()
    patch = rng.uniform(100, 116, (40, 2))
    strewn = (patch - 100) * 15 + rng.uniform(-60, 60, (40, 2)) + 50
    q, r, pairs = _correspondences(patch, strewn)
    assert m.verify(q, r, *pairs).evidence["inliers"] < 10
    ref_xy = rng.uniform(0, 200, (40, 2))
    copy = ref_xy * 2 + 30 + rng.normal(0, 1, (40, 2))
    q, r, pairs = _correspondences(ref_xy, copy)
    c = m.verify(q, r, *pairs)
    assert c.evidence["inliers"] >= 38 and abs(c.evidence["scale"] - 0.5) < 0.01


def test_orb_query_keeps_the_strongest_corners_of_a_narrow_figure_in_a_busy_scene():
    """A tall, narrow figure pasted into a busy scene covers a sliver of the grid cells,
    so the spread caps its keypoints at its area's share (a ship on a rock field was
    missed).  The strongest keypoints left out are added back wherever they lie: the
    figure gets half again as many inliers or more."""
    m, spread_only = OrbMethod(), OrbMethod()
    spread_only.strongest_extra = 0.0
    scene = cv2.GaussianBlur(art.artwork(98, (540, 960)), (0, 0), 1.2)
    for seed in (40, 41, 42):
        figure = art.artwork(seed, (400, 150))
        shot = art.paste(figure, scene, 0.8, (120, 400))
        ref = m.reference(art.loaded(figure))
        both = m.compare(m.query(art.loaded(shot)), ref).evidence["inliers"]
        spread = spread_only.compare(spread_only.query(art.loaded(shot)), ref).evidence["inliers"]
        assert both >= 1.5 * spread, (both, spread)
