"""Japanese organization names folded for the conflict screen: legal forms, widths, spaces.

People write one organization many ways: 株式会社テスト, (株)テスト, ㈱ﾃｽﾄ, テスト株式会社,
ＮＰＯ法人 つなぐ for 特定非営利活動法人つなぐ. Matching folds every name to its *core*: NFKC
(full-width Latin and digits, half-width katakana, ㈱ → (株), ㍿ → 株式会社), case folded,
whitespace (U+3000 included) and zero-width characters removed, and every legal form in
`LEGAL_FORMS`, written out or abbreviated, before or after the name, set aside. Two names are
the same when their cores are equal, never when one merely contains the other: "ABC" is not
"ABCD".

A core ignores *which* legal form and *where* it stands, so 株式会社ABC (前株) and ABC株式会社
(後株), legally two different companies, match. For a conflict-of-interest screen, over-matching
is the safe side: the officer sees the reason and can decide; an identifier (法人番号, 団体コード)
on both sides decides instead, in `grants.domain.assignment`. Bank-transfer kana forms (カ), (ユ)
and English forms (Co., Ltd.) are not folded: they would take letters out of ordinary names.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

from grants.domain import localgov
from grants.domain.findings import LocalizedText
from grants.domain.identifiers import normalize

# Each legal form with the abbreviations in common use (after NFKC, so （株） and ㈱ are (株)).
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "株式会社": ("(株)",),
    "有限会社": ("(有)",),
    "合同会社": ("(同)",),
    "合資会社": ("(資)",),
    "合名会社": ("(名)",),
    "相互会社": ("(相)",),
    "特定非営利活動法人": ("NPO法人", "認定NPO法人", "認定特定非営利活動法人", "(特非)"),
    "一般社団法人": ("(一社)",),
    "公益社団法人": ("(公社)",),
    "社団法人": ("(社)",),
    "一般財団法人": ("(一財)",),
    "公益財団法人": ("(公財)",),
    "財団法人": ("(財)",),
    "社会福祉法人": ("(福)", "(社福)"),
    "学校法人": ("(学)",),
    "医療法人": ("医療法人社団", "医療法人財団", "社会医療法人", "(医)"),
    "宗教法人": ("(宗)",),
    "独立行政法人": ("(独)",),
    "地方独立行政法人": ("(地独)",),
    "国立研究開発法人": (),
    "国立大学法人": ("公立大学法人", "(大)"),
    "弁護士法人": ("(弁)",),
    "税理士法人": ("(税)",),
    "司法書士法人": ("(司)",),
    "行政書士法人": ("(行)",),
    "監査法人": ("(監)",),
    "協同組合": ("(協)",),
    "農事組合法人": ("(農)",),
}

_SEP = "\x1f"  # stands where a legal form was: a boundary no typed name contains


def _casefold(text: str) -> str:
    """NFKC, case folded, without invisible format characters (a pasted zero-width space)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char) != "Cf")


# Longest first, so 医療法人社団 is taken whole rather than as 医療法人 + 社団.
_FORMS = re.compile("|".join(re.escape(form) for form in sorted(
    {_casefold(form) for name, short in LEGAL_FORMS.items() for form in (name, *short)},
    key=lambda form: (-len(form), form))))
