"""The generation guard at the desk: operators screen prompts and outputs before they are
shown (:class:`kyodaku.guard.screen.Guard`, the same calls as ``kyodaku screen``); holders
open the evidence of screenings that matched their works and read weekly counts.

``sign=true`` on ``POST /output``: a cleared output comes back as the signed file itself
(C2PA manifest, :func:`kyodaku.guard.provenance.sign_screened`) with its decision id and
verdict in ``X-Kyodaku-Decision-Id`` / ``X-Kyodaku-Verdict``; any other verdict answers the
usual JSON (nothing but a cleared output is signed).  A desk without a signing certificate
(``KYODAKU_C2PA_CERT`` / ``KYODAKU_C2PA_KEY``) answers 409, and a cleared output whose format
cannot carry a manifest 415; both after the screening, which is recorded as always, with
the screening's JSON (``decision_id``, ``verdict``, ...) and a ``detail``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kyodaku.guard.evidence import evidence_image
from kyodaku.guard.provenance import NotSignable, SigningKey, SigningKeyError, sign_screened
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


#: why a desk without its signing chain and key cannot sign
NO_SIGNING = ("this desk has no signing certificate: set KYODAKU_C2PA_CERT and KYODAKU_C2PA_KEY to return signed "
              "outputs (the screening was recorded; its verdict is in this answer)")


def signing_of(request: Request) -> SigningKey:
    """The desk's signing chain and key, loaded once (server mode checked them at startup);
    :class:`SigningKeyError` when none are configured or they do not load."""
    state = request.app.state
    signing = getattr(state, "signing", None)
    if signing is None:
        settings = state.settings
        if settings.c2pa_cert is None or settings.c2pa_key is None:
            raise SigningKeyError(NO_SIGNING)
        signing = state.signing = SigningKey.load(settings.c2pa_cert, settings.c2pa_key)
    return signing


def _signed_or_json(request: Request, result: Any, path: Any) -> Any:
    body = result.to_json()
    try:
        signing = signing_of(request)
    except SigningKeyError as exc:
        return JSONResponse({**body, "detail": str(exc)}, status_code=409)
    if result.verdict != "cleared":
        return body
    try:
        signed, mime = sign_screened(result, path.read_bytes(), signing)
    except NotSignable as exc:
        return JSONResponse({**body, "detail": f"{exc} (the screening was recorded)"}, status_code=415)
    return Response(signed, media_type=mime, headers={"X-Kyodaku-Decision-Id": str(result.decision_id),
                                                      "X-Kyodaku-Verdict": result.verdict,
                                                      "X-Kyodaku-Registry-Digest": str(result.registry_digest)})


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


@router.post("/output", responses={
    200: {"description": "the screening (JSON); with sign=true and a cleared verdict, the signed file itself",
          "content": {"application/json": {}, "image/png": {}, "image/jpeg": {}, "image/webp": {},
                      "video/mp4": {}}},
    409: {"description": "sign=true on a desk without a signing certificate (the screening is recorded)"},
    413: {"description": "over a size, pixel or duration limit"},
    415: {"description": "sign=true, cleared, but the format cannot carry a C2PA manifest (recorded)"},
    422: {"description": "not an image or video, truncated or undecodable"}})
async def screen_output(actor: ApiActor, request: Request, file: Annotated[UploadFile, File()],
                        prompt: Annotated[str | None, Form(max_length=MAX_PROMPT)] = None,
                        sign: Annotated[bool, Form()] = False) -> Any:
    """Screen a generated image or video (multipart ``file``, optional ``prompt``) for the
    desk's licensee, use ``generation``: the verdict ``kyodaku scan --use generation`` gives
    the same file, with the matched works and links to their evidence images.

    ``sign=true``: a cleared output is answered with the signed file (C2PA manifest: created
    by a trained algorithm, and the screening's decision id, verdict, registry digest and
    time), headers ``X-Kyodaku-Decision-Id`` and ``X-Kyodaku-Verdict``; other verdicts answer
    the JSON.  409 when the desk has no signing certificate, 415 when the format cannot
    carry a manifest; the screening is recorded either way."""
    actor.require("operator")
    guard = guard_of(request)
    limit = request.app.state.settings.max_upload_bytes

    def run() -> Any:
        with saved_upload(file, limit) as path:
            try:
                result = guard.screen_output(path, prompt or None, name=(file.filename or "upload")[:300])
            except ScreenRefused as exc:
                return _refused(exc)
            return _signed_or_json(request, result, path) if sign else result.to_json()

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
