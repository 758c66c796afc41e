"""``kyodaku check-text`` and the caption flags of ``kyodaku check``, as a user runs them."""

from __future__ import annotations

import json
from datetime import date

import cv2
import webdataset as wds
from typer.testing import CliRunner

from kyodaku.cli.main import app
from kyodaku.registry import Alias
from tests import art

runner = CliRunner()


def _run(workspace, *args: str):
    return runner.invoke(app, [*args, "--home", str(workspace.home)],
                         env={"KYODAKU_DATABASE_URL": workspace.database_url, "COLUMNS": "200"})


def _registry(workspace):
    reg = workspace.registry
    reg.add_holder("kumo", "Manga Kumo", "JP")
    reg.add_holder("hoshi", "Studio Hoshi", "JP")
    reg.add_work("kumo", "Hoshizora Tantei", "image", work_id="w1", aliases=[Alias("星空探偵", "ja")])
    reg.add_work("hoshi", "Kumo no Shiro", "image", work_id="w2", aliases=[Alias("雲の城", "ja")])
    reg.grant_permit("hoshi", "acme", "training", valid_from=date(2025, 1, 1))


def test_check_text_flags_an_unpermitted_work_and_style(workspace):
    _registry(workspace)
    r = _run(workspace, "check-text", "星空探偵っぽいイラスト", "--licensee", "acme", "--on", "2026-06-01")
    assert r.exit_code == 3, r.output
    assert "REVIEW" in r.output and "w1" in r.output and "asks_style" in r.output and "星空探偵" in r.output
    # what it found leads, in the text's words, not the image scan's ("the registry said: no registered work ...")
    said = " ".join(r.output.split())
    assert said.startswith("REVIEW: the text asks for the style of w1 'Hoshizora Tantei' (holder kumo) ('星空探偵'), "
                           "so it goes to review: no permit of acme for training covers all its works"), said
    assert "registered work matched" not in said and "the registry said" not in said
    r = _run(workspace, "check-text", "Kumo no Shiro poster", "--licensee", "acme", "--on", "2026-06-01")
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert said.startswith("CLEARED: the text names w2 'Kumo no Shiro' (holder hoshi); permit 1 (hoshi -> acme, "
                           "training, valid 2025-01-01..open) covers it"), said
    assert "no registered work matched" not in said
    r = _run(workspace, "check-text", "Kumo no Shiro poster", "--licensee", "acme", "--on", "2026-06-01", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert result["verdict"] == "cleared" and result["captions"][0]["work_id"] == "w2"
    assert result["captions"][0]["permit_id"] is not None
    # the JSON gives the reason a person reads (not the image scan's "no registered work matched")
    assert result["reason"] == "the text names w2 'Kumo no Shiro' (holder hoshi); permit 1 (hoshi -> acme, " \
                               "training, valid 2025-01-01..open) covers it"
    assert result["explanation"][0] == result["reason"] and result["reason_key"] == "caption_permit"
    assert said.startswith("CLEARED: " + result["reason"])
    r = _run(workspace, "check-text", "a cat on a sofa", "--licensee", "acme")
    assert r.exit_code == 0 and "CLEARED: the text names no registered work or holder" in r.output
    r = _run(workspace, "check-text", "x", "--licensee", "acme", "--use", "selling")
    assert r.exit_code == 1 and "--use" in r.output


def test_check_shows_caption_flags(workspace, tmp_path):
    _registry(workspace)
    shard = tmp_path / "one.tar"
    png = cv2.imencode(".png", art.artwork(5)[:, :, ::-1].copy())[1].tobytes()
    with wds.TarWriter(str(shard)) as sink:
        sink.write({"__key__": "k1", "png": png, "txt": "fan art of Hoshizora Tantei"})
    r = _run(workspace, "check", str(shard), "--licensee", "acme", "--on", "2026-06-01")
    assert r.exit_code == 3, r.output
    assert "named in the caption" in r.output and "Hoshizora Tantei" in r.output and "names_work" in r.output


def test_check_text_json_carries_the_reason_a_person_reads(workspace):
    _registry(workspace)
    for text, code, key in (("星空探偵っぽいイラスト", 3, "caption_no_permit"), ("a cat on a sofa", 0, "text_no_match")):
        human = _run(workspace, "check-text", text, "--licensee", "acme", "--on", "2026-06-01")
        r = _run(workspace, "check-text", text, "--licensee", "acme", "--on", "2026-06-01", "--json")
        assert r.exit_code == human.exit_code == code, r.output
        result = json.loads(r.output)
        assert list(result)[:4] == ["text", "verdict", "reason", "captions"]  # the keys it always had
        lines = [" ".join(x.split()) for x in human.output.splitlines() if x.strip()]
        assert lines[0] == f"{result['verdict'].upper()}: {result['reason']}"
        assert result["explanation"][0] == result["reason"] and result["reason_key"] == key
        assert "the registry said" not in r.output and "no registered work matched" not in result["reason"]
        for caption in result["captions"]:
            assert "registry said" not in caption["reason"]
