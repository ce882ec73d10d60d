"""Amounts and counts as people type them: one strict grammar after ``identifiers.normalize``.

After NFKC and trim (full-width ``１，２００，０００`` and ``￥`` fold to ASCII), an amount is
digits, either ungrouped (``1500000``) or grouped by commas in threes (``1,500,000``). A yen
amount may also carry a leading ``¥`` and/or a trailing ``円``: both are unambiguous units,
and people copy them from the call's documents. A leading ``\\`` counts as ``¥``: Japanese
keyboards type U+005C for the ¥ key and Japanese fonts draw it as ¥. Everything else is refused
rather than guessed, because every guess would read a different number than the one meant:
``10²`` (superscript), ``1 2`` (a space inside), ``10,000,00`` and ``1,0,0`` (groups not of
three), ``1.5`` (no fractions of a yen), ``1e8``, ``-1``, and leading zeros (``007``: a slip).
A count (a ``number`` field) has the same grammar without the units, and may be negative.
"""

from __future__ import annotations

import re
from enum import StrEnum

from grants.domain.identifiers import normalize

MAX_AMOUNT = 10**15
"""The largest amount or count accepted (千兆円, far above any grant).

Stored amounts are 64-bit (BigInteger, up to 9.2 × 10**18), so even the sum of a program's
largest list of budget lines stays inside the column; a larger number is refused with a
message instead of failing in the database.
"""

_DIGITS = r"(?:0|[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]*)"
_YEN = re.compile(rf"[¥\\]?(?P<digits>{_DIGITS})円?")
_COUNT = re.compile(rf"(?P<sign>-?)(?P<digits>{_DIGITS})")
_MAX_DIGITS = len(str(MAX_AMOUNT))  # checked before int(): Python refuses > 4300 digits


class AmountProblem(StrEnum):
    """Why a typed amount is refused (a message key, translated by the caller with the field)."""

    EMPTY = "empty"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"


def parse_yen(text: str | None) -> int | AmountProblem:
    """Return a typed yen amount as integer yen (0 or more), or why it is not one."""
    return _parse(_YEN, text)


def parse_count(text: str | None) -> int | AmountProblem:
    """Return a typed whole number (a sign allowed, no units), or why it is not one."""
    return _parse(_COUNT, text)


def _parse(grammar: re.Pattern[str], text: str | None) -> int | AmountProblem:
    value = normalize(text)
    if not value:
        return AmountProblem.EMPTY
    found = grammar.fullmatch(value)
    if found is None:
        return AmountProblem.MALFORMED
    digits = found["digits"].replace(",", "")
    if len(digits) > _MAX_DIGITS or int(digits) > MAX_AMOUNT:
        return AmountProblem.TOO_LARGE
    sign = -1 if found.groupdict().get("sign") else 1
    return sign * int(digits)
