"""The claims and inquiries lists at a studio's size: a search, filters and pages.

Every list starts from what the actor may see (the same tenancy condition as
:meth:`DeskService.claims` and :func:`kyodaku.desk.inquiries.list_inquiries`, in the
query); the filters only narrow it, so a holder filter naming another holder finds
nothing.  What a column can answer is filtered, counted and paged by the database (a
studio's 100k claims are not loaded for a page); the rest (the words of ``q``, a
minimum score, an inquiry's verdict: NFKC folding and JSON arrays, not portable between
SQLite and PostgreSQL) is judged in Python over the rows the database left, reading
only the columns it needs.  The pages and the API call these functions with the same
parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kyodaku.desk import catalog
from kyodaku.desk.auth import Actor
from kyodaku.desk.claims import claim_view, holder_evidence
from kyodaku.desk.inquiries import inquiry_view
from kyodaku.desk.lifecycle import TERMINAL
from kyodaku.desk.models import CLAIM_STATES, ClaimRow, InquiryRow
from kyodaku.registry.models import HolderRow

__all__ = ["LIST_PER_PAGE", "VERDICTS", "ListFilter", "ListPage", "parse_filter", "search_claims", "search_inquiries"]

#: rows per page of the claims and inquiries lists
LIST_PER_PAGE = 25
#: the verdicts a list can be filtered by
VERDICTS = ("blocked", "review", "cleared", "error")


@dataclass(frozen=True)
class ListFilter:
    """What a claims or inquiries list is narrowed to (empty fields: no narrowing).

    ``q``: every word in the id, a work id or title, or the text (a claim's description
    and upload name; an inquiry's corpus and question), NFKC-folded.  ``holder``: a
    holder's slug.  ``state``: the claim's or inquiry's state.  ``verdict``: a claim's
    evidence verdict; for an inquiry, an item of its answer with that verdict.
    ``filed_from`` / ``filed_to``: the filing day in the desk's time zone, both included.
    ``min_score``: the best score of a claim's matches, of an inquiry's answer items."""

    q: str = ""
    holder: str = ""
    state: str = ""
    verdict: str = ""
    filed_from: date | None = None
    filed_to: date | None = None
    min_score: float | None = None
    overdue: bool = False

    def params(self, **changes: Any) -> dict[str, str]:
        """The filter as query parameters (the empty ones left out), for links to other pages."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = changes.get(f.name, getattr(self, f.name))
            if value in (None, "", False):
                continue
            out[f.name] = "1" if value is True else value.isoformat() if isinstance(value, date) else str(value)
        out.update({k: str(v) for k, v in changes.items() if k not in out and v not in (None, "")})
        return out

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, "", False) for f in fields(self))


@dataclass(frozen=True)
class ListPage:
    """One page of a filtered list, newest first."""

    rows: list[Any]
    total: int  # rows matching the filter
    page: int  # 1-based, within 1..pages
    pages: int
    filter: ListFilter


