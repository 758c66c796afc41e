#!/usr/bin/env python3
"""Desk load: many rights holders filing claims at once against a running server on
PostgreSQL, on loopback only.  Every claim must be stored exactly once.

    python benchmarks/bench_desk.py [--database-url postgresql+psycopg://kyodaku@127.0.0.1:54332/postgres]
                                    [--holders 50] [--claims 1000] [--workers 2] [--out bench-desk.json]

It creates a fresh database on that PostgreSQL server (``--db-name``, default
``kyodaku_bench_<time>``; dropped afterwards unless ``--keep``), a workspace with one
registered work per holder and a recorded scan of copies of them (the real registry and
scan), one holder account with an API key per holder; starts ``uvicorn`` with the
``kyodaku serve`` factory (``kyodaku.service.app:app_from_env``) as a subprocess on
127.0.0.1; then one asyncio client per holder files its share of the claims with
``POST /api/v1/holder/claims`` (decision-id claims, a unique ``Idempotency-Key`` each).
A random ``--retry-rate`` of the requests is sent again with the same key (half of them
right after the first answer, half concurrently with it), as a client retrying after a
lost answer would; every retry must get the first claim back.

Afterwards the database is checked: exactly ``--claims`` claims, each idempotency key
once, every claim id the clients were given present, one "filed" event per claim.

Baseline (the ratio is what to read on a shared machine): ``GET /api/v1/me`` (key lookup
and JSON, no writes) under the same concurrency, measured before and after the claims.
Output: JSON with throughput and p50/p95/p99 latencies (ms) of both.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from kyodaku.desk import DeskService
from kyodaku.desk.models import ClaimEventRow, ClaimRow
from kyodaku.records.store import Records
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))  # the offline demo's art (not in kyodaku)

from kyodaku_demo.scenes import scene  # noqa: E402

LICENSEE = "bench-video-ai"
DEFAULT_SERVER = "postgresql+psycopg://kyodaku@127.0.0.1:54332/postgres"


# -- database and workspace ---------------------------------------------------------------
def admin(server_url: str, sql: str) -> None:
    """Run CREATE/DROP DATABASE (outside a transaction) on the server's maintenance db."""
    url = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def prepare(home: Path, db_url: str, holders: int) -> dict[str, Any]:
    """Holders with one work each, a recorded scan of cropped copies, accounts with keys."""
    ws = Workspace.init(home, db_url)
    reg = ws.registry
    refs, corpus = home.parent / "refs", home.parent / "corpus"
    refs.mkdir()
    corpus.mkdir()
    for i in range(holders):
        slug = f"holder-{i:02d}"
        reg.add_holder(slug, f"Holder {i}", "JP")
        picture = scene(1000 + i).convert("RGB")
        picture.save(refs / f"{slug}.png")
        w, h = picture.size
        picture.crop((w // 10, h // 10, w - w // 10, h - h // 10)).save(corpus / f"{slug}-copy.png")
        register_work(reg, ws, slug, f"Work of {slug}", [refs / f"{slug}.png"], work_id=f"w{i:02d}")
    fingerprint_pending(ws, progress=False, workers=0)
    summary = scan_paths(ws, [corpus], ScanOptions(LICENSEE, "training", date(2026, 6, 1), workers=0),
                         out=io.StringIO(), name="bench-corpus")
    records = Records(ws.session)
    desk = DeskService(ws, licensee=LICENSEE)
    clients = []
    for i in range(holders):
        slug = f"holder-{i:02d}"
        decisions = records.decisions(summary.record_id, holder=slug)
        if not decisions:
            raise SystemExit(f"the scan recorded no decision about {slug}'s work: cannot file claims")
        actor = desk.add_account(f"{slug}-staff", "holder", holders=[slug])
        clients.append({"holder": slug, "work": f"w{i:02d}", "decision": decisions[0].id,
                        "key": desk.add_api_key(actor, "bench")[1]})
    ws.dispose()
    return {"clients": clients, "scan": summary.record_id}


def verify(home: Path, db_url: str, sent_keys: set[str], claim_ids: dict[str, int]) -> dict[str, Any]:
    """Exactly one stored claim per idempotency key sent, none lost, none extra."""
    ws = Workspace.open(home, db_url)
    try:
        with ws.session() as s:
            rows = s.execute(select(ClaimRow.id, ClaimRow.idempotency_key)).all()
            filed_events = s.scalar(select(func.count()).select_from(ClaimEventRow)
                                    .where(ClaimEventRow.to_state == "filed"))
    finally:
        ws.dispose()
    stored_keys = [k for _, k in rows]
    by_key = {k: i for i, k in rows}
    return {
        "claims_stored": len(rows),
        "distinct_keys_stored": len(set(stored_keys)),
        "keys_lost": len(sent_keys - set(stored_keys)),
        "keys_unexpected": len(set(stored_keys) - sent_keys),
        "answers_disagreeing_with_db": sum(1 for k, i in claim_ids.items() if by_key.get(k) != i),
        "filed_events": filed_events,
    }


# -- server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, db_url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "KYODAKU_HOME": str(home), "KYODAKU_DATABASE_URL": db_url, "KYODAKU_LICENSEE": LICENSEE}
    # the load is the point: no per-key rate limit unless the caller sets one
    env.setdefault("KYODAKU_RATE_LIMIT_PER_MINUTE", "0")
    cmd = [sys.executable, "-m", "uvicorn", "kyodaku.service.app:app_from_env", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_ready(base: str, key: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer in time")


# -- load ---------------------------------------------------------------------------------
def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"n": len(samples), "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}


async def timed(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> tuple[httpx.Response, float]:
    t0 = time.perf_counter()
    r = await client.request(method, url, **kw)
    return r, time.perf_counter() - t0


async def file_claims(base: str, clients: list[dict[str, Any]], total: int, retry_rate: float,
                      seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    latencies: list[float] = []
    retry_latencies: list[float] = []
    claim_ids: dict[str, int] = {}
    errors: list[str] = []
    retries = {"sequential": 0, "concurrent": 0, "mismatched": 0}
    shares = [total // len(clients) + (1 if i < total % len(clients) else 0) for i in range(len(clients))]

    async def holder(c: dict[str, Any], n: int, plan: list[float]) -> None:
        headers = {"Authorization": f"Bearer {c['key']}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            for j in range(n):
                key = f"bench-{c['holder']}-{j}-{rng.getrandbits(64):016x}"
                body = {"decision_id": c["decision"], "work_ids": [c["work"]], "description": f"claim {j}"}
                kw = {"json": body, "headers": {"Idempotency-Key": key}}
                if plan[j] < retry_rate / 2:  # the retry races the first request
                    (r, dt), (r2, dt2) = await asyncio.gather(timed(http, "POST", "/api/v1/holder/claims", **kw),
                                                              timed(http, "POST", "/api/v1/holder/claims", **kw))
                    retries["concurrent"] += 1
                else:
                    r, dt = await timed(http, "POST", "/api/v1/holder/claims", **kw)
                    r2 = None
                    if plan[j] < retry_rate:  # the answer was "lost": send it again
                        r2, dt2 = await timed(http, "POST", "/api/v1/holder/claims", **kw)
                        retries["sequential"] += 1
                latencies.append(dt)
                if r.status_code != 201:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                claim_ids[key] = r.json()["id"]
                if r2 is not None:
                    retry_latencies.append(dt2)
                    if r2.status_code != 201 or r2.json()["id"] != claim_ids[key]:
                        retries["mismatched"] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(holder(c, n, [rng.random() for _ in range(n)]) for c, n in zip(clients, shares)))
    elapsed = time.perf_counter() - t0
    return {"elapsed_s": round(elapsed, 2), "claims_per_s": round(len(latencies) / elapsed, 1),
            "latency": percentiles(latencies), "retry_latency": percentiles(retry_latencies) if len(
                retry_latencies) > 1 else None, "retries": retries, "errors": errors[:10], "error_count": len(errors),
            "claim_ids": claim_ids}


async def baseline(base: str, clients: list[dict[str, Any]], total: int) -> dict[str, Any]:
    latencies: list[float] = []
    bad = 0
    per = max(1, total // len(clients))

    async def one(c: dict[str, Any]) -> None:
        nonlocal bad
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {c['key']}"},
                                     timeout=60) as http:
            for _ in range(per):
                r, dt = await timed(http, "GET", "/api/v1/me")
                latencies.append(dt)
                bad += r.status_code != 200

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in clients))
    elapsed = time.perf_counter() - t0
    return {"requests_per_s": round(len(latencies) / elapsed, 1), "latency": percentiles(latencies), "errors": bad}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server (its maintenance db)")
    ap.add_argument("--db-name", default=f"kyodaku_bench_{int(time.time())}")
    ap.add_argument("--holders", type=int, default=50, help="holders = concurrent clients")
    ap.add_argument("--claims", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--retry-rate", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the database and workspace")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if not args.db_name.replace("_", "").isalnum():
        raise SystemExit("--db-name: letters, digits and _ only")

    server = make_url(args.database_url)
    db_url = server.set(database=args.db_name).render_as_string(hide_password=False)
    admin(args.database_url, f'CREATE DATABASE "{args.db_name}"')
    tmp = Path(tempfile.mkdtemp(prefix="kyodaku-bench-desk-"))
    proc = None
    try:
        t0 = time.perf_counter()
        setup = prepare(tmp / "home", db_url, args.holders)
        setup_s = time.perf_counter() - t0
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(tmp / "home", db_url, port, args.workers, tmp / "server.log")
        wait_ready(base, setup["clients"][0]["key"], proc, tmp / "server.log")
        before = asyncio.run(baseline(base, setup["clients"], args.claims))
        load = asyncio.run(file_claims(base, setup["clients"], args.claims, args.retry_rate, args.seed))
        after = asyncio.run(baseline(base, setup["clients"], args.claims))
        claim_ids = load.pop("claim_ids")
        checks = verify(tmp / "home", db_url, set(claim_ids), claim_ids)
        ok = (checks["claims_stored"] == args.claims == checks["distinct_keys_stored"] == len(claim_ids)
              == checks["filed_events"] and checks["keys_lost"] == 0 and checks["keys_unexpected"] == 0
              and checks["answers_disagreeing_with_db"] == 0 and load["error_count"] == 0
              and load["retries"]["mismatched"] == 0)
        base_p95 = max(before["latency"]["p95_ms"], after["latency"]["p95_ms"])
        result = {
            "setup": {"holders": args.holders, "claims": args.claims, "concurrency": args.holders,
                      "uvicorn_workers": args.workers, "retry_rate": args.retry_rate, "setup_s": round(setup_s, 1),
                      "cpus": os.cpu_count()},
            "claims": load, "baseline_me_before": before, "baseline_me_after": after,
            "p95_ratio_claims_to_me": round(load["latency"]["p95_ms"] / base_p95, 2) if base_p95 else None,
            "database_checks": checks, "exactly_once": ok,
        }
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            admin(args.database_url, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
