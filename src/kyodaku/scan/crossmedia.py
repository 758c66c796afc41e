"""A video query in the one picture space: its frames aligned with registered videos
(the video method) and its keyframes searched among registered pictures.

A generated clip that shows a registered key visual or character for a few seconds is a
copy of a picture, not of an episode.  The query's keyframes
(:mod:`kyodaku.video.keyframes`, one per stretch of near-identical frames) are matched
as pictures against the registered pictures (the video method aligns the query with
registered episodes frame by frame, with their seconds).
Per picture, keyframes that match it at least at the policy's review threshold and lie
at most :data:`MAX_GAP` seconds apart form a run; the run covering the most frames
(weighted by score) is the match, its seconds the ``query_segment``.  Its score is its
strongest keyframe's, and a run of one sampled frame is no temporal evidence: at most
the policy's ``single_frame_cap`` (review), as for the video method.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kyodaku.fingerprint.base import Fingerprint, SharesDecoding
from kyodaku.scan.matcher import Match, Matcher
from kyodaku.video.decode import probe
from kyodaku.video.keyframes import KEYFRAME_FPS, KEYFRAME_MAX_SECONDS, Keyframe, KeyframeSelector, video_keyframes

#: seconds between two keyframes matching one picture that still belong to one run
#: (a character walks behind a prop, a caption flashes over it)
MAX_GAP = 2.0


def match_video(matcher: Matcher, path: str | os.PathLike) -> list[Match]:
    """Every match of the video at ``path``: with registered videos and with registered
    pictures (raises MediaError for a file that is not a decodable video).  The video
    is decoded whatever the reference set holds: nothing is cleared unread.  A video
    method that samples at the keyframes' rate (:class:`SharesDecoding`) hands them its
    frames from its own decoding pass."""
    methods = [m for m in matcher.video_methods() if m.name in matcher.refs.indexes]
    selector = KeyframeSelector() if matcher.holds_pictures else None
    fps: dict[str, Fingerprint] = {}
    shared = False
    for m in methods:
        fp = None
        if selector is not None and not shared and isinstance(m, SharesDecoding):
            fp = m.query_video_sharing(path, selector.view(), KEYFRAME_FPS, KEYFRAME_MAX_SECONDS)
            shared = fp is not None
        fps[m.name] = fp if fp is not None else m.query_video(path)
    matches = matcher.match_fingerprints(fps) if fps else []
    if selector is not None:
        keyframes = selector.kept if shared else video_keyframes(path)[0]
        matches = _merge(matches, match_keyframes(matcher, keyframes))
    elif not fps:
        probe(path)
    return sorted(matches, key=lambda m: -m.score)


def match_keyframes(matcher: Matcher, keyframes: list[Keyframe]) -> list[Match]:
    """Per registered picture, the best run of a video's keyframes that show it."""
    support = matcher.rules.review
    per_work: dict[str, list[tuple[Keyframe, Match]]] = {}
    for kf, found in zip(keyframes, _match_each(matcher, keyframes), strict=True):
        for m in found:
            # a registered video's own keyframes: the video method aligns the query with
            # it frame by frame, with its seconds
            if m.score >= support and not m.is_video_frame:
                per_work.setdefault(m.work_id, []).append((kf, m))
    out = []
    for work_id, hits in per_work.items():
        hits.sort(key=lambda h: h[0].t)
        runs: list[list[tuple[Keyframe, Match]]] = [[hits[0]]]
        for hit in hits[1:]:
            if hit[0].segments[0][0] - runs[-1][-1][0].segments[-1][1] > MAX_GAP:
                runs.append([])
            runs[-1].append(hit)
        run = max(runs, key=lambda r: sum(kf.frames * m.score for kf, m in r))
        out.append(_run_match(matcher, work_id, run))
    return out


def _match_each(matcher: Matcher, keyframes: list[Keyframe]) -> list[list[Match]]:
    """Each keyframe's matches as a picture, in order; on the matcher's ``frame_threads``
    threads (OpenCV and FAISS let go of the GIL; each keyframe is matched alone, so the
    matches are the same on any number of threads)."""
    if matcher.frame_threads <= 1 or len(keyframes) <= 1:
        return [matcher.match_image(kf.image()) for kf in keyframes]
    with ThreadPoolExecutor(min(matcher.frame_threads, len(keyframes)), thread_name_prefix="keyframes") as pool:
        return list(pool.map(lambda kf: matcher.match_image(kf.image()), keyframes))


def _run_match(matcher: Matcher, work_id: str, run: list[tuple[Keyframe, Match]]) -> Match:
    kf, best = max(run, key=lambda h: h[1].score)
    frames = sum(k.frames for k, _m in run)
    score = best.score if frames >= 2 else min(best.score, matcher.rules.single_frame_cap)
    evidence: dict[str, Any] = {**best.evidence, "picture_in_video": True, "keyframe_t": round(kf.t, 3),
                                "matched_keyframes": len(run), "matched_frames": frames}
    if frames < 2:
        evidence["single_frame"] = True
    segment = (run[0][0].segments[0][0], run[-1][0].segments[-1][1])
    return Match(work_id, score, best.method, evidence, query_segment=segment)


def _merge(a: list[Match], b: list[Match]) -> list[Match]:
    """One match per work: the stronger."""
    best: dict[str, Match] = {}
    for m in (*a, *b):
        if m.work_id not in best or m.score > best[m.work_id].score:
            best[m.work_id] = m
    return list(best.values())
