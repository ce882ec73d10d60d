"""Sustainability after the money ends (「金の切れ目」): what the follow-up reports say happened.

For each year after completion, the share of funded projects still operating; who pays the
operating costs; and the rubric checked against what happened: did the reviewers' scores (the
「金の切れ目」 criterion above all) tell the projects that kept going from those that stopped?

Completion is the end of the plan in force; year k after it is the fiscal year completion + k.
A project counts in year k once that fiscal year has ended, or once it reported on it: a project
not yet that old is in no denominator. A year without a report is "no report", unless the
project's latest earlier report said it stopped: it then counts as stopped (a later report that
it runs again is what happened, and wins). Everything is exact (Fractions), rounded for display
only.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from grants.domain.fiscal import fiscal_year
from grants.domain.rounding import to_decimal

TENTH = Decimal("0.1")


class Standing(enum.StrEnum):
    """A project's state in one year: what its follow-up report said, or that it filed none."""

    YES = "yes"
    PARTLY = "partly"
    STOPPED = "stopped"
    NO_REPORT = "no_report"


REPORTED = (Standing.YES, Standing.PARTLY, Standing.STOPPED)


@dataclass(frozen=True)
class Followup:
    """One filed follow-up report: the fiscal year it covers, operating or not, the costs."""

    fiscal_year: int
    standing: Standing  # one of REPORTED
    costs: Mapping[str, int] = field(default_factory=dict)  # payer -> yen


@dataclass(frozen=True)
class Project:
    """What the dashboard needs of one funded project."""

    application_id: int
    project_end: dt.date  # of the plan in force
    followups: Sequence[Followup] = ()
    scores: Mapping[str, Fraction | None] = field(default_factory=dict)  # criterion id -> score

    @property
    def completion_year(self) -> int:
        return fiscal_year(self.project_end)


@dataclass(frozen=True)
class ProjectYear:
    """A project in one year after completion it has reached."""

    year: int  # 1 for the first fiscal year after completion
    fiscal_year: int
    standing: Standing
    reported: bool  # False: no report (or stopped earlier, carried forward)
    costs: Mapping[str, int]


@dataclass(frozen=True)
class YearSummary:
    """Year k after completion across the projects that reached it."""

    year: int
    projects: Mapping[Standing, tuple[int, ...]]  # every standing, its application ids
    costs: Mapping[str, int]  # payer -> yen, every payer of the dashboard (0 when none)
    payers: Mapping[str, tuple[int, ...]]  # payer -> the projects that reported a cost for it

    @property
    def reached(self) -> int:
        """The denominator: the projects at least this many years past completion."""
        return sum(len(ids) for ids in self.projects.values())

    def count(self, standing: Standing) -> int:
        return len(self.projects[standing])

    def share(self, standing: Standing) -> Fraction | None:
        return Fraction(self.count(standing), self.reached) if self.reached else None

    @property
    def cost_total_yen(self) -> int:
        return sum(self.costs.values())

    def cost_share(self, payer: str) -> Fraction | None:
        total = self.cost_total_yen
        return Fraction(self.costs[payer], total) if total else None


@dataclass(frozen=True)
class CriterionOutcome:
    """One rubric criterion's mean score per standing at the projects' latest reports."""

    criterion_id: str
    means: Mapping[Standing, Fraction | None]  # for each of REPORTED; None: no score
    counts: Mapping[Standing, int]  # the projects each mean is over

    @property
    def difference(self) -> Fraction | None:
        """Operating minus stopped: above zero, the criterion scored the survivors higher."""
        operating, stopped = self.means[Standing.YES], self.means[Standing.STOPPED]
        return None if operating is None or stopped is None else operating - stopped


@dataclass(frozen=True)
class Dashboard:
    years: tuple[YearSummary, ...]  # 1 .. the program's follow-up years
    payers: tuple[str, ...]  # by total cost over every year, largest first
    latest: Mapping[Standing, tuple[int, ...]]  # standing at the latest report
    criteria: tuple[CriterionOutcome, ...]
    timelines: Mapping[int, tuple[ProjectYear, ...]]  # application id -> years reached

    def behind(self, *, year: int | None = None, standing: Standing | None = None,
               payer: str | None = None) -> tuple[int, ...]:
        """The projects behind one number: in year `year` (1..) with `standing` or a cost
        paid by `payer`, or every project that reached it; without a year, at the latest
        report with `standing`, or every project."""
        if year is None:
            return tuple(self.timelines) if standing is None else self.latest[standing]
        summary = self.years[year - 1]
        if payer is not None:
            return summary.payers.get(payer, ())
        if standing is not None:
            return summary.projects[standing]
        return tuple(sorted(i for ids in summary.projects.values() for i in ids))


