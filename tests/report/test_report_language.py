"""``kyodaku report --lang ja`` (issue 23, item 8): the report's headings, verdict names,
match methods and reasons in Japanese, reasons from their message keys
(kyodaku.records.reasons); a reason of no known form (a decoder's error) stays as it was
stored. A real scan."""

from __future__ import annotations

import html as htmllib
import json
import re
from importlib import resources

import pytest
from typer.testing import CliRunner

from kyodaku.cli.main import app
from kyodaku.fingerprint.registry import all_methods
from kyodaku.records.reasons import match_reason
from kyodaku.report.collect import ReportError
from kyodaku.report.html import render_scan_report
from tests.report import scanned
from tests.report.htmltables import parse


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    s = scanned.scan(tmp_path_factory.mktemp("report-lang"))
    yield s
    s.workspace.dispose()


def _lines(results):
    return [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines()]


def test_a_japanese_report_says_known_reasons_in_japanese(scan):
    ja = render_scan_report(scan.workspace, scan.results, lang="ja", max_evidence=50)
    text = htmllib.unescape(ja)
    assert '<html lang="ja">' in ja
    page = parse(ja)
    totals = {r.cells[0]: int(r.cells[1]) for r in page.table("判定別のスキャン項目数")}
    assert set(totals) == {"ブロック", "要確認", "エラー", "使用可"}
    assert page.table("根拠：Kumo のブロック・要確認の項目（6 件中 6 件）")
    for english in ("Scanned items by verdict", "Rights holders", "Evidence: blocked", "Every item was read",
                    "could not be read; they are excluded", "Items per rights holder", "Best match score"):
        assert english not in text, english
    known = 0
    for line in _lines(scan.results):
        for m in line["matches"]:
            if m["verdict"] in ("blocked", "review") and match_reason(m)[0] != "reason_text":
                known += 1
                assert m["reason"] not in text, m["reason"]  # never the policy's English sentence
    assert known >= 6
    assert "許諾なし：acme-video-ai は kumo から" in text and "の学習の許諾を得ていません" in text
    # an item's own reason: the rights signal that reserved it
    assert "埋め込まれた権利表示による留保（x-robots-tag：X-Robots-Tag: noai）" in text
    assert "reserved by an embedded rights signal" not in text
    assert "権利者別の項目数。積み上げ棒グラフ" in text  # the charts' captions
    # a reason of no known form (the broken file's decoder error) is shown as it was stored
    broken = next(x for x in _lines(scan.results) if x["path"].endswith("broken.png"))
    assert broken["verdict"] == "error" and htmllib.escape(broken["reason"], quote=False) in ja
    # English stays as it was: the policy's sentences, the English headings
    en = htmllib.unescape(render_scan_report(scan.workspace, scan.results, max_evidence=50))
    assert '<html lang="en">' in en and "Scanned items by verdict" in en and "許諾なし" not in en
    assert any(m["reason"] in en for x in _lines(scan.results) for m in x["matches"] if m["verdict"] == "blocked")
    with pytest.raises(ReportError, match="unknown report language"):
        render_scan_report(scan.workspace, scan.results, lang="fr")


def test_report_command_takes_lang(scan, tmp_path):
    runner = CliRunner()
    out = tmp_path / "ja.html"
    r = runner.invoke(app, ["report", str(scan.results), "--out", str(out), "--lang", "ja",
                            "--home", str(scan.workspace.home)],
                      env={"KYODAKU_DATABASE_URL": scan.workspace.database_url})
    assert r.exit_code == 0, r.output
    assert '<html lang="ja">' in out.read_text(encoding="utf-8")
    r = runner.invoke(app, ["report", str(scan.results), "--out", str(out), "--lang", "fr",
                            "--home", str(scan.workspace.home)],
                      env={"KYODAKU_DATABASE_URL": scan.workspace.database_url})
    assert r.exit_code == 1 and "--lang fr" in r.output


def _report_words(lang):
    return json.loads(resources.files("kyodaku.report").joinpath(f"templates/words.{lang}.json").read_text("utf-8"))


def test_every_registered_method_has_a_name_in_both_languages():
    """The report's and the desk's (claim page) names of every fingerprint method."""
    names = set(all_methods())
    assert {"orb", "pdq", "video_frames", "appearance"} <= names
    for lang in ("en", "ja"):
        desk = json.loads(resources.files("kyodaku.service").joinpath(f"locales/{lang}.json").read_text("utf-8"))
        for name in names:
            assert _report_words(lang).get(f"method_{name}", "").strip(), (lang, name)
            assert desk.get(f"method_{name}") == _report_words(lang)[f"method_{name}"], (lang, name)
    assert all(_report_words("ja")[f"method_{n}"] != _report_words("en")[f"method_{n}"] for n in names)


def test_a_japanese_report_names_each_match_method_in_japanese(scan):
    """Each evidence row's method by its name in the report's language, its id beside it."""
    ja, en = (htmllib.unescape(render_scan_report(scan.workspace, scan.results, lang=lang, max_evidence=50))
              for lang in ("ja", "en"))
    words_ja, words_en = _report_words("ja"), _report_words("en")
    shown = re.findall(r"<p>方式：([^<（]*)（([^）<]*)）</p>", ja)
    assert shown and {i for _, i in shown} <= set(all_methods()), shown
    assert all(name == words_ja[f"method_{i}"] for name, i in shown), shown
    assert not re.search(r"<p>方式：[a-z_]+</p>", ja)  # never the id alone
    assert "method: " not in ja
    # the same rows in English, by the English names of the same methods
    assert re.findall(r"<p>method: ([^<(]*) \(([^)<]*)\)</p>", en) == [(words_en[f"method_{i}"], i) for _, i in shown]
    used = {m["method"] for x in _lines(scan.results) for m in x["matches"] if m["verdict"] in ("blocked", "review")}
    assert {i for _, i in shown} <= used
