"""Read endpoints every role has; what each sees is filtered by its tenancy."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from kyodaku.desk import catalog, listing
from kyodaku.desk.inquiries import answer_csv, answer_letter
from kyodaku.desk.models import CLAIM_STATES
from kyodaku.service.deps import ApiActor, Desk

router = APIRouter(tags=["everyone"])

#: ids are database integers; larger values are refused with 422, never a database error
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def work_json(w: Any, lookalikes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A work; ``lookalikes``: other works with a near-identical reference picture
    (``work`` is null when it is another holder's and the caller is that holder)."""
    return {"work_id": w.work_id, "holder": w.holder, "title": w.title, "kind": w.kind,
            "aliases": [{"text": a.text, "lang": a.lang} for a in w.aliases],
            "media": [{"id": m.id, "name": m.original_name, "kind": m.kind, "sha256": m.sha256,
                       "fingerprinted": m.fingerprinted_at is not None, "error": m.fingerprint_error,
                       "note": m.fingerprint_note}
                      for m in w.media],
            "lookalikes": lookalikes or []}


def permit_json(p: Any) -> dict[str, Any]:
    return {"id": p.id, "holder": p.holder, "licensee": p.licensee, "use": p.use, "scope": p.scope,
            "valid_from": p.valid_from.isoformat(), "valid_until": p.valid_until.isoformat() if p.valid_until else None,
            "revoked_at": p.revoked_at.isoformat() if p.revoked_at else None, "revoke_reason": p.revoke_reason}


@router.get("/me")
def me(actor: ApiActor) -> dict[str, Any]:
    return {"username": actor.username, "role": actor.role, "display_name": actor.display_name,
            "holders": list(actor.holder_slugs)}


Q = Annotated[str, Query(max_length=200, description="Every word in the id, a work id or title, or the text.")]
HolderQ = Annotated[str, Query(max_length=100, description="Only this holder's (within those the caller sees).")]
VerdictQ = Annotated[str | None, Query(pattern="^(" + "|".join(listing.VERDICTS) + ")$")]
DayQ = Annotated[date | None, Query(description="Filing day in the desk's time zone (JST), included.")]
ScoreQ = Annotated[float | None, Query(ge=0, le=1, description="The best match score at least this.")]
PageQ = Annotated[int | None, Query(ge=1, le=2**31 - 1, description=(
    f"One page of {listing.LIST_PER_PAGE}, newest first; the total is in X-Total-Count. Omitted: all."))]


def _listed(response: Response, search: Any, service: Any, actor: Any, flt: Any, page: int | None) -> list[Any]:
    """Every row that passes ``flt`` (oldest first, as before filters), or one page of them
    (newest first) with the total in ``X-Total-Count``."""
    if page is None:
        found = search(service, actor, flt, 1, per_page=2**31)
        response.headers["X-Total-Count"] = str(found.total)
        return found.rows[::-1]
    found = search(service, actor, flt, page)
    response.headers["X-Total-Count"] = str(found.total)
    return found.rows


@router.get("/claims")
def list_claims(actor: ApiActor, service: Desk, response: Response,
                state: Annotated[str | None, Query(pattern="^(" + "|".join(CLAIM_STATES) + ")$")] = None,
                overdue: bool = False, q: Q = "", holder: HolderQ = "", verdict: VerdictQ = None,
                filed_from: DayQ = None, filed_to: DayQ = None, min_score: ScoreQ = None,
                page: PageQ = None) -> list[dict[str, Any]]:
    now = service.clock()
    flt = listing.ListFilter(q=q.strip(), holder=holder.strip(), state=state or "", verdict=verdict or "",
                             filed_from=filed_from, filed_to=filed_to, min_score=min_score, overdue=overdue)
    return [c.to_json(now) for c in _listed(response, listing.search_claims, service, actor, flt, page)]


@router.get("/claims/{claim_id}")
def get_claim(claim_id: Id, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return service.claim(actor, claim_id).to_json(service.clock())


@router.get("/inquiries")
def list_inquiries(actor: ApiActor, service: Desk, response: Response,
                   state: Annotated[str | None, Query(pattern="^(open|answered)$")] = None,
                   q: Q = "", holder: HolderQ = "", verdict: VerdictQ = None, filed_from: DayQ = None,
                   filed_to: DayQ = None, min_score: ScoreQ = None, page: PageQ = None) -> list[dict[str, Any]]:
    flt = listing.ListFilter(q=q.strip(), holder=holder.strip(), state=state or "", verdict=verdict or "",
                             filed_from=filed_from, filed_to=filed_to, min_score=min_score)
    return [i.to_json() for i in _listed(response, listing.search_inquiries, service, actor, flt, page)]


@router.get("/inquiries/{inquiry_id}")
def get_inquiry(inquiry_id: Id, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return service.inquiry(actor, inquiry_id).to_json()


def inquiry_csv_response(service: Any, actor: Any, inquiry_id: int) -> StreamingResponse:
    """An inquiry's answer as a CSV download (the API's and the pages'), with its
    ``reason_key`` column (:func:`kyodaku.desk.inquiries.answer_csv`)."""
    service.inquiry(actor, inquiry_id)  # 404 before streaming starts
    return StreamingResponse(answer_csv(service, actor, inquiry_id),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="inquiry-{inquiry_id}.csv"'})


@router.get("/inquiries/{inquiry_id}/answer.csv", response_class=StreamingResponse)
def inquiry_csv(inquiry_id: Id, actor: ApiActor, service: Desk) -> StreamingResponse:
    return inquiry_csv_response(service, actor, inquiry_id)


@router.get("/inquiries/{inquiry_id}/letter.html", response_class=HTMLResponse)
def inquiry_letter(inquiry_id: Id, actor: ApiActor, service: Desk,
                   lang: Annotated[str, Query(pattern="^(en|ja)$")] = "en") -> HTMLResponse:
    from kyodaku.service.pages import letter_sayings  # the pages' message keys (imports this module)

    return HTMLResponse(answer_letter(service, actor, inquiry_id, lang, **letter_sayings(lang, service.deadlines.tz)))


@router.get("/works")
def list_works(actor: ApiActor, service: Desk) -> list[dict[str, Any]]:
    similar = catalog.lookalikes_by_work(service, actor)
    return [work_json(w, similar.get(w.work_id)) for w in catalog.list_works(service, actor)]


@router.get("/permits")
def list_permits(actor: ApiActor, service: Desk) -> list[dict[str, Any]]:
    return [permit_json(p) for p in catalog.list_permits(service, actor)]
