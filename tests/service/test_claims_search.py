"""The claims and inquiries lists at a studio's size (issue 23, item 9): a search over
ids, works and the text, filters (holder, state, verdict, filing days in JST, minimum
score), pages of 25 newest first, on the pages and in the API; a holder never reaches
another holder's claim or inquiry through any of them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kyodaku.desk import listing
from kyodaku.desk.listing import ListFilter
from kyodaku.records.store import Records


def _decisions(desk, holder: str) -> list[int]:
    return [d.id for d in Records(desk.workspace.session).decisions(desk.scan_id, holder=holder)]


def _three_claims(desk):
    """kumo's claim on Friday 5 June (then acknowledged), kumo's second and hoshi's on
    Monday 8 June in Tokyo (7 June in UTC: filing days are the desk's, JST)."""
    svc = desk.service
    k1, k2 = _decisions(desk, "kumo")[:2]
    (h1,) = _decisions(desk, "hoshi")[:1]
    c1 = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=k1, description="our castle in their corpus")
    svc.act(desk.operator, c1.id, "acknowledge")
    desk.clock.now = datetime(2026, 6, 7, 16, 0, tzinfo=UTC)  # Monday 01:00 JST
    c2 = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=k2, description="a second copy, ＪＰＥＧ")
    desk.clock.advance(hours=1)
    c3 = svc.file_claim(desk.hoshi, work_ids=["w401"], decision_id=h1, description="hoshi's castle too")
    return c1, c2, c3


def _ids(found) -> list[int]:
    return [r.id for r in found.rows]


def test_claims_search_and_filters(web):
    d = web.desk
    c1, c2, c3 = _three_claims(d)
    ops = d.operator

    def ids(**kw):
        return _ids(listing.search_claims(d.service, ops, ListFilter(**kw)))

    assert ids() == [c3.id, c2.id, c1.id]  # newest first
    assert ids(q="castle") == [c3.id, c1.id]
    assert ids(q="jpeg second") == [c2.id]  # full-width letters found by half-width words
    assert ids(q="work 401") == [c3.id]  # a work's title
    assert ids(q="w402") == [c2.id, c1.id] and ids(q=f"#{c3.id}") == [c3.id]
    assert ids(state="acknowledged") == [c1.id]
    assert ids(verdict="blocked") == [c2.id, c1.id]
    hoshi_verdict = c3.evidence["verdict"]
    assert hoshi_verdict != "blocked" and ids(verdict=hoshi_verdict) == [c3.id]
    assert ids(filed_from=date(2026, 6, 8)) == [c3.id, c2.id]  # 7 June 16:00 UTC is 8 June in Tokyo
    assert ids(filed_to=date(2026, 6, 7)) == [c1.id]
    best = max(float(m["score"]) for m in c1.evidence["matches"])
    assert c1.id in ids(min_score=best) and ids(min_score=1.0) == []
    assert ids(holder="hoshi") == [c3.id] and ids(holder="kumo", q="castle") == [c1.id]
    # pages of the newest first, a page past the end clamped to the last
    first = listing.search_claims(d.service, ops, ListFilter(), page=1, per_page=2)
    last = listing.search_claims(d.service, ops, ListFilter(), page=9, per_page=2)
    assert (first.total, first.pages, _ids(first)) == (3, 2, [c3.id, c2.id])
    assert (last.page, _ids(last)) == (2, [c1.id])


def test_a_holder_never_sees_another_holders_claim_through_any_filter(web):
    d = web.desk
    c1, c2, c3 = _three_claims(d)
    kumo = d.kumo
    filters = [ListFilter(), ListFilter(holder="hoshi"), ListFilter(q="hoshi"), ListFilter(q=f"#{c3.id}"),
               ListFilter(q="w401"), ListFilter(verdict=c3.evidence["verdict"]), ListFilter(min_score=0.0),
               ListFilter(filed_from=date(2026, 6, 8)), ListFilter(state="filed")]
    for flt in filters:
        seen = listing.search_claims(d.service, kumo, flt)
        assert c3.id not in _ids(seen) and all(r.holder == "kumo" for r in seen.rows), flt
    assert listing.search_claims(d.service, kumo, ListFilter(holder="hoshi")).total == 0
    # the page and the API: the same
    page = web.login("kumo-staff").get("/claims", params={"holder": "hoshi", "q": "castle"})
    assert page.status_code == 200 and f'id="claim-{c3.id}"' not in page.text and 'id="f-holder"' not in page.text
    assert "0 claims; page 1 of 1" in page.text
    api = web.client.get("/api/v1/claims", params={"q": "castle"}, headers=web.api("kumo"))
    assert [c["id"] for c in api.json()] == [c1.id]
    api = web.client.get("/api/v1/claims", params={"holder": "hoshi"}, headers=web.api("kumo"))
    assert api.json() == [] and api.headers["X-Total-Count"] == "0"


