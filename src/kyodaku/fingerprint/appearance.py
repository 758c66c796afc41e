"""Appearance: a small picture of each reference, to tell a copy from a variant.

Local features find *where* a registered work lies in a query; they cannot tell a copy
from a variant drawn over the same lines: the same sprite recoloured, with a shield
removed, or another helmet.  Those share hundreds of keypoints with the registered work
and would rank above every real copy.  This method keeps a thumbnail of each reference
(RGBA, at most :attr:`AppearanceMethod.side` px, lossless WebP: ~50 kB) and, given the
alignment another method found, compares the two pictures pixel by pixel:

1. the reference is warped into the query's frame; only its opaque, in-frame part counts;
   the alignment the keypoints gave (within a pixel or so) is refined to a fraction of a
   pixel first (ECC), or sharp edges a pixel apart would read as drawn differently;
2. the copy's global changes are fitted away: a colour map (brightness, contrast,
   saturation, grayscale are all affine in RGB; a squared term per channel takes the
   bend that clipping between two of them leaves; the prediction clips at 0 and 255 as
   the copy did) and a blur level, by trimmed least squares;
3. pixels still far apart (``residual_px`` on 0..255) are grouped into regions.  A region
   whose query pixels are graphically simple is something laid over a copy (a shape, a
   caption, a caption box) and counts as *occluded*; any other is *altered*: the query
   draws something else there.  Simple is judged at the thumbnail's scale (flat, or two
   colours and their blends, on the whole region and then on its differing pixels
   alone), and last at the query's own resolution, where a caption's fill and outline are
   crisp: nearly all the pixels that differ there take one of two colours, whatever the
   art around them (gray fur, a painted face), or, when those two colours are foreign to
   the art there, lie between them (an anti-aliased caption's blends); redrawn art
   differs in many.  The colour fit is trimmed to its best pixels overall and to each
   tone's best (a night sky is not fitted on its black alone).

The share of the reference that is altered is the evidence.  The matcher scales a match's
score by the pictures' agreement (1 at nothing altered, 0.5 at :data:`ALTERED_MAX`), so
that among strong matches an intact copy ranks above the same drawing with a detail
changed, and caps a match whose altered share exceeds :data:`ALTERED_MAX` (or whose
covered share exceeds :data:`OCCLUDED_MAX`) into the review band: a person looks at a
variant; it is never silently cleared and never blocked on the strength of shared lines.
A match with a part drawn differently (altered beyond :data:`ALTERED_INTACT`: another
expression of the same sprite, or a copy with its hand redrawn) is capped into the review
band too, above the variants: the lines say it is the work, the pixels that part of it is
not, and only a person can tell an edited copy from the artist's own variant.

The fingerprint's "vectors" are the thumbnail's encoded bytes, one byte per row, so the
method's store is the same arrays-and-JSON store as every other method's; it is not
indexed (``search = "none"``): it only verifies what other methods found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from kyodaku.fingerprint.base import ChecksAppearance, Comparison, Fingerprint, FingerprintMethod, resize_map
from kyodaku.media.types import LoadedImage

#: altered share of a reference above which a match is a variant, not a copy.  Measured on
#: the dev set (README, "Appearance"): real copies stay under ~0.03 except captions
#: (up to ~0.14 of a small image); recoloured or re-equipped variants reach 0.1-0.8.
ALTERED_MAX = 0.05
#: altered share of a reference up to which the query shows it intact: the check's noise
#: on copies (99.4% of the full dev set's copies measure at most this, 98.9% of seed 1's,
#: 97.5% of other art 2's; a third of the hard negatives lie between it and ALTERED_MAX).
#: A match above it and up to :data:`ALTERED_MAX` shows the reference with a part drawn
#: differently (another mouth, a redrawn hand): an edited copy or the artist's variant,
#: which a person decides (README, "Appearance")
ALTERED_INTACT = 0.005
#: covered share of a reference above which a query shows too little of it to block on:
#: the rest lies under shapes, captions or plain background (a different figure that
#: shares only a prop with the registered one).  Copies under the dev set's shapes and
#: captions stay under ~0.3; a cut-out scene patch occasionally exceeds it.
OCCLUDED_MAX = 0.5


@dataclass(frozen=True)
class Appearance:
    """What the pixel comparison found, as shares of the compared reference area."""

    altered: float
    occluded: float
    compared_px: int
    #: where the query shows the reference: the convex hull of the compared pixels that
    #: agree, in the query's pixel coordinates (float32, N x 2; None when none agree)
    footprint: np.ndarray | None = field(default=None, repr=False, compare=False)

    def inside(self, other: Appearance) -> float:
        """Share of this comparison's footprint that lies inside ``other``'s (0 when either
        has none)."""
        if self.footprint is None or other.footprint is None or len(self.footprint) < 3 or len(other.footprint) < 3:
            return 0.0
        own = self.area
        if own <= 0.0:
            return 0.0
        common, _ = cv2.intersectConvexConvex(self.footprint, other.footprint)
        return float(common) / own

    @property
    def area(self) -> float:
        """Area of the footprint, in query pixels (0 when there is none)."""
        if self.footprint is None or len(self.footprint) < 3:
            return 0.0
        return float(cv2.contourArea(self.footprint))

    @property
    def unshown(self) -> float:
        """Share of the reference the query does not show as it is: altered or covered."""
        return self.altered + self.occluded

    @property
    def shows_copy(self) -> bool:
        """Whether the query shows the reference as a copy: not a variant (altered beyond
        :data:`ALTERED_MAX`) and not mostly covered (beyond :data:`OCCLUDED_MAX`)."""
        return self.altered <= ALTERED_MAX and self.occluded <= OCCLUDED_MAX

    @property
    def partly_redrawn(self) -> bool:
        """Whether the query shows the reference as a copy with a part drawn differently:
        altered beyond :data:`ALTERED_INTACT`, not beyond :data:`ALTERED_MAX`."""
        return ALTERED_INTACT < self.altered <= ALTERED_MAX

    @property
    def agreement(self) -> float:
        """How far the pictures agree, 1 (nothing altered) to 0 (twice
        :data:`ALTERED_MAX` altered or more): the factor a match's score is scaled by."""
        return float(np.clip(1.0 - self.altered / (2 * ALTERED_MAX), 0.0, 1.0))

    def to_json(self) -> dict[str, float | int]:
        return {"altered": round(self.altered, 4), "occluded": round(self.occluded, 4),
                "compared_px": self.compared_px}