_SPACES = re.compile(r"\s+")
_QUOTES = "「」『』\"'“”‘’"


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Fold free text for searching: NFKC, case folded, legal forms as boundaries, one space
    wherever there was white space."""
    return _SPACES.sub(" ", _FORMS.sub(_SEP, _casefold(text))).strip()


@functools.lru_cache(maxsize=8192)
def core_name(name: str) -> str:
    """Return the name without legal forms, quotes and white space, folded; "" when nothing is
    left (a name that is only a legal form names nobody)."""
    return fold(name).replace(" ", "").strip(_SEP + _QUOTES)


def same_name(first: str, second: str) -> bool:
    """Tell whether two names have the same, non-empty core."""
    core = core_name(first)
    return bool(core) and core == core_name(second)


def _script(char: str) -> str | None:
    """The run a character continues a name in: Latin letters and digits, or katakana."""
    if char.isascii() and char.isalnum():
        return "latin"
    if "\u30a1" <= char <= "\u30fa" or char == "\u30fc":
        return "katakana"
    return None


def _continues(neighbour: str, edge: str) -> bool:
    script = _script(neighbour) if neighbour else None
    return script is not None and script == _script(edge)


@functools.lru_cache(maxsize=8192)
def _squeezed(folded_text: str) -> str:
    return folded_text.replace(" ", "")


@functools.lru_cache(maxsize=8192)
def _pattern(core: str) -> re.Pattern[str]:
    return re.compile(" ?".join(re.escape(char) for char in core))


def find(folded_text: str, core: str) -> Iterator[tuple[int, int]]:
    """Yield where `core` stands in `folded_text` as a name of its own.

    Spaces may fall anywhere inside it (株式会社 ミライ, acme  corp). A Latin or katakana
    neighbour continuing the name's first or last character makes a longer, different name
    (ABC in ABCD, テスト in テストシステム); kanji and hiragana neighbours do not, since Japanese
    runs words together (札幌大学客員教授, つなぐの理事): there the screen over-matches, the
    safe side. A core under two characters would match too much and is never found.
    """
    if len(core) < 2 or core not in _squeezed(folded_text):  # the common case, cheaply
        return
    for match in _pattern(core).finditer(folded_text):
        start, end = match.span()
        before, after = folded_text[start - 1:start], folded_text[end:end + 1]
        if not (_continues(before, core[0]) or _continues(after, core[-1])):
            yield start, end


def mentions(text: str, name: str) -> bool:
    """Tell whether free text names the organization `name` (see `find`)."""
    return next(find(fold(text), core_name(name)), None) is not None


@functools.lru_cache(maxsize=8192)
def codes_in(text: str) -> frozenset[str]:
    """Every run of digits in free text, full-width digits folded (０１２３３５ is 012335)."""
    return frozenset(re.findall(r"[0-9]+", normalize(text)))


# --- local governments -------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def local_government_label(code: str) -> LocalizedText | None:
    """Return 「伊達市（北海道）」 for a municipality, 「北海道」 for a prefecture, None for a code
    not in the list: names repeat across prefectures, so a name never goes without its own."""
    government = localgov.get(normalize(code))
    if government is None:
        return None
    if government.kind is localgov.GovernmentKind.PREFECTURE:
        return LocalizedText(government.name, government.name)
    return LocalizedText(f"{government.name}（{government.prefecture}）",
                         f"{government.name} ({government.prefecture})")


@functools.cache
def _prefectures() -> tuple[tuple[str, str, bool], ...]:
    """(folded name, prefecture code, full name?) for every prefecture, longest first: 福島県
    and 福島, 北海道; a short name counts only in brackets (伊達市（福島）)."""
    names = []
    for government in localgov.load_registry():
        if government.kind is localgov.GovernmentKind.PREFECTURE:
            names.append((fold(government.name), government.prefecture_code, True))
            if government.name[-1] in "都府県":
                names.append((fold(government.name[:-1]), government.prefecture_code, False))
    return tuple(sorted(names, key=lambda item: -len(item[0])))


@functools.cache
def _municipalities(prefecture_code: str) -> tuple[str, ...]:
    return tuple(fold(g.name) for g in localgov.load_registry()
                 if g.prefecture_code == prefecture_code
                 and g.kind is not localgov.GovernmentKind.PREFECTURE)


def _stated_prefecture(folded: str, start: int, end: int) -> str | None:
    """The prefecture written with a municipality's name: 北海道伊達市, 北海道 伊達市,
    伊達市（北海道）, 伊達市（福島）, 伊達市 福島県; None when none is."""
    before, after = folded[:start].rstrip(" "), folded[end:].lstrip(" ")
    bracketed = after.startswith("(")
    after = after[1:].lstrip(" ") if bracketed else after
    for name, code, full in _prefectures():
        if full and before.endswith(name):
            return code
        if (full or bracketed) and after.startswith(name):
            return code
    return None


@functools.lru_cache(maxsize=8192)
def mentions_local_government(text: str, code: str) -> bool:
    """Tell whether free text names the local government `code`, its prefecture considered.

    「伊達市（北海道）」 names 012335 and not 福島県's 072133; a bare 「伊達市」 names both (the
    reviewer did not say which: the safe side). A prefecture written only to place a
    municipality (北海道伊達市, 伊達市（北海道）) does not name the prefecture itself.
    """
    government = localgov.get(normalize(code))
    if government is None:
        return False
    folded = fold(text)
    for start, end in find(folded, core_name(government.name)):
        if government.kind is localgov.GovernmentKind.PREFECTURE:
            after = folded[end:].lstrip(" ")
            qualifier = folded[start - 1:start] == "(" or any(
                after.startswith(name) for name in _municipalities(government.prefecture_code))
            if not qualifier:
                return True
            continue
        if _stated_prefecture(folded, start, end) in (None, government.prefecture_code):
            return True
    return False
