"""The yearly follow-up reports (状況報告) after a project's completion, and their reminders.

Completion is the end of the plan in force; its fiscal year is the completion year. Report k
(k = 1 … the program's `followup_years`) covers fiscal year completion year + k: it may be
filed once that fiscal year has ended, and is due by the program's day (`followup_due`,
30 June by default) of the fiscal year after it. A project ending on 31 March 2025 (FY2024)
reports on FY2025 first, by 30 June 2026; one ending a day later, on 1 April 2025 (FY2025),
on FY2026, by 30 June 2027.

Reminders, for a report not filed yet: BEFORE from 30 days before the due date, DUE on the due
date, OVERDUE after it. Each is sent at most once. A day the reminders did not run is made up
on the next run, but only with the reminder that fits that day: after the due date an unsent
BEFORE or DUE is never sent (OVERDUE says it better), on the due date an unsent BEFORE neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from grants.domain.findings import LocalizedText
from grants.domain.fiscal import day_in_fiscal_year, fiscal_year, fiscal_year_end, fiscal_year_start

BEFORE_DAYS = 30
# Who pays a year's operating cost: the keys of FollowupReport.operating_costs, in this order.
# Where the application form asks who will pay (its `operating_cost_payer` choices), the same
# payers have the same keys (user_fees, private_funding, own_budget).
PAYERS = {
    "local_government": LocalizedText("地方公共団体", "The local government"),
    "user_fees": LocalizedText("利用者の負担（利用料・会費）", "Users' fees"),
    "private_funding": LocalizedText("民間企業", "Private companies"),
    "own_budget": LocalizedText("事業実施団体の自主財源", "The grantee organization"),
    "other": LocalizedText("その他", "Other"),
}


class Reminder(StrEnum):
    """The reminders of one report (the values of FollowupReminder.kind)."""

    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"


class Status(StrEnum):
    """Where a follow-up report stands on a day."""

    UPCOMING = "upcoming"  # its fiscal year has not ended: it cannot be filed yet
    OPEN = "open"  # may be filed, and the due date has not passed
    OVERDUE = "overdue"  # not filed, the due date has passed
    FILED = "filed"


@dataclass(frozen=True)
class Followup:
    """One follow-up report a completed project owes."""

    year_number: int  # 1 for the first fiscal year after completion
    fiscal_year: int  # the fiscal year it reports on
    due_on: dt.date

    @property
    def opens_on(self) -> dt.date:
        """The first day it may be filed: the day after its fiscal year ends."""
        return fiscal_year_start(self.fiscal_year + 1)

    @property
    def remind_from(self) -> dt.date:
        return self.due_on - dt.timedelta(days=BEFORE_DAYS)

    def status(self, filed: bool, day: dt.date) -> Status:
        if filed:
            return Status.FILED
        if day < self.opens_on:
            return Status.UPCOMING
        return Status.OVERDUE if day > self.due_on else Status.OPEN

    def reminder(self, day: dt.date) -> Reminder | None:
        """The reminder that fits `day`, for a report not filed yet (None: none fits)."""
        if day > self.due_on:
            return Reminder.OVERDUE
        if day == self.due_on:
            return Reminder.DUE
        return Reminder.BEFORE if day >= self.remind_from else None


def schedule(completion: dt.date, years: int, due: str) -> list[Followup]:
    """Every follow-up a project completed on `completion` owes, first year first.

    Args:
        completion: the last day of the project (project_end of the plan in force).
        years: the program's `followup_years`.
        due: the program's `followup_due`, "MM-DD" of the fiscal year after the one reported on.
    """
    first = fiscal_year(completion)
    return [Followup(k, first + k, day_in_fiscal_year(first + k + 1, due))
            for k in range(1, years + 1)]


def overdue(followups: Iterable[Followup], filed_years: Collection[int],
            day: dt.date) -> list[Followup]:
    """The reports not filed whose due date has passed on `day`."""
    return [f for f in followups
            if f.status(f.fiscal_year in filed_years, day) is Status.OVERDUE]


def reminders_owed(followups: Iterable[Followup], filed_years: Collection[int],
                   sent: Collection[tuple[int, Reminder]],
                   day: dt.date) -> list[tuple[Followup, Reminder]]:
    """The reminders to send on `day`: at most one per report, none twice, none once filed.

    Args:
        filed_years: the fiscal years whose report was filed.
        sent: (fiscal year, reminder) pairs already sent.
    """
    owed = []
    for followup in followups:
        if followup.fiscal_year in filed_years:
            continue
        kind = followup.reminder(day)
        if kind is not None and (followup.fiscal_year, kind) not in sent:
            owed.append((followup, kind))
    return owed


def past_due_by_completion(today: dt.date, years: int,
                           due: str) -> list[tuple[dt.date | None, dt.date, int]]:
    """How many follow-up reports are past their due date on ``today``, by when the project
    was completed: (first day, last day, count) for each fiscal year of completion that owes
    some, latest first, the last row open-ended (first day None) once all ``years`` are owed.
    """
    rows: list[tuple[dt.date | None, dt.date, int]] = []
    year = fiscal_year(today)
    while years:
        owed = sum(f.status(False, today) is Status.OVERDUE
                   for f in schedule(fiscal_year_end(year), years, due))
        if owed == years:
            rows.append((None, fiscal_year_end(year), owed))
            break
        if owed:
            rows.append((fiscal_year_start(year), fiscal_year_end(year), owed))
        year -= 1
    return rows
