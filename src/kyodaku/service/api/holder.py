"""What rights holders do: file claims and disputes, ask inquiries, keep their catalog
and permits.  Every call acts only for the holders the key's account acts for."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, UploadFile
from pydantic import BaseModel, Field

from kyodaku.desk import catalog
from kyodaku.service.api.common import Id, permit_json, work_json
from kyodaku.service.deps import ApiActor, Desk
from kyodaku.service.uploads import saved_upload, saved_uploads

router = APIRouter(tags=["holder"])

Slug = Annotated[str | None, Field(default=None, max_length=100, description="Which of your holders (if several).")]
WorkIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=200)]
IdempotencyKey = Annotated[str | None, Header(max_length=100, description="Retries with the same key file once.")]


class ClaimIn(BaseModel):
    decision_id: int = Field(ge=1, le=2**31 - 1, description="A decision recorded by a scan or screening.")
    work_ids: WorkIds
    description: str = Field(default="", max_length=10_000)
    holder: Slug = None


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=10_000)


class InquiryIn(BaseModel):
    corpus: str = Field(min_length=1, max_length=300, description="A recorded scan's name or id.")
    work_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default=[], max_length=200)
    question: str = Field(default="", max_length=10_000)
    holder: Slug = None


class AliasesIn(BaseModel):
    aliases: list[Annotated[str, Field(max_length=500)]] = Field(max_length=200)


class KeywordSetIn(BaseModel):
    lang: str = Field(min_length=1, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
    keywords: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=1, max_length=12)


def _keyword_json(k: Any) -> dict[str, Any]:
    return {"id": k.id, "work_id": k.work_id, "holder": k.holder, "lang": k.lang, "keywords": list(k.keywords)}


class PermitIn(BaseModel):
    licensee: str = Field(min_length=1, max_length=200, pattern=r"\S")
    use: str = Field(pattern="^(training|generation)$")
    works: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=500, description="Work ids; omit for all of the holder's works.")
    valid_from: date
    valid_until: date | None = None
    holder: Slug = None


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    holder: Slug = None


@router.post("/claims", status_code=201)
def file_claim(body: ClaimIn, actor: ApiActor, service: Desk,
               idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    claim = service.file_claim(actor, work_ids=body.work_ids, description=body.description, holder=body.holder,
                               decision_id=body.decision_id, idempotency_key=idempotency_key)
    return claim.to_json(service.clock())


@router.post("/claims/upload", status_code=201)
def file_claim_upload(actor: ApiActor, service: Desk, file: Annotated[UploadFile, File()],
                      work_ids: Annotated[str, Form(min_length=1, max_length=5000, description="Comma-separated.")],
                      description: Annotated[str, Form(max_length=10_000)] = "",
                      holder: Annotated[str | None, Form(max_length=100)] = None,
                      idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    with saved_upload(file, getattr(service, "max_upload_bytes", None)) as path:
        claim = service.file_claim(actor, work_ids=work_ids.split(","), description=description, holder=holder,
                                   upload=path, upload_name=(file.filename or "upload")[:300],
                                   idempotency_key=idempotency_key)
    return claim.to_json(service.clock())


@router.post("/claims/{claim_id}/dispute")
def dispute(claim_id: Id, body: NoteIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return service.act(actor, claim_id, "dispute", body.note).to_json(service.clock())


@router.post("/inquiries", status_code=201)
def file_inquiry(body: InquiryIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return service.file_inquiry(actor, corpus=body.corpus, work_ids=body.work_ids, question=body.question,
                                holder=body.holder).to_json()


@router.post("/works", status_code=201)
def add_work(actor: ApiActor, service: Desk, title: Annotated[str, Form(min_length=1, max_length=500)],
             files: Annotated[list[UploadFile], File()],
             aliases: Annotated[str, Form(max_length=10_000, description="One per line; 'text@ja' sets the language.")] = "",
             holder: Annotated[str | None, Form(max_length=100)] = None) -> dict[str, Any]:
    with saved_uploads(files, getattr(service, "max_upload_bytes", None)) as paths:
        work = catalog.add_work(service, actor, title=title, files=paths, aliases=aliases.splitlines(), holder=holder)
    return work_json(work)


@router.put("/works/{work_id}/aliases")
def set_aliases(work_id: Annotated[str, Field(max_length=64)], body: AliasesIn, actor: ApiActor,
                service: Desk) -> dict[str, Any]:
    return work_json(catalog.set_aliases(service, actor, work_id, body.aliases))


@router.get("/works/{work_id}/keywords")
def list_keyword_sets(work_id: Annotated[str, Field(max_length=64)], actor: ApiActor,
                      service: Desk) -> list[dict[str, Any]]:
    return [_keyword_json(k) for k in catalog.list_keyword_sets(service, actor, work_id)]


@router.post("/works/{work_id}/keywords", status_code=201)
def add_keyword_set(work_id: Annotated[str, Field(max_length=64)], body: KeywordSetIn, actor: ApiActor,
                    service: Desk) -> dict[str, Any]:
    return _keyword_json(catalog.add_keyword_set(service, actor, work_id, body.lang, body.keywords))


@router.delete("/works/{work_id}/keywords/{set_id}")
def remove_keyword_set(work_id: Annotated[str, Field(max_length=64)], set_id: Id, actor: ApiActor,
                       service: Desk) -> dict[str, Any]:
    return _keyword_json(catalog.remove_keyword_set(service, actor, work_id, set_id))


@router.post("/permits", status_code=201)
def grant_permit(body: PermitIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return permit_json(catalog.grant_permit(service, actor, licensee=body.licensee, use=body.use,
                                            works=body.works if body.works else "*", valid_from=body.valid_from,
                                            valid_until=body.valid_until, holder=body.holder))


@router.post("/permits/{permit_id}/revoke")
def revoke_permit(permit_id: Id, body: NoteIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return permit_json(catalog.revoke_permit(service, actor, permit_id, body.note))


@router.post("/webhooks", status_code=201)
def add_webhook(body: WebhookIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    hook_id, secret = service.add_webhook(actor, body.url, holder=body.holder)
    return {"id": hook_id, "url": body.url, "secret": secret}
