"""The claims and inquiries lists filter, count and page in the database (issue 23,
item 9): a page is one COUNT and one LIMIT / OFFSET query when every filter is a
column's, and every combination of filters gives the rows and the exact total that a
brute-force filter over all rows gives, for an operator and for a holder (who never
gets another holder's row)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from kyodaku.desk import listing
from kyodaku.desk.catalog import folded
from kyodaku.desk.listing import ListFilter
from kyodaku.records.store import Records

PER_PAGE = 4


@pytest.fixture
def many(desk):
    """30 claims over 16 days (13 hours apart, so their JST filing days vary), kumo's
    and hoshi's, in filed / acknowledged / under_review / rejected; the clock then
    stands after the last, so the early ones the operator owes are overdue."""
    svc = desk.service
    records = Records(desk.workspace.session)
    kumo = [d.id for d in records.decisions(desk.scan_id, holder="kumo")][:2]
    hoshi = [d.id for d in records.decisions(desk.scan_id, holder="hoshi")][:1]
    for i in range(30):
        who, decision = (desk.hoshi, hoshi[0]) if i % 3 == 2 else (desk.kumo, kumo[i % 2])
        words = " ".join(w for w, on in (("castle", i % 4 == 0), ("ＪＰＥＧ", i % 5 == 0)) if on)
        c = svc.file_claim(who, work_ids=["w401" if who is desk.hoshi else "w402"], decision_id=decision,
                           description=f"claim {i} {words}")
        steps = {1: ["acknowledge"], 2: ["acknowledge", "start_review"],
                 3: ["acknowledge", "start_review", "reject"], 5: ["acknowledge"]}.get(i % 6, [])
        for step in steps:
            svc.act(desk.operator, c.id, step, note="not a copy" if step == "reject" else "")
        desk.clock.advance(hours=13)
    return desk


def _brute(desk, actor, flt: ListFilter) -> list:
    """Every claim ``actor`` sees (loaded whole, once per test), filtered and sorted here."""
    svc = desk.service
    tz, now = svc.deadlines.tz, svc.clock()
    loaded = desk.__dict__.setdefault("all_claims", {})
    if actor.username not in loaded:
        titles = {w.work_id: w.title for w in desk.workspace.registry.list_works()}
        loaded[actor.username] = [(c, titles) for c in svc.claims(actor)]
    words = folded(flt.q).split()
    out = []
    for c, titles in loaded[actor.username]:
        day = c.created_at.astimezone(tz).date()
        scores = [float(m.get("score", 0)) for m in c.evidence.get("matches", [])]
        works = {*c.work_ids, *(m.get("work_id") or "" for m in c.evidence.get("matches", []))}
        text = folded(" ".join([f"#{c.id}", *works, *(titles.get(w, "") for w in works), c.description,
                                c.upload_name or "", c.resolution or ""]))
        if ((flt.holder and c.holder != flt.holder) or (flt.state and c.state != flt.state)
                or (flt.verdict and c.evidence.get("verdict") != flt.verdict)
                or (flt.filed_from and day < flt.filed_from) or (flt.filed_to and day > flt.filed_to)
                or (flt.min_score is not None and (not scores or max(scores) < flt.min_score))
                or (flt.overdue and not c.overdue(now)) or not all(w in text for w in words)):
            continue
        out.append(c)
    return sorted(out, key=lambda c: (c.created_at, c.id), reverse=True)


class _Statements:
    """The SQL the engine runs while open."""

    def __init__(self, engine) -> None:
        self.engine, self.sql = engine, []

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.sql.append(" ".join(statement.split()))

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_page_of_claims_is_counted_and_limited_in_sql(many):
    d = many
    flt = ListFilter(holder="kumo", state="filed", verdict="blocked", filed_from=date(2026, 6, 6))
    with _Statements(d.workspace.engine) as seen:
        found = listing.search_claims(d.service, d.operator, flt, page=2, per_page=PER_PAGE)
    claims_sql = [q for q in seen.sql if "FROM claims" in q]
    assert any("count(*)" in q.lower() for q in claims_sql), claims_sql
    limited = [q for q in claims_sql if " LIMIT " in q and " OFFSET " in q]
    assert limited and all("claims.state = " in q and "claims.holder_id IN" in q for q in limited), claims_sql
    assert all(" LIMIT " in q or "count(*)" in q.lower() or "claims.id IN" in q for q in claims_sql), claims_sql
    want = _brute(d, d.operator, flt)
    assert found.total == len(want) and [c.id for c in found.rows] == [c.id for c in want][PER_PAGE:2 * PER_PAGE]
    # a filter Python judges (the words of q) reads only the columns it needs, and loads
    # the page's claims alone in full
    with _Statements(d.workspace.engine) as seen:
        found = listing.search_claims(d.service, d.operator, ListFilter(q="castle"), per_page=PER_PAGE)
    full = [q for q in seen.sql if q.startswith("SELECT") and "claims.subject_kind" in q]
    assert full and all("claims.id IN" in q for q in full), full
    assert found.total == len(_brute(d, d.operator, ListFilter(q="castle")))


def _check(d, actor, flt: ListFilter) -> None:
    want = [c.id for c in _brute(d, actor, flt)]
    pages = max(1, -(-len(want) // PER_PAGE))
    for page in (1, 2, pages + 3):  # a page past the end is the last
        got = listing.search_claims(d.service, actor, flt, page=page, per_page=PER_PAGE)
        shown = min(page, pages)
        assert (got.total, got.pages, got.page) == (len(want), pages, shown), flt
        assert [c.id for c in got.rows] == want[(shown - 1) * PER_PAGE: shown * PER_PAGE], (flt, page)


def test_every_filter_combination_agrees_with_a_brute_force_filter(many):
    d = many
    scores = sorted({max(float(m["score"]) for m in c.evidence["matches"]) for c in d.service.claims(d.operator)
                     if c.evidence.get("matches")})
    verdicts = sorted({c.evidence.get("verdict") for c in d.service.claims(d.operator)} - {None})
    assert len(scores) > 1 and len(verdicts) > 1
    first = d.service.claims(d.operator)[0].created_at.astimezone(d.service.deadlines.tz).date()
    assert any(c.overdue(d.service.clock()) for c in d.service.claims(d.operator))
    options = itertools.product(
        ("", "kumo", "hoshi"), ("", "filed", "rejected"), ("", *verdicts),
        (None, first + timedelta(days=4)), (None, first + timedelta(days=10)),
        (None, scores[len(scores) // 2]), ("", "castle", "jpeg claim"), (False, True))
    n = 0
    for holder, state, verdict, start, end, score, q, overdue in options:
        flt = ListFilter(q=q, holder=holder, state=state, verdict=verdict, filed_from=start, filed_to=end,
                         min_score=score, overdue=overdue)
        _check(d, d.operator, flt)
        n += 1
    assert n == 3 * 3 * (1 + len(verdicts)) * 2 * 2 * 2 * 3 * 2


def test_a_holder_gets_its_own_claims_through_every_filter(many):
    d = many
    for holder, state, q, overdue, start in itertools.product(
            ("", "kumo", "hoshi", "nobody"), ("", "filed", "acknowledged"), ("", "castle", "w401", "#1"),
            (False, True), (None, date(2026, 6, 10))):
        flt = ListFilter(q=q, holder=holder, state=state, overdue=overdue, filed_from=start)
        _check(d, d.kumo, flt)
        seen = listing.search_claims(d.service, d.kumo, flt, per_page=100)
        assert all(c.holder == "kumo" for c in seen.rows), flt
    assert listing.search_claims(d.service, d.kumo, ListFilter(holder="hoshi")).total == 0


def test_inquiries_are_counted_and_limited_in_sql_too(many):
    d = many
    svc = d.service
    made = []
    for i in range(9):
        who = d.hoshi if i % 3 == 2 else d.kumo
        made.append(svc.file_inquiry(who, corpus="corpus-v1" if i % 2 == 0 else "corpus-v9", question=f"q{i}"))
        d.clock.advance(hours=20)
    with _Statements(d.workspace.engine) as seen:
        found = listing.search_inquiries(svc, d.operator, ListFilter(holder="kumo"), page=2, per_page=2)
    sql = [q for q in seen.sql if "FROM inquiries" in q]
    assert any("count(*)" in q.lower() for q in sql) and any(" LIMIT " in q for q in sql), sql
    kumo = sorted((i for i in made if i.holder == "kumo"), key=lambda i: (i.created_at, i.id), reverse=True)
    assert found.total == len(kumo) and [i.id for i in found.rows] == [i.id for i in kumo][2:4]
    tz = svc.deadlines.tz
    day = made[4].created_at.astimezone(tz).date()
    for actor, flt in itertools.product((d.operator, d.kumo), (
            ListFilter(), ListFilter(filed_from=day), ListFilter(filed_to=day), ListFilter(verdict="blocked"),
            ListFilter(min_score=0.3, holder="kumo"), ListFilter(q="corpus-v9"), ListFilter(state="open"),
            ListFilter(holder="hoshi", filed_from=day))):
        visible = [i for i in made if actor.sees_everything or i.holder in actor.holder_slugs]

        def passes(i, flt=flt):
            items = [it for s in (i.answer or {}).get("scans", []) for it in s.get("items", [])]
            best = [w["score"] for it in items for w in it.get("works", [])]
            local = i.created_at.astimezone(tz).date()
            return ((not flt.holder or i.holder == flt.holder) and (not flt.state or i.state == flt.state)
                    and (not flt.filed_from or local >= flt.filed_from) and (not flt.filed_to or local <= flt.filed_to)
                    and (not flt.verdict or flt.verdict in {it.get("verdict") for it in items})
                    and (flt.min_score is None or bool(best) and max(best) >= flt.min_score)
                    and all(w in folded(f"#{i.id} {i.corpus} {i.question}") for w in folded(flt.q).split()))

        want = sorted(filter(passes, visible), key=lambda i: (i.created_at, i.id), reverse=True)
        got = listing.search_inquiries(svc, actor, flt, per_page=100)
        assert (got.total, [i.id for i in got.rows]) == (len(want), [i.id for i in want]), (actor.username, flt)
