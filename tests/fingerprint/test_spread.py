"""ORB keypoint spreading: the vectorised version keeps exactly the keypoints of the
plain loop it replaced (the loop is the specification), and the extra strongest of those
it left out."""

from __future__ import annotations

import cv2
import numpy as np

from kyodaku.fingerprint.local import _spread


def _spec(keypoints, n, shape, grid, density=1.5, extra=0):
    if len(keypoints) <= n or grid <= 1:
        return list(keypoints)
    kept = _spec_spread(keypoints, n, shape, grid, density)
    chosen = {id(k) for k in kept}
    left = [k for k in sorted(keypoints, key=lambda k: -k.response) if id(k) not in chosen]
    return kept + left[:extra]


def _spec_spread(keypoints, n, shape, grid, density):
    h, w = shape
    cap = max(1, int(density * n / (grid * grid)))
    counts = np.zeros((grid, grid), np.int32)
    kept, rest = [], []
    for k in sorted(keypoints, key=lambda k: -k.response):
        cy, cx = min(grid - 1, int(k.pt[1] * grid / h)), min(grid - 1, int(k.pt[0] * grid / w))
        if counts[cy, cx] < cap:
            counts[cy, cx] += 1
            kept.append(k)
            if len(kept) == n:
                return kept
        else:
            rest.append(k)
    return kept + rest[: n - len(kept)]


def test_spread_matches_the_plain_loop():
    rng = np.random.default_rng(7)
    for _ in range(120):
        h, w = int(rng.integers(60, 700)), int(rng.integers(60, 700))
        m, n = int(rng.integers(1, 3000)), int(rng.integers(1, 1200))
        crowded = rng.random(m) < 0.6  # most keypoints in one corner, many tied responses
        xs = np.where(crowded, rng.uniform(0, w / 4, m), rng.uniform(0, w, m))
        ys = np.where(crowded, rng.uniform(0, h / 4, m), rng.uniform(0, h, m))
        resp = np.where(rng.random(m) < 0.5, rng.integers(0, 30, m).astype(float), rng.random(m))
        kps = [cv2.KeyPoint(float(x), float(y), 31, -1, float(r)) for x, y, r in zip(xs, ys, resp)]
        got = _spread(kps, n, (h, w), 4)
        assert [id(k) for k in got] == [id(k) for k in _spec(kps, n, (h, w), 4)]
        assert len(got) == min(n, m)
        density, extra = float(rng.choice([1.0, 1.5, 3.0])), int(rng.integers(0, n + 1))
        got = _spread(kps, n, (h, w), 4, density, extra)
        assert [id(k) for k in got] == [id(k) for k in _spec(kps, n, (h, w), 4, density, extra)]
        assert len(got) == (min(n + extra, m) if m > n else m)
