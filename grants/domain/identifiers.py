"""Typed identifiers of organizations: one normalization, then a strict grammar.

People type codes with full-width digits (Japanese keyboards), pasted spaces or a trailing
newline. Every identifier goes through ``normalize`` (NFKC, then trim) before its grammar is
checked with a full match, so ``０１１００２`` and `` 011002`` are the same code and
``"011002\\n"`` never slips past a ``$``.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

CORPORATE_NUMBER = re.compile(r"[1-9][0-9]{12}")


class IdentifierProblem(StrEnum):
    """Why a typed identifier is refused (a message key, translated by the caller)."""

    EMPTY = "empty"
    MALFORMED = "malformed"
    CHECK_DIGIT = "check_digit"


def normalize(text: str | None) -> str:
    """Fold full-width forms to ASCII (NFKC) and trim surrounding white space.

    Digits that are not decimal digits (superscripts such as ``²``, circled ``①``) are kept as
    they are, so they fail every grammar instead of being folded into a different number.
    """
    kept = "".join(
        c if c.isdigit() and not c.isdecimal() else unicodedata.normalize("NFKC", c)
        for c in text or ""
    )
    return kept.strip()


def corporate_check_digit(base: str) -> int:
    """Return the check digit of a 12-digit 法人番号 base (国税庁's rule).

    9 − (Σ Pn × Qn mod 9), where Pn is the n-th digit counted from the right and Qn is 1 for odd
    n and 2 for even n.
    """
    if len(base) != 12 or not base.isascii() or not base.isdigit():
        raise ValueError("a 法人番号 base is 12 ASCII digits")
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), 1))
    return 9 - total % 9


def parse_corporate_number(text: str | None) -> str | IdentifierProblem:
    """Return the canonical 13-digit 法人番号, or why ``text`` is not one.

    The first digit is the check digit of the other twelve.
    """
    value = normalize(text)
    if not value:
        return IdentifierProblem.EMPTY
    if not value.isascii() or not CORPORATE_NUMBER.fullmatch(value):
        return IdentifierProblem.MALFORMED
    if int(value[0]) != corporate_check_digit(value[1:]):
        return IdentifierProblem.CHECK_DIGIT
    return value


def corporate_number(base: str) -> str:
    """Return the full 法人番号 for a 12-digit base: its check digit, then the base."""
    return f"{corporate_check_digit(base)}{base}"
