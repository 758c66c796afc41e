"""The desk's weekly page of screened outputs (issue 20, item 3): per ISO week and work, a
holder sees how many of the generator's outputs that matched its works were blocked, sent
to review or cleared by a permit; operators see every holder's; the page speaks the
reader's language."""

from __future__ import annotations

from datetime import timedelta

from kyodaku.records.store import record_screening
from tests.service.conftest import LICENSEE


def _screened(desk, work_id: str, holder: str, verdict: str, days_ago: int, permit_id: int | None = None) -> None:
    match = {"work_id": work_id, "holder": holder, "score": 1.0, "verdict": verdict, "method": "orb"}
    if permit_id is not None:
        match["permit_id"] = permit_id
    with desk.workspace.session() as s:
        record_screening(s, {"path": f"gen-{work_id}-{verdict}.png", "verdict": verdict, "media": "image",
                             "matches": [match]}, licensee=LICENSEE, at=desk.service.clock() - timedelta(days=days_ago))


def _rows(html: str) -> list[list[str]]:
    import re

    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_a_holder_sees_its_works_weekly_counts_and_nobody_elses(web):
    d = web.desk
    _screened(d, "w401", "hoshi", "blocked", 1)
    _screened(d, "w401", "hoshi", "blocked", 1)
    _screened(d, "w401", "hoshi", "review", 1)
    _screened(d, "w401", "hoshi", "cleared", 1, permit_id=7)
    _screened(d, "w402", "kumo", "blocked", 1)
    _screened(d, "w401", "hoshi", "blocked", 200)  # outside the weeks shown

    hoshi = web.login("hoshi-staff")
    page = hoshi.get("/screenings?weeks=4")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert len(rows) == 1 and rows[0][1:] == ["w401", "2", "1", "1", "0"], rows
    assert "w402" not in page.text and "kumo" not in page.text.split("</header>", 1)[1]
    assert "生成物の判定" in page.text or "Screened outputs" in page.text

    ops = web.login("ops").get("/screenings?weeks=4")
    holders = {r[1] for r in _rows(ops.text)}
    assert holders == {"hoshi", "kumo"}, _rows(ops.text)
    # the API gives the same counts
    api = web.client.get("/api/v1/screen/weekly?weeks=4", headers=web.api("hoshi")).json()
    assert [(r["work_id"], r["blocked"], r["review"], r["cleared_by_permit"]) for r in api] == [("w401", 2, 1, 1)]


def test_the_page_speaks_the_readers_language(web):
    browser = web.login("hoshi-staff")
    browser.get("/lang/ja?next=/screenings")
    ja = browser.get("/screenings").text
    assert "生成物の判定" in ja and "ありません" in ja
    browser.get("/lang/en?next=/screenings")
    en = browser.get("/screenings").text
    assert "Screened outputs" in en and "None." in en
