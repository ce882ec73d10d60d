"""Organization names as people write them: every legal form, written out or abbreviated,
before or after the name, in any width, folds to one core; a longer name is another name."""

from __future__ import annotations

import pytest

from grants.domain.findings import LocalizedText
from grants.domain.org_names import (
    LEGAL_FORMS,
    codes_in,
    core_name,
    local_government_label,
    mentions,
    mentions_local_government,
    same_name,
)

# (registered name, how someone writes it): each pair must fold to the same core.
SAME = [
    ("株式会社テスト", "(株)テスト"),
    ("株式会社テスト", "（株）テスト"),
    ("株式会社テスト", "㈱テスト"),
    ("株式会社テスト", "㍿テスト"),
    ("株式会社テスト", "テスト株式会社"),  # 前株 and 後株: over-matching is the safe side
    ("株式会社テスト", "テスト(株)"),
    ("株式会社テスト", "株式会社 ﾃｽﾄ"),  # half-width katakana, a space
    ("株式会社ABC", "㈱ＡＢＣ"),
    ("株式会社ABC", "abc株式会社"),
    ("有限会社テスト", "(有)テスト"),
    ("有限会社テスト", "㈲テスト"),
    ("合同会社テスト", "(同)テスト"),
    ("合資会社テスト", "(資)テスト"),
    ("合資会社テスト", "㈾テスト"),
    ("合名会社テスト", "(名)テスト"),
    ("特定非営利活動法人つなぐ", "NPO法人つなぐ"),
    ("特定非営利活動法人つなぐ", "ＮＰＯ法人\u3000つなぐ"),
    ("特定非営利活動法人つなぐ", "npo法人つなぐ"),
    ("特定非営利活動法人つなぐ", "認定NPO法人つなぐ"),
    ("特定非営利活動法人つなぐ", "(特非)つなぐ"),
    ("一般社団法人まちづくり協会", "(一社)まちづくり協会"),
    ("一般社団法人まちづくり協会", "（一社）まちづくり協会"),
    ("公益社団法人まちづくり協会", "(公社)まちづくり協会"),
    ("一般財団法人地域振興財団", "(一財)地域振興財団"),
    ("公益財団法人地域振興財団", "(公財)地域振興財団"),
    ("社会福祉法人ひかり会", "(福)ひかり会"),
    ("学校法人北海学園", "(学)北海学園"),
    ("学校法人北海学園", "㈻北海学園"),
    ("医療法人さくら会", "(医)さくら会"),
    ("医療法人社団さくら会", "(医)さくら会"),
    ("独立行政法人情報処理推進機構", "(独)情報処理推進機構"),
    ("国立大学法人北海道大学", "北海道大学"),
    ("国立大学法人北海道大学", "(大)北海道大学"),
    ("地方独立行政法人北海道立総合研究機構", "(地独)北海道立総合研究機構"),
]


@pytest.mark.parametrize(("registered", "written"), SAME, ids=[w for _, w in SAME])
def test_every_legal_form_folds_to_the_same_core(registered, written):
    assert same_name(registered, written)
    assert same_name(written, registered)
    assert mentions(f"昨年まで{written}の理事", registered)


@pytest.mark.parametrize("form", sorted(LEGAL_FORMS))
def test_every_listed_form_is_set_aside_before_and_after(form):
    assert core_name(f"{form}ミライ") == core_name(f"ミライ{form}") == "ミライ"
    for short in LEGAL_FORMS[form]:
        assert core_name(f"{short}ミライ") == "ミライ", short


DIFFERENT = [
    ("ABC", "ABCD"),  # a longer name is another organization
    ("株式会社ABC", "株式会社ABCD"),
    ("株式会社テスト", "株式会社テストシステム"),
    ("株式会社テスト", "株式会社テスト2"),
    ("株式会社テスト", "株式会社"),  # a legal form alone names nobody
    ("株式会社", "有限会社"),
    ("", ""),
]


