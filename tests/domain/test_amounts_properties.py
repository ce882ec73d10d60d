"""Properties of the amount grammar: every text reads as its canonical value or is refused."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from grants.domain.amounts import MAX_AMOUNT, AmountProblem, parse_count, parse_yen
from grants.domain.identifiers import normalize

FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")
# Characters people type or paste around numbers, mixed with anything at all.
TYPED = st.text(
    alphabet=st.sampled_from("0123456789０１２３４５６７８９,，、.¥￥\\円 \u3000\n\t-+e²³①١〇")
    | st.characters(),
    max_size=30,
)
AMOUNTS = st.integers(min_value=0, max_value=MAX_AMOUNT)
quick = settings(max_examples=200, deadline=None)


@quick
@given(TYPED)
def test_any_text_is_its_canonical_value_or_refused(text):
    result = parse_yen(text)

    if isinstance(result, AmountProblem):
        return
    assert 0 <= result <= MAX_AMOUNT
    # What was read is exactly what was typed, once units and separators are set aside.
    assert re.sub(r"[,¥\\円]", "", normalize(text)) == str(result)


@quick
@given(AMOUNTS, st.booleans(), st.booleans(), st.sampled_from(["", "¥", "￥", "\\"]),
       st.sampled_from(["", "円"]), st.sampled_from(["", " ", "\u3000", "\n"]))
def test_every_amount_reads_back_however_it_is_written(n, grouped, wide, mark, unit, space):
    digits = f"{n:,}" if grouped else str(n)
    if wide:
        digits = digits.translate(FULL_WIDTH)

    assert parse_yen(f"{space}{mark}{digits}{unit}{space}") == n


@quick
@given(st.integers(min_value=1000, max_value=MAX_AMOUNT), st.data())
def test_commas_anywhere_but_every_three_digits_refused(n, data):
    digits = str(n)
    cuts = data.draw(st.sets(st.integers(min_value=1, max_value=len(digits) - 1), min_size=1))
    typed = "".join(("," if i in cuts else "") + d for i, d in enumerate(digits))

    expected = n if typed == f"{n:,}" else AmountProblem.MALFORMED
    assert parse_yen(typed) == expected


@quick
@given(st.integers(min_value=MAX_AMOUNT + 1, max_value=10**40), st.booleans())
def test_amount_too_large_refused_not_overflowed(n, grouped):
    assert parse_yen(f"{n:,}" if grouped else str(n)) is AmountProblem.TOO_LARGE


@quick
@given(st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT), st.booleans())
def test_counts_read_back_with_their_sign(n, grouped):
    assert parse_count(f"{n:,}" if grouped else str(n)) == n


@quick
@given(TYPED)
def test_a_count_is_never_read_from_a_yen_amount_with_units(text):
    result = parse_count(text)

    if not isinstance(result, AmountProblem):
        assert re.sub(r",", "", normalize(text)) == str(result)
