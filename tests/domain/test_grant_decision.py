"""The grant decision's arithmetic and dates: the award divided among the categories in whole
yen adding up exactly, the project period from the application or to the end of the fiscal
year, and the conditions with the program's own figures."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.domain.definitions import PostAward
from grants.domain.grant_decision import (
    answered_date,
    conditions_text,
    divide_award,
    plan_scope,
    project_period,
    standard_conditions,
)

D = dt.date


def test_an_award_equal_to_the_request_keeps_every_category():
    requested = {"human_resources": 3_000_000, "system": 0, "equipment": 1_000_000}
    assert divide_award(requested, 4_000_000) == requested


def test_one_category_gets_the_whole_award():
    assert divide_award({"system": 4_000_500}, 4_000_000) == {"system": 4_000_000}


def test_a_category_requested_at_zero_stays_at_zero():
    assert divide_award({"a": 0, "b": 5_000, "c": 0}, 3_000) == {"a": 0, "b": 3_000, "c": 0}


def test_the_yen_left_by_rounding_go_to_the_largest_remainders():
    # 1000 × 2/3 = 666.67, 1000 × 1/3 = 333.33: one yen is left, for the larger remainder.
    assert divide_award({"a": 2_000, "b": 1_000}, 1_000) == {"a": 667, "b": 333}
    # 90 %: a's share is whole, b's remainder .4, c's .6: the one yen left goes to c.
    assert divide_award({"a": 3_333_330, "b": 3_333_336, "c": 3_333_334}, 9_000_000) == {
        "a": 2_999_997, "b": 3_000_002, "c": 3_000_001}


def test_on_equal_remainders_the_earlier_category_gets_the_yen():
    assert divide_award({"a": 100, "b": 100, "c": 100}, 100) == {"a": 34, "b": 33, "c": 33}
    assert divide_award({"a": 1, "b": 1, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}


def test_the_keys_keep_the_programs_order():
    assert list(divide_award({"z": 10, "a": 20, "m": 30}, 30)) == ["z", "a", "m"]


@pytest.mark.parametrize(("requested", "award"), [
    ({}, 0),  # no category to divide among
    ({"a": 1_000}, 1_001),  # above the request
    ({"a": 1_000}, -1),
    ({"a": -5, "b": 10}, 5),
])
def test_what_cannot_be_divided_is_refused(requested, award):
    with pytest.raises(ValueError, match=r"cannot divide|exceeds"):
        divide_award(requested, award)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=6),
       st.integers(min_value=0, max_value=10**6))
def test_the_categories_always_add_up_to_the_award_and_never_above_their_request(amounts, cut):
    requested = {f"c{i}": amount for i, amount in enumerate(amounts)}
    award = max(sum(amounts) - cut, 0)
    divided = divide_award(requested, award)
    assert sum(divided.values()) == award
    assert all(0 <= divided[key] <= requested[key] for key in requested)


def test_the_period_the_application_states():
    period = project_period(D(2026, 12, 1), D(2027, 3, 31), D(2026, 11, 20))
    assert (period.start, period.end) == (D(2026, 12, 1), D(2027, 3, 31))


def test_the_project_never_starts_before_the_grant_decision():
    period = project_period(D(2026, 4, 1), D(2027, 3, 31), D(2026, 11, 20))
    assert (period.start, period.end) == (D(2026, 11, 20), D(2027, 3, 31))


@pytest.mark.parametrize(("decided", "end"), [
    (D(2026, 11, 20), D(2027, 3, 31)),
    (D(2027, 3, 31), D(2027, 3, 31)),  # the fiscal year's last day: ends that day
    (D(2027, 4, 1), D(2028, 3, 31)),  # the next fiscal year's first day
])
def test_without_a_period_the_project_runs_to_the_end_of_the_fiscal_year(decided, end):
    period = project_period(None, None, decided)
    assert (period.start, period.end) == (decided, end)


def test_an_answered_end_already_over_gives_the_end_of_the_fiscal_year():
    period = project_period(D(2010, 4, 1), D(2011, 3, 31), D(2026, 11, 20))
    assert (period.start, period.end) == (D(2026, 11, 20), D(2027, 3, 31))
    same_day = project_period(None, D(2026, 11, 20), D(2026, 11, 20))
    assert (same_day.start, same_day.end) == (D(2026, 11, 20), D(2026, 11, 20))


def test_date_answers_are_read_from_iso_text():
    answers = {"period_start": "2026-12-01", "bad": "2026-13-01", "number": 3}
    assert answered_date(answers, "period_start") == D(2026, 12, 1)
    assert answered_date(answers, "bad") is None
    assert answered_date(answers, "number") is None
    assert answered_date(answers, "missing") is None


def test_the_conditions_state_the_law_and_the_programs_figures():
    rules = PostAward(change_tolerance="1/4", report_due_days=45,
                      asset_threshold_yen=300_000, followup_years=3)
    text = "\n".join(standard_conditions(rules))
    assert "補助金等に係る予算の執行の適正化に関する法律" in text
    assert "4分の1以内の流用を除く" in text and "45日以内に実績報告書" in text
    assert "30万円以上" in text and "財産管理台帳" in text and "処分制限期間" in text
    assert "5年間保存" in text and "3年間、毎会計年度" in text
    assert "毎会計年度" not in "\n".join(standard_conditions(PostAward(followup_years=0)))


def test_the_officers_conditions_come_last_numbered():
    rules = PostAward()
    lines = conditions_text(rules, "  事業成果を年1回公表すること。 ").splitlines()
    assert lines[0].startswith("1. 補助事業者は、補助金等に係る")
    assert lines[-1] == f"{len(lines)}. 事業成果を年1回公表すること。"
    assert len(lines) == len(standard_conditions(rules)) + 1
    assert conditions_text(rules, " \n") == conditions_text(rules)


def test_the_scope_is_the_summary_else_the_title():
    answers = {"project_summary": " 見守りの仕組みを作る。 ", "project_title": "見守り事業"}
    both = {"project_summary", "project_title"}
    assert plan_scope(answers, both) == "見守りの仕組みを作る。"
    assert plan_scope(answers, {"project_title"}) == "見守り事業"
    assert plan_scope({"project_summary": "", "project_title": "見守り事業"}, both) == "見守り事業"
    assert plan_scope({}, set()) == ""
