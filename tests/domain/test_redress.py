"""The evaluation review's window: counted as Japanese periods are (the decision day left out,
the last day whole, Japan time), so the last second inside is accepted and the next refused."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.definitions import JST, parse_program
from grants.domain.errors import DefinitionErrors
from grants.domain.redress import DEFAULT_WINDOW_DAYS, WindowClosed, closes_at, require_open
from tests.domain.conftest import KIZUNA


def _jst(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.mark.parametrize(("decided", "last_day"), [
    (_jst(2027, 4, 1, 10, 0), dt.date(2027, 5, 1)),
    (_jst(2027, 4, 1, 0, 0), dt.date(2027, 5, 1)),
    (_jst(2027, 4, 1, 23, 59, 59), dt.date(2027, 5, 1)),
    # 2027-03-31 15:30 UTC is already 1 April in Japan: the Japanese day counts.
    (dt.datetime(2027, 3, 31, 15, 30, tzinfo=dt.UTC), dt.date(2027, 5, 1)),
    (_jst(2027, 12, 15, 9, 0), dt.date(2028, 1, 14)),  # across the year
])
def test_the_window_ends_with_its_last_day_in_japan_time(decided, last_day):
    end = closes_at(decided, DEFAULT_WINDOW_DAYS)
    assert end == dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), JST)
    assert require_open(decided, DEFAULT_WINDOW_DAYS, end - dt.timedelta(seconds=1)) == end
    with pytest.raises(WindowClosed) as caught:
        require_open(decided, DEFAULT_WINDOW_DAYS, end)
    assert caught.value.closed_at == end


def test_a_one_day_window_keeps_only_the_next_day():
    decided = _jst(2027, 4, 1, 17, 0)
    assert closes_at(decided, 1) == _jst(2027, 4, 3)
    assert require_open(decided, 1, decided) == _jst(2027, 4, 3)  # at the decision itself


def test_the_call_sets_its_window_in_days_after_the_decision(program_text):
    text = program_text(KIZUNA)
    assert parse_program(text, "programs/test.yaml").call.redress_window_days == 30
    marker = next(line for line in text.splitlines() if line.strip().startswith("closes:"))
    longer = text.replace(marker, f"{marker}\n  redress_window_days: 60", 1)
    assert parse_program(longer, "programs/test.yaml").call.redress_window_days == 60
    for bad in ("0", '"30"', "３０", "366"):
        wrong = text.replace(marker, f"{marker}\n  redress_window_days: {bad}", 1)
        with pytest.raises(DefinitionErrors) as caught:
            parse_program(wrong, "programs/test.yaml")
        [error] = caught.value.errors
        line = text.splitlines().index(marker) + 2
        assert (error.file, error.line, error.field) == \
            ("programs/test.yaml", line, "call.redress_window_days"), bad
