"""What the claims and inquiries list pages show beside their rows: the search and the
filters read from the query string (:mod:`kyodaku.desk.listing` does the filtering,
behind the actor's tenancy), the holders an account may filter by, and what could not
be read, in the page's language."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select

from kyodaku.desk import listing
from kyodaku.desk.models import CLAIM_STATES
from kyodaku.registry.models import HolderRow, WorkRow
from kyodaku.report.thumbs import ReferenceThumbs

__all__ = ["INQUIRY_STATES", "INQUIRY_THUMBS", "claims_listing", "inquiries_listing"]

INQUIRY_STATES = ("open", "answered")


def _holder_choices(service: Any, actor: Any) -> list[str]:
    """The holders an account may narrow a list to: every holder for operators and
    auditors, its own for an account acting for several, none for one holder's."""
    if actor.sees_everything:
        return [h.slug for h in service.workspace.registry.list_holders()]
    return list(actor.holder_slugs) if len(actor.holder_slugs) > 1 else []


def _context(request: Request, service: Any, session: Any, kind: str, states: tuple[str, ...]) -> dict[str, Any]:
    params = dict(request.query_params) if request.method == "GET" else {}
    flt, bad = listing.parse_filter(params, states=states)
    try:
        page = int(params.get("page") or 1)
    except ValueError:
        page = 1
    search = listing.search_claims if kind == "claims" else listing.search_inquiries
    found = search(service, session.actor, flt, page)
    return {"found": found, "flt": flt, "filter_errors": bad, "states": states, "verdicts": listing.VERDICTS,
            "holder_choices": _holder_choices(service, session.actor), "list_path": f"/{kind}"}


def claims_listing(request: Request, service: Any, session: Any) -> dict[str, Any]:
    """The claims page's list: one page of the claims the actor sees that pass the
    filter, each with a thumbnail of the reference of its best-matched (or first
    claimed) work (:class:`~kyodaku.report.thumbs.ReferenceThumbs`, a ``data:`` URI)."""
    ctx = _context(request, service, session, "claims", CLAIM_STATES)
    refs = ReferenceThumbs(service.workspace)
    thumbs = {}
    for c in ctx["found"].rows:
        work = next((m.get("work_id") for m in c.evidence.get("matches", []) if m.get("work_id")),
                    c.work_ids[0] if c.work_ids else None)
        if work:
            thumbs[c.id] = (work, refs.get(work, None, None)[0])
    return {**ctx, "thumbs": thumbs}


#: reference thumbnails on an inquiry's row (its best-matched works)
INQUIRY_THUMBS = 3


def _matched_works(inq: Any) -> list[str]:
    """The works an inquiry's answer matched, best score first."""
    best: dict[str, float] = {}
    for scan in (inq.answer or {}).get("scans", []):
        for it in scan.get("items", []):
            for w in it.get("works", []):
                if w.get("work_id"):
                    best[w["work_id"]] = max(best.get(w["work_id"], 0.0), float(w.get("score", 0)))
    return sorted(best, key=lambda w: (-best[w], w))


def inquiries_listing(request: Request, service: Any, session: Any) -> dict[str, Any]:
    """The inquiries page's list: one page of the inquiries the actor sees that pass the
    filter, each with thumbnails of the references of the works its answer matched (the
    best :data:`INQUIRY_THUMBS`, as the claims list shows them: ``data:`` URIs).  Only
    works of the inquiry's own holder are shown, whatever the stored answer names."""
    ctx = _context(request, service, session, "inquiries", INQUIRY_STATES)
    rows = ctx["found"].rows
    matched = {i.id: _matched_works(i) for i in rows}
    wanted = sorted({w for ws in matched.values() for w in ws})
    owner: dict[str, str] = {}
    if wanted:
        with service.workspace.session() as s:
            owner = dict(s.execute(select(WorkRow.work_id, HolderRow.slug).join(HolderRow)
                                   .where(WorkRow.work_id.in_(wanted))).all())
    refs = ReferenceThumbs(service.workspace)
    thumbs: dict[int, list[tuple[str, Any]]] = {}
    for i in rows:
        own = [(w, refs.get(w, None, None)[0]) for w in matched[i.id] if owner.get(w) == i.holder]
        thumbs[i.id] = [(w, th) for w, th in own if th.uri][:INQUIRY_THUMBS]
    return {**ctx, "thumbs": thumbs}
