"""Names people type that others read and that are matched exactly: a permit's licensee,
a holder's slug, a desk account's username.

What is shown must be what is matched.  A right-to-left override (U+202E), a zero-width
space or joiner, a soft hyphen, a control or private-use character makes two names that
look alike differ (or one look like another), so they are refused, with the character
named.  A licensee is NFKC-normalised (full-width ``ａｃｍｅ`` is ``acme``) and stripped of
surrounding whitespace; slugs and usernames are identifiers and are refused, never
rewritten, when they are not already in that form.
"""

from __future__ import annotations

import unicodedata

from kyodaku.registry.base import RegistryError

__all__ = ["InvisibleCharacter", "check_identifier", "visible_text"]

#: control, format (bidi overrides, zero-width), line/paragraph separators, private use,
#: surrogates, unassigned
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
#: characters that render as nothing but are letters or marks to Unicode
_BLANKS = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0]
    + list(range(0x180B, 0x1810)) + list(range(0xFE00, 0xFE10)) + list(range(0xE0100, 0xE01F0)))


class InvisibleCharacter(RegistryError):
    """A name holds a character that cannot be seen (``code``, ``char_name``, ``position``
    from 1) -- the pages say so in the reader's language."""

    def __init__(self, what: str, char: str, position: int) -> None:
        self.code, self.char_name, self.position = f"U+{ord(char):04X}", unicodedata.name(char, "unnamed"), position
        super().__init__(f"{what} contains an invisible or control character, {self.code} {self.char_name}, "
                         f"at position {position}: type it again without it")


def _check_visible(text: str, what: str) -> None:
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in _REFUSED_CATEGORIES or ord(ch) in _BLANKS:
            raise InvisibleCharacter(what, ch, i + 1)


def visible_text(value: str, what: str, *, max_len: int | None = None) -> str:
    """``value`` NFKC-normalised and stripped; refused (RegistryError) when empty, longer
    than ``max_len`` or when it holds a character that cannot be seen."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise RegistryError(f"{what} must not be empty")
    _check_visible(text, what)
    if max_len is not None and len(text) > max_len:
        raise RegistryError(f"{what} has {len(text)} characters; at most {max_len}")
    return text


def check_identifier(value: str, what: str) -> str:
    """``value`` if it is already plain (NFKC, no surrounding space, nothing invisible)."""
    if visible_text(value, what) != value:
        raise RegistryError(f"{what} {value!r} has surrounding spaces or characters that change under NFKC "
                            "normalisation (full-width letters, ligatures): type it plainly")
    return value
