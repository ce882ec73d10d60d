"""Retention (書類保存): until when an application's records are kept, and what a purge keeps.

A funded project stays open to audit after its money is spent: 「予算の終了後も、5年程度は、会計
検査その他、事後検査の対象になる」 (総務省情報流通行政局地域通信振興課「地域におけるICTの利活用の
推進」, 平成24年11月). Grant conditions (交付要綱) commonly ask for the books and the evidence to
be kept five years after the end of the fiscal year in which the project was completed; counting
from the fiscal year of the final amount, never earlier, keeps them at least as long. An asset
bought with the grant stays under the disposal restriction of 補助金等に係る予算の執行の適正化に
関する法律 第22条 for its useful life, and its records are kept as long as that runs. Here:

* a funded project (COMPLETED) is kept to the end of the fifth fiscal year after the one in
  which its final amount (額の確定) was fixed, a Japan date; or to the last day of its longest
  asset restriction, or to the end of the fiscal year in which its last follow-up report
  (状況報告) is due, when that is later: a record is never purged while reports still come;
* a rejected or declined application, to the end of the fifth fiscal year after the one in
  which it was closed (the decision; for a declined one, the decline, which comes after it);
* anything still in progress is never purgeable, and says why.

The day after the last day kept, the purge may remove the personal data: every free text a
person typed goes (names, contacts, e-mail addresses, reasons, comments), while codes, choices,
amounts, dates and hashes stay, so what existed can still be proven.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from grants.domain.definitions import JST
from grants.domain.errors import DomainError
from grants.domain.fiscal import fiscal_year, fiscal_year_end
from grants.domain.workflow import State

RETENTION_FISCAL_YEARS: Final = 5
"""Fiscal years the records are kept after the one they were settled in: 「予算の終了後も、5年
程度は、会計検査その他、事後検査の対象になる」 (see the module docstring for the source)."""


class Hold(StrEnum):
    """Why an application's records cannot be purged at all (yet)."""

    UNDECIDED = "undecided"  # draft, submitted, returned or in review
    AWAITING_ANSWER = "awaiting_answer"  # awarded: the grant decision is not answered yet
    PROJECT_RUNNING = "project_running"  # granted to report accepted: no final amount yet
    REDRESS_OPEN = "redress_open"  # an evaluation review may still reopen the decision
    NO_FINAL_AMOUNT = "no_final_amount"  # completed, yet no final amount is recorded
    NO_DECISION = "no_decision"  # rejected or declined, yet no decision is recorded
    PURGED = "purged"  # done already


_HOLDS: Final[Mapping[State, Hold]] = {
    State.DRAFT: Hold.UNDECIDED,
    State.SUBMITTED: Hold.UNDECIDED,
    State.RETURNED: Hold.UNDECIDED,
    State.IN_REVIEW: Hold.UNDECIDED,
    State.AWARDED: Hold.AWAITING_ANSWER,
    State.GRANTED: Hold.PROJECT_RUNNING,
    State.REPORTED: Hold.PROJECT_RUNNING,
    State.REPORT_ACCEPTED: Hold.PROJECT_RUNNING,
    State.PURGED: Hold.PURGED,
}


@dataclass(frozen=True)
class Retention:
    """The last day an application's records must be kept, or why there is none yet."""

    kept_until: dt.date | None
    hold: Hold | None = None  # set exactly when kept_until is None

    @property
    def purgeable_from(self) -> dt.date | None:
        """The first day a purge is allowed; None while the records are held."""
        return None if self.kept_until is None else self.kept_until + dt.timedelta(days=1)

    def purgeable(self, today: dt.date) -> bool:
        """Whether a purge is allowed on `today` (a Japan date)."""
        return self.kept_until is not None and today > self.kept_until


def books_kept_until(settled_at: dt.datetime) -> dt.date:
    """The end of the RETENTION_FISCAL_YEARS-th fiscal year after the one `settled_at` falls
    in, as a Japan date: settled at 2025-03-31 23:30 JST (FY2024) → 2030-03-31; at 2025-04-01
    00:30 JST (FY2025, though still 31 March in UTC) → 2031-03-31."""
    return fiscal_year_end(fiscal_year(settled_at.astimezone(JST).date()) + RETENTION_FISCAL_YEARS)


