"""C2PA: sign a cleared output with a certificate made here, verify it, tamper one byte,
verification fails."""

from __future__ import annotations

import io

from PIL import Image

from kyodaku.guard.provenance import TRAINED, sign_output, verify_output
from tests.guard.certs import chain


def test_sign_verify_and_one_tampered_byte_fails(tmp_path) -> None:
    chain_pem, key, root = chain()
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buf, "PNG")
    assertion = {"decision_id": 7, "verdict": "cleared", "registry_digest": "ab" * 32, "at": "2026-12-04T16:00:00Z"}
    signed = sign_output(buf.getvalue(), "png", assertion, cert_chain_pem=chain_pem, private_key_pem=key)
    out = tmp_path / "out.png"
    out.write_bytes(signed)
    ok = verify_output(out)
    assert ok.signature_valid and not ok.trusted, ok.problems
    assert ok.assertion == assertion and ok.digital_source_type == TRAINED
    bad = bytearray(signed)
    bad[len(bad) // 2] ^= 1
    out.write_bytes(bytes(bad))
    tampered = verify_output(out)
    assert not tampered.signature_valid and tampered.problems
    plain = tmp_path / "plain.png"
    plain.write_bytes(buf.getvalue())
    assert not verify_output(plain).signature_valid


def test_kyodaku_verify_checks_the_signature_and_the_recorded_decision(workspace, tmp_path) -> None:
    from typer.testing import CliRunner

    from kyodaku.cli.main import app
    from kyodaku.guard.screen import Guard

    decision = Guard(workspace, "acme-video-ai").screen_prompt("a quiet lake at dawn")
    assert decision.verdict == "cleared" and decision.registry_digest.startswith("sha256:")
    chain_pem, key, root = chain()
    (tmp_path / "root.pem").write_bytes(root)
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buf, "PNG")
    env = {"KYODAKU_HOME": None, "KYODAKU_DATABASE_URL": workspace.database_url, "KYODAKU_MODE": None,
           "KYODAKU_C2PA_TRUST_ANCHORS": str(tmp_path / "root.pem"), "COLUMNS": "200"}
    run = CliRunner()
    digest = decision.registry_digest
    for decision_id, verdict, code in ((decision.decision_id, "cleared", 0), (decision.decision_id, "blocked", 1),
                                       (10**6, "cleared", 1)):
        out = tmp_path / f"{decision_id}-{verdict}.png"
        out.write_bytes(sign_output(buf.getvalue(), "png", {"decision_id": decision_id, "verdict": verdict,
                                                            "registry_digest": digest},
                                    cert_chain_pem=chain_pem, private_key_pem=key))
        result = run.invoke(app, ["verify", str(out), "--home", str(workspace.home)], env=env)
        assert result.exit_code == code, result.output
    good = tmp_path / f"{decision.decision_id}-cleared.png"
    result = run.invoke(app, ["verify", str(good), "--home", str(workspace.home)],
                        env={**env, "KYODAKU_C2PA_TRUST_ANCHORS": None})
    assert result.exit_code == 1 and "not trusted: no trust anchors configured" in result.output, result.output
    assert "ok signature valid" in result.output and "ok registry digest" in result.output
