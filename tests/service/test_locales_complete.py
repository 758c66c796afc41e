"""Every string on a page in its language (issue 23, item 8): every reason key the code
can emit has a text in both locales (collected from the code that emits them, not a copy
here), the texts of a caption's reasons take the parameters caption_reason gives, and a
claim whose verdict a caption gave shows that reason in the page's language; the report's
own words exist in both languages, a validation 422 is said from its pydantic error types
in the page's (or API caller's) language while the API keeps its ``detail`` list, and the
claim page's evidence labels are translated."""

from __future__ import annotations

import ast
import csv
import html
import inspect
import io
import json
import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, get_args

import cv2
import pytest
import webdataset as wds
from pydantic import AfterValidator, BaseModel, ValidationError, field_validator

import kyodaku.cli.explain
import kyodaku.records.reasons
from kyodaku.desk import storage
from kyodaku.policy import Policy, RegistryView
from kyodaku.policy.decide import Verdict
from kyodaku.records.reasons import CAPTION_KEYS, caption_reason, evidence_reasons
from kyodaku.records.store import Records
from kyodaku.registry import Alias
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.service.pages import translator
from kyodaku.service.refusals import INVALID_KEYS, invalid_input
from tests import art
from tests.policy.test_policy_decide import JURISDICTIONS, ON, permit, reservation
from tests.service.conftest import LICENSEE, csrf_of

_KEY = re.compile(r"^(?:reason|caption|text)_[a-z_]*[a-z]$")


def _locale(lang: str) -> dict[str, str]:
    return json.loads(resources.files("kyodaku.service").joinpath(f"locales/{lang}.json").read_text("utf-8"))


def _words(lang: str) -> dict[str, str]:
    return json.loads(resources.files("kyodaku.report").joinpath(f"templates/words.{lang}.json").read_text("utf-8"))


