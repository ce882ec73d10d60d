"""Dates as people type them: 2027-03-31, 2027/3/31, full-width ２０２７／３／３１.

After NFKC and trim, a date is four digits of year, then month and day of one or two digits,
separated by "-" or "/" (the same separator twice). A day the calendar lacks (2027-02-30) is
not a date, however it is written.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})", re.ASCII)


def parse_date(text: str) -> dt.date | None:
    """The date `text` names, or None when it names none (malformed, or no such day)."""
    found = _DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if found is None:
        return None
    year, _separator, month, day = found.groups()
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