def _page_of(total: int, page: int, per_page: int) -> tuple[int, int]:
    """(page clamped to 1..pages, pages) for ``total`` rows."""
    pages = max(1, -(-total // per_page))
    return min(max(1, page), pages), pages


def _titles(service: Any, actor: Actor) -> dict[str, str]:
    return {w.work_id: w.title for w in catalog.list_works(service, actor)}


def _day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in the desk's time zone."""
    return datetime.combine(day, time.min, tzinfo=tz)


def _where(model: Any, actor: Actor, flt: ListFilter, tz: tzinfo) -> list[Any]:
    """The SQL conditions of the filters a column can answer, tenancy first."""
    conds: list[Any] = []
    if not actor.sees_everything:
        conds.append(model.holder_id.in_(sorted(actor.holder_ids) or [-1]))
    if flt.holder.strip():
        named = select(HolderRow.id).where(HolderRow.slug == flt.holder.strip()).correlate(None)
        conds.append(model.holder_id.in_(named))
    if flt.state:
        conds.append(model.state == flt.state)
    if flt.filed_from:
        conds.append(model.created_at >= _day_start(flt.filed_from, tz))
    if flt.filed_to:
        conds.append(model.created_at < _day_start(flt.filed_to + timedelta(days=1), tz))
    return conds


def _newest(model: Any) -> tuple[Any, Any]:
    return model.created_at.desc(), model.id.desc()


def _page_ids(s: Session, model: Any, conds: list[Any], keep: Callable[[Any], bool] | None,
              columns: tuple[Any, ...], page: int, per_page: int) -> tuple[list[int], int, int, int]:
    """The ids of one page of ``model`` rows passing ``conds`` (in SQL) and ``keep`` (in
    Python, over ``columns``), newest first: (ids, total, page, pages).  Without ``keep``
    the database counts and pages (COUNT, LIMIT / OFFSET); with it, only the columns
    ``keep`` reads are streamed, and only the page's ids are kept."""
    if keep is None:
        total = s.scalar(select(func.count()).select_from(model).where(*conds)) or 0
        page, pages = _page_of(total, page, per_page)
        ids = list(s.scalars(select(model.id).where(*conds).order_by(*_newest(model))
                             .limit(per_page).offset((page - 1) * per_page)))
        return ids, total, page, pages
    q = (select(model.id, *columns).join(HolderRow, model.holder_id == HolderRow.id).where(*conds)
         .order_by(*_newest(model)).execution_options(yield_per=1000))
    passed = [r.id for r in s.execute(q) if keep(r)]
    page, pages = _page_of(len(passed), page, per_page)
    return passed[(page - 1) * per_page: page * per_page], len(passed), page, pages


def _words_match(words: list[str], text: str) -> bool:
    folded = catalog.folded(text)
    return all(w in folded for w in words)


def _claim_text(c: Any, evidence: dict[str, Any], titles: dict[str, str]) -> str:
    works = {*(c.work_ids or ()), *(m.get("work_id") or "" for m in evidence.get("matches", []))}
    return " ".join([f"#{c.id}", *works, *(titles.get(w, "") for w in works), c.description or "",
                     c.upload_name or "", c.resolution or ""])


def _best(scores: Iterable[Any]) -> float | None:
    values = [float(x) for x in scores]
    return max(values) if values else None


def _claim_keep(flt: ListFilter, titles: dict[str, str]) -> Callable[[Any], bool] | None:
    """What of ``flt`` is judged in Python for a claim: the words (NFKC-folded, over the
    work titles and JSON evidence too) and the best score (a maximum over the evidence's
    matches)."""
    words = catalog.folded(flt.q).split()
    if not words and flt.min_score is None:
        return None

    def keep(r: Any) -> bool:
        evidence = holder_evidence(dict(r.evidence or {}), r.slug)
        if flt.min_score is not None:
            best = _best(m.get("score", 0) for m in evidence.get("matches", []))
            if best is None or best < flt.min_score:
                return False
        return not words or _words_match(words, _claim_text(r, evidence, titles))

    return keep


def search_claims(service: Any, actor: Actor, flt: ListFilter = ListFilter(), page: int = 1,
                  per_page: int = LIST_PER_PAGE) -> ListPage:
    """The claims ``actor`` sees that pass ``flt``, newest first, one page of them.

    In SQL: tenancy, holder, state, filing days, overdue and the evidence's verdict (a
    JSON field SQLAlchemy reads the same way on SQLite and PostgreSQL), then COUNT and
    LIMIT / OFFSET.  In Python, over the rows SQL left (their evidence and text columns
    only): the words of ``q`` (NFKC folding is not portable SQL) and ``min_score`` (a
    maximum over a JSON array).  Either way only the page's claims are loaded in full,
    and the total is exact."""
    tz, now = service.deadlines.tz, service.clock()
    conds = _where(ClaimRow, actor, flt, tz)
    if flt.overdue:
        owed = [st for st in CLAIM_STATES if st not in TERMINAL and service.deadlines.owner(st) == "operator"]
        conds += [ClaimRow.state.in_(owed), ClaimRow.due_at.is_not(None), ClaimRow.due_at < now]
    if flt.verdict:
        conds.append(ClaimRow.evidence["verdict"].as_string() == flt.verdict)
    keep = _claim_keep(flt, _titles(service, actor) if flt.q.strip() else {})
    columns = (ClaimRow.work_ids, ClaimRow.evidence, ClaimRow.description, ClaimRow.upload_name,
               ClaimRow.resolution, HolderRow.slug)
    with service.workspace.session() as s:
        ids, total, page, pages = _page_ids(s, ClaimRow, conds, keep, columns, page, per_page)
        rows = list(s.scalars(select(ClaimRow).where(ClaimRow.id.in_(ids or [-1])).order_by(*_newest(ClaimRow))
                              .options(selectinload(ClaimRow.events)))) if ids else []
        names = service._usernames(s, rows)
        shown = [claim_view(r, names, service.deadlines.owner(r.state)) for r in rows]
    return ListPage(shown, total, page, pages, flt)


def _inquiry_items(i: Any) -> list[dict[str, Any]]:
    return [it for scan in (i.answer or {}).get("scans", []) for it in scan.get("items", [])]


def _inquiry_text(i: Any, titles: dict[str, str]) -> str:
    works = {*(i.work_ids or ()),
             *(w.get("work_id") or "" for it in _inquiry_items(i) for w in it.get("works", []))}
    return " ".join([f"#{i.id}", i.corpus, *works, *(titles.get(w, "") for w in works), i.question or ""])


def _inquiry_keep(flt: ListFilter, titles: dict[str, str]) -> Callable[[Any], bool] | None:
    """What of ``flt`` is judged in Python for an inquiry: the words, the verdict and the
    best score, all read from the stored answer's items (JSON arrays in arrays, which
    SQLite and PostgreSQL walk differently)."""
    words = catalog.folded(flt.q).split()
    if not words and not flt.verdict and flt.min_score is None:
        return None

    def keep(r: Any) -> bool:
        items = _inquiry_items(r)
        if flt.verdict and flt.verdict not in {it.get("verdict") for it in items}:
            return False
        if flt.min_score is not None:
            best = _best(w.get("score", 0) for it in items for w in it.get("works", []))
            if best is None or best < flt.min_score:
                return False
        return not words or _words_match(words, _inquiry_text(r, titles))

    return keep


def search_inquiries(service: Any, actor: Actor, flt: ListFilter = ListFilter(), page: int = 1,
                     per_page: int = LIST_PER_PAGE) -> ListPage:
    """The inquiries ``actor`` sees that pass ``flt``, newest first, one page of them.

    In SQL: tenancy, holder, state and filing days, then COUNT and LIMIT / OFFSET.  In
    Python, over the rows SQL left: ``q``, ``verdict`` and ``min_score`` (they read the
    answer's JSON items); only the page's inquiries are loaded in full, the total exact."""
    conds = _where(InquiryRow, actor, flt, service.deadlines.tz)
    keep = _inquiry_keep(flt, _titles(service, actor) if flt.q.strip() else {})
    columns = (InquiryRow.corpus, InquiryRow.work_ids, InquiryRow.question, InquiryRow.answer)
    with service.workspace.session() as s:
        ids, total, page, pages = _page_ids(s, InquiryRow, conds, keep, columns, page, per_page)
        rows = list(s.scalars(select(InquiryRow).where(InquiryRow.id.in_(ids))
                              .order_by(*_newest(InquiryRow)))) if ids else []
        shown = [inquiry_view(r) for r in rows]
    return ListPage(shown, total, page, pages, flt)


def parse_filter(params: dict[str, str], *, states: Iterable[str]) -> tuple[ListFilter, list[tuple[str, str]]]:
    """A filter from query parameters (as the pages and the API get them), and the
    fields that could not be read: (field, value), each left out of the filter."""
    bad: list[tuple[str, str]] = []

    def day(name: str) -> date | None:
        text = (params.get(name) or "").strip()
        if not text:
            return None
        try:
            if len(text) != 10:
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            bad.append((name, text))
            return None

    score_text = (params.get("min_score") or "").strip()
    score: float | None = None
    if score_text:
        try:
            score = float(score_text)
            if not 0.0 <= score <= 1.0:
                raise ValueError(score_text)
        except ValueError:
            bad.append(("min_score", score_text))
            score = None
    state = (params.get("state") or "").strip()
    if state and state not in set(states):
        bad.append(("state", state))
        state = ""
    verdict = (params.get("verdict") or "").strip()
    if verdict and verdict not in VERDICTS:
        bad.append(("verdict", verdict))
        verdict = ""
    flt = ListFilter(q=(params.get("q") or "").strip()[:200], holder=(params.get("holder") or "").strip()[:100],
                     state=state, verdict=verdict, filed_from=day("filed_from"), filed_to=day("filed_to"),
                     min_score=score, overdue=(params.get("overdue") or "").lower() in ("1", "true", "yes", "on"))
    return flt, bad
