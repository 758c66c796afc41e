"""``kyodaku scan --resume`` after ``kill -9``: no item lost, none counted twice, the same
verdicts as an uninterrupted scan."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from kyodaku.scan.pipeline import resume_state
from tests import art

N = 200  # enough that the scan is still running after its first flushed batch


def _kyodaku(workspace, *args: str) -> list[str]:
    return [sys.executable, "-m", "kyodaku.cli.main", *args, "--home", str(workspace.home)]


@pytest.fixture
def corpus(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 301)
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(N):
        rgb = art.crop(art.artwork(301), x0=0.05 * (i % 5)) if i % 3 == 0 else art.artwork(1000 + i)
        art.save(art.resized(rgb, 0.5), folder / f"f{i:03d}.png")
    return folder


def test_kill_9_then_resume(workspace, corpus, tmp_path):
    env = {**os.environ, "KYODAKU_DATABASE_URL": workspace.database_url}
    out = tmp_path / "results.jsonl"
    scan = ["scan", str(corpus), "--licensee", "acme", "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(_kyodaku(workspace, *scan), env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the scan finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
    proc.wait()
    written = out.read_bytes().count(b"\n")
    assert 1 <= written < N
    with open(out, "ab") as f:
        f.write(b'{"path": "half a line')  # what a kill in the middle of a write leaves

    done = subprocess.run(_kyodaku(workspace, *scan, "--resume"), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stdout and f"{N} files" in done.stdout.replace("\n", " ")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    paths = [x["path"] for x in lines]
    assert len(paths) == N and len(set(paths)) == N  # none lost, none twice

    clean = tmp_path / "clean.jsonl"
    subprocess.run(_kyodaku(workspace, "scan", str(corpus), "--licensee", "acme", "--out", str(clean)), env=env,
                   check=True, capture_output=True)
    expected = {x["path"]: x["verdict"] for x in map(json.loads, clean.read_text().splitlines())}
    assert {x["path"]: x["verdict"] for x in lines} == expected
    assert sum(v == "blocked" for v in expected.values()) == len(range(0, N, 3))


def test_resume_state_drops_a_torn_last_line(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"path": "a", "verdict": "cleared"}\n{"path": "b", "verd')
    done, lines = resume_state(out)
    assert done == {"a"} and len(lines) == 1
    assert out.read_text() == '{"path": "a", "verdict": "cleared"}\n'


def test_resume_refuses_a_file_that_is_not_results(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text("not json\n")
    with pytest.raises(ValueError, match="r.jsonl:1"):
        resume_state(out)
