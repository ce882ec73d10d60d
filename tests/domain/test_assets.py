"""The asset register's arithmetic: which items go in, the end of the disposal restriction
(29 February, the 31st, the calendar's end), the subsidized share (never more in all than the
final amount), the repayment at its edges (the day of acquisition, the period's last day, the
day after, a month begun), and the equipment a completion report may be filed with (paid for by
purchases, acquired inside the project period)."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.assets import (
    BeforeAcquisition,
    Item,
    check_equipment,
    months_later,
    needs_approval,
    registered_items,
    repayment,
    restricted_until,
    share_base,
    subsidized_share,
    whole_months,
)

D = dt.date


def test_items_at_or_above_the_threshold_go_in_the_register():
    equipment = [
        {"name": "サーバ", "kind": "computer", "acquired_on": "2025-06-01", "cost_yen": 500_000},
        {"name": "タブレット", "kind": "pc", "acquired_on": "2025-06-02", "cost_yen": 499_999},
        {"name": "回線装置", "kind": "network", "acquired_on": D(2025, 7, 1),
         "cost_yen": 2_000_000},
    ]
    assert registered_items(equipment, 500_000) == [
        Item("サーバ", "computer", D(2025, 6, 1), 500_000),
        Item("回線装置", "network", D(2025, 7, 1), 2_000_000)]
    assert registered_items(equipment, 2_000_001) == []
    free = {"name": "寄贈品", "kind": "other", "acquired_on": "2025-07-01", "cost_yen": 0}
    assert registered_items([free], 0) == []
    assert len(registered_items([*equipment, free], 0)) == 3


@pytest.mark.parametrize(("acquired", "years", "until"), [
    (D(2025, 6, 1), 5, D(2030, 5, 31)),
    (D(2025, 4, 1), 10, D(2035, 3, 31)),
    (D(2025, 12, 31), 4, D(2029, 12, 30)),
    (D(2024, 2, 29), 5, D(2029, 2, 28)),  # the last year has no 29 February
    (D(2024, 2, 29), 4, D(2028, 2, 28)),  # it has one: still the day before
    (D(2024, 2, 28), 5, D(2029, 2, 27)),
    (D(2024, 3, 1), 5, D(2029, 2, 28)),
])
def test_the_restriction_ends_the_day_before_the_same_day_years_later(acquired, years, until):
    assert restricted_until(acquired, years) == until


@pytest.mark.parametrize(("day", "months", "later"), [
    (D(2025, 1, 15), 1, D(2025, 2, 15)),
    (D(2025, 1, 31), 1, D(2025, 3, 1)),  # February has no 31st: the month ends with it
    (D(2024, 1, 31), 1, D(2024, 3, 1)),
    (D(2025, 3, 31), 1, D(2025, 5, 1)),
    (D(2025, 10, 31), 1, D(2025, 12, 1)),
    (D(2025, 12, 31), 1, D(2026, 1, 31)),
    (D(2025, 11, 30), 14, D(2027, 1, 30)),
    (D(2025, 5, 5), 0, D(2025, 5, 5)),
])
def test_months_later(day, months, later):
    assert months_later(day, months) == later


@pytest.mark.parametrize(("start", "end", "months"), [
    (D(2025, 1, 15), D(2025, 2, 15), 1),
    (D(2025, 1, 15), D(2025, 2, 14), 0),
    (D(2025, 1, 31), D(2025, 3, 1), 1),
    (D(2025, 1, 31), D(2025, 2, 28), 0),
    (D(2025, 3, 1), D(2025, 3, 1), 0),
    (D(2025, 3, 2), D(2025, 3, 1), 0),  # backwards: none
    (D(2025, 6, 1), D(2030, 6, 1), 60),
])
def test_whole_months(start, end, months):
    assert whole_months(start, end) == months


@pytest.mark.parametrize(("cost", "final", "eligible", "share"), [
    (1_000_000, 9_000_000, 9_000_000, 1_000_000),  # 定額: the grant paid it all
    (1_000_000, 6_000_000, 9_000_000, 666_666),  # two thirds, rounded down
    (999_999, 1, 3, 333_333),
    (1_000_000, 10_000_000, 9_000_000, 1_000_000),  # never more than the cost
    (1_000_000, 0, 9_000_000, 0),
    (1_000_000, 5_000_000, 0, 0),
])
def test_the_subsidized_share_of_an_item(cost, final, eligible, share):
    assert subsidized_share(cost, final, eligible) == share


ACQUIRED = D(2025, 6, 1)  # 5 years: restricted until 2030-05-31, 60 months


def test_disposed_of_on_the_day_of_acquisition_the_whole_subsidy_is_repaid():
    found = repayment(1_000_000, ACQUIRED, 5, ACQUIRED)
    assert found.to_dict() == {
        "rule": "subsidized_yen × remaining_months ÷ period_months, rounded down to the yen",
        "subsidized_yen": 1_000_000, "acquired_on": "2025-06-01",
        "restricted_until": "2030-05-31", "disposal_on": "2025-06-01", "period_months": 60,
        "elapsed_months": 0, "remaining_months": 60, "share": "60/60",
        "approval_required": True, "repayment_yen": 1_000_000}


@pytest.mark.parametrize(("day", "remaining", "repaid"), [
    (D(2025, 6, 2), 59, 983_333),  # a month begun counts as used: 59/60
    (D(2025, 7, 1), 59, 983_333),
    (D(2025, 7, 2), 58, 966_666),
    (D(2026, 7, 1), 47, 783_333),  # 1,000,000 × 47 / 60 = 783,333.33…
    (D(2030, 5, 1), 1, 16_666),
    (D(2030, 5, 2), 0, 0),
])
def test_the_repayment_prorates_by_the_remaining_whole_months(day, remaining, repaid):
    found = repayment(1_000_000, ACQUIRED, 5, day)
    assert (found.remaining_months, found.elapsed_months, found.repayment_yen) == (
        remaining, 60 - remaining, repaid)
    assert found.approval_required


def test_on_the_last_day_of_the_period_nothing_is_repaid_but_approval_is_needed():
    last = repayment(1_000_000, ACQUIRED, 5, D(2030, 5, 31))
    assert last.restricted_until == D(2030, 5, 31)
    assert (last.remaining_months, last.repayment_yen, last.approval_required) == (0, 0, True)
    assert needs_approval(last.restricted_until, D(2030, 5, 31))


def test_from_the_day_after_the_period_no_approval_and_no_repayment():
    after = repayment(1_000_000, ACQUIRED, 5, D(2030, 6, 1))
    assert (after.remaining_months, after.repayment_yen, after.approval_required) == (0, 0, False)
    assert after.to_dict()["share"] == "0/60"
    assert not needs_approval(D(2030, 5, 31), D(2030, 6, 1))
    assert repayment(1_000_000, ACQUIRED, 5, D(2040, 1, 1)).repayment_yen == 0


def test_a_29_february_acquisition_counts_its_months_to_28_february():
    leap = D(2024, 2, 29)
    assert repayment(600_000, leap, 5, leap).remaining_months == 60
    last = repayment(600_000, leap, 5, D(2029, 2, 28))
    assert (last.restricted_until, last.remaining_months, last.approval_required) == (
        D(2029, 2, 28), 0, True)
    assert repayment(600_000, leap, 5, D(2029, 1, 31)).remaining_months == 1  # to February's end
    assert repayment(600_000, leap, 5, D(2029, 2, 1)).remaining_months == 1
    assert repayment(600_000, leap, 5, D(2029, 2, 2)).remaining_months == 0
    assert not repayment(600_000, leap, 5, D(2029, 3, 1)).approval_required


def test_an_item_is_not_disposed_of_before_it_was_acquired():
    with pytest.raises(BeforeAcquisition):
        repayment(1_000_000, ACQUIRED, 5, D(2025, 5, 31))


LAST_DAY = D(9999, 12, 31)


@pytest.mark.parametrize(("acquired", "years", "until"), [
    (LAST_DAY, 4, LAST_DAY),  # the period would end in 10003: the calendar ends first
    (D(9995, 12, 31), 5, LAST_DAY),
    (D(9995, 1, 1), 5, D(9999, 12, 31)),  # exactly: 10000-01-01 less a day
    (D(9994, 12, 31), 5, D(9999, 12, 30)),  # the last period that fits the calendar
])
def test_a_period_past_the_calendars_end_ends_with_it(acquired, years, until):
    assert restricted_until(acquired, years) == until


def test_months_later_stops_at_the_calendars_end():
    assert months_later(D(9999, 12, 1), 1) == LAST_DAY
    assert months_later(LAST_DAY, 12 * 50) == LAST_DAY
    assert months_later(D(9999, 11, 30), 1) == D(9999, 12, 30)


def test_a_repayment_at_the_calendars_end_never_fails_nor_repays_more_than_the_subsidy():
    on_acquisition = repayment(1_000_000, LAST_DAY, 4, LAST_DAY)
    assert (on_acquisition.restricted_until, on_acquisition.remaining_months,
            on_acquisition.repayment_yen, on_acquisition.approval_required) == (
        LAST_DAY, 0, 0, True)
    found = repayment(1_000_000, D(9997, 1, 1), 5, D(9997, 1, 1))
    assert (found.restricted_until, found.remaining_months, found.repayment_yen) == (
        LAST_DAY, 35, 583_333)  # the months that fit the calendar, never more


@pytest.mark.parametrize(("eligible", "costs", "base"), [
    (9_000_000, [1_200_000, 600_000], 9_000_000),  # the usual: the eligible actual cost
    (1_000_000, [1_000_000], 1_000_000),
    (1_000_000, [50_000_000, 600_000], 50_600_000),  # items cost more: their total
    (0, [], 0),
])
def test_the_share_base_is_the_larger_of_the_eligible_cost_and_the_items(eligible, costs, base):
    items = [Item("x", "pc", D(2027, 1, 15), cost) for cost in costs]
    assert share_base(eligible, items) == base


@pytest.mark.parametrize(("eligible", "final", "costs"), [
    (4_000_000, 4_000_000, [50_000_000, 600_000]),  # the tester's ¥50,000,000 server
    (4_000_000, 4_000_000, [2_000_000, 2_000_000, 1]),  # one yen over the eligible cost
    (3_000_001, 3_000_000, [1_000_001, 1_000_000, 1_000_000]),
    (9_000_000, 3_000_000, [1_200_000, 600_000, 499_999]),
])
def test_the_shares_of_all_items_never_add_up_to_more_than_the_final_amount(eligible, final,
                                                                           costs):
    items = [Item("x", "pc", D(2027, 1, 15), cost) for cost in costs]
    shares = [subsidized_share(cost, final, share_base(eligible, items)) for cost in costs]
    assert sum(shares) <= final
    assert all(0 <= share <= cost for share, cost in zip(shares, costs, strict=True))


def test_items_within_the_eligible_cost_keep_the_final_amounts_share():
    items = [Item("サーバ", "computer", D(2027, 1, 15), 1_200_000)]
    assert subsidized_share(1_200_000, 3_000_000, share_base(9_000_000, items)) == 400_000


START, END = D(2026, 12, 1), D(2027, 3, 31)
EQUIPMENT = ["equipment"]


def _line(category: str, amount: int, acquisition: str = "purchase") -> dict[str, object]:
    return {"category": category, "description": "x", "acquisition": acquisition,
            "amount_yen": amount}


MID_PERIOD = D(2027, 1, 15)


def _items(*costs: int, day: dt.date = MID_PERIOD) -> list[Item]:
    return [Item(f"item{n}", "pc", day, cost) for n, cost in enumerate(costs)]


@pytest.mark.parametrize(("costs", "over"), [
    ((1_200_000,), False),  # exactly the purchases
    ((1_200_001,), True),  # one yen more
    ((700_000, 500_000), False),
    ((700_000, 500_001), True),
    ((), False),
])
def test_the_items_cost_at_most_the_equipment_bought_outright(costs, over):
    found = check_equipment(_items(*costs), [_line("equipment", 1_000_000),
                                             _line("equipment", 200_000)], EQUIPMENT, START, END)
    assert (found.items_yen, found.purchased_yen) == (sum(costs), 1_200_000)
    assert found.over_purchases is over and found.accounted_for is not over


def test_only_purchases_in_the_equipment_categories_pay_for_items():
    lines = [_line("equipment", 1_000_000, "lease"), _line("equipment", 300_000, "rental"),
             _line("equipment", 200_000, "none"), _line("system", 5_000_000),
             _line("equipment", 100_000)]
    found = check_equipment(_items(100_001), lines, EQUIPMENT, START, END)
    assert found.purchased_yen == 100_000 and found.over_purchases
    assert check_equipment(_items(1), lines, [], START, END).purchased_yen == 0


@pytest.mark.parametrize(("day", "inside"), [
    (START, True), (END, True),  # both ends of the period count
    (START - dt.timedelta(days=1), False), (END + dt.timedelta(days=1), False),
    (LAST_DAY, False), (D(1, 1, 1), False),
])
def test_each_item_is_acquired_inside_the_project_period(day, inside):
    found = check_equipment([*_items(100), *_items(100, day=day)],
                            [_line("equipment", 200)], EQUIPMENT, START, END)
    assert found.outside_period == (() if inside else (1,))
    assert (found.period_start, found.period_end) == (START, END)
    assert found.accounted_for is inside
