"""What the AI developer's compliance staff do: take claims through their steps, watch
deadlines, run notification delivery."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kyodaku.desk.lifecycle import ACTIONS
from kyodaku.service.api.common import Id
from kyodaku.service.deps import ApiActor, Desk

router = APIRouter(tags=["operator"])
OPERATOR_ACTIONS = sorted(a.name for a in ACTIONS.values() if a.role == "operator")


class ActionIn(BaseModel):
    action: str = Field(json_schema_extra={"enum": OPERATOR_ACTIONS}, pattern="^(" + "|".join(OPERATOR_ACTIONS) + ")$")
    note: str = Field(default="", max_length=10_000)


class BulkActionIn(ActionIn):
    claim_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=500)


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")


@router.post("/claims/{claim_id}/actions")
def act(claim_id: Id, body: ActionIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    actor.require("operator")
    return service.act(actor, claim_id, body.action, body.note).to_json(service.clock())


@router.post("/claims/actions")
def act_many(body: BulkActionIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    """One step on several claims: each moved and audited as a single action is; the
    answer lists, per claim, its new state or why it did not move."""
    actor.require("operator")
    now = service.clock()
    results = [{"claim": cid, "ok": True, "state": c.state, "claim_detail": c.to_json(now)} if c is not None else
               {"claim": cid, "ok": False, "error": why}
               for cid, c, why in service.act_many(actor, body.claim_ids, body.action, body.note)]
    return {"action": body.action, "moved": sum(r["ok"] for r in results), "results": results}


@router.get("/overdue")
def overdue(actor: ApiActor, service: Desk) -> list[dict[str, Any]]:
    actor.require("operator", "auditor")
    now = service.clock()
    return [c.to_json(now) for c in service.claims(actor, overdue=True)]


@router.post("/webhooks", status_code=201)
def add_webhook(body: WebhookIn, actor: ApiActor, service: Desk) -> dict[str, Any]:
    hook_id, secret = service.add_webhook(actor, body.url)
    return {"id": hook_id, "url": body.url, "secret": secret}


@router.post("/deliveries/run")
def run_deliveries(actor: ApiActor, service: Desk,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, int]:
    """Deliver due notifications now (``kyodaku desk deliver`` does the same from cron)."""
    actor.require("operator")
    return service.deliver(limit)
