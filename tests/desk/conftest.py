"""A desk on a real workspace: two holders (hoshi permits acme to train; kumo does not),
one work each, a recorded scan with copies of both, and one account per role."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kyodaku.desk import Actor, DeskService
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from tests import art

LICENSEE = "acme-video-ai"
PASSWORD = "correct horse battery"


class Clock:
    """An injected clock the tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Desk:
    service: DeskService
    clock: Clock
    hoshi: Actor
    kumo: Actor
    operator: Actor
    auditor: Actor
    scan_id: int
    corpus: Path
    workspace: object


@pytest.fixture
def desk(workspace, tmp_path) -> Desk:
    return build_desk(workspace, tmp_path)


def build_desk(workspace, tmp_path: Path) -> Desk:
    """The fixture's desk on any initialised workspace (module-scoped fixtures and the
    browser test build theirs with it)."""
    reg = workspace.registry
    art.register_artwork(workspace, tmp_path, 401, holder="hoshi")
    art.register_artwork(workspace, tmp_path, 402, holder="kumo")
    reg.grant_permit("hoshi", LICENSEE, "training", valid_from=date(2025, 1, 1), valid_until=date(2030, 12, 31))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    art.save(art.crop(art.artwork(401)), corpus / "hoshi_copy.png")
    art.save(art.crop(art.artwork(402)), corpus / "kumo_copy.png")
    art.save(art.jpeg(art.artwork(402)), corpus / "kumo_copy2.jpg")
    art.save(art.artwork(499), corpus / "clean.png")
    summary = scan_paths(workspace, [corpus], ScanOptions(LICENSEE, "training", date(2026, 6, 1), workers=0),
                         out=io.StringIO(), name="corpus-v1")
    # a Friday morning in Tokyo
    clock = Clock(datetime(2026, 6, 5, 1, 0, tzinfo=UTC))
    service = DeskService(workspace, licensee=LICENSEE, clock=clock, allow_private_webhooks=True)
    return Desk(
        service, clock,
        service.add_account("hoshi-staff", "holder", password=PASSWORD, holders=["hoshi"]),
        service.add_account("kumo-staff", "holder", password=PASSWORD, holders=["kumo"], email="k@example.org"),
        service.add_account("ops", "operator", password=PASSWORD),
        service.add_account("audit", "auditor", password=PASSWORD),
        summary.record_id, corpus, workspace,
    )
