"""Signed provenance wired into the guard (issue 20, item 4): a cleared output comes back
signed through ``POST /api/v1/screen/output`` (``sign=true``) and ``kyodaku screen
--signed-out``, ``kyodaku verify`` checks the signature, trust, the recorded decision and
its registry digest; a blocked output is never signed; a desk without a certificate says
so (409) and still records the screening; server mode refuses signing files that do not
load."""

from __future__ import annotations

import dataclasses
import io

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kyodaku.cli.main import app as cli
from kyodaku.guard.provenance import SigningKey, SigningKeyError, sign_screened, verify_output
from kyodaku.guard.screen import Guard
from kyodaku.records.store import Records
from kyodaku.service.app import create_app
from kyodaku.settings import Settings, SettingsError, load_settings
from tests import art
from tests.desk.conftest import LICENSEE, desk  # noqa: F401  (the fixture)
from tests.guard.certs import chain_files
from tests.service.conftest import web  # noqa: F401  (the fixture)

runner = CliRunner()


def _png(rgb) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


CLEAN = _png(art.artwork(499))
KUMO_COPY = _png(art.crop(art.artwork(402)))


def _env(workspace, certs=None, anchors=True) -> dict[str, str | None]:
    env: dict[str, str | None] = {"KYODAKU_HOME": None, "KYODAKU_DATABASE_URL": workspace.database_url,
                                  "KYODAKU_MODE": None, "KYODAKU_C2PA_CERT": None, "KYODAKU_C2PA_KEY": None,
                                  "KYODAKU_C2PA_TRUST_ANCHORS": None, "COLUMNS": "200"}
    if certs is not None:
        env["KYODAKU_C2PA_CERT"], env["KYODAKU_C2PA_KEY"] = str(certs.cert), str(certs.key)
        if anchors:
            env["KYODAKU_C2PA_TRUST_ANCHORS"] = str(certs.root)
    return env


def _verify(workspace, path, certs, anchors=True):
    return runner.invoke(cli, ["verify", str(path), "--home", str(workspace.home)],
                         env=_env(workspace, certs, anchors))


@pytest.fixture
def signing_web(desk, tmp_path):  # noqa: F811
    """The desk's app with a signing chain and key configured."""
    certs = chain_files(tmp_path / "certs")
    settings = Settings(home=desk.workspace.home, database_url=desk.workspace.database_url, licensee=LICENSEE,
                        delivery_interval=0, c2pa_cert=certs.cert, c2pa_key=certs.key)
    key = {"Authorization": f"Bearer {desk.service.add_api_key(desk.operator, 't')[1]}"}
    with TestClient(create_app(settings, workspace=desk.workspace, clock=desk.clock)) as client:
        yield client, key, certs, desk.workspace


def _screen(client, key, data: bytes, **form):
    return client.post("/api/v1/screen/output", headers=key, files={"file": ("out.png", data)},
                       data={"sign": "true", **form})


