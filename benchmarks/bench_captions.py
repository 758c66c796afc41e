#!/usr/bin/env python
"""Speed of the caption matcher: build time and milliseconds per caption against the
labelled set's aliases plus ``--aliases`` synthetic ones (half Latin words, half kana).

    PYTHONPATH=src:. .venv/bin/python benchmarks/bench_captions.py --aliases 4000
"""

from __future__ import annotations

import argparse
import random
import string
import time

from kyodaku.text import AliasEntry, AliasMatcher
from tests.text.labelled import ALIASES, CASES


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aliases", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    rng = random.Random(0)
    kana = [chr(c) for c in range(0x3042, 0x3093)]

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))

    entries = [AliasEntry(t, h, w, lang) for t, h, w, lang in ALIASES]
    for i in range(args.aliases // 2):
        entries.append(AliasEntry(" ".join(word().title() for _ in range(rng.randint(1, 3))), f"h{i % 50}", f"x{i}"))
        entries.append(AliasEntry("".join(rng.choice(kana) for _ in range(rng.randint(3, 8))), f"h{i % 50}", f"x{i}"))
    t0 = time.perf_counter()
    matcher = AliasMatcher(entries)
    built = time.perf_counter() - t0
    captions = [c for c, _ in CASES] * args.repeat
    t0 = time.perf_counter()
    for c in captions:
        matcher.match(c)
    spent = time.perf_counter() - t0
    print(f"{len(matcher)} aliases built in {built:.2f} s; {len(captions)} captions in {spent:.2f} s "
          f"= {1000 * spent / len(captions):.2f} ms/caption")


if __name__ == "__main__":
    main()
