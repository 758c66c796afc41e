#!/usr/bin/env python
"""Benchmark kyodaku's vector indexes on synthetic PDQ-like data.

The use case: a registry's global index holds 256-bit PDQ hashes, ``--per-ref`` (default 8,
the dihedral variants) per reference image; a query hash matches a stored one within
Hamming distance ~31.  For each size this script builds every index configuration on
random codes and queries it with planted near-duplicates (stored codes with 0..31 random
bit flips) and random non-matching codes, one query at a time on one thread, measuring:

* build time (all ``add`` calls, plus the first query for lazily built indexes),
* single-query latency p50 / p95 (``index.query(q[None], k, max_distance=radius)``),
* recall of the planted neighbours within the radius, against an exact scan,
* memory: the index's own byte count (``nbytes()``) and the process RSS growth.

Because the machine may be noisy (shared cores), every figure is also given as a ratio to
a baseline measured in the same process at the same size: an exact
``faiss.IndexBinaryFlat`` scan (through the same ``FaissIndex`` wrapper).

    .venv/bin/python benchmarks/bench_index.py --out bench-out/index.json
    .venv/bin/python benchmarks/bench_index.py --sizes 10k,100k --codes '' --configs faiss-flat,mih

A float section (``--float-sizes``, e.g. 200k) measures 128-d float descriptors the same
way (baseline ``faiss.IndexFlatL2``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import faiss  # noqa: E402

from kyodaku.index import make_index  # noqa: E402
from kyodaku.index.base import VectorIndex  # noqa: E402
from kyodaku.index.exact import ExactIndex  # noqa: E402
from kyodaku.index.faiss_index import FaissIndex  # noqa: E402
from kyodaku.index.mih import MIHIndex, default_substring_bits  # noqa: E402

BINARY_CONFIGS = ["faiss-flat", "exact", "mih", "faiss-multihash", "faiss-hnsw", "faiss-ivf"]
FLOAT_CONFIGS = ["faiss-flat", "exact", "faiss-hnsw", "faiss-ivf"]
BASELINE = "faiss-flat"


# ---------------------------------------------------------------------------- helpers
def parse_count(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * mult)


def parse_counts(text: str) -> list[int]:
    return [parse_count(t) for t in text.split(",") if t.strip()]


def human(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size and n % (size // 10) == 0:
            value = n / size
            return f"{value:g}{unit}"
    return str(n)


def rss_bytes() -> int:
    """Resident set size from /proc (no psutil)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def flip_bits(codes: np.ndarray, nflips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    order = np.argsort(rng.random(bits.shape), axis=1)
    mask = np.arange(bits.shape[1])[None, :] < nflips[:, None]  # first nflips of a permutation
    flip = np.zeros_like(mask)
    np.put_along_axis(flip, order, mask, axis=1)
    return np.packbits(bits ^ flip, axis=1)


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.array(seconds) * 1e3, q)) if seconds else math.nan


# ---------------------------------------------------------------------------- configs
def binary_factory(name: str, n: int, args: argparse.Namespace) -> Callable[[], VectorIndex] | None:
    """None when the configuration is skipped at this size (see the --*-max flags)."""
    if name == "faiss-flat":
        return lambda: FaissIndex("binary", 256, structure="flat")
    if name == "exact":
        return None if n > args.exact_max else (lambda: ExactIndex("binary", 256))
    if name == "mih":
        return lambda: MIHIndex("binary", 256, b=default_substring_bits(n))
    if name == "faiss-multihash":
        return None if n > args.multihash_max else (lambda: FaissIndex("binary", 256, structure="multihash", b=16))
    if name == "faiss-hnsw":
        return None if n > args.hnsw_max else (lambda: FaissIndex("binary", 256, structure="hnsw"))
    if name == "faiss-ivf":
        if n > args.ivf_max:
            return None
        # sqrt(n) lists (make_index uses 4 sqrt(n); training that many centroids on binary
        # codes takes minutes on 2 cores), trained on the first 39 * nlist codes
        nlist = max(16, int(math.sqrt(n)))
        return lambda: FaissIndex("binary", 256, structure="ivf", nlist=nlist)
    raise SystemExit(f"unknown binary config {name!r}; choose from {', '.join(BINARY_CONFIGS)}")


