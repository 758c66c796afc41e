"""The generation guard at the desk: operators screen prompts and outputs before they are
shown (:class:`kyodaku.guard.screen.Guard`, the same calls as ``kyodaku screen``); holders
open the evidence of screenings that matched their works and read weekly counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kyodaku.guard.evidence import evidence_image
from kyodaku.guard.screen import Guard, ScreenRefused
from kyodaku.records.store import weekly_screen_counts
from kyodaku.service.api.common import Id
from kyodaku.service.deps import ApiActor, Desk
from kyodaku.service.uploads import saved_upload

router = APIRouter(tags=["screen"])

#: a prompt's longest text (characters); the body is capped by KYODAKU_MAX_BODY_KB anyway
MAX_PROMPT = 20_000


class PromptIn(BaseModel):
    prompt: str = Field(max_length=MAX_PROMPT)
    negative_prompt: str = Field(default="", max_length=MAX_PROMPT)


def guard_of(request: Request) -> Guard:
    return request.app.state.guard


def _refused(exc: ScreenRefused) -> JSONResponse:
    body: dict[str, Any] = {"detail": str(exc), "verdict": "error"}
    if exc.result is not None:
        body["decision_id"] = exc.result.decision_id
    return JSONResponse(body, status_code=exc.status)


@router.post("/prompt")
def screen_prompt(body: PromptIn, actor: ApiActor, request: Request) -> dict[str, Any]:
    """Screen a prompt before generation: works and holders it names, keyword-set hits and
    a suggested rewrite; recorded as a decision (source ``screen``)."""
    actor.require("operator")
    return guard_of(request).screen_prompt(body.prompt, body.negative_prompt).to_json()


@router.post("/output", responses={413: {"description": "over a size, pixel or duration limit"},
                                   422: {"description": "not an image or video, truncated or undecodable"}})
async def screen_output(actor: ApiActor, request: Request, file: Annotated[UploadFile, File()],
                        prompt: Annotated[str | None, Form(max_length=MAX_PROMPT)] = None) -> Any:
    """Screen a generated image or video (multipart ``file``, optional ``prompt``) for the
    desk's licensee, use ``generation``: the verdict ``kyodaku scan --use generation`` gives
    the same file, with the matched works and links to their evidence images."""
    actor.require("operator")
    guard = guard_of(request)
    limit = request.app.state.settings.max_upload_bytes

    def run() -> Any:
        with saved_upload(file, limit) as path:
            try:
                return guard.screen_output(path, prompt or None, name=(file.filename or "upload")[:300]).to_json()
            except ScreenRefused as exc:
                return _refused(exc)

    return await run_in_threadpool(run)


@router.get("/decisions/{decision_id}/evidence/{index}.jpg", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def evidence(decision_id: Id, index: Annotated[int, Path(ge=0, le=100)], actor: ApiActor, service: Desk,
             request: Request) -> Response:
    """A screening's evidence image: the screened output's frame beside the matched work's
    reference.  Holders open those of their own works; operators and auditors every one."""
    decision = service.records.decision(decision_id)
    matches = decision.line.get("matches") or []
    if decision.source != "screen" or not 0 <= index < len(matches):
        raise HTTPException(404, "no such evidence")
    match = matches[index]
    if not actor.sees_everything and match.get("holder") not in actor.holder_slugs:
        raise HTTPException(404, "no such evidence")
    data = evidence_image(service.workspace, decision_id, index, match, decision.line.get("media"))
    if data is None:
        raise HTTPException(404, "no evidence image was kept for this match")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/weekly")
def weekly(actor: ApiActor, service: Desk,
           weeks: Annotated[int, Query(ge=1, le=104)] = 8) -> list[dict[str, Any]]:
    """Per week and work: screened outputs blocked, sent to review, cleared by a permit
    (a holder sees its own works)."""
    since = service.clock() - timedelta(weeks=weeks)
    holders = None if actor.sees_everything else actor.holder_slugs
    return weekly_screen_counts(service.workspace.session, holders, since)
