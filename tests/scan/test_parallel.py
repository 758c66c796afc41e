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


def _square_or_hang(x: int) -> int:
    if x == 7:
        import time

        time.sleep(3600)  # a decoder stuck on a hostile file
    return x * x


def _timeout(x: int, reason: str) -> str:
    return reason


def test_an_item_that_hangs_times_out_and_the_rest_go_on():
    import time

    t0 = time.monotonic()
    out = dict(ordered_map(_square_or_hang, range(12), workers=2, on_crash=_timeout, window=4, item_timeout=2))
    assert "timed out after 2 s" in out[7]
    assert all(out[x] == x * x for x in range(12) if x != 7)
    assert time.monotonic() - t0 < 30


def test_ready_items_keep_their_place_and_never_reach_a_worker():
    """Cache hits (``ready``) are yielded in order without a worker; a crash among them
    only costs the crashing item."""
    out = list(ordered_map(_square_or_die, range(30), workers=2, on_crash=_crash, window=6,
                           ready=lambda x: -x if x % 4 == 0 else None))
    assert [x for x, _ in out] == list(range(30))
    assert all(r == -x for x, r in out if x % 4 == 0)
    assert dict(out)[13] == -1 and all(r == x * x for x, r in out if x % 4 and x != 13)
    assert [r for _, r in ordered_map(_square_or_die, [13, 2], workers=0, on_crash=_crash,
                                      ready=lambda x: 0 if x == 13 else None)] == [0, 4]
