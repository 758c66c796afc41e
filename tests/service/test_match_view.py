"""The claim page's match view (issue 23, item 9): the output beside the reference for
pictures; for video, the matched segment on a timeline of the whole output and of the
whole reference; the matches filtered by ``?min_score=``."""

from __future__ import annotations

import re

from kyodaku.desk.matchview import bar, shown_matches
from kyodaku.registry.importers import register_work
from kyodaku.scan.references import fingerprint_pending
from tests.service.conftest import kumo_decision
from tests.video import clips


def test_bars_place_a_segment_within_the_whole():
    b = bar([2.0, 5.0], 8.0)
    assert (b.left_pct, b.width_pct, b.length, b.known) == (25.0, 37.5, 8.0, True)
    unknown = bar([2.0, 5.0], None)  # the length unread: the bar ends where the segment does
    assert (unknown.length, unknown.known, unknown.left_pct) == (5.0, False, 40.0)
    tiny = bar([7.99, 8.0], 8.0)  # a very short segment stays visible, within the bar
    assert tiny.width_pct >= 0.6 and tiny.left_pct + tiny.width_pct <= 100.0
    assert bar(None, 8.0) is None
    ev = {"matches": [{"work_id": "a", "score": 0.9}, {"work_id": "b", "score": 0.4}]}
    assert [m["work_id"] for _, m in shown_matches(ev, 0.5)] == ["a"] and len(shown_matches(ev, None)) == 2


def _bars(html: str) -> list[tuple[float, float]]:
    return [(float(x) / 10, float(w) / 10)
            for x, w in re.findall(r'class="track-seg" x="([\d.]+)" y="0" width="([\d.]+)"', html)]


def test_a_video_claim_shows_both_segments_on_timelines(web, tmp_path):
    d = web.desk
    ws = d.workspace
    ref = clips.episode([11, 12, 13], 2.0)  # 6 s
    register_work(ws.registry, ws, "kumo", "episode 1", [clips.write(tmp_path / "ep1.mp4", ref, crf=26)],
                  work_id="ep1")
    fingerprint_pending(ws, progress=False, workers=0)
    # 2 s of other footage, 3 s of the episode (1.5 s .. 4.5 s), 2 s of other footage: 7 s
    out = clips.write(tmp_path / "generated.mp4", clips.episode([31], 2.0) + ref[18:54] + clips.episode([32], 2.0),
                      crf=26)
    claim = d.service.file_claim(d.kumo, work_ids=["ep1"], upload=out, upload_name="generated.mp4")
    (m,) = [m for m in claim.evidence["matches"] if m["work_id"] == "ep1"]
    q0, q1 = m["query_segment"]
    r0, r1 = m["ref_segment"]
    assert abs(q0 - 2.0) < 0.7 and abs(r0 - 1.5) < 0.7
    page = web.login("kumo-staff").get(f"/claims/{claim.id}")
    assert page.status_code == 200
    section = page.text.split('id="match-ep1"', 1)[1].split("</section>", 1)[0]
    (q_left, q_width), (r_left, r_width) = _bars(section)
    assert abs(q_left - 100 * q0 / 7.0) < 2 and abs(q_width - 100 * (q1 - q0) / 7.0) < 2
    assert abs(r_left - 100 * r0 / 6.0) < 2 and abs(r_width - 100 * (r1 - r0) / 6.0) < 2
    assert re.search(r"of 7\.\ds", section) and re.search(r"of 6\.\ds", section)
    assert "could not be read" not in section
    assert section.count('src="data:image/jpeg;base64,') == 2  # a frame of each side
    assert 'style="' not in section  # drawn with SVG attributes: the desk's CSP allows no inline styles
    # the score filter: above the match's score nothing is shown, and that is said
    above = web.login("kumo-staff").get(f"/claims/{claim.id}", params={"min_score": f"{min(1.0, m['score'] + 0.01):.2f}"})
    assert 'id="match-ep1"' not in above.text and "matches shown." in above.text
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    ja = b.get(f"/claims/{claim.id}").text
    assert re.search(r"全 7\.\d 秒中", ja) and "一致 " in ja and "件を表示しています" in ja


def test_a_picture_claim_is_side_by_side_and_filtered_by_score(web):
    d = web.desk
    claim = d.service.file_claim(d.kumo, work_ids=["w402"], decision_id=kumo_decision(d))
    score = max(float(m["score"]) for m in claim.evidence["matches"])
    b = web.login("kumo-staff")
    page = b.get(f"/claims/{claim.id}").text
    section = page.split('id="match-w402"', 1)[1].split("</section>", 1)[0]
    pair = section.split('<div class="pair">', 1)[1].split("</div>", 1)[0]
    assert pair.count("<figure>") == 2 and pair.count('src="data:image/jpeg;base64,') == 2
    assert "<svg" not in section  # no timeline for a picture
    assert f"{len(claim.evidence['matches'])} of {len(claim.evidence['matches'])} matches shown." in page
    above = b.get(f"/claims/{claim.id}", params={"min_score": f"{min(1.0, score + 0.01):.2f}"}).text
    assert 'id="match-w402"' not in above and f"No match at or above score {min(1.0, score + 0.01):.2f}." in above
    bad = b.get(f"/claims/{claim.id}", params={"min_score": "lots"}).text
    assert "“lots” was not understood" in bad and 'id="match-w402"' in bad
    # another holder never reaches the claim's match view
    assert web.login("hoshi-staff").get(f"/claims/{claim.id}", params={"min_score": "0"}).status_code == 404
