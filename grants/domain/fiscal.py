"""Japan's fiscal year (会計年度: 1 April to 31 March), named by the calendar year it starts in.

Due dates and retention periods after the award count in fiscal years: a follow-up report is due
by a day of each fiscal year, and records are kept until the end of the fifth fiscal year after
the one in which the final amount was fixed. A completion on 31 March belongs to the fiscal year
that ends that day; one on 1 April to the next.
"""

from __future__ import annotations

import datetime as dt

FIRST_MONTH = 4  # April


def fiscal_year(day: dt.date) -> int:
    """The fiscal year a day belongs to: 2024-03-31 is in FY2023, 2024-04-01 in FY2024."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def fiscal_year_start(year: int) -> dt.date:
    return dt.date(year, FIRST_MONTH, 1)


def fiscal_year_end(year: int) -> dt.date:
    """The last day of the fiscal year: FY2024 ends on 2025-03-31."""
    return dt.date(year + 1, FIRST_MONTH - 1, 31)


def day_in_fiscal_year(year: int, month_day: str) -> dt.date:
    """The day "MM-DD" of the fiscal year (April to December in its first calendar year,
    January to March in the next). "02-29" in a year without one falls on 28 February."""
    month, day = (int(part) for part in month_day.split("-"))
    calendar_year = year if month >= FIRST_MONTH else year + 1
    try:
        return dt.date(calendar_year, month, day)
    except ValueError:  # 29 February outside a leap year (definitions allow only real days)
        return dt.date(calendar_year, month, day - 1)
