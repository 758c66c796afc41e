"""A licensee no permit names (a typo: ``acme-video-aj``) is a warning naming the closest
registered licensees, an error with ``--strict``; ``kyodaku serve`` refuses server mode
without KYODAKU_LICENSEE and warns in local mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

from typer.testing import CliRunner

from kyodaku.cli.main import app
from tests import art

runner = CliRunner()


def _run(workspace, *args: str, env: dict | None = None):
    return runner.invoke(app, [*args, "--home", str(workspace.home)],
                         env={"KYODAKU_DATABASE_URL": workspace.database_url, "COLUMNS": "200", **(env or {})})


def _flat(text: str) -> str:
    return " ".join(text.split())


def _setup(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 201)
    workspace.registry.grant_permit("kumo", "acme-video-ai", "training", valid_from=date(2020, 1, 1))
    workspace.registry.grant_permit("kumo", "beta-labs", "generation", valid_from=date(2020, 1, 1))
    copy = tmp_path / "copy.png"
    art.save(art.crop(art.artwork(201)), copy)
    return copy


def test_a_mistyped_licensee_is_warned_with_the_closest_names(workspace, tmp_path):
    copy = _setup(workspace, tmp_path)
    r = _run(workspace, "check", str(copy), "--licensee", "acme-video-aj")
    assert r.exit_code == 2  # still decided (blocked: no permit), but the user is told why
    flat = _flat(r.stderr)
    assert "warning: no permit in this workspace names licensee 'acme-video-aj'" in flat
    assert "did you mean 'acme-video-ai'?" in flat and "beta-labs" not in flat
    assert "--strict" in flat
    assert "warning" not in r.stdout

    r = _run(workspace, "check", str(copy), "--licensee", "acme-video-aj", "--strict")
    assert r.exit_code == 1 and "error:" in r.stderr and "acme-video-ai" in r.stderr

    r = _run(workspace, "check", str(copy), "--licensee", "acme-video-ai", "--strict")
    assert r.exit_code == 0 and "warning" not in r.output
    # a licensee whose permits are revoked or expired is known: no warning
    workspace.registry.grant_permit("kumo", "old-partner", "training", valid_from=date(2020, 1, 1),
                                    valid_until=date(2021, 1, 1))
    assert "warning" not in _run(workspace, "check", str(copy), "--licensee", "old-partner").output


def test_scan_and_check_text_warn_and_strict_fails(workspace, tmp_path):
    copy = _setup(workspace, tmp_path)
    r = _run(workspace, "scan", str(copy), "--licensee", "zzz", "-j", "1")
    assert r.exit_code == 0
    assert "registered licensees: acme-video-ai, beta-labs" in _flat(r.stderr)
    r = _run(workspace, "scan", str(copy), "--licensee", "acme-vidoe-ai", "-j", "1", "--strict",
             "--out", str(tmp_path / "r.jsonl"))
    assert r.exit_code == 1 and "did you mean 'acme-video-ai'" in _flat(r.stderr)
    assert not (tmp_path / "r.jsonl").exists()  # refused before anything is written
    r = _run(workspace, "check-text", "a cat", "--licensee", "beta-lab")
    assert r.exit_code == 0 and "did you mean 'beta-labs'" in _flat(r.stderr)
    assert _run(workspace, "check-text", "a cat", "--licensee", "beta-lab", "--strict").exit_code == 1


def test_an_empty_registry_says_no_permit_is_registered(workspace, tmp_path):
    r = _run(workspace, "check-text", "a cat", "--licensee", "acme")
    assert r.exit_code == 0 and "no permit is registered yet" in _flat(r.stderr)


def _serve_env(workspace, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODAKU_")}
    return {**env, "KYODAKU_DATABASE_URL": workspace.database_url, **extra}


def test_serve_refuses_server_mode_without_a_licensee(workspace):
    env = _serve_env(workspace, KYODAKU_MODE="server", KYODAKU_SECRET_KEY="k" * 40, KYODAKU_ALLOW_SQLITE="1")
    r = subprocess.run([sys.executable, "-m", "kyodaku.cli.main", "serve", "--home", str(workspace.home)],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "server mode needs KYODAKU_LICENSEE" in _flat(r.stderr)


def test_serve_warns_in_local_mode_without_a_licensee(workspace):
    proc = subprocess.Popen([sys.executable, "-m", "kyodaku.cli.main", "serve", "--port", "0",
                             "--home", str(workspace.home)], env=_serve_env(workspace),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        seen, deadline = "", time.monotonic() + 60
        while ("unnamed-licensee" not in seen and "Uvicorn running" not in seen  # (the warning comes first)
               and time.monotonic() < deadline and proc.poll() is None):
            seen += proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "warning: KYODAKU_LICENSEE is not set" in _flat(seen)
    assert "'unnamed-licensee'" in seen