def _emitted(module: object) -> set[str]:
    """The message keys a module's code returns: its key-shaped string constants, and its
    f-strings of a constant prefix and one value (``f"reason_no_permit_{verdict}"``),
    expanded over the values the ``if`` around them allows (``verdict in ("blocked",
    "review")``), else over every verdict and ``error``."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    keys = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and _KEY.match(n.value) and not hasattr(module, n.value)}  # not a name in __all__
    allowed: dict[int, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            tuples = [c.comparators[0] for c in ast.walk(node.test) if isinstance(c, ast.Compare)
                      and isinstance(c.ops[0], ast.In) and isinstance(c.comparators[0], ast.Tuple)]
            if tuples:
                values = tuple(str(e.value) for e in tuples[0].elts if isinstance(e, ast.Constant))
                allowed.update({id(n): values for stmt in node.body for n in ast.walk(stmt)})
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and len(node.values) == 2 and isinstance(node.values[0], ast.Constant):
            prefix = str(node.values[0].value)
            if prefix.endswith("_") and _KEY.match(prefix.rstrip("_")):
                keys |= {prefix + v for v in allowed.get(id(node), (*get_args(Verdict), "error"))}
    return keys


def test_every_reason_key_the_code_can_emit_has_a_text_in_en_and_ja():
    emitted = _emitted(kyodaku.records.reasons) | _emitted(kyodaku.cli.explain)
    # what the scan of the code found: the keys every page, the report and check-text use
    assert {"reason_no_permit_blocked", "reason_reserved_review", "reason_other_error", "reason_text",
            "caption_no_permit", "caption_reserved", "caption_permit", "caption_not_reserved",
            "caption_recorded_only", "text_no_match"} <= emitted
    refusals = set(storage.MESSAGES) | {f"media_cause_{name}" for name, _ in storage._CAUSES} | {"media_cause_other"}
    en, ja = _locale("en"), _locale("ja")
    for key in sorted(emitted | refusals | set(INVALID_KEYS.values()) | {"invalid_other", "field_body"}):
        assert en.get(key, "").strip(), f"{key}: no English text"
        assert ja.get(key, "").strip(), f"{key}: no Japanese text"


def test_the_desks_locales_have_the_same_keys_and_every_report_word_is_in_japanese():
    assert set(_locale("en")) == set(_locale("ja"))
    # the report's English words of values (verdicts, uses) are the values themselves
    assert set(_words("en")) <= set(_words("ja"))
    # every text says something (a separator at least a space: ja's refusal_sep is one)
    assert all(v for lang in ("en", "ja") for v in (*_locale(lang).values(), *_words(lang).values()))


def _caption(holder="jp-studio", work_id="w0003", kind="names_work"):  # type: ignore[no-untyped-def]
    return {"work_id": work_id, "holder": holder, "alias": "星空探偵", "text": "星空探偵", "kind": kind,
            "score": 1.0, "field": "caption"}


def test_each_captions_reason_as_the_policy_words_it_is_said_in_both_languages():
    """The policy's own wording of every caption outcome, read back as a key and its
    parameters (records.reasons.caption_reason), said from the locales without a gap."""
    cases = {
        "caption_no_permit": ([_caption()], (), ()),
        "caption_permit": ([_caption()], [permit(works=("w0003",))], ()),
        "caption_not_reserved": ([_caption("us-studio")], (), ()),
        "caption_reserved": ([_caption("us-studio")], (), [reservation()]),
        "caption_recorded_only": ([_caption(work_id=None, kind="names_holder")], (), ()),
    }
    style = _caption(work_id=None, kind="asks_style")
    en, ja = translator("en"), translator("ja")
    for want, (captions, permits, reservations) in {**cases, "style": ([style], (), ())}.items():
        view = RegistryView(tuple(permits), tuple(reservations), JURISDICTIONS)
        [judged] = Policy.load().decide([], licensee="acme", use="training", on=ON, registry_view=view,
                                        captions=captions).captions
        key, params = caption_reason(judged.to_json())
        assert key == ("caption_no_permit" if want == "style" else want), (want, judged.reason)
        said_en = en(key, **params)
        said_ja = ja(key, **{**params, "use": ja("use_training")})
        assert "{" not in said_en and "{" not in said_ja
        assert params["target"] in said_en and params["target"] in said_ja
        assert said_ja != said_en and "the text" not in said_ja and "テキストが" in said_ja
        if key in ("caption_no_permit", "caption_reserved"):
            assert "acme は" in said_ja and "学習の許諾を得ていません" in said_ja
        if key == "caption_permit":
            assert f"許諾 {params['permit']} により使用可" in said_ja


def test_validation_errors_are_said_from_their_type_not_their_english():
    errors = [{"type": "string_too_long", "loc": ("body", "title"), "msg": "String should have at most 500 characters",
               "input": "x" * 501, "ctx": {"max_length": 500}},
              {"type": "int_parsing", "loc": ("path", "inquiry_id"), "msg": "…", "input": "abc"},
              {"type": "missing", "loc": ("body", "work_ids"), "msg": "Field required", "input": None},
              {"type": "int_parsing", "loc": ("body", "claim_ids", 1), "msg": "…", "input": "x"},
              {"type": "json_invalid", "loc": ("body", 7), "msg": "JSON decode error", "ctx": {"error": "x"}},
              {"type": "something_new", "loc": ("query", "q"), "msg": "Input is odd"}]
    assert invalid_input(translator("ja"), errors) == [
        "題名：500 文字以内で入力してください。", "照会番号：「abc」は整数ではありません。",
        "作品：入力してください（必須の項目です）。", "申立て (2)：「x」は整数ではありません。",
        "送信内容を JSON として読み取れません。", "q：使えない値です（Input is odd）。"]
    assert invalid_input(translator("en"), errors)[:3] == [
        "Title: at most 500 characters.", "Inquiry number: “abc” is not a whole number.",
        "Works: this field is required."]


def test_a_form_the_desk_cannot_read_comes_back_in_the_pages_language(web):
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    page = b.get("/inquiries")
    r = b.post("/inquiries", data={"csrf_token": csrf_of(page.text), "corpus": "c" * 301, "question": "?"})
    assert r.status_code == 422, r.text
    assert '<html lang="ja">' in r.text and "コーパスまたはスキャン：300 文字以内で入力してください。" in r.text
    assert "String should have" not in r.text
    r = b.get("/inquiries/abc")
    assert r.status_code == 422 and "照会番号：「abc」は整数ではありません。" in r.text
    assert "valid integer" not in r.text
    r = b.post("/works", data={"csrf_token": csrf_of(b.get("/works").text)})
    assert r.status_code == 422 and "題名：入力してください（必須の項目です）。" in r.text
    assert "Field required" not in r.text
    b.get("/lang/en")
    r = b.get("/inquiries/abc")
    assert r.status_code == 422 and "Inquiry number: “abc” is not a whole number." in html.unescape(r.text)


@pytest.mark.parametrize("how", [{"params": {"lang": "ja"}}, {"headers": {"Accept-Language": "ja,en;q=0.5"}}],
                         ids=["query", "accept-language"])
def test_an_api_422_keeps_its_detail_list_and_adds_the_message_in_the_callers_language(web, how):
    headers = {**web.api("kumo"), **how.get("headers", {})}
    r = web.client.get("/api/v1/claims", params={"min_score": 2, **how.get("params", {})}, headers=headers)
    assert r.status_code == 422, r.text
    body = r.json()
    [err] = body["detail"]
    assert err["loc"] == ["query", "min_score"] and err["type"] == "less_than_equal" and err["msg"]
    assert err["message"] == body["message"] and body["message"].startswith("最低スコア：1")
    assert body["message"].endswith("以下の値にしてください。")
    english = web.client.get("/api/v1/claims", params={"min_score": 2}, headers=web.api("kumo")).json()
    assert english["message"].startswith("Minimum score: must be 1") and english["detail"][0]["type"] == body[
        "detail"][0]["type"]
    bad = web.client.post("/api/v1/holder/inquiries", content=b"{not json", params=how.get("params"),
                          headers={**headers, "Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "json_invalid"
    assert bad.json()["message"] == "送信内容を JSON として読み取れません。"


def test_the_claim_pages_evidence_labels_are_in_its_language(web):
    desk = web.desk
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision.id)
    methods = {m.get("method") for m in claim.evidence["matches"]}
    b = web.login("kumo-staff")
    en = b.get(f"/claims/{claim.id}").text
    b.get("/lang/ja")
    ja = b.get(f"/claims/{claim.id}").text
    words = {"orb": ("local features", "局所特徴"), "pdq": ("perceptual hash (PDQ)", "知覚ハッシュ（PDQ）"),
             "video_frames": ("frame by frame", "フレームごとの照合")}
    assert methods and methods <= set(words), methods
    for method in methods:
        assert f"({words[method][0]})" in en and f"({words[method][1]})" in ja
        assert f"({method})" not in ja
    # a picture that cannot be shown: said in the page's language, the reader's English
    # detail kept beside it marked as English
    Path(str(decision.item)).unlink()
    ja = b.get(f"/claims/{claim.id}").text
    assert "出力の画像を表示できません。" in ja and '<small lang="en">(thumbnail unavailable' in ja
    b.get("/lang/en")
    assert "No picture of the output can be shown." in html.unescape(b.get(f"/claims/{claim.id}").text)


def _captioned_scan(web, tmp_path):
    """A real scan: the picture copies kumo's w402, which kumo permits acme to train on,
    and the caption names kumo's w403 (by its Japanese alias), which no permit covers: the
    caption sends the item to review.  Its decision."""
    ws = web.desk.workspace
    art.save(art.artwork(403), tmp_path / "w403.png")
    register_work(ws.registry, ws, "kumo", "Hoshizora Tantei", [tmp_path / "w403.png"], work_id="w403",
                  aliases=[Alias("星空探偵", "ja")])
    fingerprint_pending(ws, progress=False, workers=0)
    ws.registry.grant_permit("kumo", LICENSEE, "training", ["w402"], valid_from=date(2025, 1, 1))
    png = cv2.imencode(".png", art.crop(art.artwork(402))[:, :, ::-1].copy())[1].tobytes()
    with wds.TarWriter(str(tmp_path / "shard-000.tar")) as sink:
        sink.write({"__key__": "s1", "png": png, "txt": "星空探偵のファンアート"})
    summary = scan_paths(ws, [tmp_path / "shard-000.tar"], ScanOptions(LICENSEE, "training", date(2026, 6, 1),
                                                                       workers=0), out=io.StringIO(), name="captioned")
    [decision] = Records(ws.session).decisions(summary.record_id, holder="kumo")
    assert decision.verdict == "review" and decision.line["reason"].startswith("the caption names w403")
    assert {m["verdict"] for m in decision.line["matches"] if m["work_id"] == "w402"} == {"cleared"}
    return decision


_CAPTION_JA = "テキストが w403 に言及しており、acme-video-ai は kumo から学習の許諾を得ていません"
_CAPTION_EN = "the text refers to w403 and acme-video-ai has no training permit from kumo for w403"


def test_a_claim_whose_verdict_a_caption_gave_shows_its_reason_in_japanese(web, tmp_path):
    """The claim's evidence keeps kumo's caption (what its reason reads, not the caption's
    text), and the claim page words that reason from its key."""
    desk = web.desk
    decision = _captioned_scan(web, tmp_path)
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision.id)
    assert claim.evidence["own_verdict"] == "review" and claim.evidence["grounds"] == "your_works"
    [kept] = claim.evidence["captions"]
    assert kept["holder"] == "kumo" and kept["work_id"] == "w403" and kept["verdict"] == "review"
    assert set(kept) <= set(CAPTION_KEYS) and "text" not in kept
    assert evidence_reasons(claim.evidence)[-1] == caption_reason(decision.line["captions"][0])
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    ja = html.unescape(b.get(f"/claims/{claim.id}").text)
    assert _CAPTION_JA in ja
    assert "the caption names" not in ja and "has no training permit" not in ja
    b.get("/lang/en")
    en = html.unescape(b.get(f"/claims/{claim.id}").text)
    assert _CAPTION_EN in en


def test_an_inquiry_item_a_caption_held_says_so_in_the_letters_language_and_its_csv_key(web, tmp_path):
    """The letter words the caption's reason (and the verdict, use and summary) in its
    language; the answer CSV's reason_key carries the caption's key after the match's."""
    _captioned_scan(web, tmp_path)
    inq = web.desk.service.file_inquiry(web.desk.kumo, corpus="captioned")
    [item] = inq.answer["scans"][0]["items"]
    assert [c["holder"] for c in item["captions"]] == ["kumo"] and "text" not in item["captions"][0]
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    letter = html.unescape(b.get(f"/inquiries/{inq.id}/letter").text)
    assert _CAPTION_JA in letter and '<td class="review">要確認' in letter and "<td>学習</td>" in letter
    assert "記録されたスキャン 1 件で" in letter
    for english in ("the caption names", "has no training permit", "recorded scan(s)", ">review<", ">training<"):
        assert english not in letter, english
    api = html.unescape(web.client.get(f"/api/v1/inquiries/{inq.id}/letter.html?lang=ja",
                                       headers=web.api("kumo")).text)
    assert _CAPTION_JA in api
    b.get("/lang/en")
    en = html.unescape(b.get(f"/inquiries/{inq.id}/letter").text)
    assert _CAPTION_EN in en and '<td class="review">review' in en
    rows = list(csv.DictReader(io.StringIO(b.get(f"/inquiries/{inq.id}/answer.csv").text)))
    assert rows and {r["reason_key"] for r in rows} == {"caption_no_permit"}
    assert all(r["reason"].startswith("the caption names w403") for r in rows)  # the English reason stays