def retention(state: State, *, final_fixed_at: dt.datetime | None = None,
              restricted_until: Iterable[dt.date] = (), last_followup_due: dt.date | None = None,
              closed_at: dt.datetime | None = None, redress_open: bool = False) -> Retention:
    """Until when an application in `state` is kept.

    Args:
        state: the application's workflow state.
        final_fixed_at: when its final amount was fixed (COMPLETED), aware.
        restricted_until: the last day of each of its assets' disposal restriction.
        last_followup_due: the due date of its last follow-up report (COMPLETED).
        closed_at: when a rejected or declined application was closed, aware.
        redress_open: whether an evaluation review of its decision is still open.
    """
    if redress_open and state is not State.PURGED:
        return Retention(None, Hold.REDRESS_OPEN)
    if state in _HOLDS:
        return Retention(None, _HOLDS[state])
    if state is State.COMPLETED:
        if final_fixed_at is None:
            return Retention(None, Hold.NO_FINAL_AMOUNT)
        reports_until = [] if last_followup_due is None else [
            fiscal_year_end(fiscal_year(last_followup_due))]
        return Retention(max([books_kept_until(final_fixed_at), *restricted_until,
                              *reports_until]))
    if closed_at is None:
        return Retention(None, Hold.NO_DECISION)
    return Retention(books_kept_until(closed_at))


class StillRetained(DomainError):
    """A purge was asked for inside the retention period, or while the records are held."""

    def __init__(self, kept: Retention) -> None:
        super().__init__(f"kept until {kept.kept_until}" if kept.hold is None else str(kept.hold))
        self.retention = kept


def require_purgeable(kept: Retention, today: dt.date) -> None:
    """Raise StillRetained unless a purge is allowed on `today` (a Japan date)."""
    if not kept.purgeable(today):
        raise StillRetained(kept)


# --- what a purge keeps ---------------------------------------------------------------------

KEPT_KINDS: Final = frozenset({"number", "yen", "date", "choice", "multi_choice", "yes_no"})
"""Answer kinds a purge keeps: amounts, dates and choices among the program's values."""

ROW_KINDS: Final = frozenset({"partners", "consortium", "budget_lines"})
ROW_KEPT_KEYS: Final = frozenset({"kind", "code", "category", "acquisition", "amount_yen"})
"""Keys of a partners, consortium or budget row a purge keeps: registry codes (全国地方公共団体
コード, 法人番号), the program's values and amounts; names, roles and descriptions go."""


def blank(value: Any) -> Any:
    """`value` with every string emptied, its shape and numbers kept (free-text JSON)."""
    if isinstance(value, str):
        return ""
    if isinstance(value, Mapping):
        return {key: blank(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [blank(item) for item in value]
    return value


def blank_text(text: str | None) -> str | None:
    """An optional free-text column emptied: None stays None, so "there was a reason" holds."""
    return None if text is None else ""


def blank_keys(value: Any, keys: frozenset[str]) -> Any:
    """`value` with the strings under any of `keys` emptied, at any depth; the rest kept."""
    if isinstance(value, Mapping):
        return {key: blank(item) if key in keys else blank_keys(item, keys)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [blank_keys(item, keys) for item in value]
    return value


def redact_answers(kinds: Mapping[str, str], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as a purge keeps them, by each field's kind (`kinds`: field id → kind).

    Amounts, dates and choices stay; rows keep ROW_KEPT_KEYS; text, and the answers of fields
    the program no longer has, are emptied.
    """
    kept: dict[str, Any] = {}
    for field_id, value in answers.items():
        kind = kinds.get(field_id)
        if kind in KEPT_KINDS:
            kept[field_id] = value
        elif kind in ROW_KINDS and isinstance(value, list):
            kept[field_id] = [
                {key: item if key in ROW_KEPT_KEYS else blank(item) for key, item in row.items()}
                if isinstance(row, Mapping) else blank(row) for row in value]
        else:
            kept[field_id] = blank(value)
    return kept


def redact_snapshot(kinds: Mapping[str, str], snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A submission's snapshot as a purge keeps it: the submitter's name and e-mail address,
    the file names and the answers' free text emptied; its format, program, applicant
    organization, findings and every file's SHA-256, type and size kept."""
    return {
        **snapshot,
        "submitted_by": {**snapshot["submitted_by"], "name": "", "email": ""},
        "answers": redact_answers(kinds, snapshot["answers"]),
        "attachments": [{**attachment, "filename": ""} for attachment in snapshot["attachments"]],
    }
