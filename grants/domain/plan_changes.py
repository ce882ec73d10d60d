"""Plan changes (計画変更): what a change request asks, and whether it may be asked.

A request changes the plan in force: the amounts per cost category, the end of the project, its
scope, any of them. Money moved into or out of a category by at most the program's tolerance of
the category's planned amount (default 1/5) needs no approval (流用): a request that changes
nothing but such moves is refused as unnecessary, so the officer only sees what needs a
decision; the grantee simply spends within the tolerance and reports it. Amounts are never
negative and never add up to more than the grant decision; the end is never before the start
of the project nor in the past, and never later than the end of the fiscal year the program
allows the project to be carried into (`max_extension_fiscal_years` after the fiscal year of
the grant decision's end: 繰越, one year by default). Once the project in force has ended, its
plan no longer changes: the differences are explained in the completion report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from grants.domain.errors import DomainError
from grants.domain.fiscal import fiscal_year, fiscal_year_end
from grants.domain.text import visible_or_none


@dataclass(frozen=True)
class Plan:
    """A plan version as the rules see it."""

    category_amounts: Mapping[str, int]
    project_end: dt.date
    scope: str


@dataclass(frozen=True)
class Proposal:
    """What a request asks for; None leaves that part of the plan as it is."""

    category_amounts: Mapping[str, int] | None = None
    project_end: dt.date | None = None
    scope: str | None = None

    @property
    def empty(self) -> bool:
        return self.category_amounts is None and self.project_end is None and self.scope is None


class Problem(StrEnum):
    """Why a request may not be made as it stands."""

    NOTHING_CHANGED = "nothing_changed"
    WITHIN_TOLERANCE = "within_tolerance"  # only moves that need no approval
    UNKNOWN_CATEGORY = "unknown_category"  # not the plan's categories
    NEGATIVE_AMOUNT = "negative_amount"
    OVER_GRANT = "over_grant"  # the total exceeds the grant decision's amount
    END_BEFORE_START = "end_before_start"
    END_IN_PAST = "end_in_past"
    END_TOO_LATE = "end_too_late"  # beyond the fiscal years the project may be carried into
    PROJECT_ENDED = "project_ended"  # the plan in force has ended: report, do not change


class ChangeRefused(DomainError):
    """The request breaks one rule or more (every problem found, in one pass)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Move:
    """One category's amount, before and after."""

    category: str
    planned_yen: int
    proposed_yen: int
    beyond_tolerance: bool

    @property
    def difference_yen(self) -> int:
        return self.proposed_yen - self.planned_yen


def beyond_tolerance(planned_yen: int, proposed_yen: int, tolerance: Fraction) -> bool:
    """True when the amount moves by more than `tolerance` of the planned amount: exactly
    1/5 of ¥1,000,000 (¥200,000) is within, ¥200,001 is beyond; any money into a category
    planned at ¥0 is beyond."""
    moved = abs(proposed_yen - planned_yen)
    return moved * tolerance.denominator > planned_yen * tolerance.numerator


def moves(planned: Mapping[str, int], proposed: Mapping[str, int],
          tolerance: Fraction) -> list[Move]:
    """Every category whose amount changes, in the plan's order (then any other proposed)."""
    keys = [*planned, *(key for key in proposed if key not in planned)]
    return [Move(key, planned.get(key, 0), proposed.get(key, 0),
                 beyond_tolerance(planned.get(key, 0), proposed.get(key, 0), tolerance))
            for key in keys if planned.get(key, 0) != proposed.get(key, 0)]


def effective(plan: Plan, proposal: Proposal) -> Proposal:
    """The proposal without the parts that equal the plan (a form sends every part)."""
    amounts = proposal.category_amounts
    scope = visible_or_none(proposal.scope)
    return Proposal(
        None if amounts is None or dict(amounts) == dict(plan.category_amounts) else amounts,
        None if proposal.project_end in (None, plan.project_end) else proposal.project_end,
        None if not scope or scope == plan.scope.strip() else scope)


def latest_end(granted_end: dt.date, extension_fiscal_years: int) -> dt.date:
    """The latest end a change may give the project: the end of the fiscal year
    `extension_fiscal_years` after the one the grant decision's period ends in."""
    return fiscal_year_end(fiscal_year(granted_end) + extension_fiscal_years)


def check(plan: Plan, proposal: Proposal, *, granted_yen: int, project_start: dt.date,
          latest: dt.date, today: dt.date, tolerance: Fraction) -> list[Problem]:
    """Every problem with `proposal` (pass it through `effective` first); [] when it may be
    asked. Nothing changed, or only moves within the tolerance, is a problem of its own, and
    so is a plan whose project has ended (`latest`: see `latest_end`)."""
    if plan.project_end < today:
        return [Problem.PROJECT_ENDED]
    problems = []
    amounts = proposal.category_amounts
    if amounts is not None:
        if set(amounts) != set(plan.category_amounts):
            problems.append(Problem.UNKNOWN_CATEGORY)
        if any(amount < 0 for amount in amounts.values()):
            problems.append(Problem.NEGATIVE_AMOUNT)
        if sum(amounts.values()) > granted_yen:
            problems.append(Problem.OVER_GRANT)
    end = proposal.project_end
    if end is not None and end < project_start:
        problems.append(Problem.END_BEFORE_START)
    if end is not None and end < today:
        problems.append(Problem.END_IN_PAST)
    if end is not None and end > latest:
        problems.append(Problem.END_TOO_LATE)
    if problems:
        return problems
    if proposal.empty:
        return [Problem.NOTHING_CHANGED]
    if not changes(plan, approved_plan(plan, proposal), tolerance).needs_approval:
        return [Problem.WITHIN_TOLERANCE]
    return []


def approved_plan(plan: Plan, proposal: Proposal) -> Plan:
    """The plan once the proposal is approved."""
    return Plan(
        dict(proposal.category_amounts if proposal.category_amounts is not None
             else plan.category_amounts),
        proposal.project_end or plan.project_end,
        proposal.scope if proposal.scope is not None else plan.scope)


@dataclass(frozen=True)
class Changes:
    """What differs between two plans: for the plan history and the officer's decision."""

    moves: tuple[Move, ...]
    end: tuple[dt.date, dt.date] | None  # (before, after)
    scope: tuple[str, str] | None

    @property
    def needs_approval(self) -> bool:
        return self.end is not None or self.scope is not None or any(
            move.beyond_tolerance for move in self.moves)


def changes(before: Plan, after: Plan, tolerance: Fraction) -> Changes:
    return Changes(
        tuple(moves(before.category_amounts, after.category_amounts, tolerance)),
        None if before.project_end == after.project_end
        else (before.project_end, after.project_end),
        None if before.scope == after.scope else (before.scope, after.scope))
