"""Japanese local governments by 全国地方公共団体コード: validation, lookup and search.

Participants are identified by their 6-digit code, never by name: names repeat across
prefectures (伊達市, 府中市, 森町), so every name shown carries its prefecture. The reference list
(``grants/data/*.csv``, MIC edition of 2024-01-01, see its README) is read once and cached.
Designated-city wards (行政区, e.g. 札幌市中央区) have valid codes but are not local governments;
they are kept apart so a lookup can refuse them and name the parent city instead.
"""

from __future__ import annotations

import csv
import functools
import itertools
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from grants.domain.findings import LocalizedText
from grants.domain.identifiers import normalize

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(five_digits: str) -> int:
    """Return the check digit of a 5-digit code (JIS X 0401 prefecture + JIS X 0402 municipality).

    The rule, verified against all 1,965 MIC codes: ``s = 6*d1 + 5*d2 + 4*d3 + 3*d4 + 2*d5`` and
    ``check = (11 - s % 11) % 10``, so a remainder of 0 gives 1 and a remainder of 1 gives 0.

    Raises:
        ValueError: when ``five_digits`` is not exactly five ASCII digits.
    """
    if len(five_digits) != 5 or not _is_ascii_digits(five_digits):
        raise ValueError(f"expected 5 ASCII digits, got {five_digits!r}")
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, five_digits, strict=True))
    return (11 - total % 11) % 10


def is_valid_code(code: str) -> bool:
    """Tell whether ``code`` is 6 ASCII digits whose last digit is the right check digit."""
    if len(code) != 6 or not _is_ascii_digits(code):
        return False
    return check_digit(code[:5]) == int(code[5])


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() alone accepts "١" or "²"; codes are stored and compared as ASCII.
    return text.isascii() and text.isdigit()


class GovernmentKind(StrEnum):
    """Kind of local government, as stored in ``municipalities.csv``."""

    PREFECTURE = "prefecture"
    DESIGNATED_CITY = "designated_city"
    CITY = "city"
    WARD = "ward"  # Tokyo's 23 special wards (特別区), local governments in their own right
    TOWN = "town"
    VILLAGE = "village"


@dataclass(frozen=True)
class LocalGovernment:
    """A prefecture or municipality that may take part in an application."""

    code: str
    prefecture_code: str
    prefecture: str
    name: str
    name_kana: str
    kind: GovernmentKind

    @property
    def display_name(self) -> str:
        """Return the name with its prefecture (「北海道 伊達市」); a prefecture shows its name."""
        if self.kind is GovernmentKind.PREFECTURE:
            return self.name
        return f"{self.prefecture} {self.name}"


@dataclass(frozen=True)
class DesignatedCityWard:
    """An administrative ward of a designated city (行政区): a valid code, not a participant."""

    code: str
    prefecture_code: str
    prefecture: str
    name: str  # city + ward, as MIC writes it: 札幌市中央区
    name_kana: str
    city_code: str