def test_the_claims_page_searches_filters_and_pages(web):
    d = web.desk
    c1, c2, c3 = _three_claims(d)
    ops = web.login("ops")
    page = ops.get("/claims", params={"q": "castle", "holder": "kumo"})
    assert page.status_code == 200
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert f'id="claim-{c1.id}"' in body and f'id="claim-{c2.id}"' not in body and f'id="claim-{c3.id}"' not in body
    assert "1 claims; page 1 of 1" in page.text and 'src="data:image/jpeg;base64,' in body
    assert 'alt="Reference of w402"' in body  # the best-matched work's reference
    assert '<option value="hoshi">' in page.text and '<option value="kumo" selected>' in page.text
    # a filed-until day the page cannot read is said, and left out of the filter
    bad = ops.get("/claims", params={"filed_to": "2026-13-01", "min_score": "high"})
    assert bad.status_code == 200 and 'id="filter-errors"' in bad.text
    assert "“2026-13-01” was not understood" in bad.text and "“high” was not understood" in bad.text
    assert "3 claims; page 1 of 1" in bad.text
    # the same page in Japanese
    ops.get("/lang/ja")
    ja = ops.get("/claims", params={"filed_from": "2026-06-08", "min_score": "nope"}).text
    assert "申立て 2 件(1 ページ中 1 ページ目)" in ja and "絞り込む" in ja and "受付日(から)" in ja
    assert "「nope」は読み取れないため" in ja and "not understood" not in ja


def test_pages_of_claims_keep_the_filter_in_their_links(web):
    d = web.desk
    (k1,) = _decisions(d, "kumo")[:1]
    for n in range(27):
        d.service.file_claim(d.kumo, work_ids=["w402"], decision_id=k1, description=f"copy number {n}")
        d.clock.advance(minutes=1)
    b = web.login("kumo-staff")
    first = b.get("/claims", params={"q": "copy", "verdict": "blocked"}).text
    assert "27 claims; page 1 of 2" in first and first.count('<tr id="claim-') == 25
    assert 'href="/claims?q=copy&amp;verdict=blocked&amp;page=2" rel="next"' in first
    second = b.get("/claims", params={"q": "copy", "verdict": "blocked", "page": "2"}).text
    assert second.count('<tr id="claim-') == 2 and 'rel="prev"' in second and 'rel="next"' not in second
    assert "copy number 0" not in first  # the oldest are on the last page
    api = web.client.get("/api/v1/claims", params={"q": "copy", "page": 2}, headers=web.api("kumo"))
    assert len(api.json()) == 2 and api.headers["X-Total-Count"] == "27"
    assert web.client.get("/api/v1/claims", params={"min_score": 2}, headers=web.api("kumo")).status_code == 422


def test_inquiries_search_and_filters(web):
    d = web.desk
    svc = d.service
    i1 = svc.file_inquiry(d.kumo, corpus="corpus-v1", question="did our castle appear?")
    d.clock.advance(days=3)
    i2 = svc.file_inquiry(d.kumo, corpus="corpus-v9", question="and in the next one?")
    i3 = svc.file_inquiry(d.hoshi, corpus="corpus-v1", question="our castle as well")

    def ids(actor, **kw):
        return _ids(listing.search_inquiries(svc, actor, ListFilter(**kw)))

    assert ids(d.operator) == [i3.id, i2.id, i1.id]
    assert ids(d.operator, q="castle") == [i3.id, i1.id] and ids(d.operator, q="corpus-v9") == [i2.id]
    assert ids(d.operator, verdict="blocked") == [i1.id]  # kumo's copies are blocked; v9 has no scan
    assert ids(d.operator, min_score=0.3) == [i3.id, i1.id]
    assert ids(d.operator, filed_to=date(2026, 6, 5)) == [i1.id] and ids(d.operator, holder="hoshi") == [i3.id]
    for flt in ({"holder": "hoshi"}, {"q": "castle"}, {"q": f"#{i3.id}"}, {"min_score": 0.0}):
        assert i3.id not in ids(d.kumo, **flt)
    page = web.login("kumo-staff").get("/inquiries", params={"q": "castle"}).text
    assert "1 inquiries; page 1 of 1" in page and f'href="/inquiries/{i1.id}"' in page
    assert f'href="/inquiries/{i3.id}"' not in page
    api = web.client.get("/api/v1/inquiries", params={"verdict": "blocked"}, headers=web.api("operator"))
    assert [i["id"] for i in api.json()] == [i1.id]
    api = web.client.get("/api/v1/inquiries", params={"holder": "hoshi"}, headers=web.api("kumo"))
    assert api.json() == []