def test_a_cleared_output_comes_back_signed_and_verifies(signing_web, tmp_path) -> None:
    client, key, certs, ws = signing_web
    r = _screen(client, key, CLEAN, prompt="a quiet field")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png" and r.headers["x-kyodaku-verdict"] == "cleared"
    decision_id = int(r.headers["x-kyodaku-decision-id"])
    decision = Records(ws.session).decision(decision_id)
    assert decision.verdict == "cleared" and decision.line["registry_digest"].startswith("sha256:")
    out = tmp_path / "signed.png"
    out.write_bytes(r.content)
    v = verify_output(out, trust_anchors=certs.root.read_bytes())
    assert v.signature_valid and v.trusted, v.problems
    assert v.assertion["decision_id"] == decision_id and v.assertion["verdict"] == "cleared"
    assert v.assertion["registry_digest"] == decision.line["registry_digest"] and v.assertion["at"]
    ok = _verify(ws, out, certs)
    assert ok.exit_code == 0, ok.output
    for check in ("ok signature valid", "ok trusted", f"ok decision {decision_id} recorded as cleared",
                  "ok registry digest"):
        assert check in ok.output, ok.output
    # one byte tampered: the signature no longer holds
    bad = bytearray(r.content)
    bad[len(bad) // 2] ^= 1
    out.write_bytes(bytes(bad))
    tampered = _verify(ws, out, certs)
    assert tampered.exit_code == 1 and "FAIL signature invalid" in tampered.output, tampered.output


def test_a_blocked_output_is_never_signed(signing_web) -> None:
    client, key, _certs, ws = signing_web
    r = _screen(client, key, KUMO_COPY)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    body = r.json()
    assert body["verdict"] == "blocked" and "x-kyodaku-decision-id" not in r.headers
    assert Records(ws.session).decision(body["decision_id"]).verdict == "blocked"
    # and sign=false answers the JSON, cleared or not
    plain = client.post("/api/v1/screen/output", headers=key, files={"file": ("out.png", CLEAN)})
    assert plain.status_code == 200 and plain.json()["verdict"] == "cleared"
    assert plain.json()["registry_digest"].startswith("sha256:")
    # cleared, but BMP carries no manifest: 415, the screening recorded
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(art.artwork(499)).save(buf, "BMP")
    bmp = client.post("/api/v1/screen/output", headers=key, files={"file": ("out.bmp", buf.getvalue())},
                      data={"sign": "true"})
    assert bmp.status_code == 415 and bmp.json()["verdict"] == "cleared", bmp.text
    assert "cannot carry a C2PA manifest" in bmp.json()["detail"]
    assert Records(ws.session).decision(bmp.json()["decision_id"]).verdict == "cleared"


def test_sign_on_a_desk_without_a_certificate_is_409_and_still_recorded(web) -> None:  # noqa: F811
    r = web.client.post("/api/v1/screen/output", headers=web.api("operator"), files={"file": ("out.png", CLEAN)},
                        data={"sign": "true"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert "KYODAKU_C2PA_CERT" in body["detail"] and body["verdict"] == "cleared"
    assert Records(web.desk.workspace.session).decision(body["decision_id"]).verdict == "cleared"


def test_a_wrong_registry_digest_fails_verify(desk, tmp_path) -> None:  # noqa: F811
    ws = desk.workspace
    certs = chain_files(tmp_path / "certs")
    path = tmp_path / "clean.png"
    path.write_bytes(CLEAN)
    result = Guard(ws, LICENSEE).screen_output(path)
    assert result.verdict == "cleared"
    signing = SigningKey.load(certs.cert, certs.key)
    forged = dataclasses.replace(result, registry_digest="sha256:" + "0" * 64)
    out = tmp_path / "forged.png"
    out.write_bytes(sign_screened(forged, CLEAN, signing)[0])
    r = _verify(ws, out, certs)
    assert r.exit_code == 1 and "FAIL registry digest sha256:000" in r.output, r.output
    assert "ok signature valid" in r.output and "ok trusted" in r.output
    # a blocked screening cannot be signed at all
    copy = tmp_path / "kumo.png"
    copy.write_bytes(KUMO_COPY)
    with pytest.raises(ValueError, match="only a cleared output is signed"):
        sign_screened(Guard(ws, LICENSEE).screen_output(copy), KUMO_COPY, signing)


def test_kyodaku_screen_signed_out(desk, tmp_path) -> None:  # noqa: F811
    ws = desk.workspace
    certs = chain_files(tmp_path / "certs")
    clean, copy = tmp_path / "clean.png", tmp_path / "kumo.png"
    clean.write_bytes(CLEAN)
    copy.write_bytes(KUMO_COPY)
    out = tmp_path / "released.png"

    def screen(*args: str, certs_=certs):
        return runner.invoke(cli, ["screen", *args, "--licensee", LICENSEE, "--home", str(ws.home)],
                             env=_env(ws, certs_))

    r = screen(str(clean), "--signed-out", str(out))
    assert r.exit_code == 0 and f"signed: {out}" in r.output, r.output
    ok = _verify(ws, out, certs)
    assert ok.exit_code == 0, ok.output
    # an existing file is not overwritten without --force (refused before screening)
    before = out.read_bytes()
    again = screen(str(clean), "--signed-out", str(out))
    assert again.exit_code == 1 and "--force" in again.output and out.read_bytes() == before
    forced = screen(str(clean), "--signed-out", str(out), "--force")
    assert forced.exit_code == 0 and out.read_bytes() != before
    # a blocked output: exit 2, nothing written
    blocked = tmp_path / "blocked.png"
    r = screen(str(copy), "--signed-out", str(blocked))
    assert r.exit_code == 2 and "not signed: the verdict is blocked" in r.output and not blocked.exists()
    # without a certificate: a usage error, nothing screened
    r = screen(str(clean), "--signed-out", str(tmp_path / "x.png"), certs_=None)
    assert r.exit_code == 1 and "KYODAKU_C2PA_CERT" in r.output
    # verify without trust anchors: the other checks hold, the trust one does not
    untrusted = _verify(ws, out, certs, anchors=False)
    assert untrusted.exit_code == 1 and "not trusted: no trust anchors configured" in untrusted.output
    other = chain_files(tmp_path / "other")
    stranger = runner.invoke(cli, ["verify", str(out), "--trust-anchors", str(other.root), "--home", str(ws.home)],
                             env=_env(ws))
    assert stranger.exit_code == 1 and "chains to no trust anchor" in stranger.output, stranger.output


def test_server_mode_refuses_signing_files_that_do_not_load(tmp_path) -> None:
    certs = chain_files(tmp_path / "certs")
    other = chain_files(tmp_path / "other")
    base = {"home": tmp_path / "home", "mode": "server", "secret_key": "s" * 40, "allow_sqlite": True,
            "licensee": LICENSEE}
    assert load_settings(**base, c2pa_cert=certs.cert, c2pa_key=certs.key,
                         c2pa_trust_anchors=certs.root).c2pa_cert == certs.cert
    with pytest.raises(SettingsError, match="KYODAKU_C2PA_CERT=.*cannot be read"):
        load_settings(**base, c2pa_cert=tmp_path / "missing.pem", c2pa_key=certs.key)
    with pytest.raises(SettingsError, match="is not the key of the first certificate"):
        load_settings(**base, c2pa_cert=certs.cert, c2pa_key=other.key)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(SettingsError, match="no PEM certificates"):
        load_settings(**base, c2pa_cert=tmp_path / "junk.pem", c2pa_key=certs.key)
    with pytest.raises(SettingsError, match="KYODAKU_C2PA_TRUST_ANCHORS"):
        load_settings(**base, c2pa_trust_anchors=tmp_path / "junk.pem")
    with pytest.raises(SigningKeyError, match="KYODAKU_C2PA_KEY"):
        SigningKey.load(certs.cert, certs.cert)
    # local mode does not check at startup (kyodaku screen --signed-out does when it signs)
    assert load_settings(home=tmp_path / "home", c2pa_cert=tmp_path / "missing.pem", c2pa_key=certs.key)


def test_the_registry_digest_is_stable_and_follows_the_registry(desk) -> None:  # noqa: F811
    from datetime import date

    ws = desk.workspace
    guard = Guard(ws, LICENSEE, reload_every=0.0)
    first, second = guard.screen_prompt("a quiet field"), guard.screen_prompt("a quiet lake")
    assert first.registry_digest == second.registry_digest
    assert Records(ws.session).decision(first.decision_id).line["registry_digest"] == first.registry_digest
    ws.registry.grant_permit("kumo", LICENSEE, "generation", valid_from=date(2026, 1, 1))
    third = guard.screen_prompt("a quiet field")
    assert third.registry_digest != first.registry_digest and third.registry_digest.startswith("sha256:")
    ws.registry.add_keyword_set("w402", "en", ["harbour", "crane"])
    assert guard.screen_prompt("a quiet field").registry_digest != third.registry_digest
