"""Text normalisation for caption matching: two comparable forms of any text.

*Surface* form (:func:`surface`): NFKC (full-width Latin and half-width katakana become
ordinary), case-folded, katakana turned into hiragana, spaces and punctuation dropped.
Japanese aliases are compared with Japanese captions in this form, so ``ホシゾラ``,
``ﾎｼｿﾞﾗ`` and ``ほしぞら`` meet.

*Romaji key* (:func:`romaji_key`): every Japanese run read into Hepburn romaji by
``pykakasi``, Latin stripped of diacritics, lower case, letters and digits only, with
long vowels folded (``ou``, ``oo``, ``uu``, ``aa``, ``ii``, ``ee`` and ``oh`` before a consonant
or at the end become one vowel; ``m`` before ``b``/``p`` becomes ``n``), so
``Shōnen``, ``shounen``, ``shonen``, ``しょうねん`` and ``ショウネン`` all give ``shonen``.
Words are joined (``Shingeki no Kyojin`` -> ``shingekinokyojin``) but the key remembers
where Latin words start and end, so a match can be held to word boundaries; inside a
Japanese run (no spaces to go by) a match may start and end anywhere.

Both forms keep, for each character, the span of the original text it came from, so a
match can be reported as the caption's own words.  The folding is applied to both sides
(alias and caption) alike, which is what makes it safe.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jaconv

if TYPE_CHECKING:
    import pykakasi

__all__ = ["Folded", "Keyed", "is_japanese", "romaji_key", "surface"]

_VOWELS = "aiueo"
#: half-width voiced marks and combining marks that belong to the character before them
_JOINERS = {"\uff9e", "\uff9f", "\u3099", "\u309a"}


def is_japanese(ch: str) -> bool:
    """Kana, kanji and the marks that live inside Japanese words (``ー``, ``々``)."""
    o = ord(ch)
    return (0x3040 <= o <= 0x309F or (0x30A0 <= o <= 0x30FF and o != 0x30FB)  # kana (not ・)
            or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF  # kanji
            or o in (0x3005, 0x3006))  # 々 〆


def _chunks(text: str) -> list[tuple[str, int, int]]:
    """The text NFKC-normalised one character at a time (with the voiced / combining
    marks that follow it), each piece with its original ``[start, end)``."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (text[j] in _JOINERS or unicodedata.combining(text[j])):
            j += 1
        out.append((unicodedata.normalize("NFKC", text[i:j]), i, j))
        i = j
    return out


