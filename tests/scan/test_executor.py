"""One contract, two backends: local processes and Ray actors keep input order, bound what
is in flight, and a crash, a hang or an exception costs only the item that caused it.

Robust to a loaded machine: the work is instant and the timeouts are seconds, workers
import only ``tests/scan/executor_fns.py``, and no test asserts wall time except that a
hanging item (an hour's sleep) did not hold the run for more than a multiple of its timeout.
Ray runs locally on two CPUs; its tests skip when Ray is not installed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kyodaku.scan.executor import CRASHED, OrderedExecutor, timed_out_reason
from kyodaku.scan.executor_local import LocalProcesses
from tests.scan.executor_fns import CRASH, HANG, RAISE, reason, square_or_fail

ROOT = Path(__file__).resolve().parents[2]
#: seconds an item may take; the work takes microseconds
TIMEOUT = 6.0


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    # the workers import kyodaku and these tests' helpers from this checkout
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


@pytest.fixture(params=["local", "ray"])
def executor(request):
    """``executor(workers=2, window=None)``: an :class:`OrderedExecutor` of the backend."""
    if request.param == "local":
        return lambda workers=2, window=None: LocalProcesses(workers, window=window)
    request.getfixturevalue("local_ray")
    from kyodaku.scan.executor_ray import RayActors

    return lambda workers=2, window=None: RayActors(workers, window=window)


def _check(out: list[tuple[int, object]], n: int, failing: dict[int, str]) -> None:
    """Input order; ``failing`` items got their reasons, every other item its square."""
    assert [x for x, _ in out] == list(range(n))
    got = dict(out)
    for x, why in failing.items():
        assert isinstance(got[x], str) and why in got[x], (x, got[x])
    assert [(x, r) for x, r in out if x not in failing and r != x * x] == []


def test_both_backends_are_ordered_executors():
    from kyodaku.scan.executor_ray import RayActors

    def use(pool: OrderedExecutor) -> OrderedExecutor:  # both fit the Protocol's signature
        return pool

    assert use(LocalProcesses(1)) and use(RayActors(1))


def test_empty_input(executor):
    assert list(executor().map(square_or_fail, [], on_crash=reason, item_timeout=TIMEOUT)) == []


@pytest.mark.parametrize("batch", [1, 4])
def test_order_and_crash_isolation(executor, batch):
    """A worker that dies on one item costs that item only, whatever rode in its call."""
    out = list(executor(window=8).map(square_or_fail, range(30), on_crash=reason, batch=batch,
                                      ready=lambda x: x * x if x in (HANG, RAISE) else None))
    _check(out, 30, {CRASH: CRASHED})


@pytest.mark.parametrize("batch", [1, 3])
def test_an_exception_in_fn_costs_its_item_only(executor, batch):
    out = list(executor().map(square_or_fail, range(20, 30), on_crash=reason, item_timeout=TIMEOUT, batch=batch,
                              ready=lambda x: x * x if x == HANG else None))
    assert [x for x, _ in out] == list(range(20, 30))
    got = dict(out)
    assert got[RAISE] == "unexpected error in the worker: ValueError('a bug the worker did not expect')"
    assert all(got[x] == x * x for x in range(20, 30) if x != RAISE)


@pytest.mark.parametrize("batch", [1, 2])
def test_an_item_that_hangs_times_out_and_the_rest_go_on(executor, batch):
    t0 = time.monotonic()
    out = list(executor(window=6).map(square_or_fail, range(30), on_crash=reason, item_timeout=TIMEOUT,
                                      batch=batch, ready=lambda x: x * x if x in (CRASH, RAISE) else None))
    _check(out, 30, {HANG: timed_out_reason(TIMEOUT)})
    assert "timed out after 6 s" in dict(out)[HANG]
    # the hang sleeps an hour: the run waited for it only a few timeouts (a batch's, then its own)
    assert time.monotonic() - t0 < 20 * TIMEOUT


@pytest.mark.parametrize("batch", [1, 4])
def test_crash_hang_and_exception_in_one_run(executor, batch):
    """Items one per call or four per call, some answered by ``ready`` (cache hits: they keep
    their place and never reach a worker)."""
    taken: list[int] = []

    def source():
        for i in range(40):
            taken.append(i)
            yield i

    it = executor(window=10).map(square_or_fail, source(), on_crash=reason, item_timeout=TIMEOUT, batch=batch,
                                 ready=lambda x: 1000 + x if x % 10 == 5 else None)
    first = next(it)
    assert first == (0, 0) and len(taken) <= 11  # streamed, never more than the window ahead
    out = [first, *it]
    assert [x for x, _ in out] == list(range(40))
    got = dict(out)
    assert got[CRASH] == CRASHED and got[HANG] == timed_out_reason(TIMEOUT)
    assert got[RAISE].startswith("unexpected error in the worker: ValueError")
    assert all(got[x] == 1000 + x for x in (5, 15, 25, 35))
    assert [(x, r) for x, r in out if x not in (CRASH, HANG, RAISE) and x % 10 != 5 and r != x * x] == []


def test_input_is_consumed_lazily(executor):
    taken: list[int] = []

    def source():
        for i in range(1000):
            taken.append(i)
            yield i

    it = executor(workers=1, window=4).map(abs, source(), on_crash=reason)
    assert next(it) == (0, 0)
    assert len(taken) <= 5
    it.close()  # the pool is shut down


def test_ready_items_that_would_crash_never_reach_a_worker(executor):
    out = list(executor(window=6).map(square_or_fail, range(30), on_crash=reason,
                                      ready=lambda x: -x if x % 4 == 0 or x in (CRASH, HANG, RAISE) else None))
    assert [x for x, _ in out] == list(range(30))
    assert all(r == -x for x, r in out if x % 4 == 0 or x in (CRASH, HANG, RAISE))
    assert all(r == x * x for x, r in out if x % 4 and x not in (CRASH, HANG, RAISE))


def test_in_this_process_for_debugging():
    """``workers=0``: local only, no isolation (an exception propagates), ``ready`` honoured."""
    pool = LocalProcesses(0)
    assert [r for _, r in pool.map(square_or_fail, [CRASH, 2], on_crash=reason,
                                   ready=lambda x: 0 if x == CRASH else None)] == [0, 4]
    with pytest.raises(ValueError):
        list(pool.map(square_or_fail, [RAISE], on_crash=reason))


def test_ordered_map_and_ray_ordered_map_are_the_executors():
    """The functions the scan's callers use are thin over the backends."""
    from kyodaku.scan.parallel import default_workers, ordered_map

    assert default_workers() >= 1
    out = list(ordered_map(square_or_fail, range(16), workers=2, on_crash=reason, window=6, batch=2))
    _check(out, 16, {CRASH: CRASHED})