def timeline(project: Project, *, years: int, today: dt.date) -> tuple[ProjectYear, ...]:
    """The project's standing in each year after completion (1..`years`) it has reached."""
    current = fiscal_year(today)
    by_year = {f.fiscal_year: f for f in project.followups}
    rows = []
    previous: Standing | None = None  # the latest report's standing so far
    for year in range(1, years + 1):
        covered = project.completion_year + year
        report = by_year.get(covered)
        if report is None and covered >= current:
            break  # not that old yet; a later year has not ended either
        if report is not None:
            previous = report.standing
            rows.append(ProjectYear(year, covered, report.standing, True, dict(report.costs)))
        else:
            carried = Standing.STOPPED if previous is Standing.STOPPED else Standing.NO_REPORT
            rows.append(ProjectYear(year, covered, carried, False, {}))
    return tuple(rows)


def latest_standing(rows: Sequence[ProjectYear]) -> Standing:
    """The standing of the latest report in the follow-up period; NO_REPORT when none."""
    return next((row.standing for row in reversed(rows) if row.reported), Standing.NO_REPORT)


def dashboard(projects: Sequence[Project], criteria: Sequence[str], *, years: int,
              today: dt.date) -> Dashboard:
    """Summarize `projects` for follow-up years 1..`years` as of `today`; `criteria` are the
    rubric's criterion ids, in order."""
    timelines = {p.application_id: timeline(p, years=years, today=today) for p in projects}
    payers = _payers(timelines.values())
    latest: dict[Standing, list[int]] = {standing: [] for standing in Standing}
    for application_id, rows in timelines.items():
        latest[latest_standing(rows)].append(application_id)
    return Dashboard(
        years=tuple(_year(year, timelines, payers) for year in range(1, years + 1)),
        payers=payers,
        latest={standing: tuple(ids) for standing, ids in latest.items()},
        criteria=tuple(_criterion(c, projects, latest) for c in criteria),
        timelines=timelines,
    )


def _payers(timelines: Iterable[tuple[ProjectYear, ...]]) -> tuple[str, ...]:
    totals: dict[str, int] = defaultdict(int)
    for rows in timelines:
        for row in rows:
            for payer, yen in row.costs.items():
                totals[payer] += yen
    return tuple(sorted(totals, key=lambda payer: (-totals[payer], payer)))


def _year(year: int, timelines: Mapping[int, tuple[ProjectYear, ...]],
          payers: Sequence[str]) -> YearSummary:
    projects: dict[Standing, list[int]] = {standing: [] for standing in Standing}
    costs = dict.fromkeys(payers, 0)
    paying: dict[str, list[int]] = {payer: [] for payer in payers}
    for application_id, rows in timelines.items():
        if len(rows) < year:
            continue
        row = rows[year - 1]
        projects[row.standing].append(application_id)
        for payer, yen in row.costs.items():
            costs[payer] += yen
            paying[payer].append(application_id)
    return YearSummary(year, {s: tuple(ids) for s, ids in projects.items()}, costs,
                       {payer: tuple(ids) for payer, ids in paying.items()})


def _criterion(criterion_id: str, projects: Sequence[Project],
               latest: Mapping[Standing, list[int]]) -> CriterionOutcome:
    by_id = {p.application_id: p for p in projects}
    means: dict[Standing, Fraction | None] = {}
    counts: dict[Standing, int] = {}
    for standing in REPORTED:
        scored = [score for application_id in latest[standing]
                  if (score := by_id[application_id].scores.get(criterion_id)) is not None]
        counts[standing] = len(scored)
        means[standing] = sum(scored, Fraction(0)) / len(scored) if scored else None
    return CriterionOutcome(criterion_id, means, counts)


def percent(share: Fraction) -> Decimal:
    """A share as a percentage to one decimal, halves away from zero: 1/3 -> 33.3."""
    return to_decimal(share * 100, TENTH)
