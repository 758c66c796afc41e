"""Local features (OpenCV ORB) with geometric verification.

Finds a registered work inside a crop, a pad, a rotation, a screenshot, a collage tile or
a composite (a character cut out and put into another scene): the query and the
reference share many keypoints whose positions agree on one similarity transform
(RANSAC).  References store their keypoints twice, as drawn and mirrored, so a mirrored
copy matches without a second pass over every query.

Detection works on the gray picture stretched over its own intensity range (a dark
layer has corners at FAST's threshold too); a query's grid cells left without keypoints
are looked at again with the contrast equalised locally (a dark picture inside a bright
page); a query larger than ``query_side`` also gets keypoints from the finest levels of
its own resolution (a figure pasted small into a large scene).  Positions are corrected
to the picture's pixel centres on every pyramid level, so alignments are exact enough
for the pixel comparison that follows (:mod:`kyodaku.fingerprint.appearance`).

The matcher finds candidate correspondences through the method's index (binary, Hamming)
and calls :meth:`OrbMethod.verify`; :meth:`OrbMethod.compare` does the same for one pair
by brute force (tests, ``kyodaku check``).
"""

from __future__ import annotations

import cv2
import numpy as np

from kyodaku.fingerprint.base import (
    Comparison,
    Fingerprint,
    FingerprintMethod,
    MapsPixels,
    VerifiesVotes,
    evidence_score,
    resize_map,
)
from kyodaku.media.types import LoadedImage

#: ORB's patch size; smaller images have no keypoints
_MIN_SIDE = 31
# points columns
_X, _Y, _MIRROR = 0, 1, 2


