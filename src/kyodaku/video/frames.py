"""One frame's geometry for :class:`~kyodaku.video.method.VideoFrames`: the content box
inside uniform borders, where a keypoint lies once the frame is mirrored, and the
verification of one frame pair (ratio-tested matches, a RANSAC similarity transform,
its inliers and coverage)."""

from __future__ import annotations

import math

import numpy as np

GRID = 4  # keypoint spreading and coverage grid (GRID x GRID cells)
SCALE_FACTOR = 1.2  # ORB's pyramid: each level this much smaller than the one before


def load_cv2():
    """OpenCV, imported when first needed (importing the video package stays cheap)."""
    import cv2

    return cv2


def content_box(gray: np.ndarray, tol: int = 20, min_frac: float = 0.02) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the frame without its uniform borders, or the whole frame.

    The border colour is the median of the outermost rows and columns; it counts as a
    uniform border only when nine in ten of those pixels are within ``tol`` of it.  Rows
    and columns with more than ``min_frac`` pixels off that colour are content.  A box
    smaller than a tenth of the frame (a mostly uniform frame: black, a title card) is
    not trimmed."""
    h, w = gray.shape
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]).astype(np.int16)
    c = int(np.median(border))
    if np.mean(np.abs(border - c) <= tol) < 0.9:
        return 0, 0, w, h
    off = np.abs(gray.astype(np.int16) - c) > tol
    rows = np.flatnonzero(off.mean(1) > min_frac)
    cols = np.flatnonzero(off.mean(0) > min_frac)
    if len(rows) == 0 or len(cols) == 0:
        return 0, 0, w, h
    x0, x1, y0, y1 = int(cols[0]), int(cols[-1]) + 1, int(rows[0]), int(rows[-1]) + 1
    if (x1 - x0) * (y1 - y0) < 0.1 * w * h:
        return 0, 0, w, h
    return x0, y0, x1, y1


def mirrored_x(x: float, octave: int, width: int, factor: float = SCALE_FACTOR) -> float:
    """The x, as ORB reports it, of the keypoint at reported ``x`` on pyramid level
    ``octave`` once the picture (``width`` px) is mirrored.  ORB reports a level position
    times the nominal scale ``factor ** octave`` and describes at the reported position
    divided by it, on a level ``round(width / factor ** octave)`` px wide: mirroring the
    reported x about the picture (``width - 1 - x``) put the descriptor's patch up to a
    level pixel or two off on the coarse levels, so a flipped copy's frames matched
    worse the coarser their keypoints.  Mirrored about the level's own width instead."""
    scale = float(np.float32(factor) ** octave)
    level_width = round(width / scale)
    return ((level_width - 1) - x / scale) * scale


def binary_index(vectors: np.ndarray):
    import faiss

    index = faiss.IndexBinaryFlat(vectors.shape[1] * 8)
    index.add(np.ascontiguousarray(vectors))
    return index


def verify_pair(qd: np.ndarray, qp: np.ndarray, rd: np.ndarray, rp: np.ndarray,
            min_inliers: int, match_bits: int) -> tuple[float, ...] | None:
    """Match two frames' descriptors (nearest neighbour, ratio test), fit a similarity
    transform with RANSAC; (inliers, coverage, log scale, angle, tx, ty) or None."""
    cv2 = load_cv2()
    if len(qd) < min_inliers or len(rd) < 2:
        return None
    index = binary_index(rd)
    dist, lab = index.search(np.ascontiguousarray(qd), 2)
    good = (dist[:, 0] <= match_bits) & (dist[:, 0] < 0.85 * dist[:, 1]) & (lab[:, 0] >= 0)
    if good.sum() < min_inliers:
        return None
    qidx = np.flatnonzero(good)
    src = np.ascontiguousarray(qp[qidx], dtype=np.float32)
    dst = np.ascontiguousarray(rp[lab[qidx, 0]], dtype=np.float32)
    M, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0,
                                          maxIters=400, confidence=0.99)
    if M is None or mask is None:
        return None
    mask = mask.ravel().astype(bool)
    n = int(mask.sum())
    if n < min_inliers:
        return None
    scale = math.hypot(M[0, 0], M[1, 0])
    if not 0.2 < scale < 5.0:
        return None
    angle = math.atan2(M[1, 0], M[0, 0])
    # coverage: share of the query frame's keypoint-bearing cells holding an inlier
    lo, hi = qp.min(0), qp.max(0)
    ext = np.maximum(hi - lo, 1e-3)
    cells = np.minimum(GRID - 1, ((qp - lo) / ext * GRID).astype(int))
    cid = cells[:, 1] * GRID + cells[:, 0]
    has = np.bincount(cid, minlength=GRID * GRID) >= 2
    inl_cells = np.zeros(GRID * GRID, bool)
    inl_cells[cid[qidx[mask]]] = True
    coverage = float((inl_cells & has).sum() / max(1, has.sum()))
    return (float(n), coverage, math.log(scale), angle, float(M[0, 2]), float(M[1, 2]),
            float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
