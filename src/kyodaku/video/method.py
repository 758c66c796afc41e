"""``VideoFrames``: a video fingerprint made of local binary features of sampled frames,
and a comparison that looks for a temporally *and* geometrically consistent alignment.

Fingerprint
    Frames are sampled at ``fps`` (2/s) by :func:`kyodaku.video.decode.sample_frames`.
    Each frame is turned to gray, its uniform borders are trimmed (letterboxes, and the
    dark surround of a picture-in-picture window) and the rest is scaled to ``side`` px
    (320); ORB keypoints are detected, spread over a 4x4 grid so that a detailed character
    does not take every keypoint from its background, and described (256-bit binary).
    ``vectors`` are the descriptors; ``points`` columns are

    ====  ======================================================================
    0     frame time in seconds
    1, 2  keypoint x, y in "canvas" pixels: the whole decoded frame (before trimming)
          scaled so that its longer side is ``side``
    3     variant: 0 the frame as is, 1 the frame mirrored (queries only)
    ====  ======================================================================

    A query fingerprint adds the mirrored frames (variant 1), so a flipped copy matches an
    unflipped reference.  Local features survive re-encoding, colour changes, captions,
    60-85 % crops and a picture-in-picture window; descriptors are indexable (Hamming).

Comparison
    1. candidate frame pairs: every query descriptor's ``knn`` nearest reference
       descriptors (exact Hamming, FAISS) vote for (query frame, reference frame);
    2. candidate time offsets (query t - reference t): the heaviest peaks of a histogram
       of those votes (each query frame's votes normalised);
    3. near each offset, each query frame's best-voted reference frames are verified:
       ratio-tested matches, a RANSAC similarity transform, its inliers, and the share of
       the query frame's keypoint-bearing grid cells that hold an inlier ("coverage": a
       shared character sprite covers a third of a frame, a copied frame all of it);
    4. a copy crops, scales, flips or boxes every frame alike, so the frame pairs near an
       offset are weighed by how far their transform deviates from the weighted median one
       (``sigma_shift`` canvas px): weight = coverage x min(1, inliers / 20) x
       exp(-d^2 / 2 sigma^2).  The heaviest run of supporting query frames (gaps up to
       ``max_gap`` s of frames that have features: a featureless stretch, a plain
       gradient or a black frame, does not end a run) is the match; its ends, widened
       by half a sample period, are the query segment, and the query segment moved by
       the run's offset the reference one;
    5. the score is a logistic function of the run's weight: 2.5 fully matching frames
       (1.25 s at 2/s) score 0.5, 5 frames (2.5 s) 0.94; a single frame at most the
       policy's ``single_frame_cap`` (0.3 in the packaged policy: review, never a block).

Look-alikes
    Episodes may reuse the same scene art and characters.  A stretch of one episode then
    matches another episode for as long as the shared shot lasts, even with a consistent
    offset.  :meth:`VideoFrames.resolve` takes one query's comparisons with several
    references and explains such matches away (see :func:`kyodaku.video.align.explain_away`):
    the scanner should call it on the candidates of a video query before deciding.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np

from kyodaku.fingerprint.base import (
    Comparison,
    Fingerprint,
    ResolvesLookAlikes,
    ScoresUnderRules,
    SharesDecoding,
    VideoMethod,
)
from kyodaku.index.faiss_index import single_thread_if
from kyodaku.media.types import LoadedImage

from .decode import FrameView, sample_frames
from .frames import (
    GRID,
    SCALE_FACTOR,
    binary_index,
    content_box,
    load_cv2,
    mirrored_x,
    verify_pair,
)

_K = TypeVar("_K")

_LOCAL = threading.local()


class VideoFrames(VideoMethod, ResolvesLookAlikes, ScoresUnderRules, SharesDecoding):
    """Local binary features (ORB) of frames sampled at 2/s; temporal alignment."""

    name: ClassVar[str] = "video_frames"
    version: ClassVar[int] = 2
    media: ClassVar[str] = "video"
    vector_kind: ClassVar[str] = "binary"
    dim: ClassVar[int] = 256
    #: ORB descriptors of the same point in two copies differ by < 40 bits typically;
    #: unrelated ones by ~128
    vote_radius: ClassVar[float] = 48
    vote_k: ClassVar[int] = 4
    search: ClassVar[str] = "knn"

    def __init__(self, fps: float = 2.0, side: int = 320, features: int = 200, decode_side: int = 384,
                 max_seconds: float = 4 * 3600, threads: int = 0) -> None:
        self.fps = float(fps)
        self.side = int(side)
        self.features = int(features)
        self.decode_side = int(decode_side)
        self.max_seconds = float(max_seconds)
        self.threads = int(threads)
        # alignment parameters
        self.knn = 4  # reference neighbours per query descriptor
        self.match_bits = 64  # farther descriptors are no match
        self.min_votes = 3  # votes a frame pair needs to be verified
        self.offset_peaks = 4  # candidate time offsets verified per variant
        # a frame pair agrees with an offset within this many sample periods: the two
        # videos are sampled at unrelated phases, and a decoder skipping non-reference
        # frames moves each sample by up to a few frames
        self.offset_tol = 0.9
        # a copy crops/scales/flips every frame alike: a frame pair whose transform
        # deviates from the run's by d canvas px weighs exp(-d^2 / 2 sigma^2)
        self.sigma_shift = 6.0
        self.min_frame_weight = 0.15
        self.min_inliers = 8
        self.max_gap = 2.0  # seconds of unmatched query frames with features inside a run
        self.resolve_ratio = 0.7  # same footage, another encode: frame weights within 30 %
        self.score_mid = 2.5  # run weight scored 0.5
        self.score_slope = 0.9
        # the most a run of one frame scores: the policy's (see under_rules)
        from kyodaku.policy.decide import default_policy

        self.single_frame_cap = default_policy().matching.single_frame_cap

    def under_rules(self, rules: Any) -> VideoFrames:
        """This method scoring under a loaded policy's :class:`~kyodaku.policy.MatchRules`:
        a copy whose single frame scores at most ``rules.single_frame_cap``."""
        if rules.single_frame_cap == self.single_frame_cap:
            return self
        out = copy.copy(self)
        out.single_frame_cap = float(rules.single_frame_cap)
        return out

    # ------------------------------------------------------------------ features
    def _orb(self):
        """The ORB detector, one per thread (OpenCV objects are neither shared between
        threads nor pickled with the method)."""
        cv2 = load_cv2()
        local = _LOCAL.__dict__.setdefault("orb", {})
        key = (id(self), self.features)
        orb = local.get(key)
        if orb is None:
            orb = cv2.ORB_create(nfeatures=self.features * 2, scaleFactor=SCALE_FACTOR, nlevels=6,
                                 edgeThreshold=15, patchSize=15, fastThreshold=10)
            local.clear()
            local[key] = orb
        return orb

    def frame_features(self, rgb_or_gray: np.ndarray, mirrored: bool = False
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Features of one frame: ``[(points (n, 2) canvas px, descriptors (n, 32) uint8)]``,
        plus those of the mirrored frame when ``mirrored``.

        The mirrored frame's keypoints are the frame's keypoints mirrored (FAST corners,
        Harris scores and the intensity-centroid orientation are all mirror-symmetric), so
        only their descriptors are computed again, on the mirrored image."""
        cv2 = load_cv2()
        g = rgb_or_gray
        if g.ndim == 3:
            g = cv2.cvtColor(np.ascontiguousarray(g), cv2.COLOR_RGB2GRAY)
        h, w = g.shape
        x0, y0, x1, y1 = content_box(g)
        crop = g[y0:y1, x0:x1]
        ch, cw = crop.shape
        f = min(2.0, self.side / max(ch, cw))
        if abs(f - 1.0) > 1e-3:
            crop = cv2.resize(crop, (max(8, round(cw * f)), max(8, round(ch * f))),
                              interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        else:
            crop = np.ascontiguousarray(crop)
        orb = self._orb()
        empty = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
        kps = orb.detect(crop, None)
        if not kps:
            return [empty, empty] if mirrored else [empty]
        kps = self._spread(kps, crop.shape[1], crop.shape[0])
        kps, des = orb.compute(crop, kps)
        if des is None or not kps:
            return [empty, empty] if mirrored else [empty]
        canvas = self.side / max(h, w)  # decoded px -> canvas px
        pts = cv2.KeyPoint_convert(kps).astype(np.float32)
        out = [(np.stack([(pts[:, 0] / f + x0) * canvas, (pts[:, 1] / f + y0) * canvas], 1), des)]
        if mirrored:
            mw = crop.shape[1]
            mkps = [cv2.KeyPoint(mirrored_x(k.pt[0], k.octave, mw), k.pt[1], k.size, (180.0 - k.angle) % 360.0,
                                 k.response, k.octave, k.class_id) for k in kps]
            mkps, mdes = orb.compute(np.ascontiguousarray(crop[:, ::-1]), mkps)
            if mdes is None or not mkps:
                out.append(empty)
            else:
                mp = cv2.KeyPoint_convert(mkps).astype(np.float32)
                # coordinates in the mirrored full frame, whose content box starts at w - x1
                out.append((np.stack([(mp[:, 0] / f + (w - x1)) * canvas, (mp[:, 1] / f + y0) * canvas], 1),
                            mdes))
        return out

    def _spread(self, kps, w: int, h: int):
        """Keep ``features`` keypoints: the strongest of each grid cell up to an equal
        quota, then the strongest of the rest."""
        n = self.features
        if len(kps) <= n:
            return kps
        cv2 = load_cv2()
        pts = cv2.KeyPoint_convert(kps)
        resp = np.fromiter((k.response for k in kps), np.float32, len(kps))
        cx = np.minimum(GRID - 1, (pts[:, 0] * (GRID / w)).astype(np.int32))
        cy = np.minimum(GRID - 1, (pts[:, 1] * (GRID / h)).astype(np.int32))
        cell = cy * GRID + cx
        order = np.lexsort((-resp, cell))  # by cell, strongest first
        sc = cell[order]
        start = np.searchsorted(sc, sc, "left")
        rank = np.empty(len(kps), np.int64)
        rank[order] = np.arange(len(kps)) - start
        quota = max(1, n // (GRID * GRID))
        # cell quota first, then by response
        key = np.where(rank < quota, 0, 1)
        pick = np.lexsort((-resp, key))[:n]
        return [kps[i] for i in pick]

    def from_frames(self, frames: Iterable[tuple[float, np.ndarray]], mirrored: bool = False,
                    **info: Any) -> Fingerprint:
        """Fingerprint of ``(t, frame)`` pairs (RGB or gray arrays); ``mirrored`` adds the
        variant-1 features of the mirrored frames (what :meth:`query_video` does)."""
        vecs, pts = [], []
        times = []
        size = None
        for t, frame in frames:
            times.append(round(float(t), 3))
            size = frame.shape[:2]
            for variant, (p, d) in enumerate(self.frame_features(frame, mirrored=mirrored)):
                if len(d) == 0:
                    continue
                col = np.empty((len(d), 4), np.float32)
                col[:, 0] = t
                col[:, 1:3] = p
                col[:, 3] = variant
                vecs.append(d)
                pts.append(col)
        if size is not None:
            h, w = size
            s = self.side / max(h, w)
            info.setdefault("canvas", [round(w * s, 1), round(h * s, 1)])
        info.update({"frame_times": times, "frames": len(times), "fps": self.fps,
                     "mirrored": bool(mirrored)})
        if times:
            info.setdefault("duration", round(times[-1] + 1.0 / self.fps, 3))
        if not vecs:
            fp = self.empty(**info)
            fp.points = np.zeros((0, 4), np.float32)
            return fp
        return Fingerprint(self.name, np.ascontiguousarray(np.concatenate(vecs)),
                           np.ascontiguousarray(np.concatenate(pts)), info)

    def _video(self, path: str | os.PathLike, mirrored: bool, also: FrameView | None = None) -> Fingerprint:
        sampler = sample_frames(path, fps=self.fps, max_side=self.decode_side, max_seconds=self.max_seconds,
                                threads=self.threads, pix_format="gray", also=also)
        fp = self.from_frames(sampler, mirrored=mirrored)
        meta = {k: v for k, v in sampler.info.items() if k not in ("frames_decoded",)}
        fp.info = {**meta, **fp.info}
        if meta.get("duration"):
            fp.info["duration"] = meta["duration"]
        return fp

    # ------------------------------------------------------------------ interface
    def reference_video(self, path: str | os.PathLike) -> Fingerprint:
        """Fingerprint of a registered video (raises MediaError)."""
        return self._video(path, mirrored=False)

    def query_video(self, path: str | os.PathLike) -> Fingerprint:
        """Fingerprint of a video being scanned: adds the mirrored frames (raises MediaError)."""
        return self._video(path, mirrored=True)

    def query_video_sharing(self, path: str | os.PathLike, view: FrameView, fps: float,
                            max_seconds: float) -> Fingerprint | None:
        if fps != self.fps or max_seconds != self.max_seconds:
            return None
        return self._video(path, mirrored=True, also=view)

    def reference(self, image: LoadedImage | str | os.PathLike) -> Fingerprint:
        """A path: :meth:`reference_video`.  A :class:`LoadedImage`: a one-frame video at t=0."""
        if isinstance(image, LoadedImage):
            return self.from_frames([(0.0, image.gray)], mirrored=False, source=image.source)
        return self.reference_video(image)

    def query(self, image: LoadedImage | str | os.PathLike) -> Fingerprint:
        if isinstance(image, LoadedImage):
            return self.from_frames([(0.0, image.gray)], mirrored=True, source=image.source)
        return self.query_video(image)

    # ------------------------------------------------------------------ compare
    def compare(self, query: Fingerprint, ref: Fingerprint, details: bool = False) -> Comparison:
        """``details=True`` adds every supporting frame pair to the evidence.

        Runs FAISS on one thread: its searches here are small (one frame against one
        frame), and OpenMP threads spinning on a busy machine cost far more than they save."""
        with single_thread_if(True):
            return self._compare(query, ref, details)

    def _compare(self, query: Fingerprint, ref: Fingerprint, details: bool) -> Comparison:
        if len(query) == 0 or len(ref) == 0:
            return Comparison(0.0, {"matched_frames": 0, "reason": "no features"})
        rt, rinv = np.unique(ref.points[:, 0], return_inverse=True)
        r_rows = _groups(rinv, len(rt))
        rp = ref.points[:, 1:3]
        rv = ref.vectors
        index = binary_index(rv)
        half = 0.5 / self.fps
        tol = self.offset_tol / self.fps
        best: dict[str, Any] | None = None
        for variant in np.unique(query.points[:, 3]).astype(int):
            sel = np.flatnonzero(query.points[:, 3] == variant)
            qt, qinv = np.unique(query.points[sel, 0], return_inverse=True)
            q_rows = [sel[g] for g in _groups(qinv, len(qt))]
            # 1. every query descriptor's nearest reference descriptors vote for
            #    (query frame, reference frame)
            k = min(self.knn, len(rv))
            dist, lab = index.search(np.ascontiguousarray(query.vectors[sel]), k)
            ok = (lab >= 0) & (dist <= self.match_bits)
            qi = np.repeat(qinv, k).reshape(-1, k)[ok].astype(np.int64)
            rj = rinv[lab[ok]].astype(np.int64)
            keys, counts = np.unique(qi * len(rt) + rj, return_counts=True)
            keep = counts >= self.min_votes
            if not keep.any():
                continue
            ki, kj, kc = keys[keep] // len(rt), keys[keep] % len(rt), counts[keep]
            # 2. candidate offsets (query t - reference t): the heaviest in a vote histogram
            #    (each query frame's votes normalised, so that a long static shot does not
            #    outweigh everything else)
            off = qt[ki] - rt[kj]
            frame_total = np.bincount(ki, weights=kc, minlength=len(qt))
            w = kc / np.maximum(frame_total[ki], 1.0)
            peaks = _peaks(off, w, tol, self.offset_peaks)
            # 3. verify the pairs near each candidate offset (at most two per query frame)
            chosen: set[tuple[int, int]] = set()
            for o in peaks:
                near = np.flatnonzero(np.abs(off - o) <= tol)
                order = near[np.lexsort((-kc[near], ki[near]))]
                last, taken = -1, 0
                for p in order:
                    if ki[p] != last:
                        last, taken = ki[p], 0
                    if taken < 2:
                        chosen.add((int(ki[p]), int(kj[p])))
                        taken += 1
            pairs = []
            for i, j in sorted(chosen):
                v = verify_pair(query.vectors[q_rows[i]], query.points[q_rows[i], 1:3],
                            rv[r_rows[j]], rp[r_rows[j]], self.min_inliers, self.match_bits)
                if v is not None:
                    pairs.append((i, j, *v))
            if not pairs:
                continue
            cand = self._align(qt, rt, pairs, details)
            if cand is not None and (best is None or cand["weight"] > best["weight"]):
                cand["variant"] = int(variant)
                best = cand
        if best is None:
            return Comparison(0.0, {"matched_frames": 0})
        w = best["weight"]
        score = self.score_of(w, best["frames"])
        q0, q1 = best["q_span"]
        r1 = best["r_span"][1]
        qdur = float(query.info.get("duration") or (q1 + half))
        rdur = float(ref.info.get("duration") or (r1 + half))
        qseg = (round(max(0.0, q0 - half), 3), round(min(qdur, q1 + half), 3))
        # the reference segment is the query segment moved by the run's offset: the
        # reference frames paired at the ends may be a sample period off
        o = best["offset"]
        rseg = (round(min(rdur, max(0.0, qseg[0] - o)), 3), round(max(0.0, min(rdur, qseg[1] - o)), 3))
        evidence = {
            "matched_frames": best["frames"], "offset": round(best["offset"], 3),
            "weight": round(w, 3), "mean_inliers": round(best["mean_inliers"], 1),
            "mean_coverage": round(best["mean_coverage"], 3), "mirrored": bool(best["variant"]),
            "scale": round(best["scale"], 3), "query_frames": int(query.info.get("frames") or 0),
        }
        if details:
            evidence["pairs"] = best["pairs"]
        # [query t, reference t, weight] of every frame of the run: what resolve() needs
        return Comparison(round(float(score), 4), evidence, qseg, rseg, frame_weights=best["frame_weights"])

    def score_of(self, weight: float, frames: int) -> float:
        """The calibrated score of a run of ``frames`` frames weighing ``weight``."""
        score = 1.0 / (1.0 + math.exp(-(weight - self.score_mid) / self.score_slope))
        # a run of one frame is no temporal evidence whatever its weight
        return round(float(min(score, self.single_frame_cap) if frames < 2 else score), 4)

    def resolve(self, comparisons: Mapping[_K, Comparison]) -> dict[_K, Comparison]:
        """Explain away look-alikes among one query's comparisons with several references.

        Episodes may share scene art and characters: a stretch of the query that copies
        episode A also resembles episode B where B reuses A's art, and B's comparison scores
        that stretch.  Taking the matches strongest first, a weaker match whose run lies
        within a stronger run's span, which the stronger run exceeds, loses it (the look-alike
        stops at the cut where the two episodes part); elsewhere a query frame already
        claimed by a stronger match counts for a weaker one only if it matches that weaker
        reference about as well (``resolve_ratio``; the same footage registered twice, in
        another encode, keeps its score).  The weaker match is rescored on what is left;
        its evidence keeps ``raw_score`` and names the match that ``explained_by`` it.

        Keys are whatever identifies the references (work ids, reference rows); pass all
        the candidates of one query fingerprint.
        """
        from .align import explain_away

        keyed = {k: c for k, c in comparisons.items() if c.frame_weights}
        runs = {k: [(f[0], f[2]) for f in c.frame_weights or ()] for k, c in keyed.items()}
        kept = explain_away(runs, ratio=self.resolve_ratio, period=1.0 / self.fps)
        out = dict(comparisons)
        for k, (weight, frames, by) in kept.items():
            c = keyed[k]
            if by is None:
                continue
            score = min(c.score, self.score_of(weight, frames))
            if score < c.score:
                ev = {**c.evidence, "raw_score": c.score, "explained_by": by, "weight": round(weight, 3)}
                out[k] = Comparison(score, ev, c.query_segment, c.ref_segment, explained_by=by,
                                    frame_weights=c.frame_weights)
        return out

    def _align(self, qt: np.ndarray, rt: np.ndarray, pairs: list[tuple],
               details: bool = False) -> dict[str, Any] | None:
        """Best offset- and transform-consistent run among verified frame pairs
        (i, j, inliers, coverage, log_scale, angle, tx, ty)."""
        P = np.array(pairs, np.float64)
        i_idx, j_idx = P[:, 0].astype(int), P[:, 1].astype(int)
        inl, cov = P[:, 2], P[:, 3]
        wgt = cov * np.minimum(1.0, inl / 20.0)
        off = qt[i_idx] - rt[j_idx]
        tol = self.offset_tol / self.fps
        best = None
        for o in _peaks(off, wgt, tol, self.offset_peaks):
            near = np.abs(off - o) <= tol
            # refine the offset as the weighted mean of the pairs near it
            o = float(np.average(off[near], weights=wgt[near] + 1e-9))
            idx = np.flatnonzero(np.abs(off - o) <= tol)
            if len(idx) == 0:
                continue
            # the transform a copy applies to every frame: the weighted median of the
            # parameters; a frame pair's deviation from it is the mean displacement (reference
            # canvas px) of its query keypoints' bounding-box corners
            w = wgt[idx]
            med = [_wmedian(P[idx, c], w) for c in (4, 5, 6, 7)]
            dev = _deviation(P[idx], med)
            keep = dev < 3 * self.sigma_shift
            idx, dev = idx[keep], dev[keep]
            w = wgt[idx] * np.exp(-0.5 * (dev / self.sigma_shift) ** 2)
            # a frame that barely agrees neither adds evidence nor stretches the segment
            strong = w >= self.min_frame_weight
            idx, w = idx[strong], w[strong]
            mls = med[0]
            if len(idx) == 0:
                continue
            # one pair per query frame: the heaviest
            per: dict[int, tuple[int, float]] = {}
            for p, ww in zip(idx, w):
                i = int(i_idx[p])
                if i not in per or ww > per[i][1]:
                    per[i] = (int(p), float(ww))
            frames = sorted(per)
            # runs of frames with gaps of at most max_gap seconds of query frames that
            # have features: a featureless stretch (a plain gradient, a black frame)
            # neither supports nor contradicts the offset, so it does not end a run
            runs, cur = [], [frames[0]]
            for a, b in itertools.pairwise(frames):
                if min(qt[b] - qt[a], (b - a) / self.fps) > self.max_gap + 1e-6:
                    runs.append(cur)
                    cur = []
                cur.append(b)
            runs.append(cur)
            for run in runs:
                ps = [per[i][0] for i in run]
                weight = float(sum(per[i][1] for i in run))
                if best is None or weight > best["weight"]:
                    best = {
                        "weight": weight, "frames": len(run),
                        # the run's own offset: the weighted median of its pairs'
                        "offset": _wmedian(off[ps], np.array([per[i][1] for i in run])),
                        "q_span": (float(qt[run[0]]), float(qt[run[-1]])),
                        "r_span": (float(rt[j_idx[ps[0]]]), float(rt[j_idx[ps[-1]]])),
                        "mean_inliers": float(np.mean(inl[ps])), "mean_coverage": float(np.mean(cov[ps])),
                        "scale": float(math.exp(mls)),
                        "frame_weights": [[round(float(qt[i]), 3), round(float(rt[j_idx[per[i][0]]]), 3),
                                           round(per[i][1], 3)] for i in run],
                    }
                    if details:
                        best["pairs"] = [
                            {"q_t": round(float(qt[i_idx[p]]), 3), "r_t": round(float(rt[j_idx[p]]), 3),
                             "inliers": int(inl[p]), "coverage": round(float(cov[p]), 2),
                             "d_log_scale": round(float(P[p, 4] - mls), 3),
                             "deviation": round(float(_deviation(P[p:p + 1], med)[0]), 1),
                             "weight": round(per[int(i_idx[p])][1], 3)}
                            for p in ps]
        return best


def _groups(inv: np.ndarray, n: int) -> list[np.ndarray]:
    """Row indices of each group 0..n-1 given each row's group."""
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(n + 1))
    return [order[bounds[g]:bounds[g + 1]] for g in range(n)]


def _peaks(x: np.ndarray, w: np.ndarray, tol: float, n: int) -> list[float]:
    """Up to ``n`` values of ``x`` around which the weights ``w`` (summed within +-tol)
    are heaviest, at least ``tol`` apart."""
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    c = np.r_[0.0, np.cumsum(ws)]
    lo = np.searchsorted(xs, xs - tol, "left")
    hi = np.searchsorted(xs, xs + tol, "right")
    mass = c[hi] - c[lo]
    peaks: list[float] = []
    for p in np.argsort(-mass, kind="stable"):
        if all(abs(xs[p] - q) > tol for q in peaks):
            peaks.append(float(xs[p]))
            if len(peaks) >= n:
                break
    return peaks


def _wmedian(x: np.ndarray, w: np.ndarray) -> float:
    o = np.argsort(x)
    c = np.cumsum(w[o])
    return float(x[o][np.searchsorted(c, 0.5 * c[-1])])


def _deviation(P: np.ndarray, med: list[float]) -> np.ndarray:
    """Mean displacement of each pair's query bounding-box corners under its own transform
    (columns 4-7: log scale, angle, tx, ty; 8-11: x0, y0, x1, y1) and under ``med``."""
    xs = np.stack([P[:, 8], P[:, 10], P[:, 8], P[:, 10]], 1)
    ys = np.stack([P[:, 9], P[:, 9], P[:, 11], P[:, 11]], 1)

    def apply(ls, an, tx, ty):
        s = np.exp(ls)
        a, b = s * np.cos(an), s * np.sin(an)
        return a * xs - b * ys + tx, b * xs + a * ys + ty

    x1, y1 = apply(P[:, 4:5], P[:, 5:6], P[:, 6:7], P[:, 7:8])
    x2, y2 = apply(*med)
    return np.hypot(x1 - x2, y1 - y2).mean(1)
