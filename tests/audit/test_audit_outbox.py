"""The audit outbox: every registry change leaves its entry in the change's own
transaction, entries a crash left in the database reach the log exactly once, and
``verify`` checks every change in the database against the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kyodaku.audit import read_entries
from kyodaku.audit.coverage import verify_workspace
from kyodaku.audit.log import AuditLog, AuditLogError
from kyodaku.audit.outbox import AuditOutboxRow, drain_workspace, pending_count, record
from kyodaku.registry.models import PermitRow
from kyodaku.registry.sql import SqlRegistry
from kyodaku.workspace import Workspace


def log_path(ws: Workspace) -> Path:
    return ws.home / "audit" / "audit.jsonl"


def entries(ws: Workspace, kind: str | None = None) -> list[dict]:
    return [e for _, e in read_entries(log_path(ws)) if kind is None or e["kind"] == kind]


def undrained_registry(ws: Workspace) -> SqlRegistry:
    """A registry on the workspace's database that commits changes with their audit rows
    but never appends to the file (as a process killed right after its commit leaves it)."""
    return SqlRegistry(ws.engine)


def test_a_library_call_that_changes_the_registry_is_audited(workspace: Workspace) -> None:
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    reg.add_work("hoshi", "Akari", "image", work_id="w1", aliases=["あかり"])
    reg.set_aliases("w1", ["Akari", "あかり@ja"])
    p = reg.grant_permit("hoshi", "acme", "training", ["w1"], valid_from=date(2026, 1, 1),
                         valid_until=date(2026, 12, 31))
    reg.revoke_permit(p.id, "contract ended", by="ops@hoshi")
    r = reg.declare_reservation("hoshi", "generation")
    with reg.acting_as("desk-user"):
        reg.withdraw_reservation(r.id)
    got = [(e["kind"], e["data"].get("event"), e["data"]["by"]) for e in entries(workspace)]
    me = got[0][2]
    assert me.startswith("library:")
    assert got == [("holder", "added", me), ("work", None, me), ("aliases", None, me), ("permit", "granted", me),
                   ("permit", "revoked", "ops@hoshi"), ("reservation", "declared", me),
                   ("reservation", "withdrawn", "desk-user")]
    granted = entries(workspace, "permit")[0]["data"]
    assert (granted["licensee"], granted["scope"], granted["valid_until"]) == ("acme", "w1", "2026-12-31")
    assert pending_count(workspace.session) == 0
    report = verify_workspace(workspace)
    assert report.ok, str(report)
    assert report.changes_checked == 6  # holder, work, permit granted + revoked, reservation declared + withdrawn


def test_a_failed_change_leaves_no_entry(workspace: Workspace) -> None:
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    with pytest.raises(RuntimeError), reg.transaction():
        reg.add_holder("kumo", "Kumo", "JP")
        raise RuntimeError("the import failed half-way")
    assert [e["data"]["holder"] for e in entries(workspace, "holder")] == ["hoshi"]
    assert verify_workspace(workspace).ok


def test_rows_left_pending_are_appended_on_the_next_open_once(workspace: Workspace) -> None:
    workspace.registry.add_holder("hoshi", "Hoshi", "JP")
    crashed = undrained_registry(workspace)
    p = crashed.grant_permit("hoshi", "acme", "training", valid_from=date(2026, 1, 1))
    crashed.revoke_permit(p.id, "mistake")
    assert pending_count(workspace.session) == 2
    assert [e["kind"] for e in entries(workspace)] == ["holder"]
    # verify on the file alone cannot know; against the database it names both ...
    from kyodaku.audit import verify
    from kyodaku.audit.coverage import check_workspace

    report = check_workspace(workspace, verify(log_path(workspace)))
    assert not report.ok
    assert {p.kind for p in report.problems} == {"pending", "unaudited"}
    assert "permit 1 granted is in the database but has no entry" in str(report)
    # ... and the next open of the workspace appends them, once
    for _ in range(3):
        Workspace.open(workspace.home, workspace.database_url).dispose()
    assert [(e["kind"], e["data"].get("event")) for e in entries(workspace)] == \
        [("holder", "added"), ("permit", "granted"), ("permit", "revoked")]
    assert pending_count(workspace.session) == 0
    assert verify_workspace(workspace).ok


def _claim_like_a_drain_that_died(ws: Workspace, write: bool) -> list[int]:
    """Do what a drain does up to its crash: claim the pending rows (their seq and hash
    committed) and, with ``write``, append their entries to the file, but never mark them."""
    log = AuditLog.for_workspace(ws)
    with log.locked() as writer, ws.session() as s:
        rows = s.scalars(select(AuditOutboxRow).where(AuditOutboxRow.seq.is_(None)).order_by(AuditOutboxRow.id)).all()
        prepared = writer.prepare([(r.kind, r.data) for r in rows])
        for r, e in zip(rows, prepared, strict=True):
            r.seq, r.hash = e["seq"], e["hash"]
        if write:
            writer.write(prepared)
        return [r.id for r in rows]


@pytest.mark.parametrize("written", [True, False], ids=["after-the-append", "before-the-append"])
def test_a_drain_that_died_mid_way_is_settled_exactly_once(workspace: Workspace, written: bool) -> None:
    workspace.registry.add_holder("hoshi", "Hoshi", "JP")
    crashed = undrained_registry(workspace)
    for i in range(3):
        crashed.add_work("hoshi", f"work {i}", "image", work_id=f"w{i}")
    claimed = _claim_like_a_drain_that_died(workspace, write=written)
    assert len(claimed) == 3
    # a scan appends verdicts meanwhile (its own lock, straight to the file)
    AuditLog.for_workspace(workspace).append_many("verdict", [{"file": "a.png", "verdict": "cleared"}])
    assert drain_workspace(workspace) == (0 if written else 3)
    assert drain_workspace(workspace) == 0
    works = [e["data"]["work"] for e in entries(workspace, "work")]
    assert works == ["w0", "w1", "w2"]
    report = verify_workspace(workspace)
    assert report.ok, str(report)


def test_concurrent_drains_append_each_row_once(workspace: Workspace, tmp_path: Path) -> None:
    workspace.registry.add_holder("hoshi", "Hoshi", "JP")
    crashed = undrained_registry(workspace)
    for i in range(120):
        crashed.add_work("hoshi", f"work {i}", "image", work_id=f"w{i:03d}")
    script = ("import sys; from kyodaku.workspace import Workspace; from kyodaku.audit.outbox import drain_workspace;"
              "ws = Workspace(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None);"
              "print(drain_workspace(ws))")
    args = [sys.executable, "-c", script, str(workspace.home)] + ([workspace.database_url]
                                                                  if not workspace.is_sqlite else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert sum(int(o[0]) for o in outs) == 120
    works = [e["data"]["work"] for e in entries(workspace, "work")]
    assert works == [f"w{i:03d}" for i in range(120)]
    assert verify_workspace(workspace).ok


def test_verify_names_a_change_whose_entry_was_removed(workspace: Workspace) -> None:
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    reg.grant_permit("hoshi", "acme", "training", valid_from=date(2026, 1, 1))
    reg.grant_permit("hoshi", "beta", "training", valid_from=date(2026, 1, 1))
    reg.add_holder("kumo", "Kumo", "JP")
    lines = log_path(workspace).read_text().splitlines(keepends=True)
    assert json.loads(lines[1])["data"]["permit"] == 1
    log_path(workspace).write_text("".join(lines[:1] + lines[2:]))
    report = verify_workspace(workspace)
    text = str(report)
    assert "entry seq 1 is missing" in text
    assert "permit 1 granted (audit row 2): its entry seq 1 is missing from the log" in text
    assert "permit 1 granted is in the database but has no entry in the audit log" in text
    assert "permit 2" not in text


def test_verify_names_a_permit_changed_in_the_database_behind_the_log(workspace: Workspace) -> None:
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    p = reg.grant_permit("hoshi", "acme", "training", valid_from=date(2026, 1, 1), valid_until=date(2026, 3, 31))
    with workspace.session() as s:
        s.execute(update(PermitRow).where(PermitRow.id == p.id).values(licensee="mallory", valid_until=None))
    report = verify_workspace(workspace)
    assert [x.kind for x in report.problems] == ["mismatch"]
    assert "licensee 'mallory' (logged 'acme')" in str(report) and "valid_until None (logged '2026-03-31')" in str(report)


def test_a_log_cut_at_its_end_is_not_appended_to_and_the_change_stays_pending(workspace: Workspace) -> None:
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    reg.add_holder("kumo", "Kumo", "JP")
    lines = log_path(workspace).read_text().splitlines(keepends=True)
    log_path(workspace).write_text(lines[0])  # the last entry removed; the signed head still records it
    with pytest.raises(AuditLogError, match="entries were removed from its end"):
        AuditLog.for_workspace(workspace).append("scan", {"paths": []})
    reg.add_holder("sora", "Sora", "JP")  # committed; its entry waits in the database
    assert pending_count(workspace.session) == 1
    report = verify_workspace(workspace)
    kinds = {x.kind for x in report.problems}
    assert {"head", "pending", "unlogged", "unaudited"} <= kinds, str(report)
    assert "removed from its end" in str(report)  # why the pending entry could not be appended
    assert "holder 'kumo' is in the database but has no entry" in str(report)


def test_record_refuses_a_bad_kind(workspace: Workspace) -> None:
    with pytest.raises(ValueError), workspace.session() as s:
        record(s, "", {})
    with pytest.raises(TypeError), workspace.session() as s:
        record(s, "note", ["not", "a", "mapping"])  # type: ignore[arg-type]
    assert pending_count(workspace.session) == 0