def _cells(xy: np.ndarray, shape: tuple[int, int], grid: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid row and column (int64) of each position (N x 2, x then y) in a picture of
    ``shape``, cut into ``grid`` x ``grid`` cells."""
    h, w = shape
    cy = np.minimum(grid - 1, (xy[:, 1] * grid / h).astype(np.int64))
    cx = np.minimum(grid - 1, (xy[:, 0] * grid / w).astype(np.int64))
    return cy, cx


def _spread(keypoints, n: int, shape: tuple[int, int], grid: int, density: float = 1.5, extra: int = 0) -> list:
    """The ``n`` strongest keypoints with at most ``density`` n / grid² per grid cell, then
    the strongest of the rest: a textured background must not take every keypoint from a
    flat drawing pasted into it (composites, screenshots, collage tiles).  Plus the
    ``extra`` strongest of those left out: the spread keeps a caption's crisp glyphs from
    taking every keypoint, and in turn caps a crisp figure pasted small into a busy scene
    (a ship on a rock field) at its area's share; these give it back its corners."""
    if len(keypoints) <= n or grid <= 1:
        return list(keypoints)
    cap = max(1, int(density * n / (grid * grid)))
    pts = np.array([(k.pt[0], k.pt[1], k.response) for k in keypoints], dtype=np.float64)
    order = np.argsort(-pts[:, 2], kind="stable")  # strongest first, ties in detection order
    cy, cx = _cells(pts[order, :2], shape, grid)
    cell = cy * grid + cx
    # rank of each keypoint among the stronger ones of its cell: kept while under the cap
    by_cell = np.argsort(cell, kind="stable")
    starts = np.searchsorted(cell[by_cell], cell[by_cell], side="left")
    rank = np.empty(len(order), np.int64)
    rank[by_cell] = np.arange(len(order)) - starts
    under = rank < cap
    chosen = np.concatenate([order[under], order[~under]])[:n]
    if extra > 0:
        # and the ``extra`` strongest of those left out, wherever they lie
        taken = np.zeros(len(order), bool)
        taken[chosen] = True
        chosen = np.concatenate([chosen, order[~taken[order]][:extra]])
    return [keypoints[i] for i in chosen]


def _positions(keypoints, shape: tuple[int, int], factor: float) -> np.ndarray:
    """Keypoint positions in the image's pixels (N x 2, float32).  OpenCV's ORB reports a
    keypoint found on pyramid level ``l`` at its level position times the nominal scale
    ``factor ** l``; the level was resized to ``round(side / factor ** l)`` pixels with
    pixel centres aligned, so the true position is ``(side / level_side) * (x + 0.5) -
    0.5``.  The reported one is off by up to ~3 px on the coarse levels, in a direction
    that depends on the picture's size: a copy rotated by 180 degrees or mirrored was
    aligned a pixel or two off, and the appearance check read the misaligned outlines as
    drawn differently."""
    if not keypoints:
        return np.zeros((0, 2), np.float32)
    h, w = shape
    pts = np.array([k.pt for k in keypoints], np.float64)
    nominal = np.float32(factor) ** np.array([k.octave for k in keypoints], np.float32)
    level = pts / nominal[:, None].astype(np.float64)
    side = np.array([w, h], np.float64)
    level_side = np.rint(side[None, :] / nominal[:, None])
    return ((side / level_side) * (level + 0.5) - 0.5).astype(np.float32)


def _starved(keypoints, shape: tuple[int, int], grid: int, least: float) -> np.ndarray | None:
    """A mask (uint8, 255) of the grid cells with fewer than ``least`` keypoints, or None
    when every cell has enough."""
    h, w = shape
    counts = np.zeros((grid, grid), np.int64)
    if len(keypoints):
        np.add.at(counts, _cells(np.array([k.pt for k in keypoints], np.float64), shape, grid), 1)
    if (counts >= least).all():
        return None
    cells = (counts < least).astype(np.uint8) * 255
    return cv2.resize(cells, (w, h), interpolation=cv2.INTER_NEAREST)


def _gray_at(image: LoadedImage, side: int) -> tuple[np.ndarray, float]:
    """The picture in gray, at most ``side`` px, its intensities stretched
    (:func:`_stretched`), and the scale it was resized by."""
    gray = image.gray
    h, w = gray.shape
    s = side / max(h, w)
    if s < 1.0:
        gray = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        return _stretched(gray), s
    return _stretched(gray), 1.0


def _stretched(gray: np.ndarray, clip: float = 0.005) -> np.ndarray:
    """The gray picture with its own intensity range (``clip`` of the pixels cut at each
    end) stretched over 0..255.  FAST's threshold is an absolute difference: a dark or
    faded picture (a night-time parallax layer spans 25 gray levels) has next to no
    corners at it, while the same picture stretched has as many as a bright one.  ORB's
    descriptors compare intensities, which a monotonic stretch keeps, so a stretched
    reference and a stretched copy still match; a picture that already spans the range
    is left nearly as it was."""
    counts = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    total = counts[-1]
    lo = int(np.searchsorted(counts, clip * total, side="right"))
    hi = int(np.searchsorted(counts, (1.0 - clip) * total, side="left"))
    if hi - lo < 2 or (lo == 0 and hi == 255):
        return gray
    table = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return cv2.LUT(gray, np.rint(table).astype(np.uint8))




class OrbMethod(FingerprintMethod, VerifiesVotes, MapsPixels):
    name = "orb"
    #: 4: keypoint positions on coarse pyramid levels corrected (:func:`_positions`);
    #: 5: intensities stretched before detection (:func:`_stretched`)
    version = 5
    vector_kind = "binary"
    dim = 256
    vote_radius = 64
    vote_k = 3
    search = "knn"
    #: a reference needs votes from this many distinct query keypoints to be verified
    min_votes = 4
    #: a reference with fewer keypoints than this is not found by them (too plain)
    findable_from = 20

    ref_side = 640
    ref_features = 500
    query_side = 640
    query_features = 1000
    #: a transparent sprite's reference adds up to ref_features / 2 keypoints this far
    #: (px at ref_side) inside its silhouette: half an ORB patch, so their descriptors do
    #: not see the background it was flattened on
    alpha_erode_px = 12
    #: keypoints are detected ``oversample`` times over and spread over a grid x grid layout
    oversample = 3
    grid = 4
    #: per grid cell at most ``cell_density`` times its even share of keypoints are kept
    #: before the strongest of the rest fill up; then ``strongest_extra`` (a share of the
    #: keypoints wanted) of the strongest left out are added wherever they lie
    #: (:func:`_spread`).  Measured (README, "Accuracy"): full set false_clear 0.0039 ->
    #: 0.0016, composites 0.91 -> 0.94; other art 2 composites 0.37 -> 0.43
    cell_density = 1.5
    strongest_extra = 0.5
    #: FAST's contrast threshold, and the lower one used when an image yields fewer than
    #: ``low_texture_fraction`` of the keypoints wanted
    fast_threshold = 10
    low_fast_threshold = 4
    low_texture_fraction = 0.5
    #: a query read smaller than it is also gets ``fine_features`` keypoints from its
    #: finest ``fine_levels`` pyramid levels at up to ``fine_side`` px (when that is at
    #: least ``fine_min_gain`` times finer): a figure pasted small into a large scene
    fine_side = 1024
    fine_features = 500
    fine_levels = 3
    fine_min_gain = 1.25
    #: a query's grid cell that got fewer than ``starved_share`` of its share of keypoints
    #: is looked at again with the contrast equalised locally (CLAHE, ``clahe_clip``)
    starved_share = 0.25
    clahe_clip = 2.0
    #: RANSAC reprojection threshold, in pixels of the reference at ``ref_side`` and at
    #: most that many of the query at ``query_side`` (:meth:`verify`)
    ransac_px = 8.0
    #: inliers at score 0.5; chance matches between unrelated art stay below ~17
    score_mid = 18.0
    score_rise = 2.5
    score_tail = 8.0

    def _detect(self, gray: np.ndarray, n: int, mask: np.ndarray | None = None,
                grid: int = 1, levels: int = 8) -> tuple[np.ndarray, np.ndarray]:
        if min(gray.shape[:2]) < 2 * _MIN_SIDE:  # no room for one ORB patch and its border
            return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32)
        want = n * (self.oversample if grid > 1 else 1)
        orb = cv2.ORB_create(nfeatures=want, scaleFactor=1.2, nlevels=levels,
                             fastThreshold=self.fast_threshold, edgeThreshold=15, patchSize=31)
        found = orb.detect(gray, mask)
        if len(found) < self.low_texture_fraction * n:
            # flat art (cel shading, stamps) has few corners at the usual contrast: look
            # again at a lower one rather than describe it with a handful of points
            orb.setFastThreshold(self.low_fast_threshold)
            found = orb.detect(gray, mask)
        if grid > 1:
            starved = _starved(found, gray.shape, grid, n / (grid * grid) * self.starved_share)
            if starved is not None:
                # a dark or faded part of a bright picture (a night scene inside a
                # screenshot) has no corners at the picture's contrast: its cells are
                # looked at again with the contrast equalised locally (CLAHE).  Only
                # detection sees the equalised picture; descriptors are computed on the
                # picture itself, as the references' are.
                orb.setFastThreshold(self.fast_threshold)
                local = cv2.createCLAHE(clipLimit=self.clahe_clip, tileGridSize=(2 * grid, 2 * grid)).apply(gray)
                found = list(found) + list(orb.detect(local, starved if mask is None else starved & mask))
        keypoints = _spread(found, n, gray.shape, grid, self.cell_density, int(round(self.strongest_extra * n)))
        keypoints, descriptors = orb.compute(gray, keypoints)
        if descriptors is None or not keypoints:
            return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32)
        return descriptors, _positions(keypoints, gray.shape, orb.getScaleFactor())

    def _inside_mask(self, image: LoadedImage, shape: tuple[int, int]) -> np.ndarray | None:
        """Where reference keypoints may lie: inside a transparent sprite's silhouette, away
        from its edge.  Corners on the outline exist only against the colour the sprite was
        flattened on; pasted into a scene (a composite) they vanish."""
        if image.alpha is None:
            return None
        alpha = cv2.resize(image.alpha, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        r = self.alpha_erode_px
        inside = cv2.erode((alpha > 127).astype(np.uint8) * 255, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
        return inside if cv2.countNonZero(inside) > 0.05 * inside.size else None

    def reference(self, image: LoadedImage) -> Fingerprint:
        gray, scale = _gray_at(image, self.ref_side)
        mask = self._inside_mask(image, gray.shape)
        vecs, pts = [], []
        for mirror in (0, 1):
            g = np.ascontiguousarray(gray[:, ::-1]) if mirror else gray
            d, xy = self._detect(g, self.ref_features)
            if mask is not None:
                # plus keypoints inside the silhouette, found when the outline's corners
                # no longer crowd them out, for copies pasted on other backgrounds
                m = np.ascontiguousarray(mask[:, ::-1]) if mirror else mask
                di, xyi = self._detect(g, self.ref_features // 2, m)
                if len(xyi) and len(xy):
                    near = np.min(np.abs(xyi[:, None, :] - xy[None, :, :]).max(axis=2), axis=1) < 2.0
                    di, xyi = di[~near], xyi[~near]
                d, xy = np.concatenate([d, di]), np.concatenate([xy, xyi])
            vecs.append(d)
            pts.append(np.column_stack([xy, np.full(len(xy), mirror, np.float32)]))
        return Fingerprint(self.name, np.concatenate(vecs), np.concatenate(pts).astype(np.float32),
                           {"width": image.width, "height": image.height, "scale": scale})

    def query(self, image: LoadedImage) -> Fingerprint:
        gray, scale = _gray_at(image, self.query_side)
        d, xy = self._detect(gray, self.query_features, grid=self.grid)
        if scale < 1.0 and self.fine_features:
            fine, fine_scale = _gray_at(image, self.fine_side)
            if fine_scale >= scale * self.fine_min_gain:
                df, xyf = self._detect(fine, self.fine_features, grid=self.grid, levels=self.fine_levels)
                d = np.concatenate([d, df])
                xy = np.concatenate([xy, (xyf + 0.5) * (scale / fine_scale) - 0.5]).astype(np.float32)
        pts = np.column_stack([xy, np.zeros(len(xy), np.float32)]).astype(np.float32)
        return Fingerprint(self.name, d, pts, {"width": image.width, "height": image.height, "scale": scale})

    def _score(self, inliers: int) -> float:
        return evidence_score(inliers, self.score_mid, self.score_rise, self.score_tail)

    def rescore(self, comparison: Comparison, support: int) -> float:
        return self._score(support) if support >= 4 else 0.0

    def pixel_map(self, query: Fingerprint, ref: Fingerprint, comparison: Comparison) -> np.ndarray | None:
        """The 3x3 map from the query image's pixels to the reference image's pixels (both
        as decoded for fingerprinting) that ``comparison`` found, or None."""
        if comparison.transform is None:
            return None
        sq = float(query.info.get("scale", 1.0))
        sr = float(ref.info.get("scale", 1.0))
        a = np.vstack([np.asarray(comparison.transform, np.float64), [0.0, 0.0, 1.0]]) @ resize_map(sq)
        if comparison.evidence.get("mirrored"):
            # mirrored reference keypoints were found on gray[:, ::-1]
            width = round(float(ref.info.get("width", 0)) * sr)
            a = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ a
        return np.linalg.inv(resize_map(sr)) @ a

    # ------------------------------------------------------------------ comparing
    def compare(self, query: Fingerprint, ref: Fingerprint) -> Comparison:
        """Brute-force correspondences (each query keypoint's nearest reference keypoint
        within the vote radius) and the same verification as the indexed path."""
        if len(query) == 0 or len(ref) == 0:
            return Comparison(0.0, {"inliers": 0})
        matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        pairs = []
        for m in matcher.match(query.vectors, ref.vectors):
            if m.distance <= self.vote_radius:
                pairs.append((m.queryIdx, m.trainIdx, m.distance))
        arr = np.array(pairs, dtype=np.float32).reshape(-1, 3)
        return self.verify(query, ref, arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2])

    def verify(self, query: Fingerprint, ref: Fingerprint, q_idx: np.ndarray, r_idx: np.ndarray,
               distances: np.ndarray) -> Comparison:
        """RANSAC over candidate correspondences (query row, reference row), separately for
        the reference as drawn and mirrored; the better of the two counts."""
        best_n, best, support, transform = 0, {"inliers": 0}, None, None
        if len(q_idx) == 0:
            return Comparison(0.0, best)
        mirror = ref.points[r_idx, _MIRROR]
        for flag in (0.0, 1.0):
            sel = mirror == flag
            if sel.sum() < 4:
                continue
            qi, ri, di = q_idx[sel], r_idx[sel], distances[sel]
            # one correspondence per reference keypoint and per query keypoint (the closest)
            order = np.argsort(di, kind="stable")
            qi, ri = qi[order], ri[order]
            _, first_r = np.unique(ri, return_index=True)
            qi, ri = qi[first_r], ri[first_r]
            _, first_q = np.unique(qi, return_index=True)
            qi, ri = qi[first_q], ri[first_q]
            if len(qi) < 4:
                continue
            src = query.points[qi, :2]
            dst = ref.points[ri, :2]
            matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                       ransacReprojThreshold=self.ransac_px,
                                                       maxIters=500, confidence=0.99)
            if matrix is None or mask is None:
                continue
            scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
            if not (0.05 < scale < 20.0):
                continue
            if scale < 1.0:
                # RANSAC measured its threshold in the reference's pixels; where the query
                # shows the reference enlarged, that is ``1 / scale`` times as many of the
                # query's: keypoints strewn over a whole screenshot "agreed" with a tiny
                # sprite's few corners.  The inliers are those within ``ransac_px`` of the
                # query's pixels.
                err = np.linalg.norm(src @ matrix[:, :2].T + matrix[:, 2] - dst, axis=1)
                mask = (err <= self.ransac_px * scale).astype(np.uint8)[:, None]
            n = int(mask.sum())
            if n > best_n:
                best_n = n
                support = qi[mask.ravel().astype(bool)]
                transform = matrix
                best = {"inliers": n, "candidates": int(len(qi)), "mirrored": bool(flag),
                        "scale": round(scale, 3),
                        "rotation_deg": round(float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0]))), 1)}
        score = self._score(best_n) if best_n >= 4 else 0.0
        return Comparison(score, best, support=support, transform=transform)