class _Probe(BaseModel):
    n: int

    @field_validator("n")
    @classmethod
    def _prime(cls, n: int) -> int:
        if n % 2 == 0:
            raise ValueError("must be an odd number")
        return n


def test_a_validators_english_detail_is_not_on_a_japanese_page(web):
    """A plain ValueError of a validator (pydantic's ``value_error``): a Japanese page's
    422 names the field in Japanese and leaves the English detail out; English keeps it."""
    [error] = pytest.raises(ValidationError, _Probe, n=4).value.errors()
    assert error["type"] == "value_error"
    assert invalid_input(translator("ja"), [error]) == ["n：この値は使えません。"]
    assert invalid_input(translator("en"), [error]) == ["n: must be an odd number"]

    def probe(n: Annotated[int, AfterValidator(_Probe._prime)]) -> str:
        return "ok"

    web.client.app.add_api_route("/value-probe", probe)
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    r = b.get("/value-probe", params={"n": 4})
    assert r.status_code == 422 and '<html lang="ja">' in r.text, r.text
    assert "n：この値は使えません。" in html.unescape(r.text)
    assert "odd number" not in r.text and "Value error" not in r.text
    b.get("/lang/en")
    assert "must be an odd number" in html.unescape(b.get("/value-probe", params={"n": 4}).text)