@pytest.mark.parametrize(("first", "second"), DIFFERENT, ids=[f"{a}|{b}" for a, b in DIFFERENT])
def test_a_longer_name_or_an_empty_core_is_not_the_same(first, second):
    assert not same_name(first, second)
    assert not same_name(second, first)


@pytest.mark.parametrize(
    ("text", "name", "named"),
    [
        ("ABCD社の顧問", "ABC", False),
        ("abc社の顧問", "ABC株式会社", True),
        ("(株)テストシステムの顧問", "株式会社テスト", False),
        ("テストの顧問", "株式会社テスト", True),
        ("2ABC", "ABC", False),
        ("札幌大学 客員教授", "札幌大学", True),
        ("札幌大学客員教授", "札幌大学", True),  # kanji runs on: the safe side
        ("株式会社", "株式会社", False),
        ("A社とB社の顧問", "A", False),  # a one-character core would match everything
        ("", "株式会社テスト", False),
    ],
)
def test_free_text_names_an_organization_only_as_a_name_of_its_own(text, name, named):
    assert mentions(text, name) is named


DATE_HOKKAIDO, DATE_FUKUSHIMA, HOKKAIDO = "012335", "072133", "010006"


@pytest.mark.parametrize(
    ("text", "hokkaido", "fukushima"),
    [
        ("伊達市（北海道）の委員", True, False),
        ("伊達市(北海道)の委員", True, False),
        ("北海道伊達市の委員", True, False),
        ("北海道 伊達市の委員", True, False),
        ("伊達市（福島）の委員", False, True),
        ("福島県伊達市の委員", False, True),
        ("伊達市 福島県", False, True),
        ("伊達市の委員", True, True),  # which one is not said: both, the safe side
        ("伊達市、福島市の委員", True, True),  # 福島市 is a city, not a prefecture
        ("伊達市役所", True, True),
        ("伊達の委員", False, False),
    ],
)
def test_a_municipality_named_with_its_prefecture_is_that_one_only(text, hokkaido, fukushima):
    assert mentions_local_government(text, DATE_HOKKAIDO) is hokkaido
    assert mentions_local_government(text, DATE_FUKUSHIMA) is fukushima


@pytest.mark.parametrize(
    ("text", "named"),
    [("北海道庁の職員", True), ("北海道伊達市の委員", False), ("伊達市（北海道）", False),
     ("北海道 伊達市", False), ("北海道", True)],
)
def test_a_prefecture_written_to_place_a_city_is_not_named_itself(text, named):
    assert mentions_local_government(text, HOKKAIDO) is named


def test_codes_in_text_fold_full_width_digits_and_keep_runs_whole():
    assert codes_in("法人番号３９９９９０５０００００１、団体コード０１２３３５") == {
        "3999905000001", "012335"}
    assert codes_in("0123356") == {"0123356"}  # seven digits are not a six-digit code
    assert codes_in("²³") == frozenset()  # superscripts are not digits
    assert codes_in("") == frozenset()


@pytest.mark.parametrize(
    ("code", "label"),
    [
        (DATE_HOKKAIDO, LocalizedText("伊達市（北海道）", "伊達市 (北海道)")),
        ("０７２１３３", LocalizedText("伊達市（福島県）", "伊達市 (福島県)")),
        (HOKKAIDO, LocalizedText("北海道", "北海道")),
        ("999999", None),
        ("", None),
    ],
)
def test_a_local_government_label_carries_its_prefecture(code, label):
    assert local_government_label(code) == label


def test_huge_and_hostile_text_is_handled():
    text = "（株）" * 20_000 + "テスト" + "ｱ" * 50_000
    assert not mentions(text, "株式会社テスト")  # katakana runs on: another name
    assert mentions(text[:-50_000], "株式会社テスト")
    assert core_name("\u200b\u3000") == ""  # zero-width and ideographic spaces name nobody
    assert same_name("株式会社\u200bテスト", "テスト\ufeff株式会社")
