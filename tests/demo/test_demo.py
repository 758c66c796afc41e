"""The offline demo end to end: draw the art, build the corpus, run the real ``kyodaku``
CLI (init, imports, works list, scan, check) in subprocesses, and check every verdict
against what each corpus file really is.  One demo run (about 30-40 s on 2 cores) is
shared by the whole module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kyodaku_demo import COPIES, HOLDERS, LICENSEE, NEGATIVES, WORKS, DemoError, art, run

pytestmark = pytest.mark.timeout(300)

HOLDER_OF = {w.work_id: w.holder for w in WORKS}
PERMITTED = {"studio-hoshi"}

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    verdicts = run(out, quiet=True)
    truth = [json.loads(x) for x in (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = {}
    for raw in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        line = json.loads(raw)
        lines[Path(line["path"]).resolve().relative_to(out.resolve()).as_posix()] = line
    return {"out": out, "verdicts": verdicts, "truth": truth, "lines": lines}


def _param(name: str) -> Any:
    return pytest.param(name, id=name)


def test_every_corpus_file_scanned_without_error(demo: dict[str, Any]) -> None:
    corpus = {f"corpus/{p.name}" for p in (demo["out"] / "corpus").iterdir()}
    assert set(demo["verdicts"]) == corpus
    assert corpus == {row["query"] for row in demo["truth"]}
    assert len(COPIES) >= 20 and len(NEGATIVES) == 4
    errors = {k: v for k, v in demo["verdicts"].items() if v == "error"}
    assert not errors


@pytest.mark.parametrize("name", [_param(n) for n, w, _t in COPIES if HOLDER_OF[w] not in PERMITTED])
def test_copies_of_unpermitted_works_are_blocked(demo: dict[str, Any], name: str) -> None:
    work_id = next(w for n, w, _t in COPIES if n == name)
    line = demo["lines"][f"corpus/{name}"]
    assert line["verdict"] == "blocked", line
    top = line["matches"][0]
    assert top["work_id"] == work_id and top["verdict"] == "blocked"
    assert "no permit" in line["reason"]


@pytest.mark.parametrize("name", [_param(n) for n, w, _t in COPIES if HOLDER_OF[w] in PERMITTED])
def test_copies_of_permitted_works_are_cleared_by_the_permit(demo: dict[str, Any], name: str) -> None:
    work_id = next(w for n, w, _t in COPIES if n == name)
    line = demo["lines"][f"corpus/{name}"]
    assert line["verdict"] == "cleared", line
    # cleared because of the permit, not because nothing matched
    assert line["permit_id"] is not None, line
    assert line["reason"].startswith("permit") and "studio-hoshi" in line["reason"] and LICENSEE in line["reason"]
    top = line["matches"][0]
    assert top["work_id"] == work_id and top["verdict"] == "cleared"


@pytest.mark.parametrize("name", [n for n, _level, _d in NEGATIVES])
def test_unregistered_and_unrelated_files_are_cleared(demo: dict[str, Any], name: str) -> None:
    line = demo["lines"][f"corpus/{name}"]
    assert line["verdict"] == "cleared", line
    assert line["permit_id"] is None


def test_registry_files_follow_the_evaluation_set_format(demo: dict[str, Any]) -> None:
    out: Path = demo["out"]

    def rows(name: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (out / name).read_text(encoding="utf-8").splitlines()]

    assert rows("holders.jsonl") == HOLDERS
    assert {h["jurisdiction"] for h in rows("holders.jsonl")} == {"JP"}
    catalog = rows("catalog.jsonl")
    assert [c["work_id"] for c in catalog] == [w.work_id for w in WORKS]
    for c in catalog:
        assert set(c) >= {"work_id", "holder", "title", "kind", "media"}
        assert all((out / m).is_file() for m in c["media"])
    permits = rows("permits.jsonl")
    assert permits == [{"holder": "studio-hoshi", "licensee": LICENSEE, "use": "training", "works": "*",
                        "valid_from": "2025-01-01", "valid_until": "2030-12-31"}]
    # characters are transparent sprites, scenes opaque paintings
    from PIL import Image

    for w in WORKS:
        with Image.open(out / f"refs/{w.work_id}.png") as im:
            if w.kind == "character":
                assert im.mode == "RGBA" and im.size == art.SPRITE_SIZE
                alpha = np.asarray(im.getchannel("A"))
                assert 0.2 < (alpha > 0).mean() < 0.8
            else:
                assert im.mode == "RGB" and im.size == art.SCENE_SIZE


def test_art_is_deterministic_and_distinct() -> None:
    a, b = np.asarray(art.character(7)), np.asarray(art.character(7))
    assert np.array_equal(a, b)
    c = np.asarray(art.character(8))
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 20


def test_refuses_to_wipe_a_folder_it_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "precious.txt"
    keep.write_text("do not delete")
    with pytest.raises(DemoError, match="not made by the demo"):
        run(tmp_path, quiet=True)
    assert keep.read_text() == "do not delete"


# --- make demo / make test, and the commands the demo prints ---------------------------

ROOT = Path(__file__).resolve().parents[2]


def _without_venv_bin(path: str) -> str:
    import os
    import sys

    bindir = os.path.dirname(os.path.abspath(sys.executable))
    return os.pathsep.join(p for p in path.split(os.pathsep) if p and os.path.abspath(p) != bindir)


def test_kyodaku_command_is_the_venv_script_unless_the_venv_is_active(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sys

    from kyodaku_demo import kyodaku_command

    script = Path(os.path.abspath(sys.executable)).parent / "kyodaku"
    if not script.is_file():
        pytest.skip("kyodaku is not installed as a script beside this Python")
    monkeypatch.chdir(script.parents[2])  # the folder holding .venv, as after `make demo`
    monkeypatch.setenv("PATH", _without_venv_bin(os.environ.get("PATH", "")))
    assert kyodaku_command() == os.path.relpath(script)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")  # an active venv
    assert kyodaku_command() == "kyodaku"


def test_the_closing_command_works_as_printed(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The venv not activated (as after `make demo`): the printed command still runs."""
    import os
    import subprocess

    from kyodaku_demo import try_command

    monkeypatch.setenv("PATH", _without_venv_bin(os.environ.get("PATH", "")))
    command = try_command(demo["out"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODAKU_")}
    r = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (command, r.stdout, r.stderr)  # a copy of manga-kumo's work: blocked
    assert "BLOCKED" in r.stdout


def test_make_demo_installs_runtime_dependencies_only(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("no make")
    venv = tmp_path / "venv"

    def planned(target: str) -> str:
        return subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout

    demo = planned("demo")
    assert "pip install --quiet -e .\n" in demo and "[test]" not in demo
    assert f"{venv}/bin/.installed" in demo and ".installed-test" not in demo
    test = planned("test")
    assert "-e '.[test]'" in test and f"{venv}/bin/.installed-test" in test
