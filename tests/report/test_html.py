"""The offline HTML report of a real scan: counts equal to the results, thumbnails of
both sides for the evidence rows (shard items too), hostile names escaped, unreadable
files noted, nothing external referenced, and the caps keep it small."""

from __future__ import annotations

import base64
import io
import json
import re
from collections import Counter

import pytest
from PIL import Image

from kyodaku.report.collect import ReportError
from kyodaku.report.html import ScanInfo, render_scan_report, write_scan_report
from tests.report import scanned
from tests.report.htmltables import parse


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    s = scanned.scan(tmp_path_factory.mktemp("report"))
    yield s
    s.workspace.dispose()


@pytest.fixture(scope="module")
def html(scan):
    return render_scan_report(scan.workspace, scan.results)


def _lines(results):
    return [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines()]


def _decode(uri: str) -> Image.Image:
    assert uri.startswith("data:image/jpeg;base64,")
    im = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    im.load()
    return im


def test_totals_and_per_holder_counts_equal_the_results(scan, html):
    lines = _lines(scan.results)
    page = parse(html)
    totals = {r.cells[0]: int(r.cells[1]) for r in page.table("Scanned items by verdict")}
    assert totals == {v: Counter(x["verdict"] for x in lines)[v] for v in ("blocked", "review", "error", "cleared")}
    holders = {r.cells[0].split(" (")[0]: r.cells for r in page.table("Items per rights holder")}
    blocked_kumo = sum(any(m["holder"] == "kumo" and m["verdict"] == "blocked" for m in x["matches"]) for x in lines)
    permitted_hoshi = sum(any(m["holder"] == "hoshi" and m.get("permit_id") for m in x["matches"]) for x in lines)
    assert (blocked_kumo, permitted_hoshi) == (6, 1)  # the corpus as built
    # columns: holder, jurisdiction, matched, blocked, review, permitted, not reserved, weak, reservations
    assert holders["Kumo"][2:5] == [str(blocked_kumo), str(blocked_kumo), "0"]
    assert holders["Hoshi"][2:6] == ["1", "0", "0", str(permitted_hoshi)]
    permits = page.table("Permits that cleared items of Hoshi")
    assert permits[0].cells[0] == "1" and "valid 2025-01-01..2030-12-31" in permits[0].cells[1]
    assert permits[0].cells[2:] == ["active", "1"]
    # the scan itself, from the workspace's audit log
    text = " ".join(page.text)
    assert scanned.LICENSEE in text and "2026-06-01" in text and str(scan.shard) in text


def test_evidence_rows_show_the_item_beside_the_reference(scan, html):
    page = parse(html)
    rows = page.table("Evidence: blocked and review items of Kumo")
    assert len(rows) == 6
    for row in rows:
        assert len(row.images) == 2, row.text
        query, ref = (_decode(i["src"]) for i in row.images)
        assert max(query.size) <= 200 and max(ref.size) <= 200
        assert all(i["alt"] for i in row.images)
    by_item = {r.cells[0]: r for r in rows}
    shard_row = next(r for k, r in by_item.items() if "shard-000.tar#s01" in k)
    assert "caption: " + scanned.HOSTILE_CAPTION in shard_row.cells[0]  # shown, as text
    video = next(r for k, r in by_item.items() if "excerpt.mp4" in k)
    assert re.search(r"in the item 00:0\d\.\d – 00:0\d\.\d", video.cells[2])
    assert "frame at" in video.cells[0] and "frame at" in video.cells[1]
    assert "score 0.9" in video.cells[2] and "video_frames" in video.cells[2]
    assert "no permit" in video.cells[3]


def test_a_signal_decided_item_from_a_shard_gets_its_thumbnail(html):
    page = parse(html)
    signals = {tuple(r.cells[:3]): r.cells[3] for r in page.table("Embedded and recorded rights signals")}
    assert signals[("x-robots-tag", "training", "reserved")] == "1"
    rows = page.table("Items decided by a rights signal")
    assert len(rows) == 1 and "shard-000.tar#s02" in rows[0].cells[0]
    assert _decode(rows[0].images[0]["src"]).size[0] > 0


def test_hostile_names_are_escaped(html):
    assert "<script" not in html.lower()  # the report has no script at all
    assert "<b onmouseover" not in html
    assert "&lt;b onmouseover=alert(1)&gt;copy.png" in html
    assert "&lt;script&gt;alert(&#39;caption&#39;)&lt;/script&gt;" in html
    page = parse(html)
    assert all(tag != "b" for tag, _ in page.attrs)


