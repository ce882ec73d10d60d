"""The completion report (実績報告): the grantee's draft, its evidence, filing, and the officer's
return for correction or acceptance.

A report is filed while the project runs (GRANTED) against the plan in force. A returned
report stays as it was filed; the grantee's next filing is a new row, numbered one more,
starting from the returned one's contents and evidence. Evidence files are attachments of the
application in a slot of the report's own (`evidence_field`), never one of the program's file
fields, so they never mix with the application's files. Every step is an audit event; filing
tells the officer who issued the grant decision, the officer's answer tells the grantee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from grants import emails
from grants.domain import assets as equipment_rules
from grants.domain import workflow
from grants.domain.definitions import Program
from grants.domain.errors import DomainError
from grants.domain.text import visible_or_none
from grants.domain.variance import VarianceTable, variance_table
from grants.domain.workflow import Action, State
from grants.i18n import to_jst
from grants.models import (
    Application,
    Attachment,
    CompletionReport,
    PlanVersion,
    ReportState,
    User,
)
from grants.models.applications import EVIDENCE_PREFIX
from grants.services import grant_decisions, plan_changes
from grants.services.audit import AuditTag, record
from grants.services.locking import lock_application
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of


def evidence_field(report: CompletionReport) -> str:
    """The attachment slot of one report's evidence."""
    return f"{EVIDENCE_PREFIX}{report.number}"


class NotRunning(DomainError):
    """A report is drafted and filed while the project runs (GRANTED), not before or after."""


class EditConflict(DomainError):
    """Someone saved the draft since it was loaded: the stale save is refused."""


class NotFiled(DomainError):
    """The officer answers a filed report: there is none waiting."""


class ReasonRequired(DomainError):
    """A report is returned with a reason the grantee can read."""


class Problem(StrEnum):
    """Why a draft cannot be filed yet (a message key; `category` says which, where it matters)."""

    NO_LINES = "no_lines"
    REASON_MISSING = "reason_missing"
    JOBS_MISSING = "jobs_missing"
    CHANGE_PENDING = "change_pending"  # the plan it reports against may still change
    EQUIPMENT_OVER_PURCHASES = "equipment_over_purchases"  # items no purchase line paid for
    EQUIPMENT_OUTSIDE_PERIOD = "equipment_outside_period"  # `item` acquired outside the period


@dataclass(frozen=True)
class SubmitProblem:
    problem: Problem
    category: str | None = None
    item: dict[str, Any] | None = None  # the equipment item a problem is about
    equipment: equipment_rules.EquipmentCheck | None = None  # with the equipment problems


class SubmissionRefused(DomainError):
    def __init__(self, problems: list[SubmitProblem]) -> None:
        super().__init__("report_refused")
        self.problems = problems


@dataclass(frozen=True)
class Contents:
    """What the grantee writes: lines {category, description, acquisition, amount_yen},
    reasons by category, KPI results by application field, jobs, equipment {name, kind,
    acquired_on (ISO date), cost_yen} and the outcome."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    variance_reasons: dict[str, str] = field(default_factory=dict)
    kpi_results: dict[str, str] = field(default_factory=dict)
    jobs_created: int | None = None
    equipment: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = ""

    @classmethod
    def of(cls, report: CompletionReport | None) -> Contents:
        if report is None:
            return cls()
        return cls(list(report.lines), dict(report.variance_reasons), dict(report.kpi_results),
                   report.jobs_created, list(report.equipment), report.outcome)


# --- reading -------------------------------------------------------------------------------


def reports(session: Session, application: Application) -> list[CompletionReport]:
    """Every filing and the draft, oldest first."""
    return list(session.scalars(sa.select(CompletionReport).filter_by(
        application_id=application.id).order_by(CompletionReport.number)))


def latest(session: Session, application: Application) -> CompletionReport | None:
    """The last report, as the database has it now (a report this session read before is
    read again: after the row lock, another request may have filed or answered it)."""
    return session.scalar(sa.select(CompletionReport).filter_by(application_id=application.id)
                          .order_by(CompletionReport.number.desc()).limit(1)
                          .execution_options(populate_existing=True))


def draft_of(session: Session, application: Application) -> CompletionReport | None:
    report = latest(session, application)
    return report if report is not None and report.state is ReportState.DRAFT else None


def filed(session: Session, application: Application) -> CompletionReport | None:
    """The report waiting for the officer's answer."""
    report = latest(session, application)
    return report if report is not None and report.state is ReportState.SUBMITTED else None


def accepted(session: Session, application: Application) -> CompletionReport | None:
    return session.scalar(sa.select(CompletionReport).filter_by(
        application_id=application.id, state=ReportState.ACCEPTED))


def due_on(session: Session, application: Application) -> dt.date | None:
    """`report_due_days` after the end of the project in the plan in force (None before one)."""
    plan = plan_in_force(session, application)
    if plan is None:
        return None
    days = definition_of(application.program_version).post_award.report_due_days
    return plan.project_end + dt.timedelta(days=days)


