"""The asset register (財産管理台帳) and the disposal restriction (処分制限期間).

An item acquired with the grant at or above the program's threshold is entered in the register
when the final amount is fixed. Its disposal is restricted for its useful life, counted from the
day it was acquired: the period runs to the day before the same day that many years later (an
item acquired on 29 February, whose day the last year may lack, is restricted to 28 February).

Disposing of (selling, scrapping, giving away) or repurposing an item inside the period needs
the officer's approval and repays part of the grant that paid for it:

    repayment = subsidized yen × remaining months ÷ months of the period, rounded down to the yen

where the remaining months are the *whole* months from the day of disposal to the end of the
period, as 補助金等に係る財産処分 approvals prorate by the remaining period (残存期間): a month
begun counts as used. Disposed of on the day of acquisition, the whole subsidy is repaid; on the
period's last day nothing is (no whole month remains), though the approval is still needed; from
the day after, the restriction is over and no approval is needed. Months are counted as periods
are in Japan (民法 第143条): a month from the 31st, or from 29 February, whose last month lacks
that day, runs to the end of that month. The calendar ends with 9999-12-31: a period that would
end after it ends on it (filing refuses such days; the arithmetic never fails on them).

The grant's share of an item (subsidized_yen) is its cost × the final amount ÷ the eligible
actual cost, rounded down: what the grant paid of every eligible yen. Where the items cost more
in all than the eligible actual cost (a category cut back to its limit), their total takes the
eligible cost's place, so the shares of all the items never add up to more than the final
amount, and an item's share is never more than its cost.

A completion report is filed only when its equipment is accounted for (`check_equipment`): the
items cost no more in all than the lines of the program's equipment categories bought outright
(購入: a lease or a rental buys nothing for the register), and each was acquired inside the
project period, from the start of the grant decision's period to the end of the plan in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from grants.domain.application_data import Acquisition, BudgetLine
from grants.domain.errors import DomainError

MONTHS_A_YEAR = 12
RULE = "subsidized_yen × remaining_months ÷ period_months, rounded down to the yen"


@dataclass(frozen=True)
class Item:
    """An equipment item of the completion report: {name, kind, acquired_on, cost_yen}."""

    name: str
    kind: str
    acquired_on: dt.date
    cost_yen: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        acquired = data["acquired_on"]
        return cls(name=str(data["name"]), kind=str(data["kind"]),
                   acquired_on=acquired if isinstance(acquired, dt.date)
                   else dt.date.fromisoformat(acquired),
                   cost_yen=int(data["cost_yen"]))


def registered_items(equipment: Iterable[Mapping[str, Any]], threshold_yen: int) -> list[Item]:
    """The items that go in the register: those costing at least the threshold (and
    something: a program may set the threshold to zero)."""
    items = (Item.from_dict(item) for item in equipment)
    return [item for item in items if item.cost_yen >= max(threshold_yen, 1)]


def _months_later_in_calendar(day: dt.date, months: int) -> dt.date | None:
    """`months_later`, or None when that day is after the calendar's last."""
    index = day.year * MONTHS_A_YEAR + day.month - 1 + months
    year, month = divmod(index, MONTHS_A_YEAR)
    if year > dt.MAXYEAR:
        return None
    try:
        return dt.date(year, month + 1, day.day)
    except ValueError:  # no such day that month (December always has the 31st)
        return dt.date(year, month + 2, 1)


def months_later(day: dt.date, months: int) -> dt.date:
    """The day that ends a period of whole months begun on `day` (exclusive): the same day of
    the month `months` later, or the 1st of the month after when that month lacks the day
    (from 31 January, one month ends with 28 or 29 February); the calendar's last day when
    that is after it."""
    return _months_later_in_calendar(day, months) or dt.date.max


def day_after(day: dt.date) -> dt.date:
    """The next day; the calendar's last day stays itself."""
    return day if day == dt.date.max else day + dt.timedelta(days=1)


def restricted_until(acquired_on: dt.date, years: int) -> dt.date:
    """The last day of the restriction: acquired_on + years − 1 day (the calendar's last day
    when the period runs past it)."""
    end = _months_later_in_calendar(acquired_on, years * MONTHS_A_YEAR)
    return dt.date.max if end is None else end - dt.timedelta(days=1)


def whole_months(start: dt.date, end: dt.date) -> int:
    """How many whole months fit from `start` up to `end` (exclusive); 0 when none."""
    months = (end.year - start.year) * MONTHS_A_YEAR + end.month - start.month
    if months_later(start, months) > end:
        months -= 1
    return max(months, 0)