def test_the_report_references_nothing_external(html):
    page = parse(html)
    assert page.attrs[0] == ("html", {"lang": "en"})
    for tag, attrs in page.attrs:
        for name in ("src", "href", "srcset", "data", "action", "xlink:href", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:image/", "#")), (tag, name, value[:80])
    assert not re.search(r"https?://|url\(|@import|<link|<script", html, re.IGNORECASE)
    for tag, attrs in page.attrs:
        if tag == "img":
            assert attrs.get("alt")
    assert sum(tag == "svg" for tag, _ in page.attrs) == 2


def test_unreadable_or_missing_items_get_a_note_not_a_crash(tmp_path):
    s = scanned.scan(tmp_path)
    (s.corpus / "copy.png").unlink()
    (s.corpus / "copy-small.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg any more")
    s.shard.write_bytes(b"")  # the shard is gone too
    with open(s.results, "a", encoding="utf-8") as f:
        f.write('{"path": "cut short by a cra\n')
    page = parse(render_scan_report(s.workspace, s.results))
    rows = {r.cells[0]: r for r in page.table("Evidence: blocked and review items of Kumo")}
    notes = {k.split("/")[-1]: r.cells[0] for k, r in rows.items() if "thumbnail unavailable" in r.cells[0]}
    assert set(notes) == {"copy.png", "copy-small.jpg", "shard-000.tar#s01"}, notes
    for key in notes:  # the reference side is still there
        assert len(next(r for k, r in rows.items() if k.split("/")[-1] == key).images) == 1
    text = " ".join(page.text)
    assert "results.jsonl:11: unreadable result line" in text
    assert int(page.table("Scanned items by verdict")[0].cells[1]) == 7  # blocked: the counts stand
    s.workspace.dispose()


def test_max_evidence_caps_rows_not_counts(scan):
    page = parse(render_scan_report(scan.workspace, scan.results, max_evidence=2))
    rows = page.table("Evidence: blocked and review items of Kumo (2 of 6)")
    assert len(rows) == 2
    holders = {r.cells[0].split(" (")[0]: r.cells for r in page.table("Items per rights holder")}
    assert holders["Kumo"][3] == "6"
    none = parse(render_scan_report(scan.workspace, scan.results, max_evidence=0))
    assert not any(tag == "img" for tag, _ in none.attrs)
    assert "6 blocked or review item(s); evidence rows were left out" in " ".join(" ".join(none.text).split())


def test_write_and_explicit_scan_info(scan, tmp_path):
    out = tmp_path / "sub" / "report.html"
    info = ScanInfo(licensee="<i>someone</i>", use="training", thresholds={"review": 0.3, "block": 0.6})
    stats = write_scan_report(scan.workspace, scan.results, out, info=info)
    html = out.read_text(encoding="utf-8")
    assert stats.bytes == out.stat().st_size and stats.items == 10 and stats.thumbnails == 13
    assert "&lt;i&gt;someone&lt;/i&gt;" in html and "<i>" not in html
    assert "block 0.60" in html and "review 0.30" in html  # threshold lines on the histogram
    assert "not found" in html  # no audit entry was given for this scan
    assert list(tmp_path.joinpath("sub").iterdir()) == [out]  # no temporary file left
    with pytest.raises(ReportError, match="no results file"):
        render_scan_report(scan.workspace, tmp_path / "missing.jsonl")


def test_odd_hand_edited_results_still_render(scan, tmp_path):
    odd = tmp_path / "odd.jsonl"
    lines = [{"path": "<img src=x>.png", "verdict": "review", "matches": [
        {"work_id": "w404", "holder": "<nobody>", "score": float("nan"), "verdict": "review",
         "query_segment": [float("inf"), 2], "evidence": "x"}]},
        {"path": "gone.mp4", "media": "video", "verdict": "blocked", "matches": [
            {"work_id": "v1", "holder": "kumo", "score": 0.9, "verdict": "blocked", "method": "video_frames",
             "query_segment": [1.0, 2.0], "ref_segment": [3723.5, 3725.0]}]}]
    odd.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    html = render_scan_report(scan.workspace, odd)
    page = parse(html)
    review = page.table("Evidence: blocked and review items of <nobody>")
    assert "thumbnail unavailable" in review[0].cells[0]
    assert "reference unavailable: w404 has no reference file" in review[0].cells[1]
    blocked = page.table("Evidence: blocked and review items of Kumo")
    assert "in the reference 1:02:03.5 – 1:02:05.0" in blocked[0].cells[2]
    assert "frame at" in blocked[0].cells[1]  # the reference's last frame: it is shorter than that
    assert "<img src=x>" not in html and "&lt;nobody&gt;" in html
