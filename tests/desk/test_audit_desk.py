"""Every change made at the desk has its audit entry, committed with it: accounts, API
keys created and revoked, webhooks registered, claims and each step, inquiries, works,
aliases and permits; ``verify`` finds every one of them in the log."""

from __future__ import annotations

from datetime import date

from kyodaku.audit import read_entries
from kyodaku.audit.coverage import verify_workspace
from kyodaku.desk import catalog
from kyodaku.records.store import Records
from tests import art


def entries(desk, kind: str) -> list[dict]:
    return [e["data"] for _, e in read_entries(desk.workspace.home / "audit" / "audit.jsonl") if e["kind"] == kind]


def test_api_keys_created_and_revoked_are_audited(desk):
    svc = desk.service
    key_id, key = svc.add_api_key(desk.kumo, "ci")
    assert entries(desk, "api_key") == [{"api_key": key_id, "event": "created", "account": "kumo-staff",
                                         "prefix": key.split("_")[1], "label": "ci", "by": "kumo-staff"}]
    svc.revoke_api_key(desk.kumo, key_id)
    svc.revoke_api_key(desk.kumo, key_id)  # again: nothing changes, nothing more is logged
    assert [(e["api_key"], e["event"]) for e in entries(desk, "api_key")] == [(key_id, "created"), (key_id, "revoked")]
    assert key not in (desk.workspace.home / "audit" / "audit.jsonl").read_text()  # the key itself is never logged


def test_webhook_registration_is_audited_without_its_secret_or_credentials(desk):
    hook_id, secret = desk.service.add_webhook(desk.kumo, "https://hooks.example.org/kyodaku?token=s3cret#x")
    op_hook, _ = desk.service.add_webhook(desk.operator, "https://ops.example.org/in")
    assert entries(desk, "webhook") == [
        {"webhook": hook_id, "event": "registered", "holder": "kumo", "target": "https://hooks.example.org/kyodaku",
         "by": "kumo-staff"},
        {"webhook": op_hook, "event": "registered", "holder": None, "target": "https://ops.example.org/in",
         "by": "ops"}]
    text = (desk.workspace.home / "audit" / "audit.jsonl").read_text()
    assert secret not in text and "s3cret" not in text


def test_every_desk_change_is_in_the_log_and_verify_checks_each(desk, tmp_path):
    svc = desk.service
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0].id
    claim = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision, idempotency_key="k-1")
    svc.act(desk.operator, claim.id, "acknowledge")
    svc.act(desk.operator, claim.id, "start_review")
    svc.act(desk.operator, claim.id, "uphold", "a copy")
    svc.file_inquiry(desk.kumo, corpus="corpus-v1")
    ref = tmp_path / "new-ref.png"
    art.save(art.artwork(411), ref)
    work = catalog.add_work(svc, desk.kumo, title="New work", files=[ref])
    catalog.set_aliases(svc, desk.kumo, work.work_id, ["Shin@ja"])
    permit = catalog.grant_permit(svc, desk.kumo, licensee="acme-video-ai", use="generation", works=[work.work_id],
                                  valid_from=date(2026, 6, 1))
    catalog.revoke_permit(svc, desk.kumo, permit.id, "ended")
    svc.add_webhook(desk.kumo, "https://hooks.example.org/k")
    svc.add_api_key(desk.hoshi, "x")

    steps = [(c["claim"], c.get("from"), c["to"], c["by"]) for c in entries(desk, "claim")]
    assert steps == [(claim.id, None, "filed", "kumo-staff"), (claim.id, "filed", "acknowledged", "ops"),
                     (claim.id, "acknowledged", "under_review", "ops"), (claim.id, "under_review", "upheld", "ops")]
    assert [w["by"] for w in entries(desk, "work") if w["work"] == work.work_id] == ["kumo-staff"]
    assert entries(desk, "aliases")[-1] == {"work": work.work_id, "holder": "kumo", "aliases": ["Shin"],
                                            "by": "kumo-staff"}
    assert [(p["permit"], p["event"], p["by"]) for p in entries(desk, "permit")][-2:] == \
        [(permit.id, "granted", "kumo-staff"), (permit.id, "revoked", "kumo-staff")]
    assert {a["username"] for a in entries(desk, "account")} == {"hoshi-staff", "kumo-staff", "ops", "audit"}
    assert len(entries(desk, "inquiry")) == 1
    # the retry of a filed claim returns it and logs nothing more
    assert svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision, idempotency_key="k-1").id == claim.id
    assert len(entries(desk, "claim")) == 4

    report = verify_workspace(desk.workspace)
    assert report.ok, str(report)
    # holders 2, works 3, permits 2 + 1 revoked, accounts 4, API keys 1, webhooks 1, claim events 4, inquiry 1
    assert report.changes_checked == 2 + 3 + 3 + 4 + 1 + 1 + 4 + 1


def test_verify_names_a_claim_step_whose_entry_was_removed(desk):
    svc = desk.service
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0].id
    claim = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision)
    svc.act(desk.operator, claim.id, "acknowledge")
    path = desk.workspace.home / "audit" / "audit.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    (gone,) = [i for i, line in enumerate(lines) if '"action":"acknowledge"' in line]
    path.write_text("".join(lines[:gone] + lines[gone + 1:]))
    text = str(verify_workspace(desk.workspace))
    assert f"entry seq {gone} is missing" in text
    assert f"claim {claim.id} filed -> acknowledged (claim event" in text and "has no entry in the audit log" in text
    assert f"claim {claim.id} (acknowledge -> acknowledged)" in text
