"""Read-only reports for auditors (operators may read them too)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kyodaku.desk.report import claims_log, corpus_report
from kyodaku.service.api.common import Id
from kyodaku.service.deps import ApiActor, Desk

router = APIRouter(tags=["auditor"])


@router.get("/scans")
def scans(actor: ApiActor, service: Desk) -> list[dict[str, Any]]:
    actor.require("auditor", "operator")
    return [{"id": s.id, "name": s.name, "licensee": s.licensee, "use": s.use, "scan_date": s.on.isoformat(),
             "started_at": s.started_at.isoformat(), "finished_at": s.finished_at.isoformat() if s.finished_at else None,
             "totals": s.totals} for s in service.records.scans()]


@router.get("/scans/{scan_id}/report")
def scan_report(scan_id: Id, actor: ApiActor, service: Desk) -> dict[str, Any]:
    return corpus_report(service, actor, scan_id)


@router.get("/claims-log")
def claims(actor: ApiActor, service: Desk) -> dict[str, Any]:
    return claims_log(service, actor)
