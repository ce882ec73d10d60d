"""What "required" means for a written text: something a reader can see.

A comment made only of spaces, zero-width characters or a pasted byte-order mark looks empty
on every page and in every PDF, so it answers nothing: such a text counts as missing.
"""

from __future__ import annotations

import unicodedata

# Control and format characters (U+200B zero-width space, U+200C/U+200D joiners, U+2060 word
# joiner, U+FEFF byte-order mark …) and separators (U+3000 ideographic space among them).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Letters and symbols that render as blanks: Hangul fillers and the blank braille pattern.
_BLANK_GLYPHS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})


def is_visible(character: str) -> bool:
    return not (character.isspace() or character in _BLANK_GLYPHS
                or unicodedata.category(character) in _INVISIBLE_CATEGORIES)


def has_visible_text(text: str | None) -> bool:
    """True when `text` holds at least one character a reader can see."""
    return any(is_visible(c) for c in text or "")


def visible_or_none(text: str | None) -> str | None:
    """The text without surrounding whitespace, or None when nothing in it is visible."""
    return text.strip() if has_visible_text(text) else None
