"""The yearly follow-up reports (状況報告) of completed projects: filing, what is overdue,
and the reminders `flask grants followups remind` queues (grants.domain.followups has the rules).

Completion is the end of the plan in force. A report is filed once per fiscal year, by a member
of the grantee organization, once the application is COMPLETED (its final amount fixed) and the
fiscal year it reports on has ended. Each filing and each reminder is an audit event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from grants import emails
from grants.domain import followups as rules
from grants.domain import workflow
from grants.domain.definitions import JST
from grants.domain.errors import DomainError
from grants.domain.text import visible_or_none
from grants.domain.workflow import Action, State
from grants.models import (
    Application,
    FollowupReminder,
    FollowupReport,
    Operating,
    ProgramVersion,
    User,
)
from grants.services.audit import AuditTag, record
from grants.services.membership import members
from grants.services.plans import plan_in_force, project_end_in_force
from grants.services.programs import definition_of


class NotScheduled(DomainError):
    """The project owes no follow-up report for that fiscal year."""


class TooEarly(DomainError):
    """The fiscal year reported on has not ended: `opens_on` is the first day to file."""

    def __init__(self, opens_on: dt.date) -> None:
        super().__init__("followup_too_early")
        self.opens_on = opens_on


class AlreadyFiled(DomainError):
    """One report per fiscal year."""


class ReasonRequired(DomainError):
    """A service operating partly, or stopped, needs the reason."""


@dataclass(frozen=True)
class Answers:
    """What the grantee reports for a year."""

    operating: Operating
    stop_reason: str | None
    users: int | None
    costs: dict[str, int]  # payer (rules.PAYERS) -> yen
    kpi_results: dict[str, str] = field(default_factory=dict)  # KPI field id -> result
    note: str = ""


@dataclass(frozen=True)
class Row:
    """One report a project owes, where it stands, and the report once filed."""

    followup: rules.Followup
    status: rules.Status
    report: FollowupReport | None


def japan_day(now: dt.datetime) -> dt.date:
    return now.astimezone(JST).date()


def schedule_of(session: Session, application: Application) -> list[rules.Followup]:
    """The reports the project owes (none before the grantee accepted the grant decision)."""
    plan = plan_in_force(session, application)
    if plan is None:
        return []
    return _schedule(application, plan.project_end)


def _schedule(application: Application, completion: dt.date) -> list[rules.Followup]:
    post_award = definition_of(application.program_version).post_award
    return rules.schedule(completion, post_award.followup_years, post_award.followup_due)


def rows(session: Session, application: Application, today: dt.date) -> list[Row]:
    filed = {r.fiscal_year: r for r in session.scalars(
        sa.select(FollowupReport).filter_by(application_id=application.id))}
    return [Row(f, f.status(f.fiscal_year in filed, today), filed.get(f.fiscal_year))
            for f in schedule_of(session, application)]


def file_report(session: Session, application: Application, fiscal_year: int,
                answers: Answers, *, actor: User, now: dt.datetime) -> FollowupReport:
    """File the report on `fiscal_year`.

    Raises:
        TransitionNotAllowed: the application is not COMPLETED, or `actor` is no grantee.
        NotScheduled, TooEarly, AlreadyFiled, ReasonRequired: see each.
    """
    application.state = workflow.fire(application.state, Action.FILE_FOLLOWUP, actor.role)
    followup = next((f for f in schedule_of(session, application)
                     if f.fiscal_year == fiscal_year), None)
    if followup is None:
        raise NotScheduled("followup_not_scheduled")
    if japan_day(now) < followup.opens_on:
        raise TooEarly(followup.opens_on)
    if session.scalar(sa.select(FollowupReport.id).filter_by(
            application_id=application.id, fiscal_year=fiscal_year)) is not None:
        raise AlreadyFiled("followup_filed")
    reason = visible_or_none(answers.stop_reason)
    if answers.operating is not Operating.YES and reason is None:
        raise ReasonRequired("stop_reason_required")
    report = FollowupReport(
        application_id=application.id, fiscal_year=fiscal_year,
        year_number=followup.year_number, operating=answers.operating,
        stop_reason=reason if answers.operating is not Operating.YES else None,
        users=answers.users,
        operating_costs={payer: yen for payer, yen in answers.costs.items() if yen},
        kpi_results=answers.kpi_results, note=(answers.note or "").strip(),
        submitted_at=now, submitted_by_id=actor.id)
    session.add(report)
    session.flush()
    record(session, AuditTag.FOLLOWUP_FILE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"followup_id": report.id, "fiscal_year": fiscal_year,
                 "year_number": report.year_number, "due_on": followup.due_on.isoformat(),
                 "operating": str(report.operating), "stop_reason": report.stop_reason,
                 "users": report.users, "operating_costs": report.operating_costs,
                 "kpi_results": report.kpi_results, "note": report.note})
    return report


# --- across projects: what is overdue, and the reminders -----------------------------------


@dataclass(frozen=True)
class Project:
    """A completed project with the reports it owes, those filed and the reminders sent."""

    application: Application
    followups: list[rules.Followup]
    filed: set[int]
    sent: set[tuple[int, rules.Reminder]]


def completed_projects(session: Session, program_key: str | None = None) -> list[Project]:
    """Every COMPLETED project (of one call, when given), in three queries whatever their
    number: the projects with their plans in force, the reports filed, the reminders sent."""
    end = project_end_in_force()
    query = (sa.select(Application, end)
             .join(Application.program_version)
             .where(Application.state == State.COMPLETED, end.is_not(None))
             .options(joinedload(Application.organization),
                      joinedload(Application.program_version))
             .order_by(Application.reference))
    if program_key is not None:
        query = query.where(ProgramVersion.program_key == program_key)
    ends = session.execute(query).all()
    ids = [application.id for application, _end in ends]
    filed: dict[int, set[int]] = {}
    for application_id, year in session.execute(
            sa.select(FollowupReport.application_id, FollowupReport.fiscal_year)
            .where(FollowupReport.application_id.in_(ids))):
        filed.setdefault(application_id, set()).add(year)
    sent: dict[int, set[tuple[int, rules.Reminder]]] = {}
    for application_id, year, kind in session.execute(
            sa.select(FollowupReminder.application_id, FollowupReminder.fiscal_year,
                      FollowupReminder.kind).where(FollowupReminder.application_id.in_(ids))):
        sent.setdefault(application_id, set()).add((year, kind))
    return [Project(application, _schedule(application, end), filed.get(application.id, set()),
                    sent.get(application.id, set())) for application, end in ends]


@dataclass(frozen=True)
class Overdue:
    application: Application
    followup: rules.Followup
    days: int  # since the due date


def overdue(session: Session, today: dt.date, program_key: str | None = None) -> list[Overdue]:
    """Every overdue follow-up report (of one call, when given), the longest overdue first."""
    found = [Overdue(p.application, f, (today - f.due_on).days)
             for p in completed_projects(session, program_key)
             for f in rules.overdue(p.followups, p.filed, today)]
    return sorted(found, key=lambda o: (o.followup.due_on, o.application.reference))


@dataclass(frozen=True)
class Queued:
    """One reminder queued, and who it went to."""

    application: Application
    followup: rules.Followup
    kind: rules.Reminder
    recipients: list[User]


def remind(session: Session, *, now: dt.datetime) -> list[Queued]:
    """Queue the reminders owed today (Japan time) to each organization's members.

    Safe to run any number of times a day: a reminder's row (unique per project, fiscal year and
    kind) is written first, in a savepoint, so a reminder another run queued is skipped.
    """
    today = japan_day(now)
    queued = []
    for project in completed_projects(session):
        application = project.application
        for followup, kind in rules.reminders_owed(project.followups, project.filed,
                                                    project.sent, today):
            try:
                with session.begin_nested():
                    session.add(FollowupReminder(
                        application_id=application.id, fiscal_year=followup.fiscal_year,
                        kind=kind, queued_at=now))
            except sa.exc.IntegrityError:
                continue
            people = [person for person in members(session, application.organization)
                      if person.active and person.acts_for_organization]
            messages = [emails.queue(session, "followup-reminder", person, now=now,
                                     application=application, followup=followup, kind=str(kind))
                        for person in people]
            record(session, AuditTag.FOLLOWUP_REMIND, subject_type="application",
                   subject_id=application.id, actor=None, now=now,
                   data={"fiscal_year": followup.fiscal_year, "year_number": followup.year_number,
                         "kind": str(kind), "due_on": followup.due_on.isoformat(),
                         "recipients": [person.id for person in people],
                         "messages": [message.id for message in messages]})
            queued.append(Queued(application, followup, kind, people))
    return queued
