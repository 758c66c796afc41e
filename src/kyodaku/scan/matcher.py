"""Matching one query against a reference set.

For each method: fingerprint the query, ask the method's index for the nearest reference
vectors, let every query vector vote for the references it found, and verify the
best-voted candidates with the method (RANSAC for local features, Hamming distance for
PDQ).  Per work the strongest evidence wins.  A reference that only matched through
the same query evidence as a stronger one (a near-duplicate registration: the same
character with another expression, a scene with and without figures) is scored down by
how much weaker it is, so the right work ranks first.  Last, the best-aligned match of
each leading work is checked pixel by pixel against the reference's thumbnail
(:mod:`kyodaku.fingerprint.appearance`): a variant drawn over the same lines (recoloured,
re-equipped) is scored into the review band instead of ranking with real copies, and a
registered picture that the query shows only in part (or intact, but only as part of the
other), inside another registered picture it shows whole, is explained by that other one.

The numbers that place these scores (the review band, the variant and partly redrawn
bands, the cap of an explained match and of a single video frame) come from the loaded
policy (:class:`kyodaku.policy.MatchRules`); the matcher holds none of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from kyodaku.fingerprint.appearance import ALTERED_MAX, Appearance
from kyodaku.fingerprint.base import (
    ChecksAppearance,
    Comparison,
    Fingerprint,
    FingerprintMethod,
    MapsPixels,
    ResolvesLookAlikes,
    ScoresUnderRules,
    VerifiesVotes,
    VideoMethod,
)
from kyodaku.fingerprint.store import is_keyframe
from kyodaku.media.types import LoadedImage
from kyodaku.policy.decide import default_policy
from kyodaku.policy.rules import MatchRules
from kyodaku.scan.refset import ReferenceSet

#: candidates verified per method and query, in order of votes: references of a generic
#: look (a dark sky, a busy texture, many crops of one scene) collect votes from every
#: query, and eight of them left a pasted figure's work unverified
MAX_CANDIDATES = 24
#: share of a weaker match's evidence that must come from a stronger match's evidence
#: for it to count as explained by that match
EXPLAINED_SHARE = 0.5
#: works per image checked for appearance: those scoring at least the policy's review
#: threshold (:attr:`MatchRules.appearance_min`; weaker matches change no verdict).  Every
#: match that strong is checked, not only the best few: a registry holding a sprite's
#: animation frames one by one gives a copy of one frame 5-8 matches scored ~0.999 by their
#: keypoints, and a frame left unchecked kept that score although its pixels show a
#: variant.  The limit only bounds the cost of a hostile query (a collage of dozens of
#: registered works)
APPEARANCE_CHECKS = 32
#: keyframes of one registered video verified per method and query (see
#: :meth:`Matcher._candidates`)
KEYFRAMES_PER_WORK = 4
#: how much less of its reference an explained work's match must find altered or covered to explain
#: the other instead: ~40 px of a 256 px thumbnail, above the check's noise on copies
LOOK_ALIKE_MARGIN = 0.002
#: how much more of its reference a match must find altered or covered than a match whose
#: compared area contains its own, to count as a part of that other picture: the share
#: that makes a variant
PART_MARGIN = ALTERED_MAX
#: share of the part of the query that shows a match's reference (its footprint) that
#: must lie inside the other match's footprint
PART_INSIDE = 0.9
#: a picture shown with at most this share altered or covered is shown intact: a part of
#: it that the query shows is its pixels, whatever else is registered there
PART_INTACT = 0.005


@dataclass
class Match:
    work_id: str
    score: float
    method: str
    evidence: dict[str, Any] = field(default_factory=dict)
    query_segment: tuple[float, float] | None = None
    ref_segment: tuple[float, float] | None = None
    #: the geometric hit behind this work (method, reference row, comparison), for the
    #: appearance check; not part of the result
    basis: tuple[str, int, Comparison] | None = field(default=None, repr=False, compare=False)
    #: the work whose match explains this one's evidence, and this one's score before it
    #: was capped for that; not part of the result
    explained_by: str | None = field(default=None, repr=False, compare=False)
    uncapped: float | None = field(default=None, repr=False, compare=False)

    @property
    def is_video_frame(self) -> bool:
        """Whether this is an image match on a still of a registered video (a keyframe: the
        seconds of the reference, none of the query)."""
        return self.ref_segment is not None and self.query_segment is None

    def cap_as_explained(self, by: str, cap: float) -> None:
        """Capped at ``cap`` (the policy's :attr:`~MatchRules.explained_cap`, below the block
        threshold), with evidence naming work ``by`` as what explains this match."""
        self.score = min(self.score, cap)
        self.evidence = {**self.evidence, "explained_by": by, "capped_as_explained": True}
        self.explained_by = by

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"work_id": self.work_id, "score": round(self.score, 6), "method": self.method,
                               "evidence": self.evidence}
        if self.query_segment is not None:
            out["query_segment"] = [round(x, 2) for x in self.query_segment]
        if self.ref_segment is not None:
            out["ref_segment"] = [round(x, 2) for x in self.ref_segment]
        return out


@dataclass
class _Hit:
    work_id: str
    ref: int
    comparison: Comparison
    #: the score before :func:`_suppress_explained` capped it
    uncapped: float | None = None


class Matcher:
    def __init__(self, refs: ReferenceSet, min_score: float = 0.05, rules: MatchRules | None = None,
                 frame_threads: int = 1) -> None:
        """``rules``: the loaded policy's :attr:`~kyodaku.policy.Policy.matching` (default:
        the packaged policy's).  ``frame_threads``: threads matching one video query's
        keyframes (the guard, one request at a time; a scan's workers each use one)."""
        self.refs = refs
        self.frame_threads = max(1, int(frame_threads))
        self.min_score = min_score
        self.rules = default_policy().matching if rules is None else rules
        #: the reference set's methods, each under these rules (a video method caps a
        #: single frame at the policy's single_frame_cap)
        self.methods = {name: _under_rules(m, self.rules) for name, m in refs.methods.items()}
        self._appearance_rows: dict[tuple[int, float | None], int] | None = None
        #: per method, which stored references are keyframes of registered videos
        self._keyframes: dict[str, np.ndarray] = {}

    @cached_property
    def holds_pictures(self) -> bool:
        """Whether the reference set holds a registered picture (not only the keyframes of
        registered videos)."""
        return any(m.media == "image" and name in self.refs.indexes and not self._keyframe_rows(name).all()
                   for name, m in self.methods.items())

    def _keyframe_rows(self, name: str) -> np.ndarray:
        """Per stored reference of method ``name``, whether it is a keyframe of a registered
        video (read from the store once per matcher)."""
        frames = self._keyframes.get(name)
        store = self.refs.stores[name]
        if frames is None or len(frames) != len(store):
            frames = self._keyframes[name] = np.array([is_keyframe(r) for r in store.refs], bool)
        return frames

    def video_methods(self) -> list[VideoMethod]:
        """The reference set's video methods, under this matcher's rules."""
        return [m for m in self.methods.values() if isinstance(m, VideoMethod)]

    def match_image(self, image: LoadedImage) -> list[Match]:
        fps = {name: m.query(image) for name, m in self.methods.items()
               if m.media == "image" and name in self.refs.indexes}
        # every candidate, those under min_score too: a work explained away may win back
        matches = self.match_fingerprints(fps, min_score=0.0)
        memo: dict[str, Appearance | None] = {}
        self._settle_look_alikes(image, fps, matches, memo)
        self._check_appearance(image, fps, matches, memo)
        _explain_parts(matches, memo, self.rules)
        return sorted((m for m in matches if m.score >= self.min_score), key=lambda m: -m.score)

    def _appearance(self, image: LoadedImage, fps: dict[str, Fingerprint], m: Match,
                    memo: dict[str, Appearance | None]) -> Appearance | None:
        """The appearance check of one match's best-aligned hit (None: no thumbnail, no
        geometry, or too little overlap), computed once per work and query."""
        if m.work_id in memo:
            return memo[m.work_id]
        found = None
        store = self.refs.stores.get("appearance")
        if store is not None and len(store) and m.basis is not None:
            if self._appearance_rows is None:
                self._appearance_rows = {_ref_key(r): i for i, r in enumerate(store.refs)}
            name, ref, comparison = m.basis
            ref_store = self.refs.stores[name]
            row = self._appearance_rows.get(_ref_key(ref_store.refs[ref]))
            method, checker = self.methods[name], self.methods["appearance"]
            to_ref = method.pixel_map(fps[name], ref_store.get(ref), comparison) \
                if row is not None and isinstance(method, MapsPixels) else None
            if to_ref is not None and isinstance(checker, ChecksAppearance):
                try:
                    found = checker.check(image, store.get(row), to_ref)
                except (ValueError, np.linalg.LinAlgError, cv2.error):
                    found = None  # a degenerate alignment: the match keeps its score
        memo[m.work_id] = found
        return found

    def _settle_look_alikes(self, image: LoadedImage, fps: dict[str, Fingerprint], matches: list[Match],
                            memo: dict[str, Appearance | None]) -> None:
        """Two registered works drawn alike (the same sprite with another face) rest on the
        same query evidence, and the one with a few more keypoints was taken to explain
        the other.  The pixels decide instead: when the explained work's reference differs
        from the query clearly less (:data:`LOOK_ALIKE_MARGIN` less altered or covered), it
        gets its own score back and the other is capped as explained by it."""
        by_id = {m.work_id: m for m in matches}
        for weak in matches:
            strong = by_id.get(weak.explained_by or "")
            if strong is None or strong.explained_by is not None \
                    or (weak.uncapped or 0.0) < self.rules.look_alike_min:
                continue  # only a work found strongly on its own may explain the other
            a_weak, a_strong = self._appearance(image, fps, weak, memo), self._appearance(image, fps, strong, memo)
            if a_weak is None or a_strong is None \
                    or a_weak.unshown + LOOK_ALIKE_MARGIN > a_strong.unshown \
                    or a_weak.compared_px < a_strong.compared_px / 2:
                continue  # not clearly better, or compared on a smaller part of the query
            name, _, comparison = weak.basis  # type: ignore[misc]
            weak.score, weak.method, weak.explained_by = weak.uncapped, name, None
            weak.evidence = {k: v for k, v in comparison.evidence.items() if k != "explained_by"}
            strong.cap_as_explained(weak.work_id, self.rules.explained_cap)

    def _check_appearance(self, image: LoadedImage, fps: dict[str, Fingerprint], matches: list[Match],
                          memo: dict[str, Appearance | None]) -> None:
        """Scale each leading match by how far its aligned reference agrees with the query,
        pixel by pixel (:attr:`Appearance.agreement`): a copy with a few pixels drawn
        differently ranks below intact copies.  A match whose reference is altered beyond
        :data:`ALTERED_MAX` (a variant, not a copy), or mostly covered or blank
        (:data:`OCCLUDED_MAX`: the query shows too little of it to decide on), is scored
        into the policy's variant band: below the block threshold, never below the review
        threshold.  One with a part drawn differently (:attr:`Appearance.partly_redrawn`:
        an edited copy or the artist's own variant) is scored into its partly redrawn band,
        above the variants: a person decides, and sees it first."""
        rules = self.rules
        for m in sorted(matches, key=lambda m: -m.score)[:APPEARANCE_CHECKS]:
            if m.score < rules.appearance_min:
                continue
            found = self._appearance(image, fps, m, memo)
            if found is None:
                continue
            m.evidence = {**m.evidence, "appearance": found.to_json()}
            if not found.shows_copy:
                m.score = min(m.score, _in_band(m.score, rules.variant_band))
                m.evidence["variant" if found.altered > ALTERED_MAX else "mostly_covered"] = True
            elif found.partly_redrawn:
                # review, ranked above the variants
                m.score = min(m.score, _in_band(m.score * found.agreement, rules.partly_redrawn_band))
                m.evidence["partly_redrawn"] = True
            else:
                # the same drawing, a little altered, ranks below the same drawing intact
                m.score *= found.agreement

    def match_fingerprints(self, fingerprints: dict[str, Fingerprint], min_score: float | None = None) -> list[Match]:
        per_work: dict[str, Match] = {}
        caps: dict[str, float] = {}
        geometry: dict[str, tuple[str, int, Comparison]] = {}  # work -> its best-aligned hit
        explained: dict[str, str] = {}  # work -> the work explaining its evidence
        uncapped: dict[str, float] = {}  # explained work -> its geometric score before the cap
        for name, fp in fingerprints.items():
            method = self.methods[name]
            best_of: set[str] = set()  # works whose best hit of this method was seen
            for hit in _suppress_explained(self._method_hits(method, fp), self.rules.explained_cap):
                c = hit.comparison
                if c.transform is not None and (hit.work_id not in geometry
                                                or c.score > geometry[hit.work_id][2].score):
                    geometry[hit.work_id] = (name, hit.ref, c)
                first = hit.work_id not in best_of
                best_of.add(hit.work_id)
                # a work's weaker reference (another keyframe of an episode, another picture
                # of the work) explained by another work says nothing of its best one
                if c.explained_by is not None and first:
                    # the same evidence is better explained by another work, whatever
                    # other methods say about this one
                    caps[hit.work_id] = min(caps.get(hit.work_id, 1.0), c.score)
                    explained[hit.work_id] = c.explained_by
                    if hit.uncapped is not None and c.transform is not None:
                        uncapped[hit.work_id] = max(uncapped.get(hit.work_id, 0.0), hit.uncapped)
                cur = per_work.get(hit.work_id)
                if cur is None or c.score > cur.score:
                    per_work[hit.work_id] = Match(hit.work_id, c.score, name, c.evidence, c.query_segment,
                                                  c.ref_segment)
        for work_id, cap in caps.items():
            m = per_work[work_id]
            if m.score > cap:
                m.score = cap
                m.evidence = {**m.evidence, "capped_as_explained": True, "explained_by": explained[work_id]}
        for work_id, basis in geometry.items():
            per_work[work_id].basis = basis
        for work_id, by in explained.items():
            per_work[work_id].explained_by = by
            per_work[work_id].uncapped = uncapped.get(work_id)
        least = self.min_score if min_score is None else min_score
        return sorted((m for m in per_work.values() if m.score >= least), key=lambda m: -m.score)

    def _method_hits(self, method: FingerprintMethod, fp: Fingerprint) -> list[_Hit]:
        index = self.refs.indexes.get(method.name)
        store = self.refs.stores[method.name]
        if index is None or len(fp) == 0:
            return []
        if method.search == "knn":
            # plain k-NN and a distance filter: a range search over a dense descriptor space
            # returns (and sorts) far more neighbours than the k that vote
            result = index.query(np.ascontiguousarray(fp.vectors), method.vote_k)
            labels = np.where(result.distances <= method.vote_radius, result.labels, -1).ravel()
        else:
            result = index.query(np.ascontiguousarray(fp.vectors), method.vote_k, max_distance=method.vote_radius)
            labels = result.labels.ravel()
        valid = labels >= 0
        if not valid.any():
            return []
        q_rows = np.repeat(np.arange(len(fp)), result.labels.shape[1])[valid]
        r_rows = labels[valid]
        dists = result.distances.ravel()[valid].astype(np.float32)
        owners = store.owner[r_rows]
        # votes: distinct query vectors per reference (each pair as one int64 key: a
        # column-wise np.unique sorts a structured view, ~5x slower)
        n_q = len(fp)
        pairs = np.unique(owners.astype(np.int64) * n_q + q_rows)
        refs, votes = np.unique(pairs // n_q, return_counts=True)
        keep = votes >= method.min_votes
        refs, votes = refs[keep], votes[keep]
        hits = []
        for ref in self._candidates(method.name, refs[np.argsort(-votes, kind="stable")]):
            ref_fp = store.get(ref)
            if isinstance(method, VerifiesVotes):
                sel = owners == ref
                comp = method.verify(fp, ref_fp, q_rows[sel], r_rows[sel] - int(store.offsets[ref]), dists[sel])
            else:
                comp = method.compare(fp, ref_fp)
            keyframe = ref_fp.info.get("keyframe")
            if keyframe is not None:
                # a still of a registered video: where in the video it stands
                comp.ref_segment = (float(keyframe["segments"][0][0]), float(keyframe["segments"][-1][1]))
                comp.evidence = {**comp.evidence, "video_frame": True, "keyframe_t": keyframe["t"]}
            hits.append(_Hit(store.work_of(ref), ref, comp))
        if isinstance(method, ResolvesLookAlikes) and len(hits) > 1:
            # the method explains away look-alikes among its own candidates (episodes that
            # reuse another episode's scene art)
            resolved = method.resolve({i: h.comparison for i, h in enumerate(hits)})
            for i, h in enumerate(hits):
                h.comparison = resolved[i]
                by = h.comparison.explained_by
                if isinstance(by, int):
                    h.comparison.explained_by = h.comparison.evidence["explained_by"] = hits[by].work_id
        return hits

    def _candidates(self, name: str, ranked: np.ndarray) -> list[int]:
        """The references to verify, best-voted first: at most :data:`MAX_CANDIDATES`, of
        which at most :data:`KEYFRAMES_PER_WORK` keyframes of any one registered video (an
        episode's keyframes of one shot share their votes, and would leave a registered
        picture unverified)."""
        frames, store = self._keyframe_rows(name), self.refs.stores[name]
        out: list[int] = []
        per_work: dict[str, int] = {}
        for ref in ranked.tolist():
            if frames[ref]:
                work = store.work_of(ref)
                if per_work.get(work, 0) >= KEYFRAMES_PER_WORK:
                    continue
                per_work[work] = per_work.get(work, 0) + 1
            out.append(ref)
            if len(out) >= MAX_CANDIDATES:
                break
        return out


def _ref_key(entry: dict) -> tuple[int, float | None]:
    """A stored reference's identity across methods: its media, and for a keyframe of a
    registered video the keyframe's time."""
    keyframe = (entry.get("info") or {}).get("keyframe")
    return int(entry["media_id"]), (float(keyframe["t"]) if keyframe else None)


def _in_band(strength: float, band: tuple[float, float]) -> float:
    """A score in ``band`` (one of the policy's review bands, below the block threshold),
    placed by ``strength`` in 0..1."""
    low, high = band
    return low + (high - low) * strength


def _under_rules(method: FingerprintMethod, rules: MatchRules) -> FingerprintMethod:
    """``method`` as it scores under ``rules``: a method that caps scores by the policy
    (``under_rules``) gets its copy; the others are used as they are."""
    return method.under_rules(rules) if isinstance(method, ScoresUnderRules) else method


def _explain_parts(matches: list[Match], memo: dict[str, Appearance | None], rules: MatchRules) -> None:
    """Two registered pictures that share part of their art (a night sky, and its band of
    clouds alone): a copy of one shows the shared part of the other, and keypoints there
    vote for both, often through different keypoints, too few in common to count as the
    same evidence.  The pixels settle it: when the part of the query where one work was
    compared lies inside the part where another was, and that other is shown whole while
    this one is clearly not (:data:`PART_MARGIN` more of it altered or covered), the query
    is a copy of the other, and this one is capped as explained by it.  The same holds when
    both are shown intact but the other's footprint reaches beyond this one's (a registered
    rock texture that is also the lower part of a registered scene): the other is shown
    intact (:data:`PART_INTACT`) all around this one, so this one's pixels are its pixels.
    A registered figure pasted into a registered scene keeps its score: the scene is not
    shown whole around it.  Two works found on the same part of the query (each footprint
    inside the other's) are two readings of one picture: the one that differs from the
    query clearly less (:data:`LOOK_ALIKE_MARGIN`) explains the other, as
    :meth:`Matcher._settle_look_alikes` does for works the keypoints already tied together
    (a copy's keypoints can reach two look-alikes through too few shared ones to tie
    them).  Only works whose appearance was already checked, and found a copy scoring at
    least the block threshold (:attr:`MatchRules.look_alike_min`) or partly redrawn, are
    weighed; the explained one is capped at the policy's explained_cap."""
    checked = [(m, a) for m in matches if (a := memo.get(m.work_id)) is not None
               and (m.score >= rules.look_alike_min or a.partly_redrawn or m.is_video_frame)]
    for weak, a_weak in checked:
        if weak.explained_by is not None:
            continue
        for strong, a_strong in checked:
            if strong is weak or strong.explained_by is not None \
                    or not a_strong.shows_copy or a_weak.inside(a_strong) < PART_INSIDE:
                continue
            same_place = a_strong.inside(a_weak) >= PART_INSIDE
            shown_less = a_weak.unshown >= a_strong.unshown + PART_MARGIN
            intact_around = a_strong.unshown <= PART_INTACT and not same_place
            look_alike = same_place and a_weak.unshown >= a_strong.unshown + LOOK_ALIKE_MARGIN
            # a still of a registered video is a whole frame: when the query shows another
            # registered picture (or another video's frame) as a copy well beyond it, the
            # frame is a part of that picture (an episode panning over registered scene art)
            frame_within = weak.is_video_frame and not same_place
            if not (shown_less or intact_around or look_alike or frame_within):
                continue
            cap = rules.explained_cap
            if weak.is_video_frame and a_strong.unshown <= PART_INTACT:
                # a frame explained by a picture the query shows intact: scaled by how much
                # of the frame the query shows (its footprint's share of the other's, and
                # what of it is not altered or covered), as a weaker reference explained by
                # a stronger one's evidence is (_suppress_explained).  An intact copy of a
                # picture that an episode shows in part is no reason to review the episode;
                # with anything over the picture (the episode's own figure, a moment
                # later, or a caption) a person sees it
                shown = min(1.0, a_weak.area / max(a_strong.area, 1e-6)) * max(0.0, 1.0 - a_weak.unshown)
                cap *= shown ** 4
            weak.cap_as_explained(strong.work_id, cap)
            break


def _suppress_explained(hits: list[_Hit], cap: float) -> list[_Hit]:
    """A hit whose supporting query evidence is mostly (>= EXPLAINED_SHARE) that of a
    stronger hit on another work is the same evidence read twice: a near-duplicate
    registration (the same scene with and without figures).  Its score is capped at ``cap``
    (the policy's explained_cap, below the block threshold) scaled by how much weaker it
    is, so it ranks after the work that explains the evidence best and, alone, sends a
    file to review rather than blocking it.
    Two works pasted side by side keep their scores: their evidence is disjoint."""
    ranked = sorted(hits, key=lambda h: -(len(h.comparison.support) if h.comparison.support is not None else 0))
    shared = _shared_support([h.comparison.support for h in ranked])
    for i, weak in enumerate(ranked):
        s_weak = weak.comparison.support
        if s_weak is None or len(s_weak) == 0:
            continue
        for j, strong in enumerate(ranked[:i]):
            s_strong = strong.comparison.support
            if strong.work_id == weak.work_id or s_strong is None:
                continue
            if shared[i, j] >= EXPLAINED_SHARE * len(s_weak):
                ratio = len(s_weak) / len(s_strong)
                weak.uncapped = weak.comparison.score
                weak.comparison.score = min(weak.comparison.score, cap * ratio**4)
                weak.comparison.explained_by = weak.comparison.evidence["explained_by"] = strong.work_id
                break
    return sorted(ranked, key=lambda h: -h.comparison.score)


def _shared_support(supports: list[np.ndarray | None]) -> np.ndarray:
    """How many distinct query rows each pair of supports has in common (n x n; 0 where
    either is missing): one product of indicator rows instead of n^2 / 2 calls to
    ``np.intersect1d`` (~1.5 ms per file with 24 candidates)."""
    n = len(supports)
    present = [s for s in supports if s is not None and len(s)]
    if not present:
        return np.zeros((n, n), np.int64)
    rows = np.zeros((n, int(max(int(s.max()) for s in present)) + 1), np.float32)
    for i, s in enumerate(supports):
        if s is not None and len(s):
            rows[i, s] = 1.0
    return np.rint(rows @ rows.T).astype(np.int64)
