"""The HTML scan report, the auditor's page and a holder's inquiry answer count one
holder's items in one scan the same way (issue 23, item 6: kyodaku.records.counts).

Two scans made in the test, on the desk fixture's workspace:

- a real scan: a copy of a work kumo registered twice (one twin under a permit: the item
  matches two of kumo's works, one cleared by permit and one not: it counts once, in the
  stricter category), a variant of another kumo work (review), a plain copy and a clean picture;
- a recorded scan of hand-made result lines (through the scan's own recorder) for what a
  small real scan cannot make on demand: a match below review only, an item blocked for
  hoshi's work on which kumo's match was held for review, two kumo works blocked and
  held for review, a permitted match of hoshi and an unreadable item.

Before, the three counted these differently (the auditor page once per matched work's
verdict, weak matches included; the inquiry by the item's verdict, whoever's work made
it)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from kyodaku.records.counts import CATEGORIES
from kyodaku.records.store import ScanRecorder
from kyodaku.registry.importers import register_work
from kyodaku.report.collect import collect
from kyodaku.report.html import render_scan_report
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.desk.conftest import LICENSEE
from tests.fingerprint.test_appearance import _recoloured, _shaded
from tests.report.htmltables import parse
from tests.service.conftest import csrf_of

KEYS = ("matched",) + CATEGORIES


def _report_counts(web, results, holder: str) -> dict[str, int]:
    """The HTML report's row of ``holder`` in "Items per rights holder" (and collect's)."""
    page = parse(render_scan_report(web.desk.workspace, results))
    rows = [r.cells for r in page.table("Items per rights holder") if r.cells[0].endswith(f"({holder})")]
    got = dict(zip(KEYS, map(int, rows[0][2:2 + len(KEYS)]))) if rows else dict.fromkeys(KEYS, 0)
    stats = collect(results).holders.get(holder)
    assert got == ({"matched": stats.matched, **{c: stats.items.get(c, 0) for c in CATEGORIES}} if stats
                   else dict.fromkeys(KEYS, 0))
    return got


def _cells(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def _auditor_counts(web, scan_id: int, holder: str) -> dict[str, int]:
    page = web.login("audit").get(f"/report/{scan_id}")
    assert page.status_code == 200, page.text
    row = re.search(rf'<tr data-holder="{holder}">(.*?)</tr>', page.text, re.DOTALL)
    assert row, page.text
    api = web.client.get(f"/api/v1/auditor/scans/{scan_id}/report", headers=web.api("auditor")).json()
    (cov,) = [h for h in api["consent_coverage"] if h["holder"] == holder]
    assert {k: cov[k] for k in KEYS} == _cells(row.group(1))  # the page shows the API's numbers
    return _cells(row.group(1))


def _inquiry_counts(web, corpus: str, who: str, lang: str = "en") -> tuple[dict[str, int], str]:
    browser = web.login(who)
    browser.get(f"/lang/{lang}")
    form = browser.get("/inquiries")
    r = browser.post("/inquiries", data={"corpus": corpus, "csrf_token": csrf_of(form.text)})
    assert r.status_code == 303, r.text
    page = browser.get(r.headers["location"])
    assert page.status_code == 200
    return _cells(page.text), page.text


def _expect(**kw: int) -> dict[str, int]:
    out = dict.fromkeys(KEYS, 0)
    out.update(kw)
    out["matched"] = sum(v for k, v in kw.items() if k != "weak")
    return out


@pytest.fixture
def real_scan(web, tmp_path):
    ws = web.desk.workspace
    refs = tmp_path / "refs2"
    refs.mkdir()
    # kumo registers one picture twice (two works); acme holds a permit for one twin only
    art.register_artwork(ws, refs, 403, holder="kumo", work_id="w403")
    art.register_artwork(ws, refs, 403, holder="kumo", work_id="w403b")
    ws.registry.grant_permit("kumo", LICENSEE, "training", ["w403b"], valid_from=date(2025, 1, 1))
    art.save(_shaded(21), refs / "kv.png")
    register_work(ws.registry, ws, "kumo", "Key visual", [refs / "kv.png"], work_id="kv1")
    fingerprint_pending(ws, progress=False, workers=0)
    corpus = tmp_path / "corpus2"
    corpus.mkdir()
    art.save(art.crop(art.artwork(403)), corpus / "twin_copy.png")
    art.save(_recoloured(_shaded(21)), corpus / "variant.png")
    art.save(art.crop(art.artwork(402)), corpus / "kumo_copy.png")
    art.save(art.artwork(498), corpus / "clean.png")
    results = tmp_path / "results2.jsonl"
    with open(results, "w", encoding="utf-8") as f:
        summary = scan_paths(ws, [corpus], ScanOptions(LICENSEE, "training", date(2026, 6, 1), workers=0),
                             out=f, name="counts-real")
    return summary.record_id, results


def test_three_counts_agree_on_a_real_scan(web, real_scan):
    scan_id, results = real_scan
    lines = {json.loads(t)["path"].rsplit("/", 1)[-1]: json.loads(t) for t in results.read_text().splitlines()}
    twin = {m["work_id"]: m["verdict"] for m in lines["twin_copy.png"]["matches"] if m["holder"] == "kumo"}
    # two works of one holder: the permitted twin cleared, the other one not
    assert twin.get("w403b") == "cleared" and twin.get("w403") in ("blocked", "review"), twin
    assert lines["variant.png"]["verdict"] == "review", lines["variant.png"]
    report = _report_counts(web, results, "kumo")
    # the twin copy counts once, in its most severe category (never also "cleared by permit")
    strict = twin["w403"]
    assert report == _expect(blocked=1 + (strict == "blocked"), review=1 + (strict == "review")), report
    assert _auditor_counts(web, scan_id, "kumo") == report
    inquiry, _ = _inquiry_counts(web, "counts-real", "kumo-staff")
    assert inquiry == report


def _line(path: str, verdict: str, *matches: tuple[str, str, float, str, int | None], media: str = "image"):
    ms = []
    for holder, work, score, v, permit in matches:
        reason = {"blocked": f"no permit: acme has no training permit from {holder} for {work}",
                  "review": f"possible copy (score {score:.2f}) and no permit",
                  "cleared": (f"permit {permit}" if permit is not None else
                              f"score {score:.2f} for {work} is below the review threshold 0.45")}[v]
        ms.append({"work_id": work, "holder": holder, "score": score, "verdict": v, "reason": reason,
                   "permit_id": permit, "method": "local"})
    strictest = max([m["verdict"] for m in ms] or ["cleared"], key=["cleared", "review", "blocked"].index)
    return {"path": path, "media": media, "verdict": verdict if verdict else strictest,
            "reason": ms[0]["reason"] if ms else "no registered work matched", "permit_id": None, "matches": ms}


HAND_MADE = [
    # kumo's only match is below review: weak, not matched (the auditor and inquiry counted it)
    _line("weak.png", "", ("kumo", "w402", 0.2, "cleared", None)),
    # blocked for hoshi's work; kumo's own match held for review (the inquiry counted it blocked)
    _line("both.png", "", ("hoshi", "w401", 0.95, "blocked", None), ("kumo", "w402", 0.5, "review", None)),
    # two kumo works: blocked and review, counts once, blocked (the auditor counted it twice)
    _line("two.png", "", ("kumo", "w402", 0.97, "blocked", None), ("kumo", "w403", 0.6, "review", None)),
    # a review item of kumo's
    _line("review.png", "", ("kumo", "w402", 0.55, "review", None)),
    # hoshi's permitted copy
    _line("permitted.png", "", ("hoshi", "w401", 0.99, "cleared", 1)),
    # an unreadable item counts for nobody
    {"path": "broken.png", "media": "image", "verdict": "error", "reason": "cannot decode", "matches": []},
    {"path": "clean.png", "media": "image", "verdict": "cleared", "reason": "no registered work matched",
     "matches": []},
]


@pytest.fixture
def recorded_scan(web, tmp_path):
    ws = web.desk.workspace
    results = tmp_path / "results-hand.jsonl"
    results.write_text("".join(json.dumps(x) + "\n" for x in HAND_MADE), encoding="utf-8")
    rec = ScanRecorder(ws.session, name="counts-hand", licensee=LICENSEE, use="training", on=date(2026, 6, 1),
                       inputs=[str(results)])
    rec.add(HAND_MADE[:3])
    rec.add(HAND_MADE[3:])
    rec.finish({"files": len(HAND_MADE), "blocked": 2, "review": 1, "error": 1, "cleared": 3})
    return rec.scan_id, results


def test_three_counts_agree_where_they_used_to_disagree(web, recorded_scan):
    scan_id, results = recorded_scan
    kumo = _expect(blocked=1, review=2, weak=1)
    hoshi = _expect(blocked=1, permitted=1)
    assert _report_counts(web, results, "kumo") == kumo
    assert _report_counts(web, results, "hoshi") == hoshi
    assert _auditor_counts(web, scan_id, "kumo") == kumo
    assert _auditor_counts(web, scan_id, "hoshi") == hoshi
    got, html = _inquiry_counts(web, "counts-hand", "kumo-staff")
    assert got == kumo
    assert "3 item(s) with a match of your works" in html and "1 blocked for your works" in html
    got, html = _inquiry_counts(web, "counts-hand", "hoshi-staff", lang="ja")
    assert got == hoshi
    assert "一致した項目 2 件" in html and "ブロック 1 件" in html
    # the inquiry still lists every recorded item of the holder (the weak one too) and says so
    inq = web.desk.service.inquiries(web.desk.kumo)[-1]
    (scan,) = inq.answer["scans"]
    assert scan["items_recorded"] == 4 and scan["matched_items"] == 3
    # the HTML report says what its numbers count
    text = " ".join(parse(render_scan_report(web.desk.workspace, results)).text)
    assert "items blocked for this holder's works" in text and "count the same way" in text
