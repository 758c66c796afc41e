"""The alias matcher on the labelled set (Japanese, romaji, English, typos, style
requests, near misses) and on the cases that must never match."""

from __future__ import annotations

from kyodaku.text import AliasEntry, AliasMatcher, MatcherConfig, style_cue
from tests.text.labelled import CASES, evaluate, matcher


def test_precision_and_recall_on_the_labelled_set():
    r = evaluate()
    assert r.precision >= 0.97 and r.recall >= 0.97, r.errors
    assert r.kind_right == r.tp, r.errors
    assert sum(1 for _, e in CASES if not e) >= 25  # the negatives are a real share of the set


def test_exact_only_loses_the_typos():
    r = evaluate(MatcherConfig(chars_per_edit=0, surface_chars_per_edit=0))
    assert r.fp == 0 and r.fn >= 5


def test_a_match_reports_alias_span_score_and_kind():
    [m] = matcher().match("poster: Hoshizora Tantai, key art", field="caption")
    assert (m.work_id, m.holder, m.alias, m.text, m.kind, m.field) == ("w1", "hoshi", "Hoshizora Tantei",
                                                                      "Hoshizora Tantai", "names_work", "caption")
    assert 0.9 < m.score < 1.0 and m.to_json()["score"] == round(m.score, 4)
    [j] = matcher().match("これはほしぞらたんていです")
    assert j.text == "ほしぞらたんてい" and j.score == 1.0


def test_short_and_common_aliases_never_match_inside_words():
    m = matcher()
    assert [e.text for e in m.unmatchable] == ["A"]
    for text in ("Swordfish", "a swordsmith", "password", "Aardvark", "A", "ほしい"):
        assert m.match(text) == [], text
    assert [x.work_id for x in m.match("The Sword, 2024")] == ["w5"]


def test_holder_style_request_has_no_work():
    [m] = matcher().match("スタジオ風景, by Manga Kumo")
    assert m.kind == "asks_style" and m.work_id is None and m.holder == "kumo"


def test_style_cues():
    for text, (s, e) in [("in the style of X", (16, 17)), ("X-style", (0, 1)), ("X風のイラスト", (0, 1)),
                         ("Xっぽい", (0, 1)), ("Xみたいな子", (0, 1)), ("a X's art style", (2, 3)),
                         ("drawn by X", (9, 10)), ("「X」風", (1, 2))]:
        assert style_cue(text, s, e), text
    for text, (s, e) in [("X and Y", (0, 1)), ("X風景", (0, 1)), ("Xの写真", (0, 1)), ("buy X", (4, 5))]:
        assert not style_cue(text, s, e), text


def test_one_match_per_work_and_style_wins():
    ms = matcher().match("Starry Sky Detective fan art in the style of 星空探偵")
    assert [(x.work_id, x.kind) for x in ms] == [("w1", "asks_style")]


def test_long_hostile_text_is_cut_and_fast():
    import time

    m = AliasMatcher([AliasEntry("Hoshizora Tantei", "hoshi", "w1")])
    text = "ほしぞら " * 50_000 + "Hoshizora Tantei"
    t0 = time.perf_counter()
    assert m.match(text) == []  # past max_text: not read
    assert time.perf_counter() - t0 < 5
    assert m.match("x " * 10 + "Hoshizora Tantei")[0].work_id == "w1"


def test_an_empty_registry_matches_nothing():
    assert AliasMatcher([]).match("Hoshizora Tantei") == []