class AppearanceMethod(FingerprintMethod, ChecksAppearance):
    name = "appearance"
    #: 2: lossless thumbnails (lossy WebP's 4:2:0 chroma left 0.4% of a painted
    #: sprite's pixels over ``residual_px``: as much as a changed face)
    version = 2
    vector_kind = "binary"
    dim = 8  # one byte per row: the encoded thumbnail
    vote_radius = 0
    search = "none"
    findable_from = None  # checks what the other methods found; finds nothing itself

    #: thumbnail side, px
    side = 256
    #: OpenCV's WebP "quality" above 100 is lossless
    webp_quality = 101
    #: fewer compared pixels than this: no verdict (a sliver of overlap)
    min_pixels = 400
    #: Gaussian sigma (px at thumbnail scale) both pictures get: JPEG blocks, noise, the
    #: thumbnail's own resampling
    sigma = 0.8
    #: extra blur levels tried on the reference (a blurred copy)
    blur_levels = (0.0, 1.0, 2.0)
    #: the most a sub-pixel refinement of the alignment may move the reference (working px)
    max_shift = 1.5
    #: share of pixels the colour fit keeps (the rest may be occluded or altered)
    fit_keep = 0.7
    #: and at least this share of each of the reference's tones (:func:`_best_per_tone`)
    fit_tone_keep = 0.25
    #: compared pixels the colour map is fitted on (an even spread of them)
    fit_pixels = 4096
    residual_px = 30.0
    #: a region is simple when over half its pixels are flat (3x3 std under ``flat_std``),
    #: or when ``line_share`` of its colours lie within ``line_px`` of one line in RGB
    #: (two colours and their blends)
    flat_std = 6.0
    line_px = 16.0
    line_share = 0.85
    #: a query whose mean chroma (max - min channel) is under this is grayscale
    gray_chroma = 8.0
    #: fewest differing pixels a region's second simplicity test is made on
    min_core = 20
    #: the test at the query's resolution: a region is laid over the copy when at least
    #: ``overlay_share`` of its differing pixels there lie within ``overlay_px`` of one of
    #: their two most common colours (a caption's fill and outline; JPEG and the glyphs'
    #: anti-aliased edges make up the rest).  Measured on the full dev set's strong pairs
    #: (README, "Appearance"): regions of redrawn or recoloured variants 0.06-0.52, a
    #: caption over a changed face 0.62-0.70, captions over intact art 0.67-0.94.
    overlay_px = 16.0
    overlay_share = 0.75
    #: blends between the two colours count too when at most this share of the reference's
    #: own (colour-mapped) pixels there lie among them
    blend_art_max = 0.25

    # ------------------------------------------------------------------ fingerprints
    def reference(self, image: LoadedImage) -> Fingerprint:
        h, w = image.rgb.shape[:2]
        s = min(1.0, self.side / max(h, w))
        size = (max(1, round(w * s)), max(1, round(h * s)))
        rgb = cv2.resize(image.rgb, size, interpolation=cv2.INTER_AREA)
        alpha = (cv2.resize(image.alpha, size, interpolation=cv2.INTER_AREA) if image.alpha is not None
                 else np.full(rgb.shape[:2], 255, np.uint8))
        bgra = np.dstack([rgb[:, :, ::-1], alpha])
        ok, buf = cv2.imencode(".webp", bgra, [cv2.IMWRITE_WEBP_QUALITY, self.webp_quality])
        if not ok:  # pragma: no cover - OpenCV always encodes a valid array
            raise ValueError("could not encode the appearance thumbnail")
        data = np.asarray(buf, np.uint8).reshape(-1, 1)
        return Fingerprint(self.name, data, np.zeros((len(data), 0), np.float32),
                           {"width": w, "height": h, "thumb_scale": s})

    @staticmethod
    def decode(fp: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
        """The thumbnail as (RGB float32, alpha uint8)."""
        bgra = cv2.imdecode(np.ascontiguousarray(fp.vectors).reshape(-1), cv2.IMREAD_UNCHANGED)
        if bgra is None or bgra.ndim != 3 or bgra.shape[2] not in (3, 4):
            raise ValueError("unreadable appearance thumbnail")
        # WebP stores no alpha channel for an opaque picture
        alpha = bgra[:, :, 3] if bgra.shape[2] == 4 else np.full(bgra.shape[:2], 255, np.uint8)
        return np.ascontiguousarray(bgra[:, :, 2::-1]).astype(np.float32), alpha

    def compare(self, query: Fingerprint, ref: Fingerprint) -> Comparison:
        """Two whole pictures, one resized onto the other (no other geometry): 1 when
        nothing is altered or covered; 0 at twice :data:`ALTERED_MAX` altered or more, or
        when everything is covered (a blank query shows none of the reference)."""
        if len(query) == 0 or len(ref) == 0:
            return Comparison(0.0, {"compared_px": 0})
        q_rgb, _ = self.decode(query)
        r_rgb, r_alpha = self.decode(ref)
        qh, qw = q_rgb.shape[:2]
        rh, rw = r_alpha.shape
        found = self.check_arrays(q_rgb, r_rgb, r_alpha, resize_map(rw / qw, rh / qh))
        if found is None:
            return Comparison(0.0, {"compared_px": 0})
        score = found.agreement * (1.0 - found.occluded)
        return Comparison(score, found.to_json())

    # ------------------------------------------------------------------ checking
    def check(self, image: LoadedImage, ref: Fingerprint, to_ref: np.ndarray) -> Appearance | None:
        """Compare a query image with a reference's thumbnail.  ``to_ref`` (3x3) maps the
        query image's pixel coordinates to the reference image's (as fingerprinted).
        None when too little of the reference lies inside the query."""
        r_rgb, r_alpha = self.decode(ref)
        s = float(ref.info.get("thumb_scale", 1.0))
        return self.check_arrays(image.rgb, r_rgb, r_alpha, resize_map(s) @ to_ref,
                                 frame="keyframe" in ref.info)

    def check_arrays(self, q_rgb: np.ndarray, r_rgb: np.ndarray, r_alpha: np.ndarray,
                     to_thumb: np.ndarray, *, frame: bool = False) -> Appearance | None:
        """``frame``: the reference is a still of a registered video, whose figures are its
        content: a differing region counts as covered only when it is two-toned (a
        caption, a shape), not because it is flat at the thumbnail's scale (flat-shaded
        anime art is: the grass where the reference shows a figure would read as covered).
        See :meth:`_regions`."""
        # work in the query's frame at about the thumbnail's resolution
        k = min(1.0, float(np.sqrt(abs(np.linalg.det(to_thumb[:2, :2])))))
        qh, qw = q_rgb.shape[:2]
        W, H = max(1, round(qw * k)), max(1, round(qh * k))
        q = cv2.resize(np.asarray(q_rgb, np.float32), (W, H), interpolation=cv2.INTER_AREA)
        r_rgb = np.asarray(r_rgb, np.float32)
        r, mask = _warped(r_rgb, r_alpha, to_thumb, k, (W, H))
        if int(mask.sum()) < self.min_pixels:
            return None
        shift = self._residual_shift(q, r, mask)
        if shift is not None:
            # the keypoints' alignment, refined: the reference moved by ``shift`` working px
            to_thumb = to_thumb @ np.array([[1.0, 0.0, shift[0] / k], [0.0, 1.0, shift[1] / k], [0.0, 0.0, 1.0]])
            r, mask = _warped(r_rgb, r_alpha, to_thumb, k, (W, H))
        n = int(mask.sum())
        if n < self.min_pixels:
            return None
        seen = q[mask]
        if _spread(seen) < self.flat_std <= _spread(r[mask]):
            # a blank query: all of the reference is covered (unless the reference is as
            # plain: a faint sky gradient, copied)
            return Appearance(0.0, 1.0, n)
        residual, colour_map, blur = self._fit(q, r, mask)
        res_map = np.zeros(mask.shape, np.float32)
        res_map[mask] = residual
        # in a grayscale query every colour lies on one line (the gray axis): the line
        # test cannot tell a caption from the art there
        px = seen[:: max(1, n // self.fit_pixels)]
        line_test = float((px.max(axis=1) - px.min(axis=1)).mean()) >= self.gray_chroma
        full = _FullRes(np.asarray(q_rgb), r_rgb, r_alpha, to_thumb, k, colour_map, blur)
        bad = res_map > self.residual_px
        altered, occluded = self._regions(q, bad, mask, line_test, full, frame=frame)
        return Appearance(altered / n, occluded / n, n, _hull(mask & ~bad, k))

    def _residual_shift(self, q: np.ndarray, r: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        """The sub-pixel shift (working px) that best lays the warped reference on the
        query, by ECC over the reference's pixels (invariant to brightness and contrast),
        or None when ECC does not converge or wants more than ``max_shift``."""
        gq = cv2.cvtColor(q, cv2.COLOR_RGB2GRAY)
        gr = cv2.cvtColor(r, cv2.COLOR_RGB2GRAY)
        warp = np.eye(2, 3, dtype=np.float32)
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 1e-3)
        try:
            _, warp = cv2.findTransformECC(gq, gr, warp, cv2.MOTION_TRANSLATION, criteria,
                                           mask.astype(np.uint8), 3)
        except cv2.error:
            return None
        shift = warp[:, 2].astype(np.float64)
        return shift if float(np.hypot(*shift)) <= self.max_shift else None

    def _fit(self, q: np.ndarray, r: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-pixel residual after the best colour map and blur level (trimmed LSQ), the
        map (7x3, over :func:`_features`) and the extra blur (sigma, px at thumbnail scale).

        The map and the level are fitted on an even spread of at most ``fit_pixels``
        compared pixels (seven unknowns per channel need few), then the residual is
        computed once, for every compared pixel, at the chosen level."""
        idx = np.flatnonzero(mask)
        sample = idx[:: max(1, len(idx) // self.fit_pixels)]
        y_all = cv2.GaussianBlur(q, (0, 0), self.sigma).reshape(-1, 3)
        y = y_all[sample]
        best: tuple[float, np.ndarray, np.ndarray, float] | None = None
        for extra in self.blur_levels:
            rb = cv2.GaussianBlur(r, (0, 0), float(np.hypot(self.sigma, extra))).reshape(-1, 3)
            x = _features(rb[sample])
            tone = _tones(x[:, :3])
            keep = np.ones(len(sample), bool)
            for _ in range(3):
                coef = _least_squares(x[keep], y[keep])
                res = _residual(x, coef, y)
                keep = (res <= np.quantile(res, self.fit_keep)) | _best_per_tone(res, tone, self.fit_tone_keep)
            err = float(res[keep].mean())
            if best is None or err < best[0]:
                best = (err, coef, rb, extra)
        assert best is not None
        _, coef, rb, extra = best
        x = _features(rb[idx])
        return _residual(x, coef, y_all[idx]), coef, extra

    def _regions(self, q: np.ndarray, bad: np.ndarray, mask: np.ndarray, line_test: bool,
                 full: _FullRes, *, frame: bool = False) -> tuple[int, int]:
        """Pixels in altered and in occluded regions.  With ``frame`` (the reference is a
        still of a video), a flat region is not simple for being flat: flat-shaded art
        (a figure, the grass behind one) is what a frame shows, not something laid over it;
        the two-colour tests still find a caption or a shape."""
        bad_u8 = cv2.dilate(bad.astype(np.uint8), np.ones((3, 3), np.uint8)) & mask.astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(bad_u8, connectivity=8)
        if count <= 1:
            return 0, 0
        q8 = cv2.medianBlur(np.clip(q, 0, 255).astype(np.uint8), 3)
        g = q8.astype(np.float32).mean(axis=2)
        std = np.sqrt(np.maximum(cv2.blur(g * g, (3, 3)) - cv2.blur(g, (3, 3)) ** 2, 0.0))
        flat = std < self.flat_std
        altered = occluded = 0
        for i in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[i])
            box = np.s_[y:y + h, x:x + w]  # the region's bounding box: not the whole image per region
            region = labels[box] == i
            flat_box = np.zeros_like(flat[box]) if frame else flat[box]
            simple = self._simple(q8[box], flat_box, region, area, line_test)
            if not simple:
                # judged again on the differing pixels alone: the region grown around a
                # caption's glyphs also takes in the art between them
                core = region & bad[box]
                n_core = int(core.sum())
                if n_core >= self.min_core:
                    # and last at the query's own resolution, where a caption is crisp
                    simple = self._simple(q8[box], flat_box, core, n_core, line_test) \
                        or self._overlay_share(full, (x, y, w, h), region, line_test) >= self.overlay_share
            if simple:
                occluded += area
            else:
                altered += area
        return altered, occluded

    def _simple(self, q8: np.ndarray, flat: np.ndarray, region: np.ndarray, area: int, line_test: bool) -> bool:
        """Flat, or two colours and their blends (a caption's fill and outline, smoothed
        at this resolution): the region's colours lie along one line in RGB."""
        if flat[region].mean() > 0.5:
            return True
        if area < 8 or not line_test:
            return False
        return self._line_share(q8[region].astype(np.float32)) >= self.line_share

    def _overlay_share(self, full: _FullRes, box: tuple[int, int, int, int], region: np.ndarray,
                       blends: bool = True) -> float:
        """Share of a region's differing pixels, at the query's own resolution, that lie
        within ``overlay_px`` of one of their two most common colours (0 when too few
        differ there); with ``blends`` (not in a grayscale query, where every colour is
        a blend of black and white), of the segment between them when the art there is
        not made of those colours."""
        px, expected = full.differing(box, region, self.residual_px)
        if len(px) < self.min_core:
            return 0.0
        step = max(1, len(px) // self.fit_pixels)
        px, expected = px[::step], expected[::step]
        near = np.zeros(len(px), bool)
        rest = px
        modes = []
        for _ in range(2):  # the most common colour, then the most common of the rest
            if len(rest) == 0:
                break
            modes.append(_mode(rest, self.overlay_px))
            near |= np.linalg.norm(px - modes[-1], axis=1) < self.overlay_px
            rest = px[~near]
        share = float(near.mean())
        if share < self.overlay_share and blends and len(modes) == 2:
            art_between = float((_segment_distance(expected, *modes) < self.overlay_px).mean())
            if art_between < self.blend_art_max:
                # the two colours and the blends between them (a caption's anti-aliased
                # edges) are foreign to the art there: laid over it, not drawn into it
                share = max(share, float((_segment_distance(px, *modes) < self.overlay_px).mean()))
        return share

    def _line_share(self, px: np.ndarray) -> float:
        """Share of colours within ``line_px`` of their principal line in RGB."""
        centred = px - px.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        off_line = np.linalg.norm(centred - np.outer(centred @ vt[0], vt[0]), axis=1)
        return float((off_line < self.line_px).mean())


def _warped(r_rgb: np.ndarray, r_alpha: np.ndarray, to_thumb: np.ndarray, k: float,
            size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The reference thumbnail warped into the query's frame at working scale ``k``
    (``to_thumb`` maps query pixels to thumbnail pixels), and where it is opaque, a pixel
    in from its edges."""
    m = (to_thumb @ np.linalg.inv(resize_map(k)))[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    r = cv2.warpAffine(r_rgb, m, size, flags=flags, borderValue=0)
    a = cv2.warpAffine(r_alpha, m, size, flags=flags, borderValue=0)
    return r, cv2.erode((a > 200).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def _spread(px: np.ndarray) -> float:
    """How far colours (N x 3) vary over the picture: the largest channel's standard
    deviation (not the deviation of all values together, which a flat blue counts as
    varied, its channels being unequal)."""
    return float(px.std(axis=0).max())


def _hull(pixels: np.ndarray, k: float) -> np.ndarray | None:
    """The convex hull of a working-scale mask's pixels, in query pixels (``k`` working
    px per query px); None when the mask is empty.  Taken over the outer contours' points:
    the same hull as over every pixel, ~80x faster."""
    contours, _ = cv2.findContours(pixels.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    return cv2.convexHull(np.concatenate(contours)).reshape(-1, 2).astype(np.float32) / k


#: the reference's tones (mean of the channels) are cut into this many equal bands for the
#: colour fit's trimming
TONE_BANDS = 8


def _tones(rgb: np.ndarray) -> np.ndarray:
    """The tone band (int64, 0..TONE_BANDS-1) of each reference colour (N x 3, 0..255)."""
    return np.clip((rgb.mean(axis=1) * (TONE_BANDS / 256.0)).astype(np.int64), 0, TONE_BANDS - 1)


def _best_per_tone(res: np.ndarray, tone: np.ndarray, share: float) -> np.ndarray:
    """The pixels whose residual is within the smallest ``share`` of their tone band of
    the reference (ties included).  The colour fit keeps these besides its best pixels
    overall: in a picture that is nearly all one colour (a night sky with a moon) the best
    pixels overall are that colour alone, and a map fitted to them alone predicts black
    for the moon, which then reads as altered."""
    keep = np.zeros(len(res), bool)
    counts = np.bincount(tone, minlength=TONE_BANDS)
    for band in np.flatnonzero(counts):
        inside = tone == band
        k = int(np.ceil(share * counts[band]))
        if k == 0:
            continue
        keep |= inside & (res <= np.partition(res[inside], k - 1)[k - 1])
    return keep


def _features(rgb: np.ndarray) -> np.ndarray:
    """The colour map's inputs for reference colours (N x 3, 0..255): the colour, a
    constant and each channel squared.  Affine alone models brightness, contrast,
    saturation and grayscale one at a time; a chain of them clips in between (a
    brightened copy whose contrast is then lowered), which bends each channel's curve."""
    return np.column_stack([rgb, np.ones(len(rgb), np.float32), rgb * rgb / 255.0])


def _predicted(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The colours the map ``coef`` predicts for features ``x``; a copy's colour change
    clips at 0 and 255, so does the prediction."""
    return np.clip(x @ coef, 0.0, 255.0)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance (RMS over the channels) between colours (N x 3) row by row."""
    return np.linalg.norm(a - b, axis=1) / np.sqrt(3.0)


def _residual(x: np.ndarray, coef: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance of each query colour ``y`` from its prediction ``x @ coef``."""
    return _distance(_predicted(x, coef), y)


def _least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``argmin ||x c - y||`` by the normal equations, in float64 with the columns scaled
    to unit norm and a whisker of ridge (a flat reference's columns are collinear): x is
    tall and narrow (thousands of pixels, seven columns), where this is ~10x faster than
    an SVD."""
    x64 = x.astype(np.float64)
    gram = x64.T @ x64
    norm = np.sqrt(np.diag(gram))
    norm[norm == 0] = 1.0
    scaled = gram / np.outer(norm, norm) + 1e-9 * np.eye(len(gram))
    return (np.linalg.solve(scaled, (x64.T @ y.astype(np.float64)) / norm[:, None]) / norm[:, None]).astype(np.float32)


def _segment_distance(px: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each colour (N x 3) from the segment between colours ``a`` and ``b``."""
    d = b - a
    t = np.clip(((px - a) @ d) / max(float(d @ d), 1e-6), 0.0, 1.0)
    return np.linalg.norm(px - (a + t[:, None] * d), axis=1)


def _mode(px: np.ndarray, radius: float) -> np.ndarray:
    """The most common colour of ``px`` (N x 3, float): the mean of the fullest cell of a
    coarse RGB grid, moved to the mean of the colours within ``radius`` of it (mean shift,
    three steps)."""
    cells = px.astype(np.int32) // 32
    key = (cells[:, 0] * 8 + cells[:, 1]) * 8 + cells[:, 2]
    centre = px[key == np.bincount(key, minlength=512).argmax()].mean(axis=0)
    for _ in range(3):
        near = np.linalg.norm(px - centre, axis=1) < radius
        if not near.any():
            break
        centre = px[near].mean(axis=0)
    return centre


@dataclass(frozen=True)
class _FullRes:
    """What the test at the query's own resolution needs: the query as decoded, the
    reference thumbnail, the map from query pixels to thumbnail pixels, the working scale
    ``k`` (working px per query px) and the fitted colour map and blur."""

    q_rgb: np.ndarray
    r_rgb: np.ndarray
    r_alpha: np.ndarray
    to_thumb: np.ndarray
    k: float
    colour_map: np.ndarray
    blur: float

    def differing(self, box: tuple[int, int, int, int], region: np.ndarray,
                  residual_px: float) -> tuple[np.ndarray, np.ndarray]:
        """The query's pixels (float32, N x 3) inside a working-scale region that differ
        from the colour-mapped reference, at the query's resolution, and the colours the
        mapped reference has there."""
        x, y, w, h = box
        qh, qw = self.q_rgb.shape[:2]
        x0, y0 = int(np.floor(x / self.k)), int(np.floor(y / self.k))
        x1, y1 = min(qw, int(np.ceil((x + w) / self.k))), min(qh, int(np.ceil((y + h) / self.k)))
        if x1 <= x0 or y1 <= y0:
            return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)
        m = (self.to_thumb @ np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]]))[:2]
        size, flags = (x1 - x0, y1 - y0), cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        r = cv2.warpAffine(self.r_rgb, m, size, flags=flags, borderValue=0)
        a = cv2.warpAffine(self.r_alpha, m, size, flags=flags, borderValue=0)
        if self.blur > 0:
            r = cv2.GaussianBlur(r, (0, 0), self.blur / self.k)
        q = self.q_rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
        expected = _predicted(_features(r.reshape(-1, 3)), self.colour_map)
        residual = _distance(expected, q)
        inside = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).ravel() > 0
        keep = inside & (a.ravel() > 200) & (residual > residual_px)
        return q[keep], expected[keep]