def is_overdue(due: dt.date | None, now: dt.datetime) -> bool:
    """Past the due day in Japan (a report is on time until the end of that day)."""
    return due is not None and to_jst(now).date() > due


def plan_for(session: Session, application: Application,
             report: CompletionReport | None) -> PlanVersion | None:
    """The plan a report is read against: the one it was filed on, else the plan in force."""
    if report is not None and report.state is not ReportState.DRAFT:
        return report.plan_version
    return plan_in_force(session, application)


def variance_of(session: Session, application: Application, report: CompletionReport | None,
                *, in_force: bool = False) -> VarianceTable | None:
    """The report's variance table; `in_force` reads it against the plan in force whatever
    the report is (a returned report's contents, as the next draft will start)."""
    plan = plan_in_force(session, application) if in_force else plan_for(session, application,
                                                                           report)
    if plan is None:
        return None
    program = definition_of(application.program_version)
    return variance_table(program, plan.category_amounts, report.lines if report else [])


def evidence(application: Application, report: CompletionReport | None) -> list[Attachment]:
    if report is None:
        return []
    slot = evidence_field(report)
    return [attachment for attachment in application.attachments if attachment.field_id == slot]


def problems(program: Program, report: CompletionReport, table: VarianceTable,
             period: tuple[dt.date, dt.date]) -> list[SubmitProblem]:
    """What stops a draft from being filed: no cost line, a missing reason for a variance over
    the threshold, the jobs created where the program requires them, equipment that no line
    bought outright paid for or that was acquired outside the project `period` (its first and
    last day)."""
    found = [] if report.lines else [SubmitProblem(Problem.NO_LINES)]
    found += [SubmitProblem(Problem.REASON_MISSING, category)
              for category in table.missing_reasons(report.variance_reasons)]
    if program.post_award.jobs_required and report.jobs_created is None:
        found.append(SubmitProblem(Problem.JOBS_MISSING))
    items = [equipment_rules.Item.from_dict(item) for item in report.equipment]
    check = equipment_rules.check_equipment(
        items, report.lines, {c.id for c in program.budget.categories if c.equipment}, *period)
    if check.over_purchases:
        found.append(SubmitProblem(Problem.EQUIPMENT_OVER_PURCHASES, equipment=check))
    found += [SubmitProblem(Problem.EQUIPMENT_OUTSIDE_PERIOD, item=report.equipment[index],
                            equipment=check) for index in check.outside_period]
    return found


# --- the grantee ---------------------------------------------------------------------------


def save_draft(session: Session, application: Application, contents: Contents, *,
               expected_version: int, actor: User, now: dt.datetime) -> CompletionReport:
    """Save the draft; the first save makes it (`expected_version` 0: there was none).

    A draft after a returned report starts with a copy of its evidence.

    Raises:
        NotRunning: the project is not running (filed, accepted, not yet accepted).
        EditConflict: the draft changed (or was made) since the form was loaded.
    """
    if application.state is not State.GRANTED:
        raise NotRunning("not_running")
    draft = draft_of(session, application)
    if (draft.lock_version if draft else 0) != expected_version:
        raise EditConflict("report_edit_conflict")
    if draft is None:
        draft = _new_draft(session, application, actor, now)
    draft.lines, draft.variance_reasons = contents.lines, contents.variance_reasons
    draft.kpi_results, draft.jobs_created = contents.kpi_results, contents.jobs_created
    draft.equipment, draft.outcome = contents.equipment, contents.outcome
    draft.plan_version_id = plan_in_force(session, application).id
    draft.updated_at = now
    flag_modified(draft, "updated_at")  # every save moves the lock on, even an unchanged one
    session.flush()
    return draft


def _new_draft(session: Session, application: Application, actor: User,
               now: dt.datetime) -> CompletionReport:
    previous = latest(session, application)
    draft = CompletionReport(
        application_id=application.id, number=previous.number + 1 if previous else 1,
        plan_version_id=plan_in_force(session, application).id, state=ReportState.DRAFT,
        updated_at=now)
    session.add(draft)
    session.flush()
    for kept in evidence(application, previous):
        application.attachments.append(Attachment(
            field_id=evidence_field(draft), sha256=kept.sha256, filename=kept.filename,
            mime_type=kept.mime_type, size_bytes=kept.size_bytes, uploaded_at=now,
            uploaded_by_id=actor.id))
    session.flush()
    return draft


def add_evidence(session: Session, application: Application, report: CompletionReport, *,
                 stored_sha256: str, filename: str, mime_type: str, size_bytes: int,
                 actor: User, now: dt.datetime) -> Attachment:
    """Record an evidence file already written to storage under its hash."""
    _require_draft(report)
    attachment = Attachment(field_id=evidence_field(report), sha256=stored_sha256,
                            filename=filename, mime_type=mime_type, size_bytes=size_bytes,
                            uploaded_at=now, uploaded_by_id=actor.id)
    application.attachments.append(attachment)
    session.flush()
    record(session, AuditTag.ATTACHMENT_ADD, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"field": attachment.field_id, "sha256": stored_sha256, "filename": filename})
    return attachment


