"""The evaluation review (評価の再審査の申出): when an applicant may ask for one.

An applicant may ask the program office to review how the evaluation was conducted (a conflict
of interest, a criterion not applied, a factual error…), never the experts' judgement, within
the call's window after the decision (`call.redress_window_days`, 30 by default). The window
is counted as periods are in Japan (民法 第140条・第141条): the day of the decision does not
count, and the window ends at the end of its last day, Japan time; so with 30 days a decision
made on 1 April may be challenged until 1 May 23:59:59 JST, and not from 2 May 00:00.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from grants.domain.definitions import JST
from grants.domain.errors import DomainError

DEFAULT_WINDOW_DAYS: Final = 30


def closes_at(decided_at: dt.datetime, days: int) -> dt.datetime:
    """Return the first moment (Japan time) the window no longer includes.

    Args:
        decided_at: when the decision was recorded (aware).
        days: the call's window, in days after the decision day.
    """
    decision_day = decided_at.astimezone(JST).date()
    return dt.datetime.combine(decision_day + dt.timedelta(days=days + 1), dt.time(), JST)


class WindowClosed(DomainError):
    """The window for an evaluation review has closed; `closed_at` says when (Japan time)."""

    def __init__(self, closed_at: dt.datetime) -> None:
        super().__init__("redress_window_closed")
        self.closed_at = closed_at


def require_open(decided_at: dt.datetime, days: int, now: dt.datetime) -> dt.datetime:
    """Return when the window closes, if `now` is still inside it.

    Raises:
        WindowClosed: `now` is at or after the window's end.
    """
    end = closes_at(decided_at, days)
    if now >= end:
        raise WindowClosed(end)
    return end
