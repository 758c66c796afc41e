"""Scans are recorded in the workspace database: matched and non-cleared items with their
works, clean items only counted; a resumed scan continues its record without doubling."""

from __future__ import annotations

import io
import json
from datetime import date

from kyodaku.records.store import Records
from kyodaku.scan.pipeline import ScanOptions, resume_state, scan_paths
from tests import art

LICENSEE = "acme-video-ai"


def _corpus(workspace, tmp_path):
    wid = art.register_artwork(workspace, tmp_path, 301, holder="kumo")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    art.save(art.crop(art.artwork(301)), corpus / "a_copy.png")
    art.save(art.artwork(302), corpus / "b_clean.png")
    art.save(art.jpeg(art.artwork(301)), corpus / "c_copy.jpg")
    return wid, corpus


def test_scan_is_recorded_with_matched_items_only(workspace, tmp_path):
    wid, corpus = _corpus(workspace, tmp_path)
    summary = scan_paths(workspace, [corpus], ScanOptions(LICENSEE, "training", date(2026, 6, 1), workers=0),
                         out=io.StringIO(), name="corpus-2026")
    records = Records(workspace.session)
    (scan,) = records.scans("corpus-2026")
    assert scan.id == summary.record_id and scan.licensee == LICENSEE and scan.finished_at is not None
    assert scan.totals == {"files": 3, "blocked": 2, "cleared": 1}
    kept = records.decisions(scan.id)
    assert sorted(d.item.rsplit("/", 1)[-1] for d in kept) == ["a_copy.png", "c_copy.jpg"]
    assert all(d.verdict == "blocked" and d.holders == {"kumo"} for d in kept)
    assert [d.item for d in records.decisions(scan.id, holder="kumo", work_ids=[wid])] == [d.item for d in kept]
    assert records.decisions(scan.id, holder="someone-else") == []
    assert records.decision(kept[0].id).line["matches"][0]["work_id"] == wid


def test_resumed_scan_continues_its_record_without_doubling(workspace, tmp_path):
    _, corpus = _corpus(workspace, tmp_path)
    out = tmp_path / "results.jsonl"
    options = ScanOptions(LICENSEE, "training", date(2026, 6, 1), workers=0)
    with open(out, "w") as f:
        scan_paths(workspace, [corpus], options, out=f, name="run")
    lines = out.read_text().splitlines()
    # as if the first run had died after its first line: its record is unfinished and
    # already holds a decision that the resumed run will write again
    from kyodaku.records.models import ScanRow

    with workspace.session() as s:
        row = s.get(ScanRow, 1)
        row.finished_at, row.totals = None, {"files": 1, "blocked": 1}
    out.write_text(lines[0] + "\n")
    done, _ = resume_state(out)
    with open(out, "a") as f:
        scan_paths(workspace, [corpus], options, out=f, done=done, name="run")
    records = Records(workspace.session)
    (scan,) = records.scans("run")
    assert scan.totals == {"files": 3, "blocked": 2, "cleared": 1}
    assert len(records.decisions(scan.id)) == 2
    assert len(out.read_text().splitlines()) == 3 and json.loads(lines[0])["verdict"] == "blocked"
