"""Normalisation: the spellings of one name meet, and every character still knows where
in the caption it came from."""

from __future__ import annotations

import pytest

from kyodaku.text import romaji_key, surface


@pytest.mark.parametrize("text", ["Shōnen", "shounen", "shonen", "SHŌNEN", "Shônen", "しょうねん", "ショウネン",
                                  "ｼｮｳﾈﾝ", "Ｓｈｏｎｅｎ", "少年"])
def test_long_vowels_scripts_and_widths_meet(text):
    assert romaji_key(text).key == "shonen"


def test_words_join_but_keep_their_boundaries():
    k = romaji_key("Shingeki no Kyojin!")
    assert k.key == "shingekinokyojin" == romaji_key("進撃の巨人").key == romaji_key("しんげきのきょじん").key
    assert k.can_start(0) and k.can_start(8) and not k.can_start(1)
    assert k.can_end(8) and k.can_end(len(k.key)) and not k.can_end(7)


def test_folding_and_spans():
    assert romaji_key("Satoh shimbun").key == "satoshinbun"
    assert romaji_key("Ōhno").key == "ono"
    assert romaji_key("ワンピース").key == "wanpisu"
    k = romaji_key("a 星空探偵 b")
    s, e = k.source(1, len(k.key) - 1)
    assert "a 星空探偵 b"[s:e] == "星空探偵"


def test_a_long_vowel_across_words_does_not_swallow_the_next_word():
    k = romaji_key("hoshi inspired")
    assert k.key == "hoshinspired"
    assert "hoshi inspired"[slice(*k.source(0, 5))] == "hoshi"


def test_surface_unifies_kana_widths_and_drops_punctuation():
    f = surface("ホシゾラ・タンテイ ﾎｼｿﾞﾗ！")
    assert f.text == "ほしぞらたんていほしぞら"
    assert "ホシゾラ・タンテイ ﾎｼｿﾞﾗ！"[slice(*f.source(8, 12))] == "ﾎｼｿﾞﾗ"
    assert surface("ＡＢＣ abc").text == "abcabc"


def test_empty_and_symbol_only_text():
    assert romaji_key("").key == "" and romaji_key("!!! ・・・ 🎨").key == ""
    assert surface("・、。").text == ""
