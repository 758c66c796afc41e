"""The claims and inquiries lists at a studio's size: a search, filters and pages.

Every list starts from what the actor may see (:meth:`DeskService.claims`,
:func:`kyodaku.desk.inquiries.list_inquiries`, filtered by tenancy in the data layer);
the filters only narrow it, so a holder filter naming another holder finds nothing.
The pages and the API call these functions with the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from kyodaku.desk import catalog
from kyodaku.desk.auth import Actor
from kyodaku.desk.inquiries import list_inquiries

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


def _paged(rows: list[Any], flt: ListFilter, page: int, per_page: int) -> ListPage:
    shown, page, pages = catalog.newest_page(rows, page, per_page)
    return ListPage(shown, len(rows), page, pages, flt)


def _titles(service: Any, actor: Actor) -> dict[str, str]:
    return {w.work_id: w.title for w in catalog.list_works(service, actor)}


def _filtered(rows: Iterable[Any], flt: ListFilter, service: Any, actor: Actor,
              text: Callable[[Any, dict[str, str]], str], verdicts: Callable[[Any], set[str]],
              best_score: Callable[[Any], float | None]) -> list[Any]:
    tz = service.deadlines.tz
    words = catalog.folded(flt.q).split()
    titles = _titles(service, actor) if words else {}
    out = []
    for r in rows:
        if flt.holder and r.holder != flt.holder.strip():
            continue
        if flt.state and r.state != flt.state:
            continue
        day = r.created_at.astimezone(tz).date()
        if (flt.filed_from and day < flt.filed_from) or (flt.filed_to and day > flt.filed_to):
            continue
        if flt.verdict and flt.verdict not in verdicts(r):
            continue
        if flt.min_score is not None:
            best = best_score(r)
            if best is None or best < flt.min_score:
                continue
        if words:
            folded = catalog.folded(text(r, titles))
            if not all(w in folded for w in words):
                continue
        out.append(r)
    return out


def _claim_text(c: Any, titles: dict[str, str]) -> str:
    works = {*c.work_ids, *(m.get("work_id") or "" for m in c.evidence.get("matches", []))}
    return " ".join([f"#{c.id}", *works, *(titles.get(w, "") for w in works), c.description,
                     c.upload_name or "", c.resolution or ""])


def _claim_best(c: Any) -> float | None:
    scores = [float(m.get("score", 0)) for m in c.evidence.get("matches", [])]
    return max(scores) if scores else None


def search_claims(service: Any, actor: Actor, flt: ListFilter = ListFilter(), page: int = 1,
                  per_page: int = LIST_PER_PAGE) -> ListPage:
    """The claims ``actor`` sees that pass ``flt``, newest first, one page of them."""
    rows = service.claims(actor, state=flt.state or None, overdue=flt.overdue)
    rows = _filtered(rows, flt, service, actor, _claim_text,
                     lambda c: {c.evidence.get("verdict")} - {None}, _claim_best)
    return _paged(rows, flt, page, per_page)


def _inquiry_items(i: Any) -> list[dict[str, Any]]:
    return [it for scan in (i.answer or {}).get("scans", []) for it in scan.get("items", [])]


def _inquiry_text(i: Any, titles: dict[str, str]) -> str:
    works = {*i.work_ids, *(w.get("work_id") or "" for it in _inquiry_items(i) for w in it.get("works", []))}
    return " ".join([f"#{i.id}", i.corpus, *works, *(titles.get(w, "") for w in works), i.question])


def _inquiry_best(i: Any) -> float | None:
    scores = [float(w.get("score", 0)) for it in _inquiry_items(i) for w in it.get("works", [])]
    return max(scores) if scores else None


def search_inquiries(service: Any, actor: Actor, flt: ListFilter = ListFilter(), page: int = 1,
                     per_page: int = LIST_PER_PAGE) -> ListPage:
    """The inquiries ``actor`` sees that pass ``flt``, newest first, one page of them."""
    rows = _filtered(list_inquiries(service, actor), flt, service, actor, _inquiry_text,
                     lambda i: {it.get("verdict") for it in _inquiry_items(i)} - {None}, _inquiry_best)
    return _paged(rows, flt, page, per_page)


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
