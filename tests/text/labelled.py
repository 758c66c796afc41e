"""A small labelled set for the caption matcher: a registry of aliases in Japanese,
romaji and English, captions that name them (with typos, other scripts, full- and
half-width forms, style requests) and captions that must not match (near-miss words,
short and common aliases inside other words).

``python -m tests.text.labelled`` prints precision and recall of the packaged defaults
and of a sweep of the edit budget; the defaults of :class:`MatcherConfig` were picked
from it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kyodaku.text import AliasEntry, AliasMatcher, MatcherConfig

# (text, holder, work_id or None for the holder's own name, lang)
ALIASES: list[tuple[str, str, str | None, str | None]] = [
    ("Studio Hoshi", "hoshi", None, "en"),
    ("Manga Kumo", "kumo", None, "en"),
    ("星空探偵", "hoshi", "w1", "ja"),
    ("Hoshizora Tantei", "hoshi", "w1", "ja-Latn"),
    ("Starry Sky Detective", "hoshi", "w1", "en"),
    ("ほしぞらたんてい", "hoshi", "w1", "ja"),
    ("少年雷神", "hoshi", "w2", "ja"),
    ("Shōnen Raijin", "hoshi", "w2", "ja-Latn"),
    ("Thunder Boy", "hoshi", "w2", "en"),
    ("雲の上の城", "kumo", "w3", "ja"),
    ("Kumo no Ue no Shiro", "kumo", "w3", "ja-Latn"),
    ("Castle Above the Clouds", "kumo", "w3", "en"),
    ("みかんちゃん", "kumo", "w4", "ja"),
    ("Mikan-chan", "kumo", "w4", "ja-Latn"),
    ("Sword", "kumo", "w5", "en"),
    ("A", "kumo", "w6", "en"),
    ("ドラゴン・ノヴァ", "hoshi", "w7", "ja"),
    ("Dragon Nova", "hoshi", "w7", "en"),
]

N, S = "names", "asks_style"

# (caption, {target: "names" | "asks_style"}); target = work id or "@holder"
CASES: list[tuple[str, dict[str, str]]] = [
    # -- Japanese
    ("星空探偵のファンアート", {"w1": N}),
    ("ほしぞらたんていの主人公", {"w1": N}),
    ("ホシゾラタンテイ", {"w1": N}),
    ("ほしぞらたんでい の絵", {"w1": N}),  # typo (voiced)
    ("少年雷神 第3話", {"w2": N}),
    ("しょうねんらいじん", {"w2": N}),
    ("ショウネンライジン", {"w2": N}),
    ("ｼｮｳﾈﾝﾗｲｼﾞﾝ", {"w2": N}),
    ("雲の上の城の風景", {"w3": N}),
    ("くものうえのしろ", {"w3": N}),
    ("みかんちゃんのイラスト", {"w4": N}),
    ("ミカンちゃん", {"w4": N}),
    ("ドラゴンノヴァ", {"w7": N}),
    ("ドラゴン・ノバ ポスター", {"w7": N}),  # ヴァ written バ
    # -- romaji
    ("fan art of Hoshizora Tantei, detailed", {"w1": N}),
    ("hoshizora tantei", {"w1": N}),
    ("Hoshizora Tantai poster", {"w1": N}),  # typo
    ("Hoshisora Tantei cosplay", {"w1": N}),  # typo
    ("Shōnen Raijin chapter 3 cover", {"w2": N}),
    ("shounen raijin", {"w2": N}),
    ("Shonen Raijin", {"w2": N}),
    ("Ｓｈｏｎｅｎ　Ｒａｉｊｉｎ", {"w2": N}),
    ("Kumo no Ue no Shiro background", {"w3": N}),
    ("kumonoue no shiro", {"w3": N}),
    ("Mikan-chan smiling", {"w4": N}),
    ("mikan chan plush", {"w4": N}),
    ("Mikann-chan figure", {"w4": N}),  # typo
    # -- English
    ("Starry Sky Detective key visual", {"w1": N}),
    ("starry-sky detective wallpaper", {"w1": N}),
    ("Stary Sky Detectve", {"w1": N}),  # two typos
    ("Castle Above the Clouds, matte painting", {"w3": N}),
    ("castle above teh clouds", {"w3": N}),  # swapped letters
    ("Thunder Boy returns", {"w2": N}),
    ("Dragon Nova fanart", {"w7": N}),
    ("Dragon Novva fanart", {"w7": N}),  # typo
    ("A poster of the Sword", {"w5": N}),
    # -- style
    ("in the style of Studio Hoshi", {"@hoshi": S}),
    ("a cat, Studio Hoshi style", {"@hoshi": S}),
    ("Studio-Hoshi-style landscape", {"@hoshi": S}),
    ("studio hoshi inspired poster", {"@hoshi": S}),
    ("by Manga Kumo", {"@kumo": S}),
    ("まんがくも風の絵", {"@kumo": S}),
    ("星空探偵っぽいイラスト", {"w1": S}),
    ("ミカンちゃんみたいな女の子", {"w4": S}),
    ("Hoshizora Tantei-style poster", {"w1": S}),
    ("雲の上の城のような背景", {"w3": S}),
    ("in the style of Shonen Raijin", {"w2": S}),
    ("少年雷神の画風で描いた猫", {"w2": S}),
    ("Studio Hoshi's Starry Sky Detective", {"@hoshi": N, "w1": N}),
    # -- negatives: near misses, common and short aliases inside other words
    ("a detective under a starry sky", {}),
    ("a swordfish on a plate", {}),
    ("swordsmith at work", {}),
    ("A cat and a dog", {}),
    ("ほしいものリスト", {}),
    ("星空の写真", {}),
    ("shonen manga cover", {}),
    ("Raijin statue at a temple", {}),
    ("castle above the lake", {}),
    ("cloud castle in the sky", {}),
    ("a mikan orange on a table", {}),
    ("studio photo of a star", {}),
    ("a manga shop in Kumamoto", {}),
    ("dragon novel cover art", {}),
    ("Starry night detective story", {}),
    ("東京の夜景", {}),
    ("by the sea at sunset", {}),
    ("in the style of Van Gogh", {}),
    ("しょうねんの夢", {}),
    ("あめのうえのしろ", {}),
    ("Studio Hoshino photo", {}),
    ("manga kumori sky", {}),
    ("thunderbolt boy", {}),
    ("dragonnova1234 username", {}),
    ("雨の上の城", {}),
    ("Hoshizora Tenki", {}),  # weather, not the detective
    ("ジブリ風景の写真", {}),
    ("a balloon, Starry Sky Detection", {}),
]


def matcher(config: MatcherConfig | None = None) -> AliasMatcher:
    return AliasMatcher([AliasEntry(t, h, w, lang) for t, h, w, lang in ALIASES], config)


@dataclass
class Result:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    kind_right: int = 0
    errors: list[str] | None = None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(config: MatcherConfig | None = None) -> Result:
    """Precision and recall over (caption, work or holder) pairs; ``kind_right`` counts
    true positives whose kind (naming or asking for the style) is right too."""
    m = matcher(config)
    r = Result(errors=[])
    for caption, expected in CASES:
        got = {(x.work_id or f"@{x.holder}"): ("asks_style" if x.kind == "asks_style" else N)
               for x in m.match(caption)}
        for target, kind in got.items():
            if target in expected:
                r.tp += 1
                r.kind_right += expected[target] == kind
                if expected[target] != kind:
                    r.errors.append(f"kind {kind} != {expected[target]}: {caption!r} {target}")
            else:
                r.fp += 1
                r.errors.append(f"false positive {target}: {caption!r}")
        for target in expected.keys() - got.keys():
            r.fn += 1
            r.errors.append(f"missed {target}: {caption!r}")
    return r


if __name__ == "__main__":
    base = MatcherConfig()
    res = evaluate(base)
    print(f"defaults: precision {res.precision:.3f} recall {res.recall:.3f} "
          f"kind {res.kind_right}/{res.tp} (tp {res.tp} fp {res.fp} fn {res.fn})")
    for e in res.errors or []:
        print("  ", e)
    print("sweep (chars_per_edit, surface_chars_per_edit, fuzzy_min_key): precision recall")
    for cpe in (0, 5, 6, 7, 8, 10):
        for scpe in (0, 4, 6, 8):
            for fmk in (5, 7, 9):
                r = evaluate(replace(base, chars_per_edit=cpe, surface_chars_per_edit=scpe, fuzzy_min_key=fmk))
                print(f"  {cpe:2d} {scpe:2d} {fmk:2d}: {r.precision:.3f} {r.recall:.3f}  (fp {r.fp} fn {r.fn})")
