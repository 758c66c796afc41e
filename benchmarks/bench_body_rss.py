#!/usr/bin/env python3
"""Server memory for an oversized JSON body: the desk's resident set size (VmRSS, and the
peak VmHWM) before and after one POST of a ``--mb`` MB JSON body, with Content-Length and
chunked (no length), to a ``kyodaku serve`` process on 127.0.0.1 (SQLite, a fresh
workspace in a temporary folder).

    python benchmarks/bench_body_rss.py [--mb 50]

Linux only (reads /proc/<pid>/status).  Run it against other source trees with
``PYTHONPATH=<tree>/src`` to compare.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(home: Path) -> str:
    from kyodaku.desk import DeskService
    from kyodaku.workspace import Workspace

    ws = Workspace.init(home)
    ws.registry.add_holder("bench-holder", "Bench Holder", "JP")
    service = DeskService(ws)
    actor = service.add_account("bench", "holder", password="correct horse battery", holders=["bench-holder"])
    key = service.add_api_key(actor, "bench")[1]
    ws.dispose()
    return key


def post(base: str, key: str, body: bytes, chunked: bool) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    content: object = body
    if chunked:
        content = (body[i:i + (1 << 20)] for i in range(0, len(body), 1 << 20))
    t0 = time.perf_counter()
    try:
        r = httpx.post(f"{base}/api/v1/holder/inquiries", headers=headers, content=content, timeout=120)
        status: object = r.status_code
    except httpx.HTTPError as exc:  # the server may answer 413 and close while the body is still going out
        status = f"{type(exc).__name__}"
    return {"status": status, "seconds": round(time.perf_counter() - t0, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=50)
    args = ap.parse_args(argv)
    body = b'{"corpus": "x", "question": "' + b"x" * (args.mb * 1000 * 1000) + b'"}'
    with tempfile.TemporaryDirectory(prefix="kyodaku-rss-") as tmp:
        home = Path(tmp) / "home"
        key = prepare(home)
        port = free_port()
        env = {**os.environ, "KYODAKU_HOME": str(home), "KYODAKU_DELIVERY_INTERVAL": "0"}
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "kyodaku.service.app:app_from_env", "--factory",
                                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {key}"},
                                 timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")
            out: dict[str, object] = {"body_mb": args.mb, "rss_start_mb": round(status_kb(proc.pid, "VmRSS") / 1024, 1)}
            for name, chunked in (("content_length", False), ("chunked", True)):
                before, peak_before = status_kb(proc.pid, "VmRSS"), status_kb(proc.pid, "VmHWM")
                res = post(base, key, body, chunked)
                time.sleep(0.5)
                res.update(rss_before_mb=round(before / 1024, 1), peak_before_mb=round(peak_before / 1024, 1),
                           rss_after_mb=round(status_kb(proc.pid, "VmRSS") / 1024, 1),
                           peak_mb=round(status_kb(proc.pid, "VmHWM") / 1024, 1))
                out[name] = res
            print(json.dumps(out, indent=2))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
