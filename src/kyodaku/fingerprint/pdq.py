"""PDQ (Meta's perceptual hash, via the ``pdqhash`` package), as HMA uses it, plus what
copies in training data need: the eight dihedral variants of the reference (mirrors and
90-degree rotations) and, on the query side, a second hash of the picture with uniform
borders (padding, letterboxing) trimmed away.

Survives resizing, recompression, colour shifts, grayscale, blur, noise, captions and
small overlays; not crops, composites, collages or small rotations (the local-feature
method covers those).
"""

from __future__ import annotations

import cv2
import numpy as np
import pdqhash

from kyodaku.fingerprint.base import Comparison, Fingerprint, FingerprintMethod, evidence_score
from kyodaku.media.types import LoadedImage

#: agreeing bits (256 - Hamming distance) at which the score is 0.5
_PDQ_MID = 256 - 40.0
_PDQ_RISE = 4.0
_PDQ_TAIL = 6.0
#: images smaller than this are upscaled before hashing (PDQ wants at least 64 px)
_MIN_SIDE = 64
#: PDQ downsamples to 64x64 itself; hashing a 512-px copy gives the same hash faster
_HASH_SIDE = 256
#: hashes of lower quality (PDQ's 0..100 measure of gradient content) are not kept: a
#: flat view (an empty quadrant, a layer that is nearly all transparent) hashes to a
#: pattern of rounding noise that other flat views share, so it matched unrelated
#: pictures at distance 0.  Low, not Meta's usual 50: flat clip-art and faint layers
#: hash at 36-45 and are still worth matching
MIN_QUALITY = 10


def _prepare(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    side = max(h, w)
    if side > _HASH_SIDE:
        s = _HASH_SIDE / side
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    elif min(h, w) < _MIN_SIDE:
        s = _MIN_SIDE / min(h, w)
        rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(rgb)


def trim_borders(rgb: np.ndarray, tolerance: int = 14, min_share: float = 0.02, probe_side: int = 128) -> np.ndarray | None:
    """The picture inside uniform borders (padding, letterbox, a flat screenshot frame),
    or None when there is no border worth trimming.  The borders are found on a
    ``probe_side`` thumbnail and cut from the full image."""
    h, w = rgb.shape[:2]
    if h < 16 or w < 16:
        return None
    s = min(1.0, probe_side / max(h, w))
    small = cv2.resize(rgb, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA) \
        if s < 1.0 else rgb
    sh, sw = small.shape[:2]
    corners = np.stack([small[0, 0], small[0, -1], small[-1, 0], small[-1, -1]]).astype(np.int16)
    # |pixel - median| > tolerance, in integers (twice both sides: the median may end in .5)
    twice = np.round(2 * np.median(corners, axis=0)).astype(np.int16)
    far = np.abs(2 * small.astype(np.int16) - twice) > 2 * tolerance
    diff = far[:, :, 0] | far[:, :, 1] | far[:, :, 2]
    rows = np.flatnonzero(diff.mean(axis=1) > min_share)
    cols = np.flatnonzero(diff.mean(axis=0) > min_share)
    if rows.size == 0 or cols.size == 0:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if (y1 - y0) * (x1 - x0) > 0.92 * sh * sw or (y1 - y0) < sh * 0.15 or (x1 - x0) < sw * 0.15:
        return None
    fy, fx = h / sh, w / sw
    return rgb[int(y0 * fy):int(np.ceil(y1 * fy)), int(x0 * fx):int(np.ceil(x1 * fx))]


_VIEWS = ("whole", "trimmed", "quadrant")


def pdq_score(distance: float) -> float:
    """Calibrated 0..1 score of a PDQ Hamming distance (0.5 at 40 bits)."""
    return evidence_score(256 - distance, _PDQ_MID, _PDQ_RISE, _PDQ_TAIL)


class PdqMethod(FingerprintMethod):
    name = "pdq"
    #: 4: featureless views (quality < MIN_QUALITY) are not hashed
    version = 4
    vector_kind = "binary"
    dim = 256
    vote_radius = 56
    vote_k = 4

    def reference(self, image: LoadedImage) -> Fingerprint:
        """The 8 dihedral hashes of the picture, and of its content inside uniform borders
        (a sprite's transparent margin, a letterbox) when it has any: copies are often
        cut to their content, and query views are trimmed the same way."""
        whole = _prepare(image.rgb)
        views = [(0, whole)]
        inner = trim_borders(whole)
        if inner is not None:
            views.append((1, _prepare(np.ascontiguousarray(inner))))
        vectors, variant = [np.zeros((0, 32), np.uint8)], [np.zeros(0)]
        for i, view in views:
            hashes, quality = pdqhash.compute_dihedral(view)
            if quality < MIN_QUALITY:
                continue  # featureless: its hash is noise (a sprite's fully transparent layer)
            vectors.append(np.packbits(np.asarray(hashes, dtype=np.uint8), axis=1))
            variant.append(np.arange(len(hashes)) + 8 * i)  # 0-7 whole, 8-15 trimmed
        points = np.concatenate(variant).astype(np.float32)[:, None]
        return Fingerprint(self.name, np.concatenate(vectors), points, {"width": image.width, "height": image.height})

    def query(self, image: LoadedImage) -> Fingerprint:
        """Hashes of the picture, of its content inside uniform borders, and of each
        quadrant's content (one tile of a 2x2 collage or comparison grid)."""
        whole = _prepare(image.rgb)
        views = [(0, whole)]
        inner = trim_borders(whole)
        if inner is not None:
            views.append((1, inner))
        h, w = whole.shape[:2]
        if min(h, w) >= 2 * _MIN_SIDE:
            for y0, y1 in ((0, h // 2), (h // 2, h)):
                for x0, x1 in ((0, w // 2), (w // 2, w)):
                    quadrant = whole[y0:y1, x0:x1]
                    content = trim_borders(quadrant)
                    views.append((2, quadrant if content is None else content))
        vectors, kinds = [np.zeros((0, 32), np.uint8)], []
        for kind, view in views:
            bits, quality = pdqhash.compute(_prepare(np.ascontiguousarray(view)))
            if quality < MIN_QUALITY:
                continue  # featureless (an empty quadrant): its hash is noise
            vectors.append(np.packbits(np.asarray(bits, dtype=np.uint8))[None, :])
            kinds.append(kind)
        points = np.asarray(kinds, np.float32).reshape(-1, 1)  # 0 whole, 1 trimmed, 2 quadrant
        return Fingerprint(self.name, np.concatenate(vectors), points, {"width": image.width, "height": image.height})

    def compare(self, query: Fingerprint, ref: Fingerprint) -> Comparison:
        if len(query) == 0 or len(ref) == 0:
            return Comparison(0.0, {"pdq_distance": None})
        xor = np.bitwise_xor(query.vectors[:, None, :], ref.vectors[None, :, :])
        dist = np.unpackbits(xor, axis=2).sum(axis=2)
        qi, ri = np.unravel_index(int(np.argmin(dist)), dist.shape)
        d = int(dist[qi, ri])
        view = int(query.points[qi, 0])
        return Comparison(pdq_score(d), {"pdq_distance": d, "variant": int(ref.points[ri, 0]),
                                         "trimmed": view == 1, "region": _VIEWS[min(view, 2)]})