def remove_evidence(session: Session, application: Application, report: CompletionReport,
                    attachment_id: int, *, actor: User, now: dt.datetime) -> None:
    _require_draft(report)
    attachment = next((a for a in evidence(application, report) if a.id == attachment_id), None)
    if attachment is None:
        return  # already removed (a second click, another tab): nothing to do
    application.attachments.remove(attachment)
    session.flush()
    record(session, AuditTag.ATTACHMENT_REMOVE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"field": attachment.field_id, "sha256": attachment.sha256})


def _require_draft(report: CompletionReport) -> None:
    if report.state is not ReportState.DRAFT:
        raise NotRunning("report_filed")


def submit(session: Session, application: Application, report: CompletionReport, *,
           actor: User, now: dt.datetime) -> None:
    """File the draft against the plan in force and tell the officer.

    Raises:
        SubmissionRefused: see `problems`, or a change request of the plan still waiting for
            the officer (nothing changes).
        NotRunning: the report was filed already (a second click, another tab).
        TransitionNotAllowed: the project is not running.
    """
    lock_application(session, application)
    session.refresh(report)
    _require_draft(report)
    plan = plan_in_force(session, application)
    program = definition_of(application.program_version)
    table = variance_table(program, plan.category_amounts, report.lines)
    grant = grant_decisions.grant_of(session, application)
    found = problems(program, report, table, (grant.project_start, plan.project_end))
    if plan_changes.pending(session, application) is not None:
        found.append(SubmitProblem(Problem.CHANGE_PENDING))
    if found:
        raise SubmissionRefused(found)
    application.state = workflow.fire(application.state, Action.SUBMIT_REPORT, actor.role)
    report.plan_version_id, report.state = plan.id, ReportState.SUBMITTED
    report.submitted_at, report.submitted_by_id = now, actor.id
    session.flush()
    record(session, AuditTag.REPORT_SUBMIT, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"report_id": report.id, "number": report.number, "plan_version": plan.number,
                 "lines": report.lines, "variance": table.as_dict(),
                 "variance_reasons": report.variance_reasons, "jobs_created": report.jobs_created,
                 "equipment": report.equipment,
                 "evidence": [a.sha256 for a in evidence(application, report)]})
    grant_decisions.tell_officers(session, "report-submitted", grant, now=now, report=report)


# --- the officer ---------------------------------------------------------------------------


def return_report(session: Session, application: Application, reason: str, *, actor: User,
                  now: dt.datetime) -> CompletionReport:
    """Return the filed report for correction: the project runs again until it is refiled.

    Raises:
        NotFiled: no report waits for an answer (it may have been answered a moment ago).
        ReasonRequired: the reason has nothing visible in it.
    """
    lock_application(session, application)
    report = filed(session, application)
    if report is None:
        raise NotFiled("report_not_filed")
    text = visible_or_none(reason)
    if text is None:
        raise ReasonRequired("return_reason_required")
    application.state = workflow.fire(application.state, Action.RETURN_REPORT, actor.role)
    report.state, report.return_reason = ReportState.RETURNED, text
    report.decided_at, report.decided_by_id = now, actor.id
    session.flush()
    record(session, AuditTag.REPORT_RETURN, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"report_id": report.id, "number": report.number, "reason": text})
    tell_grantee(session, "report-returned", application, report, now=now)
    return report


def accept_report(session: Session, application: Application, *, actor: User,
                  now: dt.datetime) -> CompletionReport:
    """Accept the filed report: the final amount is worked out from it next.

    Raises:
        NotFiled: no report waits for an answer (it may have been answered a moment ago).
    """
    lock_application(session, application)
    report = filed(session, application)
    if report is None:
        raise NotFiled("report_not_filed")
    application.state = workflow.fire(application.state, Action.ACCEPT_REPORT, actor.role)
    report.state, report.decided_at, report.decided_by_id = ReportState.ACCEPTED, now, actor.id
    session.flush()
    record(session, AuditTag.REPORT_ACCEPT, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"report_id": report.id, "number": report.number})
    tell_grantee(session, "report-accepted", application, report, now=now)
    return report


def tell_grantee(session: Session, template: str, application: Application,
                 report: CompletionReport, *, now: dt.datetime, **context: Any) -> None:
    """E-mail the people who made and submitted the application, and who filed the report."""
    sent = emails.queue_for_applicant(session, template, application, now=now, report=report,
                                      **context)
    filer = session.get(User, report.submitted_by_id) if report.submitted_by_id else None
    if filer is not None and filer.active and filer.email not in {m.to_address for m in sent}:
        emails.queue(session, template, filer, now=now, application=application, report=report,
                     **context)
