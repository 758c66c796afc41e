"""The scan on a local Ray instance (started here, two CPUs, 127.0.0.1): the same verdicts
as the local scan, in input order.  The executor's contract (order, bounds, a crashing or
hanging item costs only itself) is tested for Ray and local processes alike in
``test_executor.py``."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from kyodaku.scan.pipeline import ScanOptions, scan_paths  # noqa: E402
from tests import art  # noqa: E402

LICENSEE = "acme"
ON = date(2026, 6, 1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_ray():
    # the workers import kyodaku and these tests' helpers from this checkout
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


@pytest.fixture
def corpus(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 501)
    art.register_artwork(workspace, tmp_path, 502, holder="hoshi")
    workspace.registry.grant_permit("hoshi", LICENSEE, "training", valid_from=date(2025, 1, 1),
                                    valid_until=date(2030, 12, 31))
    folder = tmp_path / "corpus"
    folder.mkdir()
    art.save(art.crop(art.artwork(501)), folder / "a_kumo_copy.png")
    art.save(art.rotate(art.artwork(502), 8), folder / "b_hoshi_copy.png")
    for seed in range(5):
        art.save(art.resized(art.artwork(700 + seed), 0.5), folder / f"c_other{seed}.jpg")
    (folder / "d_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    return folder


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_ray_scan_gives_the_local_verdicts(local_ray, workspace, corpus, tmp_path):
    outs = {}
    for name, extra in (("local", {"workers": 2}), ("ray", {"workers": 2, "ray": "auto"})):
        outs[name] = tmp_path / f"{name}.jsonl"
        with open(outs[name], "w") as f:
            scan_paths(workspace, [corpus], ScanOptions(LICENSEE, "training", ON, cache=False, **extra), out=f)
    local, remote = _lines(outs["local"]), _lines(outs["ray"])
    assert [x["path"] for x in remote] == [x["path"] for x in local]  # input order
    assert remote == local  # same matches, scores, verdicts, reasons
    verdicts = {Path(x["path"]).name: x["verdict"] for x in remote}
    assert verdicts["a_kumo_copy.png"] == "blocked" and verdicts["b_hoshi_copy.png"] == "cleared"
    assert verdicts["d_broken.png"] == "error"


def test_ray_scan_uses_and_fills_the_cache(local_ray, workspace, corpus, tmp_path):
    opts = ScanOptions(LICENSEE, "training", ON, workers=2, ray="auto")
    with open(tmp_path / "a.jsonl", "w") as f:
        first = scan_paths(workspace, [corpus], opts, out=f)
    with open(tmp_path / "b.jsonl", "w") as f:
        second = scan_paths(workspace, [corpus], opts, out=f)
    assert first.cache["stored"] == 7 and second.cache == {"hits": 7, "misses": 1, "stored": 0}
    assert _lines(tmp_path / "a.jsonl") == _lines(tmp_path / "b.jsonl")


def test_cli_scan_on_ray(local_ray, workspace, corpus, tmp_path):
    from typer.testing import CliRunner

    from kyodaku.cli.main import app

    out = tmp_path / "cli.jsonl"
    res = CliRunner().invoke(app, ["scan", str(corpus), "--licensee", LICENSEE, "--on", ON.isoformat(),
                                   "--ray", "auto", "--no-cache", "--out", str(out), "--home", str(workspace.home)],
                             env={"KYODAKU_DATABASE_URL": workspace.database_url})
    assert res.exit_code == 0, res.output
    assert "8 files" in res.output
    assert {Path(x["path"]).name: x["verdict"] for x in _lines(out)}["a_kumo_copy.png"] == "blocked"


def test_an_address_nobody_answers_fails_fast():
    import socket
    import time

    from kyodaku.scan.raymap import RayUnavailable, connect

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(RayUnavailable, match="nothing answers"):
        connect(f"127.0.0.1:{port}")
    assert time.monotonic() - t0 < 10