def share_base(eligible_total_yen: int, items: Iterable[Item]) -> int:
    """What an item's cost is a share of: the eligible actual cost, or the items' total cost
    when they cost more (their shares then add up to the final amount at most)."""
    return max(eligible_total_yen, sum(item.cost_yen for item in items))


def subsidized_share(cost_yen: int, final_yen: int, base_yen: int) -> int:
    """The part of an item's cost the grant paid: cost × final amount ÷ `share_base`, rounded
    down to the yen, never more than the cost (none when nothing was eligible)."""
    if base_yen <= 0:
        return 0
    return min(cost_yen, cost_yen * final_yen // base_yen)


def needs_approval(until: dt.date, day: dt.date) -> bool:
    """A disposal on `day` is inside the restriction (the officer must approve it)."""
    return day <= until


class BeforeAcquisition(DomainError):
    """An item cannot be disposed of before the day it was acquired."""


@dataclass(frozen=True)
class Repayment:
    """The repayment for disposing of an item on `disposal_on`, with its working."""

    subsidized_yen: int
    acquired_on: dt.date
    restricted_until: dt.date
    disposal_on: dt.date
    period_months: int
    remaining_months: int
    repayment_yen: int

    @property
    def elapsed_months(self) -> int:
        return self.period_months - self.remaining_months

    @property
    def share(self) -> Fraction:
        return Fraction(self.remaining_months, self.period_months)

    @property
    def approval_required(self) -> bool:
        return needs_approval(self.restricted_until, self.disposal_on)

    def to_dict(self) -> dict[str, Any]:
        """The working as stored with the disposal and shown to the grantee and the officer."""
        return {"rule": RULE, "subsidized_yen": self.subsidized_yen,
                "acquired_on": self.acquired_on.isoformat(),
                "restricted_until": self.restricted_until.isoformat(),
                "disposal_on": self.disposal_on.isoformat(),
                "period_months": self.period_months, "elapsed_months": self.elapsed_months,
                "remaining_months": self.remaining_months,
                "share": f"{self.remaining_months}/{self.period_months}",
                "approval_required": self.approval_required,
                "repayment_yen": self.repayment_yen}


def repayment(subsidized_yen: int, acquired_on: dt.date, years: int,
              disposal_on: dt.date) -> Repayment:
    """The repayment for disposing of (or repurposing) an item on `disposal_on`.

    Raises:
        BeforeAcquisition: `disposal_on` is before `acquired_on`.
    """
    if disposal_on < acquired_on:
        raise BeforeAcquisition("before_acquisition")
    until = restricted_until(acquired_on, years)
    remaining = whole_months(disposal_on, day_after(until))
    period = years * MONTHS_A_YEAR
    return Repayment(subsidized_yen=subsidized_yen, acquired_on=acquired_on,
                     restricted_until=until, disposal_on=disposal_on, period_months=period,
                     remaining_months=remaining,
                     repayment_yen=subsidized_yen * remaining // period)


@dataclass(frozen=True)
class EquipmentCheck:
    """A report's equipment against its cost lines and the project period (see the module)."""

    items_yen: int  # what the items cost in all
    purchased_yen: int  # the lines of the equipment categories bought outright
    period_start: dt.date
    period_end: dt.date
    outside_period: tuple[int, ...]  # the items (their positions, from 0) acquired outside it

    @property
    def over_purchases(self) -> bool:
        return self.items_yen > self.purchased_yen

    @property
    def accounted_for(self) -> bool:
        return not self.over_purchases and not self.outside_period


def check_equipment(items: Sequence[Item], lines: Iterable[BudgetLine | Mapping[str, object]],
                    equipment_categories: Collection[str], period_start: dt.date,
                    period_end: dt.date) -> EquipmentCheck:
    """Check a report's items against its lines bought outright in `equipment_categories` and
    against the project period, `period_start` to `period_end`, both days included."""
    rows = (line if isinstance(line, BudgetLine) else BudgetLine.from_answer(line)
            for line in lines)
    purchased = sum(line.amount_yen for line in rows if line.category in equipment_categories
                    and line.acquisition == Acquisition.PURCHASE)
    outside = tuple(index for index, item in enumerate(items)
                    if not period_start <= item.acquired_on <= period_end)
    return EquipmentCheck(items_yen=sum(item.cost_yen for item in items), purchased_yen=purchased,
                          period_start=period_start, period_end=period_end,
                          outside_period=outside)
