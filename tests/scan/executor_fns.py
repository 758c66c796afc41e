"""What the executor tests run in workers: a module that imports nothing heavy, so a
worker (a fresh process, a restarted Ray actor) unpickles it at once even on a loaded
machine and the tests' timeouts measure the items, not the imports."""

from __future__ import annotations

import os
import time

CRASH, HANG, RAISE = 13, 21, 27


def square_or_fail(x: int) -> int:
    if x == CRASH:
        os._exit(3)  # a decoder segfaulting on a hostile file
    if x == HANG:
        time.sleep(3600)  # a decoder stuck on one
    if x == RAISE:
        raise ValueError("a bug the worker did not expect")
    return x * x


def reason(x: int, why: str) -> str:
    return why
