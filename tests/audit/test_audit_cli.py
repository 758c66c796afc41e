"""``kyodaku audit verify|show|key`` exit codes and output."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kyodaku.audit import AuditLog
from kyodaku.audit.keys import key_paths
from kyodaku.cli.main import app
from kyodaku.workspace import Workspace

ENV = {"COLUMNS": "250", "KYODAKU_HOME": None, "KYODAKU_DATABASE_URL": None, "KYODAKU_MODE": None}
runner = CliRunner()


def run(*args: str, code: int):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), env=ENV)
    assert result.exit_code == code, result.output
    return result


def test_audit_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws = Workspace.init(home)
    try:
        out = run("audit", "verify", "--home", str(home), code=1).output
        assert "no audit key" in out or "no audit log" in out

        key = run("audit", "key", "--home", str(home), code=0).output
        assert "-----BEGIN PUBLIC KEY-----" in key and "fingerprint SHA256:" in key
        assert "no audit log" in run("audit", "verify", "--home", str(home), code=1).output

        lg = AuditLog.for_workspace(ws)
        lg.append("scan", {"paths": ["x"]})
        lg.append_many("verdict", [{"file": f"f{i}.png", "verdict": "blocked" if i == 2 else "cleared"}
                                   for i in range(5)])
        out = run("audit", "verify", "--home", str(home), code=0).output
        assert "6 entries verified, chain intact, head seq 5" in out
        pub = key_paths(home)[1]
        assert "6 entries verified" in run("audit", "verify", "--home", str(home), "--public-key", str(pub),
                                           code=0).output

        shown = run("audit", "show", "--home", str(home), "--kind", "verdict", "--tail", "2", code=0).output
        assert "f4.png" in shown and "f3.png" in shown and "f2.png" not in shown and "scan" not in shown.split("\n", 1)[1]

        text = lg.path.read_text().splitlines(keepends=True)
        text[4] = text[4].replace("cleared", "blocked")
        text[1], text[2] = text[2], text[1]
        lg.path.write_text("".join(text))
        out = run("audit", "verify", "--home", str(home), code=1).output
        assert "entry seq 4 (line 5) was edited" in out
        assert "entries reordered at line 3" in out
    finally:
        ws.dispose()


def test_audit_verify_checks_the_database_against_the_log(tmp_path: Path) -> None:
    """On a workspace, verify names a change without its entry (here: a holder added
    before its entry reached the log, then its line removed); --file-only and an auditor's
    copy without a database check the file alone."""
    import shutil

    home = tmp_path / "home"
    ws = Workspace.init(home)
    try:
        ws.registry.add_holder("hoshi", "Hoshi", "JP")
        ws.registry.add_holder("kumo", "Kumo", "JP")
        out = run("audit", "verify", "--home", str(home), code=0).output
        assert "2 entries verified" in out and "all 2 changes in the database have their entries" in out
        log = home / "audit" / "audit.jsonl"
        auditor = tmp_path / "auditor" / "audit"
        auditor.mkdir(parents=True)
        for f in ("audit.jsonl", "HEAD.json"):
            shutil.copy(home / "audit" / f, auditor / f)
        log.write_text(log.read_text().splitlines(keepends=True)[0])  # kumo's entry cut from the end
        out = " ".join(run("audit", "verify", "--home", str(home), code=1).output.split())
        assert "holder 'kumo' is in the database but has no entry in the audit log" in out
        assert "missing from the end" in out
        assert "holder" not in run("audit", "verify", "--home", str(home), "--file-only", code=1).output
        out = run("audit", "verify", "--home", str(tmp_path / "auditor"), "--public-key", str(key_paths(home)[1]),
                  code=0).output
        assert "no workspace database" in out and "2 entries verified, chain intact" in out
    finally:
        ws.dispose()