def float_factory(name: str, n: int, dim: int, args: argparse.Namespace) -> Callable[[], VectorIndex] | None:
    if name == "faiss-flat":
        return lambda: FaissIndex("float", dim, structure="flat")
    if name == "exact":
        return None if n > args.exact_max else (lambda: ExactIndex("float", dim))
    if name == "faiss-hnsw":
        return None if n > args.hnsw_max * 5 else (lambda: FaissIndex("float", dim, structure="hnsw"))
    if name == "faiss-ivf":
        # make_index's choice (4 sqrt(n) lists); stays a flat buffer below 39 * nlist vectors
        return lambda: make_index("float", dim, expected_size=n, backend="faiss", structure="ivf")
    raise SystemExit(f"unknown float config {name!r}; choose from {', '.join(FLOAT_CONFIGS)}")


# ---------------------------------------------------------------------------- measuring
def measure(
    name: str,
    factory: Callable[[], VectorIndex],
    data: np.ndarray,
    queries: np.ndarray,
    truth: list[set[int]],
    planted: int,
    args: argparse.Namespace,
    radius: float,
) -> dict[str, Any]:
    gc.collect()
    rss0 = rss_bytes()
    faiss.omp_set_num_threads(args.build_threads)
    t0 = time.perf_counter()
    index = factory()
    for start in range(0, data.shape[0], args.batch):
        index.add(data[start : start + args.batch], np.arange(start, min(start + args.batch, data.shape[0])))
    index.query(queries[:1], args.k, max_distance=radius)  # lazy structures build here
    build_s = time.perf_counter() - t0
    gc.collect()
    rss_delta = rss_bytes() - rss0
    nbytes = index.nbytes()
    detail = {"class": type(index).__name__}
    if isinstance(index, FaissIndex):
        detail.update(faiss_class=type(index.faiss_index).__name__, params=index.params, trained=index.trained)
    elif isinstance(index, MIHIndex):
        detail.update(b=index.b, nhash=index.nhash)

    # recall: every query in one batch call
    got = index.query(queries, args.k, max_distance=radius)
    pairs = sum(len(t) for t in truth)
    found = sum(len(t & set(row.tolist())) for t, row in zip(truth, got.labels))
    false_hits = int((got.labels[planted:] >= 0).sum())  # random queries have no true match

    # latency: one query at a time, one thread, in random order, within a time budget
    faiss.omp_set_num_threads(1)
    order = np.random.default_rng(1).permutation(queries.shape[0])
    lat_all, lat_miss = [], []
    spent = 0.0
    for i in order:
        q = queries[i : i + 1]
        t = time.perf_counter()
        index.query(q, args.k, max_distance=radius)
        dt = time.perf_counter() - t
        lat_all.append(dt)
        if i >= planted:
            lat_miss.append(dt)
        spent += dt
        if spent > args.latency_budget and len(lat_all) >= args.min_latency_queries:
            break
    del index, got
    gc.collect()
    return {
        "index": name,
        "build_s": build_s,
        "p50_ms": percentile_ms(lat_all, 50),
        "p95_ms": percentile_ms(lat_all, 95),
        "p50_miss_ms": percentile_ms(lat_miss, 50),
        "latency_queries": len(lat_all),
        "recall": found / pairs if pairs else math.nan,
        "false_hits": false_hits,
        "index_bytes": int(nbytes),
        "rss_delta_bytes": int(rss_delta),
        **detail,
    }


def add_ratios(rows: list[dict[str, Any]]) -> None:
    base = next((r for r in rows if r["index"] == BASELINE), None)
    for r in rows:
        for key in ("p50_ms", "p95_ms", "build_s", "index_bytes"):
            ok = base is not None and base[key] and not math.isnan(base[key])
            r[f"{key}_x_baseline"] = r[key] / base[key] if ok else math.nan


