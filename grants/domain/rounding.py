"""Rounding exact fractions for display and storage, the way people round by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def to_decimal(value: Fraction, places: Decimal = CENT) -> Decimal:
    """Round to two decimals (or `places`), halves away from zero: 7.625 -> 7.63.

    Integer arithmetic keeps it exact; a Decimal division would round to 28 digits first.
    """
    if value < 0:
        return -to_decimal(-value, places)
    scaled = value / Fraction(places)
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole) * places