@dataclass(frozen=True)
class Folded:
    """A surface form and, per character, the original span it came from."""

    text: str
    spans: tuple[tuple[int, int], ...]

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` of the folded ``[start, end)``."""
        return self.spans[start][0], self.spans[end - 1][1]


def surface(text: str) -> Folded:
    """NFKC, case-folded, katakana as hiragana, without spaces and punctuation."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for piece, s, e in _chunks(text):
        for ch in jaconv.kata2hira(piece.casefold()):
            if ch == "ー" or unicodedata.category(ch)[0] in "LNM":
                chars.append(ch)
                spans.append((s, e))
    return Folded("".join(chars), tuple(spans))


# ------------------------------------------------------------------ romaji key
@dataclass(frozen=True)
class Keyed:
    """A romaji key with, per character, its original span, its word and whether it came
    from a Japanese run."""

    key: str
    spans: tuple[tuple[int, int], ...]
    words: tuple[int, ...]
    japanese: tuple[bool, ...]

    def can_start(self, i: int) -> bool:
        """A match may start here: a word's start; in a Japanese run, a syllable's (after
        a vowel or ``n``, or where pykakasi's segments change)."""
        if i == 0 or i >= len(self.key):
            return i == 0 and bool(self.key)
        if self.words[i] != self.words[i - 1]:
            return True
        return self.japanese[i] and (self.spans[i] != self.spans[i - 1] or self.key[i - 1] in _VOWELS + "n")

    def can_end(self, j: int) -> bool:
        """A match may end before ``j``: a word's end; in a Japanese run, after a syllable."""
        if j <= 0 or j > len(self.key):
            return False
        if j == len(self.key) or self.words[j] != self.words[j - 1]:
            return True
        return self.japanese[j - 1] and (self.spans[j] != self.spans[j - 1] or self.key[j - 1] in _VOWELS + "n")

    def touches_japanese(self, start: int, end: int) -> bool:
        return any(self.japanese[start:end])

    def source(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]


_KAKASI_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _kakasi() -> pykakasi.kakasi:
    import pykakasi

    return pykakasi.kakasi()


def _read(run: str) -> list[tuple[str, int]]:
    """(romaji, length of the original segment) for a Japanese run, in order."""
    with _KAKASI_LOCK:  # pykakasi keeps state per call; scans may decide from threads
        segments = _kakasi().convert(run)
    out = []
    for seg in segments:
        roman = seg.get("hepburn") or ""
        if "(" in roman:  # a lone iteration mark: pykakasi names it instead of reading it
            roman = ""
        out.append((roman, len(seg.get("orig") or "")))
    return out


def _ascii_letters(piece: str) -> str:
    """Latin letters and digits of a piece, diacritics removed, lower case."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", piece) if not unicodedata.combining(c))
    return "".join(c for c in stripped.casefold() if c.isascii() and c.isalnum())


def romaji_key(text: str) -> Keyed:
    """The folded romaji key of ``text`` (see the module docstring)."""
    raw: list[list[Any]] = []  # [char, start, end, word, japanese]
    word = 0
    run: list[tuple[str, int, int]] = []

    def flush_run() -> None:
        nonlocal word
        if not run:
            return
        word += 1
        text_run = "".join(p for p, _, _ in run)
        # map every original-char offset of the NFKC'd run back to the source span
        offsets: list[tuple[int, int]] = []
        for p, s, e in run:
            offsets.extend([(s, e)] * len(p))
        pos = 0
        for roman, length in _read(text_run):
            if length <= 0:
                continue
            s, e = offsets[min(pos, len(offsets) - 1)][0], offsets[min(pos + length, len(offsets)) - 1][1]
            for c in _ascii_letters(roman):
                raw.append([c, s, e, word, True])
            pos += length
        run.clear()

    in_word = False
    for piece, s, e in _chunks(text):
        if piece and all(is_japanese(c) for c in piece):
            in_word = False
            run.append((piece, s, e))
            continue
        flush_run()
        letters = _ascii_letters(piece)
        if letters:
            if not in_word:
                word += 1
                in_word = True
            for c in letters:
                raw.append([c, s, e, word, False])
        else:
            in_word = False
    flush_run()
    return _fold(raw)


def _fold(raw: list[list[Any]]) -> Keyed:
    """Long vowels to one vowel and ``mb``/``mp`` to ``nb``/``np``.  Across word ends
    too: a kana run has no spaces, so ``くものうえ`` and ``Kumo no Ue`` must fold alike."""
    out: list[list[Any]] = []
    for i, cur in enumerate(raw):
        c = cur[0]
        prev = out[-1] if out else None
        if prev is not None:
            p = prev[0]
            nxt = raw[i + 1] if i + 1 < len(raw) else None
            long_vowel = c in _VOWELS and (p == c or (p == "o" and c == "u"))
            oh = p == "o" and c == "h" and (nxt is None or nxt[0] not in _VOWELS + "y")
            if long_vowel or oh:
                if prev[3] == cur[3]:  # the span of a word's own long vowel grows; another word's not
                    prev[2] = max(prev[2], cur[2])
                continue
            if c in "bp" and p == "m":
                prev[0] = "n"
        out.append(list(cur))
    return Keyed("".join(x[0] for x in out), tuple((x[1], x[2]) for x in out),
                 tuple(x[3] for x in out), tuple(x[4] for x in out))
