"""A crash of the server mid-burst loses no audit entry: ``kill -9`` of a real server
(uvicorn on the ``kyodaku serve`` factory, 127.0.0.1) while clients file claims and grant
permits ten at a time, a restart, the clients retrying what got no answer with the same
``Idempotency-Key``; then every stored claim, permit and work has its entry in the signed
log, exactly once, and ``kyodaku audit verify`` passes.  With one entry removed from the
file, verify fails and names the change."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import select

from kyodaku.audit import read_entries
from kyodaku.audit.outbox import AuditOutboxRow
from kyodaku.desk.models import ClaimRow
from kyodaku.records.store import Records
from kyodaku.registry.models import PermitRow, WorkRow
from tests.desk.conftest import LICENSEE, desk  # noqa: F401  (the fixture)

CLAIMS = 80
PERMITS = 16
CONCURRENCY = 10
KILL_AFTER = 30  # answers received before the kill


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(ws, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "KYODAKU_HOME": str(ws.home), "KYODAKU_LICENSEE": LICENSEE, "KYODAKU_MODE": "local",
           "KYODAKU_DELIVERY_INTERVAL": "0", "KYODAKU_RATE_LIMIT_PER_MINUTE": "0",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("KYODAKU_DATABASE_URL", None)
    if not ws.is_sqlite:
        env["KYODAKU_DATABASE_URL"] = ws.database_url
    cmd = [sys.executable, "-m", "uvicorn", "kyodaku.service.app:app_from_env", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)


def _wait_ready(base: str, key: str, proc: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited with {proc.returncode}: {log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer within {timeout} s: {log.read_text()[-3000:]}")


def _verify_cli(ws) -> tuple[int, str]:
    """``kyodaku audit verify --home HOME`` (the CLI, in this process)."""
    from typer.testing import CliRunner

    from kyodaku.cli.main import app

    env = {"COLUMNS": "250", "KYODAKU_HOME": None, "KYODAKU_MODE": None,
           "KYODAKU_DATABASE_URL": None if ws.is_sqlite else ws.database_url}
    result = CliRunner().invoke(app, ["audit", "verify", "--home", str(ws.home)], env=env)
    return result.exit_code, " ".join(result.output.split())


def test_kill_9_mid_burst_loses_no_audit_entry(desk, tmp_path):  # noqa: F811
    ws = desk.workspace
    started = time.monotonic()
    decisions = {h: Records(ws.session).decisions(desk.scan_id, holder=h)[0].id for h in ("kumo", "hoshi")}
    keys = {"kumo": desk.service.add_api_key(desk.kumo, "burst")[1],
            "hoshi": desk.service.add_api_key(desk.hoshi, "burst")[1]}
    # what the clients send: claims (each with its own Idempotency-Key) and permit grants
    jobs = []
    for i in range(CLAIMS):
        holder = ("kumo", "hoshi")[i % 2]
        jobs.append(("claim", holder, f"burst-{i:03d}", {"decision_id": decisions[holder],
                                                         "work_ids": ["w402" if holder == "kumo" else "w401"],
                                                         "description": f"claim {i}"}))
        if i % (CLAIMS // PERMITS) == 0:
            jobs.append(("permit", holder, None, {"licensee": f"lab-{i:03d}", "use": "generation",
                                                  "valid_from": "2026-07-01"}))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    proc = _start(ws, port, log)
    try:
        _wait_ready(base, keys["kumo"], proc, log)
        print(f"{time.monotonic() - started:.1f} s: server up")
        answered: dict[str, int] = {}  # idempotency key -> claim id the client was given
        unanswered: list[tuple] = []
        count = 0
        lock = threading.Lock()
        killed = threading.Event()

        def send(job: tuple) -> None:
            nonlocal count
            kind, holder, idem, body = job
            headers = {"Authorization": f"Bearer {keys[holder]}"}
            if idem:
                headers["Idempotency-Key"] = idem
            path = "/api/v1/holder/claims" if kind == "claim" else "/api/v1/holder/permits"
            try:
                r = httpx.post(base + path, json=body, headers=headers, timeout=15)
            except httpx.HTTPError:
                with lock:
                    unanswered.append(job)
                return
            assert r.status_code == 201, r.text
            with lock:
                if idem:
                    answered[idem] = r.json()["id"]
                count += 1
                if count == KILL_AFTER and not killed.is_set():
                    killed.set()
                    os.kill(proc.pid, signal.SIGKILL)  # mid-burst: requests are in flight

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(send, jobs))
        proc.wait(timeout=10)
        assert killed.is_set() and proc.returncode == -signal.SIGKILL
        assert unanswered, "the kill should have cut some requests off"
        with ws.session() as s:
            pending_at_crash = len(s.scalars(select(AuditOutboxRow.id).where(AuditOutboxRow.logged.is_(False))).all())
        print(f"{time.monotonic() - started:.1f} s: killed after {KILL_AFTER} answers; {len(unanswered)} requests unanswered; "
              f"{pending_at_crash} audit entries committed but not in the log")

        # restart; the clients retry what got no answer (same idempotency key for claims)
        proc = _start(ws, port, log)
        _wait_ready(base, keys["kumo"], proc, log)
        retry, unanswered[:] = list(unanswered), []
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(send, retry))
        assert not unanswered
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"{time.monotonic() - started:.1f} s: burst and retries done")
    with ws.session() as s:
        claims = dict(s.execute(select(ClaimRow.idempotency_key, ClaimRow.id)
                                .where(ClaimRow.idempotency_key.like("burst-%"))).all())
        permits = set(s.scalars(select(PermitRow.id)))
        works = set(s.scalars(select(WorkRow.work_id)))
        assert not s.scalars(select(AuditOutboxRow.id).where(AuditOutboxRow.logged.is_(False))).all()
    # every claim sent is stored once, and each client was given the stored one
    assert len(claims) == CLAIMS and all(claims[k] == v for k, v in answered.items())
    assert len(answered) == CLAIMS
    logged = [e for _, e in read_entries(ws.home / "audit" / "audit.jsonl")]
    filed = Counter(e["data"]["claim"] for e in logged if e["kind"] == "claim" and e["data"]["action"] == "file")
    assert set(filed) >= set(claims.values()) and all(filed[c] == 1 for c in claims.values()), filed
    granted = Counter(e["data"]["permit"] for e in logged if e["kind"] == "permit")
    assert permits <= set(granted) and all(n == 1 for n in granted.values())
    assert works <= {e["data"]["work"] for e in logged if e["kind"] == "work"}

    code, out = _verify_cli(ws)
    assert code == 0, out
    assert "chain intact" in out and "changes in the database have their entries" in out

    # one claim's entry removed from the file: verify fails and names it
    victim = sorted(claims.values())[len(claims) // 2]
    path = ws.home / "audit" / "audit.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines = [ln for ln in lines if not (f'"claim":{victim},' in ln and '"action":"file"' in ln)]
    path.write_text("".join(lines))
    code, out = _verify_cli(ws)
    assert code == 1, out
    assert f"claim {victim} filed (claim event" in out and "has no entry in the audit log" in out, out
    assert f"claim {victim} (file -> filed)" in out and "is missing" in out, out
    print(f"{time.monotonic() - started:.1f} s in all")
