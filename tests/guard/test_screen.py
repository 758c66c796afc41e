"""The guard on a real workspace: the scan's verdict for the same file, reloads when the
registry changes, records every screening, refuses what it cannot screen."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kyodaku.guard.screen import Guard, ScreenRefused, prompt_digest
from kyodaku.records.store import Records, weekly_screen_counts
from kyodaku.scan.pipeline import ScanOptions, check_file
from tests import art

LICENSEE = "acme-video-ai"
NOW = datetime(2026, 6, 5, 1, 0, tzinfo=UTC)


@pytest.fixture
def guarded(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 401, holder="hoshi")
    art.register_artwork(workspace, tmp_path, 402, holder="kumo")
    guard = Guard(workspace, LICENSEE, clock=lambda: NOW, reload_every=0.0)
    return workspace, guard, tmp_path


def _copy(tmp_path: Path, seed: int, name: str) -> Path:
    p = tmp_path / name
    art.save(art.crop(art.artwork(seed)), p)
    return p


def test_an_output_gets_the_scans_generation_verdict(guarded) -> None:
    ws, guard, tmp = guarded
    for path in (_copy(tmp, 401, "copy.png"), tmp / "clean.png"):
        if not path.exists():
            art.save(art.artwork(499), path)
        screened = guard.screen_output(path)
        scanned = check_file(ws, path, ScanOptions(LICENSEE, "generation", NOW.date(), workers=0, cache=False))
        assert screened.verdict == scanned["verdict"]
        assert [w.work_id for w in screened.works] == [m["work_id"] for m in scanned["matches"]]
    copy = guard.screen_output(tmp / "copy.png")
    assert copy.verdict == "blocked" and copy.works[0].holder == "hoshi" and copy.works[0].evidence_url


def test_a_permit_granted_and_revoked_changes_the_next_verdict(guarded) -> None:
    ws, guard, tmp = guarded
    copy = _copy(tmp, 402, "kumo.png")
    assert guard.screen_output(copy).verdict == "blocked"
    permit = ws.registry.grant_permit("kumo", LICENSEE, "generation", valid_from=date(2026, 1, 1))
    cleared = guard.screen_output(copy)
    assert cleared.verdict == "cleared" and cleared.works[0].permit_id == permit.id
    ws.registry.revoke_permit(permit.id, "ended", at=datetime(2026, 6, 4, tzinfo=UTC))
    assert guard.screen_output(copy).verdict == "blocked"


def test_a_new_work_is_matched_without_a_restart(guarded) -> None:
    ws, guard, tmp = guarded
    copy = _copy(tmp, 403, "new.png")
    assert guard.screen_output(copy).verdict == "cleared"
    art.register_artwork(ws, tmp, 403, holder="kumo")
    again = guard.screen_output(copy)
    assert again.verdict == "blocked" and again.works[0].work_id == "w403"


def test_every_screening_is_a_recorded_decision_with_its_audit_entry(guarded) -> None:
    ws, guard, tmp = guarded
    blocked = guard.screen_output(_copy(tmp, 401, "copy.png"), prompt="a cat in hoshi style")
    art.save(art.artwork(499), tmp / "clean.png")
    clean = guard.screen_output(tmp / "clean.png")
    records = Records(ws.session)
    row = records.decision(blocked.decision_id)
    assert row.source == "screen" and row.verdict == "blocked"
    assert row.line["prompt_sha256"] == prompt_digest("a cat in hoshi style")
    assert "prompt" not in row.line  # hashed, not kept (KYODAKU_SCREEN_KEEP_PROMPTS off)
    assert records.decision(clean.decision_id).verdict == "cleared"
    scan = records.scans("screen 2026-06")[0]
    assert scan.use == "generation" and scan.totals["files"] == 2
    log = (ws.home / "audit").glob("*.jsonl")
    kinds = [json.loads(x)["kind"] for f in log for x in f.read_text().splitlines()]
    assert kinds.count("screen") == 2
    counts = weekly_screen_counts(ws.session, ["hoshi"], datetime(2026, 5, 1, tzinfo=UTC))
    assert counts == [{"week": "2026-W23", "holder": "hoshi", "work_id": "w401", "blocked": 1, "review": 0,
                       "cleared_by_permit": 0, "cleared": 0}]


def test_prompts_are_kept_when_the_setting_says_so(workspace, tmp_path) -> None:
    guard = Guard(workspace, LICENSEE, clock=lambda: NOW, keep_prompts=True)
    art.save(art.artwork(499), tmp_path / "clean.png")
    result = guard.screen_output(tmp_path / "clean.png", prompt="a quiet harbour")
    assert Records(workspace.session).decision(result.decision_id).line["prompt"] == "a quiet harbour"


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_what_cannot_be_read_is_an_error_never_a_clear(guarded, content: bytes) -> None:
    ws, guard, _tmp = guarded
    with pytest.raises(ScreenRefused) as err:
        guard.screen_output(content)
    assert err.value.status == 422 and err.value.result is not None
    assert Records(ws.session).decision(err.value.result.decision_id).verdict == "error"


def test_a_truncated_image_is_an_error(guarded) -> None:
    _ws, guard, tmp = guarded
    buf = io.BytesIO()
    from PIL import Image

    Image.fromarray(art.artwork(401)).save(buf, "PNG")
    with pytest.raises(ScreenRefused):
        guard.screen_output(buf.getvalue()[: len(buf.getvalue()) // 3])


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(workspace, tmp_path) -> None:
    guard = Guard(workspace, LICENSEE, clock=lambda: NOW, max_pixels=100 * 100)
    art.save(art.artwork(499), tmp_path / "big.png")
    with pytest.raises(ScreenRefused) as err:
        guard.screen_output(tmp_path / "big.png")
    assert err.value.status == 413 and "KYODAKU_SCREEN_MAX_PIXELS" in str(err.value)


def test_the_guard_checks_for_changes_at_most_every_interval(guarded) -> None:
    ws, _guard, tmp = guarded
    guard = Guard(ws, LICENSEE, clock=lambda: NOW, reload_every=3600.0)
    copy = _copy(tmp, 402, "kumo.png")
    assert guard.screen_output(copy).verdict == "blocked"
    ws.registry.grant_permit("kumo", LICENSEE, "generation", valid_from=date(2026, 1, 1))
    assert guard.screen_output(copy).verdict == "blocked"  # not checked again yet
    guard.reload()
    assert guard.screen_output(copy).verdict == "cleared"


def test_background_drain_commits_the_entry_before_the_answer_and_logs_it_after(guarded) -> None:
    """kyodaku serve's guard appends audit entries to the file log off the request path:
    the decision and its outbox entry are committed when the screening returns; a flush
    (or the drain thread, milliseconds later) puts every one in the signed log."""
    from sqlalchemy import select

    from kyodaku.audit.log import AuditLog, verify
    from kyodaku.audit.outbox import AuditOutboxRow

    ws, _guard, _tmp = guarded
    guard = Guard(ws, LICENSEE, clock=lambda: NOW, background_drain=True)
    ids = [guard.screen_prompt(f"a quiet lake, take {i}").decision_id for i in range(5)]
    with ws.session() as s:
        committed = [r.data["decision"] for r in s.scalars(select(AuditOutboxRow)
                                                          .where(AuditOutboxRow.kind == "screen"))]
    assert sorted(committed) == sorted(ids)  # durable before the file log has them
    assert guard.flush_audit()
    with ws.session() as s:
        assert all(s.scalars(select(AuditOutboxRow.logged).where(AuditOutboxRow.kind == "screen")))
    log = AuditLog.for_workspace(ws)
    logged = [json.loads(x)["data"]["decision"] for f in (ws.home / "audit").glob("*.jsonl")
              for x in f.read_text().splitlines() if json.loads(x)["kind"] == "screen"]
    assert sorted(logged) == sorted(ids)
    assert verify(log.path).ok
    guard.close()


def test_a_prompt_with_a_works_keyword_set_is_review_with_a_rewrite(guarded) -> None:
    ws, guard, _tmp = guarded
    ws.registry.add_keyword_set("w402", "en", ["harbour", "crane"])
    hit = guard.screen_prompt("a red crane over the harbour at dusk, oil painting", "blurry")
    assert hit.verdict == "review" and "w402" in str(hit.reason)
    assert [(k["work_id"], k["holder"], k["verdict"]) for k in hit.keywords] == [("w402", "kumo", "review")]
    assert hit.rewrite and "crane" not in hit.rewrite["prompt"] and "harbour" not in hit.rewrite["prompt"]
    assert "crane" in hit.rewrite["negative_prompt"] and "blurry" in hit.rewrite["negative_prompt"]
    line = Records(ws.session).decision(hit.decision_id).line
    assert line["keywords"][0]["work_id"] == "w402" and "matched" not in line["keywords"][0]  # prompt not kept
    # the negative prompt is never a hit; one keyword of the set is not enough
    assert guard.screen_prompt("a quiet field", "harbour, crane").verdict == "cleared"
    assert guard.screen_prompt("a harbour at dawn").verdict == "cleared"
    # a generation permit of the holder clears it (the hit is still reported, with the permit)
    permit = ws.registry.grant_permit("kumo", LICENSEE, "generation", valid_from=date(2026, 1, 1))
    ok = guard.screen_prompt("a red crane over the harbour at dusk")
    assert ok.verdict == "cleared" and ok.rewrite is None and ok.keywords[0]["permit_id"] == permit.id
