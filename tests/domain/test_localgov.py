"""Tests for grants.domain.localgov: codes, the packaged list, lookup and search."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from importlib import resources

import pytest

from grants.domain.localgov import (
    GovernmentKind,
    LocalGovernment,
    LookupStatus,
    Registry,
    check_digit,
    find,
    is_valid_code,
    load_registry,
    lookup,
    search,
)

DATA = resources.files("grants") / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open("r", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _codes(governments: list[LocalGovernment]) -> list[str]:
    return [gov.code for gov in governments]


# --- check digit -------------------------------------------------------------------------------


def test_check_digit_sapporo_returns_2() -> None:
    # s = 0*6 + 1*5 + 1*4 + 0*3 + 0*2 = 9; 11 - 9 = 2
    assert check_digit("01100") == 2


def test_check_digit_remainder_zero_returns_1() -> None:
    # 苫小牧市 01213: s = 0 + 5 + 8 + 3 + 6 = 22, remainder 0; 11 - 0 = 11 -> 1
    assert sum(w * int(d) for w, d in zip((6, 5, 4, 3, 2), "01213", strict=True)) % 11 == 0
    assert check_digit("01213") == 1
    assert check_digit("00000") == 1


def test_check_digit_remainder_one_returns_0() -> None:
    # 室蘭市 01205: s = 0 + 5 + 8 + 0 + 10 = 23, remainder 1; 11 - 1 = 10 -> 0
    assert sum(w * int(d) for w, d in zip((6, 5, 4, 3, 2), "01205", strict=True)) % 11 == 1
    assert check_digit("01205") == 0
    assert check_digit("20000") == 0  # s = 12


@pytest.mark.parametrize("bad", ["0110", "011002", "0110a", "０１１００", ""])
def test_check_digit_not_five_ascii_digits_raises(bad: str) -> None:
    with pytest.raises(ValueError, match="5 ASCII digits"):
        check_digit(bad)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("011002", True),  # 札幌市
        ("012131", True),  # 苫小牧市, check digit 1 from remainder 0
        ("012050", True),  # 室蘭市, check digit 0 from remainder 1
        ("011003", False),
        ("01100", False),
        ("0110022", False),
        ("01100a", False),
        ("０１１００２", False),  # full-width: lookup() normalises, is_valid_code does not
    ],
)
def test_is_valid_code_examples_match_rule(code: str, valid: bool) -> None:
    assert is_valid_code(code) is valid


# --- the packaged list -------------------------------------------------------------------------


def test_packaged_csv_files_match_documented_sha256() -> None:
    expected = {
        "municipalities.csv": "e5681332c1f13f6f71d77a51662c536fb81a0430f3c6c9a8bd74d6e5f01debec",
        "designated_city_wards.csv": (
            "a531454cbcda786f937e13e362c30e2351c6f33b0709d1dfaa84f32bb2cea71c"
        ),
    }
    for name, digest in expected.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


def test_load_registry_all_rows_have_valid_codes() -> None:
    registry = load_registry()
    assert len(registry) == 1788
    assert all(is_valid_code(gov.code) for gov in registry)
    assert all(is_valid_code(row["code"]) for row in _rows("designated_city_wards.csv"))


def test_load_registry_counts_per_kind_match_readme() -> None:
    counts = Counter(gov.kind for gov in load_registry())
    assert counts == {
        GovernmentKind.PREFECTURE: 47,
        GovernmentKind.DESIGNATED_CITY: 20,
        GovernmentKind.CITY: 772,
        GovernmentKind.WARD: 23,
        GovernmentKind.TOWN: 743,
        GovernmentKind.VILLAGE: 183,
    }


def test_load_registry_called_twice_returns_same_object() -> None:
    assert load_registry() is load_registry()


def test_display_name_municipality_shows_prefecture() -> None:
    date_hokkaido = load_registry().get("012335")
    assert date_hokkaido is not None
    assert date_hokkaido.display_name == "北海道 伊達市"


def test_display_name_prefecture_shows_name_only() -> None:
    tokyo = load_registry().get("130001")
    assert tokyo is not None
    assert tokyo.kind is GovernmentKind.PREFECTURE
    assert tokyo.display_name == "東京都"


# --- lookup ------------------------------------------------------------------------------------


def test_lookup_designated_city_refused_ward_names_parent() -> None:
    result = lookup("011011")
    assert result.status is LookupStatus.DESIGNATED_CITY_WARD
    assert not result.ok
    assert result.government is None
    assert result.ward is not None and result.ward.name == "札幌市中央区"
    assert result.parent is not None and result.parent.code == "011002"
    assert result.message.ja == (
        "札幌市中央区は行政区のため参加団体になれません。札幌市（011002）を指定してください。"
    )
    assert "札幌市 (011002)" in result.message.en
    assert "cannot take part" in result.message.en


def test_lookup_every_designated_city_ward_refused_with_its_city() -> None:
    for row in _rows("designated_city_wards.csv"):
        result = lookup(row["code"])
        assert result.status is LookupStatus.DESIGNATED_CITY_WARD, row["code"]
        assert result.parent is not None
        assert result.parent.code == row["city_code"]
        assert result.parent.kind is GovernmentKind.DESIGNATED_CITY


def test_lookup_hamamatsu_2024_ward_refused() -> None:
    result = lookup("221384")
    assert result.status is LookupStatus.DESIGNATED_CITY_WARD
    assert result.parent is not None and result.parent.name == "浜松市"


def test_lookup_tokyo_special_ward_accepted() -> None:
    result = lookup("131016")
    assert result.ok
    assert result.government is not None
    assert result.government.display_name == "東京都 千代田区"
    assert result.government.kind is GovernmentKind.WARD


def test_lookup_full_width_digits_normalised_to_valid() -> None:
    result = lookup(" ０１１００２ ")
    assert result.status is LookupStatus.VALID
    assert result.code == "011002"
    assert result.message.ja == "011002 は 北海道 札幌市 です。"


def test_lookup_bad_check_digit_explains_in_both_languages() -> None:
    result = lookup("011003")
    assert result.status is LookupStatus.BAD_CHECK_DIGIT
    assert result.government is None
    assert result.message.ja == (
        "011003 は検査数字（6桁目）が合いません。入力に誤りがないか確認してください。"
    )
    assert "wrong check digit" in result.message.en
    assert result.message.get("en-US") == result.message.en
    assert result.message.get("fr") == result.message.ja


@pytest.mark.parametrize("code", ["", "01100", "0110022", "01100x", "札幌市"])
def test_lookup_not_six_digits_malformed(code: str) -> None:
    result = lookup(code)
    assert result.status is LookupStatus.MALFORMED
    assert "6桁" in result.message.ja
    assert "6 digits" in result.message.en


def test_lookup_unknown_code_with_valid_check_digit_unknown() -> None:
    # 色丹村: a valid MIC code, left out of the list (Northern Territories, no functioning body).
    assert is_valid_code("016951")
    result = lookup("016951")
    assert result.status is LookupStatus.UNKNOWN
    assert "2024年1月1日" in result.message.ja
    assert "2024-01-01" in result.message.en


# --- search and (prefecture, name) -------------------------------------------------------------


@pytest.mark.parametrize("query", ["梼原町", "檮原町", "高知県 檮原町", "ゆすはら", "ﾕｽﾊﾗ"])
def test_search_yusuhara_variants_find_394050(query: str) -> None:
    assert _codes(search(query))[:1] == ["394050"]


def test_find_yusuhara_either_character_same_town() -> None:
    assert find("高知県", "檮原町") == find("高知県", "梼原町") == load_registry().get("394050")


@pytest.mark.parametrize("query", ["龍ヶ崎市", "龍ケ崎市", "龍ｹ崎市"])
def test_search_small_ke_variants_find_ryugasaki(query: str) -> None:
    assert _codes(search(query)) == ["082082"]


def test_search_chigasaki_written_with_ke_found() -> None:
    assert _codes(search("茅ケ崎")) == ["142077"]  # MIC writes 茅ヶ崎市


def test_search_date_returns_both_prefectures() -> None:
    results = search("伊達市")
    assert [gov.display_name for gov in results] == ["北海道 伊達市", "福島県 伊達市"]


@pytest.mark.parametrize("query", ["だてし", "ダテシ", "ﾀﾞﾃｼ"])
def test_search_kana_hiragana_or_katakana_finds_date(query: str) -> None:
    assert _codes(search(query))[:2] == ["012335", "072133"]


def test_search_exact_before_prefix_before_substring() -> None:
    # 森町 exactly (北海道, 静岡県), then 森町 inside 丸森町 / 高森町
    results = search("森町")
    assert _codes(results)[:2] == ["013455", "224618"]
    assert {gov.name for gov in results[2:]} == {"丸森町", "高森町"}


def test_search_name_prefix_every_prefecture_listed() -> None:
    results = search("府中")
    assert [gov.display_name for gov in results] == [
        "東京都 府中市",
        "広島県 府中市",
        "広島県 府中町",
    ]


def test_search_name_prefix_ranks_before_substring() -> None:
    names = [gov.name for gov in search("田", limit=2000)]
    # 田原市 (232319) starts with 田, 秋田県 (050008) only contains it: code order is overruled.
    assert names.index("田原市") < names.index("秋田県")
    assert names[0].startswith("田")


def test_search_code_prefix_returns_in_code_order() -> None:
    assert _codes(search("01100")) == ["011002"]
    tokyo = search("13", limit=3)
    assert _codes(tokyo) == ["130001", "131016", "131024"]


def test_search_limit_caps_results() -> None:
    assert len(search("町", limit=5)) == 5
    assert search("町", limit=0) == []


def test_search_blank_query_returns_nothing() -> None:
    assert search("") == []
    assert search("　 ") == []


def test_search_designated_city_ward_never_returned() -> None:
    assert search("札幌市中央区") == []
    assert search("011011") == []


def test_find_unknown_pair_returns_none() -> None:
    assert find("北海道", "府中市") is None
    assert find("東京都", "府中市") == load_registry().get("132063")


# --- Registry.from_rows ------------------------------------------------------------------------

_SAPPORO = {
    "code": "011002",
    "prefecture_code": "01",
    "prefecture": "北海道",
    "name": "札幌市",
    "name_kana": "さっぽろし",
    "kind": "designated_city",
}
_CHUO = {
    "code": "011011",
    "prefecture_code": "01",
    "prefecture": "北海道",
    "name": "札幌市中央区",
    "name_kana": "さっぽろしちゅうおうく",
    "kind": "ward",
    "city_code": "011002",
}


def test_from_rows_small_list_looks_up_ward() -> None:
    registry = Registry.from_rows([_SAPPORO], [_CHUO])
    assert len(registry) == 1
    assert registry.lookup("011011").parent == registry.get("011002")
    assert registry.lookup("012025").status is LookupStatus.UNKNOWN  # 函館市 not in this list


def test_from_rows_bad_check_digit_raises() -> None:
    with pytest.raises(ValueError, match="invalid local government code"):
        Registry.from_rows([{**_SAPPORO, "code": "011003"}])


def test_from_rows_ward_without_designated_parent_raises() -> None:
    with pytest.raises(ValueError, match="no designated city"):
        Registry.from_rows([{**_SAPPORO, "kind": "city"}], [_CHUO])


def test_from_rows_duplicate_code_raises() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Registry.from_rows([_SAPPORO, _SAPPORO])
