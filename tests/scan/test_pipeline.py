"""The scan end to end on a real workspace: copies blocked without a permit, cleared with
one, unrelated art cleared, every hostile file an ``error`` line (never cleared), and the
JSON lines in the evaluation sets' format."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kyodaku.fingerprint.local import OrbMethod
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, check_file, scan_paths
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.media.hostile import make_all

LICENSEE = "acme-video-ai"
ON = date(2026, 6, 1)


@pytest.fixture
def registered(workspace, tmp_path):
    """Two holders, one work each; hoshi permits acme to train, kumo does not."""
    reg = workspace.registry
    reg.add_holder("hoshi", "Studio Hoshi", "JP")
    reg.add_holder("kumo", "Manga Kumo", "JP")
    refs = tmp_path / "refs"
    refs.mkdir()
    for seed, holder in ((101, "hoshi"), (102, "kumo")):
        art.save(art.artwork(seed), refs / f"{seed}.png")
        register_work(reg, workspace, holder, f"work {seed}", [refs / f"{seed}.png"], work_id=f"w{seed}")
    reg.grant_permit("hoshi", LICENSEE, "training", valid_from=date(2025, 1, 1), valid_until=date(2030, 12, 31))
    summary = fingerprint_pending(workspace, progress=False, workers=0)
    assert summary.done == 2 and not summary.failed
    return workspace


def _corpus(folder: Path) -> dict[str, str]:
    """Files and the verdict each must get."""
    folder.mkdir(parents=True, exist_ok=True)
    bg = art.artwork(555, (720, 960))
    cases = {
        "kumo_crop.png": (art.crop(art.artwork(102)), "blocked"),
        "kumo_mirror.jpg": (np.ascontiguousarray(art.artwork(102)[:, ::-1]), "blocked"),
        "kumo_pasted.png": (art.paste(art.artwork(102), bg, 0.5), "blocked"),
        "hoshi_small.jpg": (art.jpeg(art.resized(art.artwork(101), 0.4)), "cleared"),
        "hoshi_rotated.png": (art.rotate(art.artwork(101), 10), "cleared"),
        "unrelated.png": (art.artwork(777), "cleared"),
    }
    for name, (rgb, _) in cases.items():
        art.save(rgb, folder / name)
    return {name: v for name, (_, v) in cases.items()}


def test_scan_blocks_unpermitted_copies_and_clears_the_rest(registered, tmp_path):
    expected = _corpus(tmp_path / "corpus")
    out = tmp_path / "results.jsonl"
    with open(out, "w") as f:
        summary = scan_paths(registered, [tmp_path / "corpus"], ScanOptions(LICENSEE, "training", ON, workers=2),
                             out=f)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    got = {Path(x["path"]).name: x for x in lines}
    assert {n: got[n]["verdict"] for n in expected} == expected
    assert summary.total == len(expected) and summary.verdicts["blocked"] == 3
    blocked = got["kumo_crop.png"]
    assert blocked["reason"].startswith("no permit") and blocked["permit_id"] is None
    top = blocked["matches"][0]
    assert top["work_id"] == "w102" and top["holder"] == "kumo" and 0.5 <= top["score"] <= 1.0
    assert top["method"] in ("orb", "pdq") and top["verdict"] == "blocked"
    cleared = got["hoshi_small.jpg"]
    assert cleared["permit_id"] is not None and "permit" in cleared["reason"]
    assert got["unrelated.png"]["reason"].startswith("no registered work matched")
    assert [Path(x["path"]).name for x in lines] == sorted(expected)  # walk order, deterministic


def test_hostile_files_become_error_lines_and_the_scan_goes_on(registered, tmp_path):
    hostile = make_all(tmp_path / "hostile")
    art.save(art.crop(art.artwork(102)), tmp_path / "hostile" / "zz_copy.png")
    out = tmp_path / "results.jsonl"
    with open(out, "w") as f:
        scan_paths(registered, [tmp_path / "hostile"], ScanOptions(LICENSEE, "training", ON, workers=2), out=f)
    lines = {x["path"]: x for x in map(json.loads, out.read_text().splitlines())}
    by_name = {Path(p).name: v for p, v in lines.items()}
    assert by_name["zz_copy.png"]["verdict"] == "blocked"
    for name, path in hostile.items():
        if not path.is_file() or path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp",
                                                               ".mp4", ".tif", ".tiff"):
            continue
        line = by_name.get(path.name)
        if line is None:
            continue  # hidden / skipped by the walker
        if name.startswith(("zero", "trunc", "bomb", "lying", "text_as", "garbage")):
            assert line["verdict"] == "error", (name, line)
            assert line["reason"]
    assert not [x for x in lines.values() if x["verdict"] == "error" and not x["reason"]]
    loops = [x for x in lines.values() if "loop" in (x.get("reason") or "")]
    assert loops and all(x["verdict"] == "error" for x in loops)


def test_check_explains_one_file(registered, tmp_path):
    path = tmp_path / "copy.png"
    art.save(art.crop(art.artwork(102)), path)
    line = check_file(registered, path, ScanOptions(LICENSEE, "training", ON))
    assert line["verdict"] == "blocked" and line["matches"][0]["evidence"]["inliers"] >= 18


def test_generation_use_needs_its_own_permit(registered, tmp_path):
    path = tmp_path / "copy.png"
    art.save(art.crop(art.artwork(101)), path)
    assert check_file(registered, path, ScanOptions(LICENSEE, "training", ON))["verdict"] == "cleared"
    assert check_file(registered, path, ScanOptions(LICENSEE, "generation", ON))["verdict"] == "blocked"
    assert check_file(registered, path, ScanOptions(LICENSEE, "training", date(2031, 1, 1)))["verdict"] == "blocked"


def test_fingerprints_of_an_older_method_version_are_recomputed(registered, tmp_path):
    """A workspace fingerprinted by an older version of a method is refreshed, not refused."""
    meta = registered.fingerprints_dir / "orb" / "refs.json"
    data = json.loads(meta.read_text())
    data["method"] = "orb@0"
    meta.write_text(json.dumps(data))
    path = tmp_path / "copy.png"
    art.save(art.crop(art.artwork(102)), path)
    line = check_file(registered, path, ScanOptions(LICENSEE, "training", ON))
    assert line["verdict"] == "blocked"
    assert json.loads(meta.read_text())["method"] == OrbMethod().key
    assert registered.registry.pending_media() == []


def test_every_scan_and_verdict_lands_in_the_verified_audit_log(registered, tmp_path):
    from kyodaku.audit import AuditLog, verify

    _corpus(tmp_path / "corpus")
    with open(tmp_path / "r.jsonl", "w") as f:
        scan_paths(registered, [tmp_path / "corpus"], ScanOptions(LICENSEE, "training", ON, workers=0), out=f)
    log = AuditLog.for_workspace(registered)
    entries = [json.loads(x) for x in log.path.read_text().splitlines()]
    kinds = [e["kind"] for e in entries]
    # registering the fixture's holders, works and permits came first, each audited
    assert set(kinds[:kinds.index("scan")]) <= {"holder", "work", "permit"}
    kinds = kinds[kinds.index("scan"):]
    assert kinds[0] == "scan" and kinds[-1] == "scan-finished" and kinds.count("verdict") == 6
    blocked = [e["data"] for e in entries if e["kind"] == "verdict" and e["data"]["verdict"] == "blocked"]
    assert {Path(d["path"]).name for d in blocked} == {"kumo_crop.png", "kumo_mirror.jpg", "kumo_pasted.png"}
    assert blocked[0]["works"][0][0] == "w102"
    assert verify(log.path).ok