def run_binary(n_codes: int, args: argparse.Namespace, rng: np.random.Generator) -> list[dict[str, Any]]:
    radius = args.radius
    t = time.perf_counter()
    data = rng.integers(0, 256, (n_codes, 32), dtype=np.uint8)
    src = rng.choice(n_codes, args.planted, replace=False)
    flips = rng.integers(0, args.max_flips + 1, args.planted)
    queries = np.concatenate(
        [flip_bits(data[src], flips, rng), rng.integers(0, 256, (args.random, 32), dtype=np.uint8)]
    )
    # ground truth: exact range search (all stored codes within the radius), all threads
    faiss.omp_set_num_threads(args.build_threads)
    flat = faiss.IndexBinaryFlat(256)
    flat.add(data)
    lims, _, ids = flat.range_search(queries, int(radius) + 1)
    truth = [set(ids[lims[i] : lims[i + 1]].tolist()) for i in range(queries.shape[0])]
    del flat
    assert all(int(s) in truth[i] for i, s in enumerate(src)), "planted neighbours within radius"
    print(f"# {n_codes:,} codes: data + exact ground truth in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    rows = []
    for name in args.configs:
        factory = binary_factory(name, n_codes, args)
        if factory is None:
            continue
        row = measure(name, factory, data, queries, truth, args.planted, args, radius)
        row.update(section="binary", codes=n_codes, per_ref=args.per_ref, references=n_codes / args.per_ref)
        rows.append(row)
        print(
            f"#   {name:16s} build {row['build_s']:7.1f}s  p50 {row['p50_ms']:8.3f} ms  "
            f"p95 {row['p95_ms']:8.3f} ms  recall {row['recall']:.4f}  {row['index_bytes'] / 2**20:8.1f} MiB",
            file=sys.stderr,
        )
    add_ratios(rows)
    return rows


def run_float(n: int, args: argparse.Namespace, rng: np.random.Generator) -> list[dict[str, Any]]:
    dim = args.float_dim
    # clustered data (real descriptors are not uniform): 1000 Gaussian blobs
    centers = rng.standard_normal((1000, dim)).astype(np.float32)
    data = centers[rng.integers(0, 1000, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
    src = rng.choice(n, args.planted, replace=False)
    noise = args.float_noise * rng.standard_normal((args.planted, dim)).astype(np.float32)
    queries = np.concatenate([data[src] + noise, 3 * rng.standard_normal((args.random, dim)).astype(np.float32)])
    radius = args.float_radius
    faiss.omp_set_num_threads(args.build_threads)
    flat = faiss.IndexFlatL2(dim)
    flat.add(data)
    lims, _, ids = flat.range_search(queries, radius**2)
    truth = [set(ids[lims[i] : lims[i + 1]].tolist()) for i in range(queries.shape[0])]
    del flat
    rows = []
    for name in args.float_configs:
        factory = float_factory(name, n, dim, args)
        if factory is None:
            continue
        row = measure(name, factory, data, queries, truth, args.planted, args, radius)
        row.update(section=f"float{dim}", codes=n, per_ref=args.float_per_ref, references=n / args.float_per_ref)
        rows.append(row)
        print(f"#   float {name:16s} p50 {row['p50_ms']:8.3f} ms  recall {row['recall']:.4f}", file=sys.stderr)
    add_ratios(rows)
    return rows


# ---------------------------------------------------------------------------- report
def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| section | vectors | refs (vectors/ref) | index | build s | p50 ms | p95 ms | p50 miss ms | recall "
        "| MiB / 1M refs | RSS delta MiB | p50 x base | p95 x base | bytes x base |"
    )
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        per_m_refs = r["index_bytes"] / r["codes"] * r["per_ref"] * 1e6 / 2**20
        recall = "1 (ref)" if r["index"] == BASELINE else f"{r['recall']:.4f}"
        lines.append(
            f"| {r['section']} | {human(r['codes'])} | {human(int(r['references']))} (x{r['per_ref']}) | {r['index']} "
            f"| {r['build_s']:.1f} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {r['p50_miss_ms']:.3f} | {recall} "
            f"| {per_m_refs:,.0f} | {r['rss_delta_bytes'] / 2**20:,.0f} "
            f"| {r['p50_ms_x_baseline']:.3f} | {r['p95_ms_x_baseline']:.3f} | {r['index_bytes_x_baseline']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10k,100k,1M", help="reference counts (x --per-ref codes each)")
    p.add_argument("--per-ref", type=int, default=8, help="codes per reference (8 dihedral PDQ hashes)")
    p.add_argument("--codes", default="1M", help="extra sizes given directly in codes ('' for none)")
    p.add_argument("--configs", default=",".join(BINARY_CONFIGS), help="binary configurations to measure")
    p.add_argument("--radius", type=float, default=31, help="match radius in bits (PDQ: 31)")
    p.add_argument("--max-flips", type=int, default=31, help="planted queries get 0..this many flipped bits")
    p.add_argument("--planted", type=int, default=500, help="planted near-duplicate queries per size")
    p.add_argument("--random", type=int, default=500, help="random (non-matching) queries per size")
    p.add_argument("--k", type=int, default=4, help="neighbours asked per query (the matcher's vote_k)")
    p.add_argument("--batch", type=int, default=1_000_000, help="vectors per add() call")
    p.add_argument("--build-threads", type=int, default=1, help="OpenMP threads for building (queries: 1)")
    p.add_argument("--latency-budget", type=float, default=8.0, help="seconds of single queries per config")
    p.add_argument("--min-latency-queries", type=int, default=100)
    p.add_argument("--exact-max", type=parse_count, default=parse_count("1M"), help="largest size for NumPy exact")
    p.add_argument("--hnsw-max", type=parse_count, default=parse_count("100k"), help="largest size for HNSW (slow build)")
    p.add_argument("--ivf-max", type=parse_count, default=parse_count("1M"), help="largest size for IVF (slow training)")
    p.add_argument("--multihash-max", type=parse_count, default=parse_count("10M"))
    p.add_argument("--float-sizes", default="", help="float section sizes, e.g. 200k ('' to skip)")
    p.add_argument("--float-dim", type=int, default=128)
    p.add_argument("--float-per-ref", type=int, default=1, help="float vectors per reference")
    p.add_argument("--float-configs", default=",".join(FLOAT_CONFIGS))
    p.add_argument("--float-radius", type=float, default=1.0)
    p.add_argument("--float-noise", type=float, default=0.05, help="std of the noise on planted float queries")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    args.configs = [c for c in args.configs.split(",") if c]
    args.float_configs = [c for c in args.float_configs.split(",") if c]
    if BASELINE not in args.configs:
        args.configs.insert(0, BASELINE)

    sizes = sorted({n * args.per_ref for n in parse_counts(args.sizes)} | set(parse_counts(args.codes)))
    rng = np.random.default_rng(args.seed)
    started = time.time()
    rows: list[dict[str, Any]] = []
    for n_codes in sizes:
        rows += run_binary(n_codes, args, rng)
    for n in parse_counts(args.float_sizes):
        rows += run_float(n, args, rng)

    table = markdown(rows)
    print(table)
    notes = []
    if sizes:
        notes.append(
            f"binary: 256-bit codes, radius {args.radius:g}, planted 0..{args.max_flips} flips x {args.planted} "
            f"+ {args.random} random queries, k={args.k}; baseline ({BASELINE}) = exact faiss.IndexBinaryFlat "
            "scan at the same size."
        )
    if args.float_sizes.strip():
        notes.append(
            f"float: {args.float_dim}-d vectors in 1000 Gaussian clusters, radius {args.float_radius:g} (L2), "
            f"planted = stored + N(0, {args.float_noise:g}) noise; baseline = faiss.IndexFlatL2."
        )
    print(
        "\n" + " ".join(notes) + " One query at a time on 1 thread; builds on "
        f"{args.build_threads} thread(s). Peak RSS {peak_rss_bytes() / 2**30:.2f} GiB, "
        f"{time.time() - started:.0f}s total."
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        env = {
            "argv": sys.argv,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "faiss": faiss.__version__,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "loadavg_end": os.getloadavg(),
            "peak_rss_bytes": peak_rss_bytes(),
            "seconds": time.time() - started,
        }
        args_json = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        args.out.write_text(json.dumps({"env": env, "args": args_json, "rows": rows, "markdown": table}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
