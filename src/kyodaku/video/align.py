"""Combining one query's comparisons with several references."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def explain_away(runs: Mapping[Hashable, Sequence[tuple[float, float]]], ratio: float = 0.7,
                 period: float = 0.5) -> dict[Hashable, tuple[float, int, Hashable | None]]:
    """Attribute query frames to the strongest claim.

    ``runs`` maps a reference key to its matched run: ``(query time, weight)`` per frame,
    frames ``period`` seconds apart.  Runs are taken heaviest first.  A frame of a lighter
    run that lies within the span of a heavier run counts for the lighter run only when
    its weight is at least ``ratio`` times the heavier run's weight on that frame (or, where
    the heavier run has no frame, its mean frame weight): the same footage registered
    twice matches equally well and keeps its weight; a look-alike (the same scene art in
    another episode) matches less well, or only part of the way, and loses those frames.

    A lighter run that lies wholly within a heavier run's span, which the heavier run
    exceeds, loses all its frames: the heavier match explains that stretch of the query and
    goes on beyond it, while the lighter one stops where its reference stops looking alike
    (a shot it shares with the heavier run's reference, then a cut to something else).

    Returns, per key, (weight left, frames left, key of the heaviest run that took frames
    from it, or None).
    """
    order = sorted(runs, key=lambda k: -sum(w for _, w in runs[k]))
    tol = 0.5 * period
    stronger: list[tuple[Hashable, float, float, float, dict[int, float]]] = []
    out: dict[Hashable, tuple[float, int, Hashable | None]] = {}
    for k in order:
        frames = list(runs[k])
        weight, n, by = 0.0, 0, None
        a0 = min((t for t, _ in frames), default=0.0)
        a1 = max((t for t, _ in frames), default=0.0)
        for t, w in frames:
            lost_to = None
            for key, t0, t1, mean, per in stronger:
                if t0 - tol <= t <= t1 + tol:
                    if a0 >= t0 - tol and a1 <= t1 + tol and (t1 - t0) > (a1 - a0) + tol:
                        lost_to = key  # contained in a longer match
                        break
                    b = round(t / tol)
                    ws = max((per[x] for x in (b - 1, b, b + 1) if x in per), default=mean)
                    if w < ratio * ws:
                        lost_to = key
                        break
            if lost_to is None:
                weight += w
                n += 1
            elif by is None:
                by = lost_to
        out[k] = (weight, n, by)
        if frames:
            per = {round(t / tol): w for t, w in frames}
            ts = [t for t, _ in frames]
            stronger.append((k, min(ts), max(ts), sum(w for _, w in frames) / len(frames), per))
    return out