class LookupStatus(StrEnum):
    """Outcome of looking a code up; stable values, safe to store or send to the UI."""

    VALID = "valid"
    MALFORMED = "malformed"
    BAD_CHECK_DIGIT = "bad_check_digit"
    DESIGNATED_CITY_WARD = "designated_city_ward"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LookupResult:
    """What a code stands for, with a message the UI can show as is.

    ``government`` is set only when the code is a participant; for a designated-city ward,
    ``ward`` is the ward and ``parent`` the city that should be given instead.
    """

    status: LookupStatus
    code: str
    message: LocalizedText
    government: LocalGovernment | None = None
    ward: DesignatedCityWard | None = None
    parent: LocalGovernment | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the code names a local government that may take part."""
        return self.status is LookupStatus.VALID


def _valid(code: str, gov: LocalGovernment) -> LookupResult:
    message = LocalizedText(
        ja=f"{code} は {gov.display_name} です。", en=f"{code} is {gov.display_name}."
    )
    return LookupResult(LookupStatus.VALID, code, message, government=gov)


def _malformed(code: str) -> LookupResult:
    shown = code if len(code) <= 20 else code[:20] + "…"
    message = LocalizedText(
        ja=f"団体コードは6桁の数字で入力してください（入力: 「{shown}」）。",
        en=f"A local government code has 6 digits (got “{shown}”).",
    )
    return LookupResult(LookupStatus.MALFORMED, code, message)


def _bad_check_digit(code: str) -> LookupResult:
    # The expected digit is not shown: "fixing" only the last digit would turn a typo in the
    # first five into a valid code for another municipality.
    message = LocalizedText(
        ja=f"{code} は検査数字（6桁目）が合いません。入力に誤りがないか確認してください。",
        en=f"{code} has a wrong check digit (6th digit). Please check the code for typos.",
    )
    return LookupResult(LookupStatus.BAD_CHECK_DIGIT, code, message)


def _ward(code: str, ward: DesignatedCityWard, parent: LocalGovernment) -> LookupResult:
    message = LocalizedText(
        ja=(
            f"{ward.name}は行政区のため参加団体になれません。"
            f"{parent.name}（{parent.code}）を指定してください。"
        ),
        en=(
            f"{ward.name} ({code}) is an administrative ward of a designated city, not a local "
            f"government, so it cannot take part. Please specify {parent.name} ({parent.code})."
        ),
    )
    return LookupResult(LookupStatus.DESIGNATED_CITY_WARD, code, message, ward=ward, parent=parent)


def _unknown(code: str) -> LookupResult:
    message = LocalizedText(
        ja=f"{code} は2024年1月1日現在の総務省の一覧にない団体コードです。",
        en=f"{code} is not a local government code in the MIC list as of 2024-01-01.",
    )
    return LookupResult(LookupStatus.UNKNOWN, code, message)


# Folding for search and (prefecture, name) lookup: MIC writes 梼原町 where the town writes
# 檮原町, and mixes ヶ and ケ (鰺ヶ沢町, 龍ケ崎市); NFKC first turns half-width ｹ into ケ.
_VARIANTS = str.maketrans({"梼": "檮", "ヶ": "ケ", "ヵ": "カ"})
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}


def _fold(text: str) -> str:
    """Normalise for matching: NFKC, variant characters, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).translate(_VARIANTS).split())


def _is_kana(text: str) -> bool:
    return all("ぁ" <= ch <= "ゖ" or "ァ" <= ch <= "ヺ" or ch == "ー" for ch in text)


def _hiragana(text: str) -> str:
    return text.translate(_KATAKANA_TO_HIRAGANA)


def _match_rank(query: str, key: str) -> int | None:
    """Return 0 for an exact match, 1 for a prefix, 2 for a substring, None for no match."""
    if key == query:
        return 0
    if key.startswith(query):
        return 1
    if query in key:
        return 2
    return None


@dataclass(frozen=True)
class _Entry:
    government: LocalGovernment
    name_keys: tuple[str, ...]  # folded name, folded prefecture + name
    kana_key: str


