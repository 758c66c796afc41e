"""Latency of the generation guard against a running ``kyodaku serve`` on loopback
(issue 20, item 5): p50 / p95 of ``POST /api/v1/screen/prompt`` and ``/output`` (a 1024 px
image, a 10 s 720p clip), one client and 4 concurrent clients, with ``GET /api/v1/me`` in
the same run as the baseline.  Not a timed test.

    .venv/bin/python benchmarks/bench_screen.py --set /work/evalsets/xsmall --work /tmp/bench-screen

The workspace under ``--work`` is built once (holders, catalog, permits, fingerprints) and
reused.  ``--cases me,prompt`` measures only those; ``--src DIR`` (repeatable) runs the
server from another checkout's ``src`` (a ``git worktree`` of an earlier commit), one after
the other in the same run, for before/after figures (each against its own ``/me``).
``--in-process`` also times :meth:`Guard.screen_prompt` itself, with the audit drain in the
request (``kyodaku screen``) and in the background (``kyodaku serve``), in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

LICENSEE = "acme-video-ai"


def prepare(set_dir: Path, work: Path) -> tuple[Path, str]:
    from kyodaku.desk import DeskService
    from kyodaku.registry.importers import import_catalog, import_holders, import_permits
    from kyodaku.scan.references import fingerprint_pending
    from kyodaku.workspace import Workspace

    home = work / "kyodaku-data"
    key_file = work / "operator.key"
    if key_file.exists():
        return home, key_file.read_text().strip()
    ws = Workspace.init(home)
    import_holders(ws.registry, set_dir / "holders.jsonl")
    import_catalog(ws.registry, ws, set_dir / "catalog.jsonl")
    import_permits(ws.registry, set_dir / "permits.jsonl")
    fingerprint_pending(ws, progress=False)
    desk = DeskService(ws, licensee=LICENSEE)
    ops = desk.add_account("bench-ops", "operator", password="bench password 1")
    key = desk.add_api_key(ops, "bench")[1]
    ws.dispose()
    key_file.write_text(key)
    return home, key


def image_query(set_dir: Path, work: Path) -> Path:
    from PIL import Image

    out = work / "query-1024.jpg"
    if not out.exists():
        src = sorted((set_dir / "queries" / "images").glob("*"))[0]
        im = Image.open(src).convert("RGB")
        s = 1024 / max(im.size)
        im.resize((round(im.width * s), round(im.height * s))).save(out, quality=90)
    return out


def video_query(set_dir: Path, work: Path) -> Path:
    """A 10 s 1280x720 H.264 clip made from a query video of the set (looped)."""
    import av

    out = work / "query-720p-10s.mp4"
    if out.exists():
        return out
    src = sorted((set_dir / "queries" / "videos").glob("*"))[0]
    frames = []
    with av.open(str(src)) as c:
        rate = float(c.streams.video[0].average_rate or 24)
        for f in c.decode(video=0):
            frames.append(f.to_image().resize((1280, 720)))
    with av.open(str(out), "w") as o:
        st = o.add_stream("libx264", rate=round(rate))
        st.width, st.height, st.pix_fmt = 1280, 720, "yuv420p"
        for i in range(int(10 * round(rate))):
            for p in st.encode(av.VideoFrame.from_image(frames[i % len(frames)])):
                o.mux(p)
        for p in st.encode():
            o.mux(p)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(call, n: int, clients: int) -> list[float]:
    def one(_: int) -> float:
        t0 = time.perf_counter()
        call()
        return time.perf_counter() - t0

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(n)))


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", type=Path, default=Path("/work/evalsets/xfull"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-screen"))
    ap.add_argument("-n", type=int, default=50, help="requests per measurement")
    ap.add_argument("--video-n", type=int, default=50)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--cases", default="me,prompt,image,video", help="comma-separated: me, prompt, image, video")
    ap.add_argument("--src", type=Path, action="append", default=[],
                    help="run the server from this src folder (repeatable; default: the installed kyodaku)")
    ap.add_argument("--in-process", action="store_true", help="also time Guard.screen_prompt in this process")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    home, key = prepare(args.set, args.work)
    if args.in_process:
        in_process(home, args.n)
    wanted = {c.strip() for c in args.cases.split(",")} | {"me"}
    image = image_query(args.set, args.work) if "image" in wanted else None
    video = video_query(args.set, args.work) if "video" in wanted else None
    runs = []
    for src in args.src or [None]:
        runs.append({"src": str(src) if src else None,
                     "rows": serve_and_measure(args, home, key, image, video, wanted, src)})
    print(json.dumps({"set": str(args.set), "cpus": os.cpu_count(), "runs": runs}, indent=1))


def in_process(home: Path, n: int) -> list[dict]:
    """p50 / p95 of Guard.screen_prompt, audit drain in the call vs in the background."""
    from kyodaku.guard.screen import Guard
    from kyodaku.workspace import Workspace

    ws = Workspace.open(home)
    rows = []
    for background in (False, True, False, True):
        guard = Guard(ws, LICENSEE, background_drain=background)
        guard.screen_prompt("warm up")

        def call(g: Guard = guard) -> None:
            g.screen_prompt("a lighthouse at dawn, oil painting", "blurry")

        xs = measure(call, n, 1)
        guard.close()
        rows.append({"case": "in-process prompt", "drain": "background" if background else "in the call", "n": n,
                     "p50_ms": round(pct(xs, 0.5) * 1000, 2), "p95_ms": round(pct(xs, 0.95) * 1000, 2)})
        print(json.dumps(rows[-1]), flush=True)
    ws.dispose()
    return rows


def serve_and_measure(args: argparse.Namespace, home: Path, key: str, image: Path | None, video: Path | None,
                      wanted: set[str], src: Path | None) -> list[dict]:
    port = free_port()
    env = {**os.environ, "KYODAKU_HOME": str(home), "KYODAKU_LICENSEE": LICENSEE, "KYODAKU_DELIVERY_INTERVAL": "0",
           "KYODAKU_RATE_LIMIT_PER_MINUTE": "0"}
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "kyodaku.service.app:app_from_env", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
            for _ in range(600):
                try:
                    if c.get("/api/v1/me").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            img = image.read_bytes() if image else b""
            vid = video.read_bytes() if video else b""
            verdicts = {}

            def me() -> None:
                c.get("/api/v1/me").raise_for_status()

            def prompt() -> None:
                c.post("/api/v1/screen/prompt", json={"prompt": "a lighthouse at dawn, oil painting",
                                                      "negative_prompt": "blurry"}).raise_for_status()

            def output(name: str, data: bytes) -> None:
                r = c.post("/api/v1/screen/output", files={"file": (name, data)})
                r.raise_for_status()
                verdicts[name] = r.json()["verdict"]

            cases = [("me", me, args.n), ("prompt", prompt, args.n),
                     ("image 1024 px", lambda: output("query-1024.jpg", img), args.n),
                     ("video 10 s 720p", lambda: output("query-720p-10s.mp4", vid), args.video_n)]
            cases = [c for c in cases if c[0].split()[0] in wanted]
            for _, call, _n in cases:  # warm up: the guard loads the reference set on first use
                call()
            rows = []
            for clients in (1, args.clients):
                base_p50 = None
                for name, call, n in cases:
                    xs = measure(call, n, clients)
                    p50, p95 = pct(xs, 0.5), pct(xs, 0.95)
                    base_p50 = p50 if name == "me" else base_p50
                    rows.append({"case": name, "clients": clients, "n": n, "p50_ms": round(p50 * 1000, 1),
                                 "p95_ms": round(p95 * 1000, 1), "p50_vs_me": round(p50 / base_p50, 2),
                                 "src": str(src) if src else None})
                    print(json.dumps(rows[-1]), flush=True)  # as it is measured: a cut run keeps its rows
            if verdicts:
                print(json.dumps({"verdicts": verdicts}), flush=True)
            return rows
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
