"""The follow-up schedule and its reminders at every edge: completion on 31 March against
1 April, the day a report may first be filed, the 30th day before the due date, the due date,
the day after, a run of the reminders missed, a report filed."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.followups import (
    PAYERS,
    Followup,
    Reminder,
    Status,
    overdue,
    reminders_owed,
    schedule,
)

D = dt.date
BEFORE, DUE, OVERDUE = Reminder.BEFORE, Reminder.DUE, Reminder.OVERDUE


def test_a_project_ending_on_31_march_reports_on_the_next_fiscal_year_first():
    assert schedule(D(2025, 3, 31), 5, "06-30") == [
        Followup(1, 2025, D(2026, 6, 30)), Followup(2, 2026, D(2027, 6, 30)),
        Followup(3, 2027, D(2028, 6, 30)), Followup(4, 2028, D(2029, 6, 30)),
        Followup(5, 2029, D(2030, 6, 30))]


def test_a_project_ending_on_1_april_reports_a_year_later():
    assert schedule(D(2025, 4, 1), 2, "06-30") == [
        Followup(1, 2026, D(2027, 6, 30)), Followup(2, 2027, D(2028, 6, 30))]


@pytest.mark.parametrize(("due", "first_due"), [
    ("03-31", D(2027, 3, 31)),  # January to March fall in the next calendar year
    ("04-30", D(2026, 4, 30)),
    ("02-29", D(2027, 2, 28)),  # no 29 February in 2027
])
def test_the_due_day_is_a_day_of_the_fiscal_year_after_the_one_reported_on(due, first_due):
    (first,) = schedule(D(2025, 3, 31), 1, due)
    assert (first.fiscal_year, first.due_on) == (2025, first_due)


def test_no_follow_up_when_the_program_asks_for_none():
    assert schedule(D(2025, 3, 31), 0, "06-30") == []


FIRST = Followup(1, 2025, D(2026, 6, 30))  # FY2025: April 2025 to March 2026


@pytest.mark.parametrize(("day", "filed", "status"), [
    (D(2026, 3, 31), False, Status.UPCOMING),  # its fiscal year's last day
    (D(2026, 4, 1), False, Status.OPEN),  # the day after: it may be filed
    (D(2026, 6, 30), False, Status.OPEN),  # the due date
    (D(2026, 7, 1), False, Status.OVERDUE),  # the day after
    (D(2026, 7, 1), True, Status.FILED),
    (D(2026, 3, 31), True, Status.FILED),
])
def test_where_a_report_stands_on_a_day(day, filed, status):
    assert FIRST.opens_on == D(2026, 4, 1)
    assert FIRST.status(filed, day) is status


def test_overdue_reports_are_the_unfiled_ones_past_their_due_date():
    followups = schedule(D(2025, 3, 31), 5, "06-30")
    assert overdue(followups, set(), D(2026, 6, 30)) == []
    assert overdue(followups, set(), D(2026, 7, 1)) == [followups[0]]
    assert overdue(followups, {2025}, D(2027, 7, 1)) == [followups[1]]
    assert overdue(followups, {2025, 2026}, D(2031, 1, 1)) == followups[2:]


@pytest.mark.parametrize(("day", "owed"), [
    (D(2026, 5, 30), None),  # the 31st day before
    (D(2026, 5, 31), BEFORE),  # the 30th day before
    (D(2026, 6, 29), BEFORE),
    (D(2026, 6, 30), DUE),  # the due date
    (D(2026, 7, 1), OVERDUE),  # the day after
    (D(2029, 1, 1), OVERDUE),
])
def test_the_reminder_that_fits_a_day(day, owed):
    assert FIRST.remind_from == D(2026, 5, 31)
    assert FIRST.reminder(day) is owed
    assert reminders_owed([FIRST], set(), set(), day) == ([(FIRST, owed)] if owed else [])


def test_each_reminder_once_and_none_once_the_report_is_filed():
    sent = {(2025, BEFORE)}
    assert reminders_owed([FIRST], set(), sent, D(2026, 6, 1)) == []
    assert reminders_owed([FIRST], set(), sent, D(2026, 6, 30)) == [(FIRST, DUE)]
    sent.add((2025, DUE))
    assert reminders_owed([FIRST], set(), sent, D(2026, 7, 1)) == [(FIRST, OVERDUE)]
    sent.add((2025, OVERDUE))
    assert reminders_owed([FIRST], set(), sent, D(2026, 7, 2)) == []
    for day in (D(2026, 5, 31), D(2026, 6, 30), D(2026, 7, 1)):
        assert reminders_owed([FIRST], {2025}, set(), day) == []


def test_a_missed_run_is_made_up_but_never_with_a_reminder_whose_day_passed():
    assert reminders_owed([FIRST], set(), set(), D(2026, 6, 10)) == [(FIRST, BEFORE)]
    # Nothing ran from 30 days before to the due date: on it, only the due-date reminder.
    assert reminders_owed([FIRST], set(), set(), D(2026, 6, 30)) == [(FIRST, DUE)]
    # Nothing ran on the due date: the day after, the overdue one alone.
    assert reminders_owed([FIRST], set(), {(2025, BEFORE)}, D(2026, 7, 1)) == [(FIRST, OVERDUE)]


def test_each_report_gets_its_own_reminder():
    followups = schedule(D(2025, 3, 31), 5, "06-30")
    owed = reminders_owed(followups, {2026}, {(2025, OVERDUE)}, D(2028, 6, 30))
    assert owed == [(followups[2], DUE)]
    owed = reminders_owed(followups, set(), set(), D(2028, 6, 30))
    assert owed == [(followups[0], OVERDUE), (followups[1], OVERDUE), (followups[2], DUE)]


def test_payers_are_named_in_both_languages():
    assert list(PAYERS) == ["local_government", "user_fees", "private_funding", "own_budget",
                            "other"]
    assert all(label.ja and label.en for label in PAYERS.values())