class Registry:
    """The reference list of local governments and designated-city wards, indexed by code."""

    def __init__(
        self, governments: Iterable[LocalGovernment], wards: Iterable[DesignatedCityWard] = ()
    ) -> None:
        """Index the given rows; use ``load_registry()`` or ``from_rows()`` rather than this.

        Raises:
            ValueError: on a duplicate code, or a ward whose parent is not a designated city.
        """
        self._by_code: dict[str, LocalGovernment] = {}
        for gov in governments:
            if gov.code in self._by_code:
                raise ValueError(f"duplicate local government code {gov.code}")
            self._by_code[gov.code] = gov
        self._wards: dict[str, DesignatedCityWard] = {}
        for ward in wards:
            parent = self._by_code.get(ward.city_code)
            if parent is None or parent.kind is not GovernmentKind.DESIGNATED_CITY:
                raise ValueError(f"ward {ward.code}: parent {ward.city_code} is no designated city")
            if ward.code in self._by_code or ward.code in self._wards:
                raise ValueError(f"ward {ward.code} is listed twice")
            self._wards[ward.code] = ward
        self._by_name = {
            (_fold(gov.prefecture), _fold(gov.name)): gov for gov in self._by_code.values()
        }
        self._entries = [
            _Entry(
                gov,
                (_fold(gov.name), _fold(gov.prefecture + gov.name)),
                _hiragana(_fold(gov.name_kana)),
            )
            for gov in sorted(self._by_code.values(), key=lambda g: g.code)
        ]

    @classmethod
    def from_rows(
        cls,
        municipalities: Iterable[Mapping[str, str]],
        wards: Iterable[Mapping[str, str]] = (),
    ) -> Registry:
        """Build a registry from CSV-shaped rows (column names as in ``grants/data``).

        Raises:
            ValueError: on a bad code, a kind or prefecture code that does not match, a
                duplicate, or a ward whose parent is not a designated city of the list.
        """
        return cls(map(_government_from_row, municipalities), map(_ward_from_row, wards))

    def __len__(self) -> int:
        """Return the number of local governments (wards of designated cities excluded)."""
        return len(self._by_code)

    def __iter__(self) -> Iterator[LocalGovernment]:
        """Iterate over the local governments in code order."""
        return (entry.government for entry in self._entries)

    def get(self, code: str) -> LocalGovernment | None:
        """Return the local government with this exact 6-digit code, or None."""
        return self._by_code.get(code)

    def ward(self, code: str) -> DesignatedCityWard | None:
        """Return the designated-city ward with this code, or None."""
        return self._wards.get(code)

    def find(self, prefecture: str, name: str) -> LocalGovernment | None:
        """Return the local government named ``name`` in ``prefecture`` (梼/檮, ヶ/ケ folded)."""
        return self._by_name.get((_fold(prefecture), _fold(name)))

    def lookup(self, code: str) -> LookupResult:
        """Classify a code typed by a user, with a message saying what to do.

        Full-width digits and surrounding spaces are accepted (see ``identifiers.normalize``),
        since Japanese input methods produce them; superscripts and the like are not digits.
        """
        normalized = normalize(code)
        if len(normalized) != 6 or not _is_ascii_digits(normalized):
            return _malformed(code)
        if not is_valid_code(normalized):
            return _bad_check_digit(normalized)
        gov = self._by_code.get(normalized)
        if gov is not None:
            return _valid(normalized, gov)
        ward = self._wards.get(normalized)
        if ward is not None:
            return _ward(normalized, ward, self._by_code[ward.city_code])
        return _unknown(normalized)

    def search(self, query: str, limit: int = 20) -> list[LocalGovernment]:
        """Find local governments by code prefix, name or reading, best matches first.

        Digits match the start of the code (a 5-digit code without check digit works too).
        Other text matches the name (also prefecture + name, e.g. 「北海道伊達市」); kana also
        matches the reading, katakana and hiragana alike. Exact matches come first, then
        prefixes, then substrings; ties in code order. Designated-city wards are never returned.
        """
        folded = _fold(query)
        if not folded or limit <= 0:
            return []
        if _is_ascii_digits(folded):
            matches = (e.government for e in self._entries if e.government.code.startswith(folded))
            return list(itertools.islice(matches, limit))
        kana = _hiragana(folded) if _is_kana(folded) else None
        ranked: list[tuple[int, str, LocalGovernment]] = []
        for entry in self._entries:
            ranks = [_match_rank(folded, key) for key in entry.name_keys]
            if kana is not None:
                ranks.append(_match_rank(kana, entry.kana_key))
            found = [rank for rank in ranks if rank is not None]
            if found:
                ranked.append((min(found), entry.government.code, entry.government))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [gov for _, _, gov in ranked[:limit]]


def _government_from_row(row: Mapping[str, str]) -> LocalGovernment:
    code = row["code"]
    if not is_valid_code(code):
        raise ValueError(f"invalid local government code {code!r}")
    if row["prefecture_code"] != code[:2]:
        raise ValueError(f"{code}: prefecture_code {row['prefecture_code']!r} != {code[:2]!r}")
    return LocalGovernment(
        code=code,
        prefecture_code=row["prefecture_code"],
        prefecture=row["prefecture"],
        name=row["name"],
        name_kana=row["name_kana"],
        kind=GovernmentKind(row["kind"]),
    )


def _ward_from_row(row: Mapping[str, str]) -> DesignatedCityWard:
    code = row["code"]
    if not is_valid_code(code):
        raise ValueError(f"invalid ward code {code!r}")
    return DesignatedCityWard(
        code=code,
        prefecture_code=row["prefecture_code"],
        prefecture=row["prefecture"],
        name=row["name"],
        name_kana=row["name_kana"],
        city_code=row["city_code"],
    )


def _read_csv(name: str) -> list[dict[str, str]]:
    resource = resources.files("grants") / "data" / name
    with resource.open("r", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def load_registry() -> Registry:
    """Return the registry built from ``grants/data`` (read once per process)."""
    return Registry.from_rows(
        _read_csv("municipalities.csv"), _read_csv("designated_city_wards.csv")
    )


def get(code: str) -> LocalGovernment | None:
    """Return the local government with this code from the packaged list, or None."""
    return load_registry().get(code)


def lookup(code: str) -> LookupResult:
    """Classify a code against the packaged list; see ``Registry.lookup``."""
    return load_registry().lookup(code)


def search(query: str, limit: int = 20) -> list[LocalGovernment]:
    """Search the packaged list; see ``Registry.search``."""
    return load_registry().search(query, limit)


def find(prefecture: str, name: str) -> LocalGovernment | None:
    """Return a local government by (prefecture, name) from the packaged list, or None."""
    return load_registry().find(prefecture, name)
