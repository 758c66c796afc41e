"""The worker pool keeps order, bounds what is in flight, and isolates a crashing item."""

from __future__ import annotations

import os

from kyodaku.scan.parallel import ordered_map


def _square_or_die(x: int) -> int:
    if x == 13:
        os._exit(3)  # a decoder segfaulting on a hostile file
    return x * x


def _crash(x: int, reason: str) -> int:
    return -1


def test_order_and_crash_isolation():
    out = list(ordered_map(_square_or_die, range(30), workers=2, on_crash=_crash, window=6))
    assert [x for x, _ in out] == list(range(30))
    assert dict(out)[13] == -1
    assert all(r == x * x for x, r in out if x != 13)


def test_input_is_consumed_lazily():
    taken = []

    def source():
        for i in range(1000):
            taken.append(i)
            yield i

    it = ordered_map(abs, source(), workers=1, on_crash=_crash, window=4)
    next(it)
    assert len(taken) <= 5
