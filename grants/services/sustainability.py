"""A call's funded projects after completion: the facts the sustainability dashboard sums up.

Loaded in a fixed number of queries however many projects the call funded: the plans in force
in one, the follow-up reports in one, and the scores as the ranking loads them (the counted
reviews, frozen at the decision). The arithmetic is grants.domain.sustainability's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain import sustainability
from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.findings import LocalizedText
from grants.domain.fiscal import fiscal_year
from grants.domain.followups import PAYERS
from grants.domain.rubrics import Criterion
from grants.domain.workflow import POST_AWARD_STATES
from grants.models import Application, FollowupReport, Program, ProgramVersion
from grants.services.plans import project_end_in_force
from grants.services.programs import definition_of
from grants.services.ranking import Scored, scored_applications


@dataclass(frozen=True)
class ProjectInfo:
    """What a reader sees of one project beside the numbers."""

    application: Application  # with its organization
    completion_year: int
    scores: Mapping[str, Fraction | None]  # criterion id -> the score that decided


@dataclass(frozen=True)
class CallSustainability:
    definition: ProgramDefinition
    completion_years: tuple[int, ...]  # of every funded project of the call, for the filter
    projects: dict[int, ProjectInfo]  # those the dashboard covers, by application id
    dashboard: sustainability.Dashboard
    criteria: tuple[Criterion, ...]  # the rubric's, in order

    def criterion(self, criterion_id: str) -> Criterion:
        return next(c for c in self.criteria if c.id == criterion_id)

    @staticmethod
    def payer_label(payer: str) -> LocalizedText:
        """The follow-up form's label for a payer; any other key as stored."""
        return PAYERS.get(payer) or LocalizedText(payer, payer)


def call_sustainability(session: Session, program: Program, *, today: dt.date,
                        completion_year: int | None = None) -> CallSustainability:
    """The call's projects with a plan in force (those that completed in `completion_year`,
    when given) summed up as of `today` (a JST date)."""
    definition = definition_of(program.current_version)
    ends = _project_ends(session, program)
    chosen = {application_id: end for application_id, end in ends.items()
              if completion_year is None or fiscal_year(end) == completion_year}
    scored = {s.application.id: s for s in scored_applications(session, program)
              if s.application.id in chosen}
    followups = _followups(session, program, chosen)
    facts = [sustainability.Project(application_id, end, followups.get(application_id, ()),
                                     scored[application_id].scores.criterion_scores)
             for application_id, end in sorted(chosen.items())]
    criteria = _criteria(scored.values())
    return CallSustainability(
        definition=definition,
        completion_years=tuple(sorted({fiscal_year(end) for end in ends.values()})),
        projects={p.application_id: ProjectInfo(scored[p.application_id].application,
                                                p.completion_year, p.scores) for p in facts},
        dashboard=sustainability.dashboard(
            facts, [c.id for c in criteria], years=definition.post_award.followup_years,
            today=today),
        criteria=criteria,
    )


def _in_call(program: Program) -> sa.ColumnElement[bool]:
    return (ProgramVersion.program_key == program.key) & Application.state.in_(POST_AWARD_STATES)


def _project_ends(session: Session, program: Program) -> dict[int, dt.date]:
    """The project end of every plan in force of the call (the latest version, as
    plans.plan_in_force takes it), in one query."""
    end = project_end_in_force()
    rows = session.execute(sa.select(Application.id, end).join(Application.program_version)
                           .where(_in_call(program), end.is_not(None)))
    return {application_id: project_end for application_id, project_end in rows}


def _followups(session: Session, program: Program, chosen: dict[int, dt.date]
               ) -> dict[int, list[sustainability.Followup]]:
    """The filed follow-up reports of the chosen projects, in one query."""
    found: dict[int, list[sustainability.Followup]] = {}
    rows = session.execute(
        sa.select(FollowupReport.application_id, FollowupReport.fiscal_year,
                  FollowupReport.operating, FollowupReport.operating_costs)
        .join(Application, Application.id == FollowupReport.application_id)
        .join(Application.program_version).where(_in_call(program))
        .order_by(FollowupReport.application_id, FollowupReport.fiscal_year))
    for application_id, year, operating, costs in rows:
        if application_id in chosen:
            found.setdefault(application_id, []).append(sustainability.Followup(
                year, sustainability.Standing(operating.value),
                {str(payer): int(yen) for payer, yen in costs.items()}))
    return found


def _criteria(scored: Iterable[Scored]) -> tuple[Criterion, ...]:
    """Every criterion of the projects' rubrics, once, in rubric order (a call keeps its
    rubric; a later version's title wins)."""
    criteria: dict[str, Criterion] = {}
    for s in scored:
        for criterion in s.scores.rubric.criteria():
            criteria[criterion.id] = criterion
    return tuple(criteria.values())
