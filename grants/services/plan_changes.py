"""Plan changes (計画変更): the grantee's request, withdrawn or decided by the officer.

One request may be pending at a time, so the plan it changes is the plan in force when it is
decided. An approved request becomes the next plan version; every later check uses the latest
(grants.services.plans.plan_in_force). Each step is an audit event on the application: the
officer is told of a request, the grantee of the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from grants import emails
from grants.domain import plan_changes as rules
from grants.domain import workflow
from grants.domain.definitions import JST
from grants.domain.errors import DomainError
from grants.domain.plan_changes import ChangeRefused, Changes, Plan, Proposal
from grants.domain.text import visible_or_none
from grants.domain.workflow import Action
from grants.models import (
    Application,
    ChangeRequest,
    ChangeState,
    GrantDecision,
    PlanVersion,
    User,
)
from grants.services.audit import AuditTag, record
from grants.services.grant_decisions import grant_of, tell_officers
from grants.services.locking import lock_application
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of


class AlreadyPending(DomainError):
    """A request waits for the officer's decision: one at a time."""


class StalePlan(DomainError):
    """The plan in force changed since the request's form was shown."""


class NotPending(DomainError):
    """The request was decided or withdrawn already."""


class ReasonRequired(DomainError):
    """A request, and a refusal, need a reason a reader can see."""


def as_plan(version: PlanVersion) -> Plan:
    return Plan(version.category_amounts, version.project_end, version.scope)


def tolerance_of(application: Application) -> Fraction:
    return definition_of(application.program_version).post_award.change_tolerance


def pending(session: Session, application: Application) -> ChangeRequest | None:
    return session.scalar(sa.select(ChangeRequest).filter_by(
        application_id=application.id, state=ChangeState.PENDING))


def requests(session: Session, application: Application) -> list[ChangeRequest]:
    """Every request about the application, oldest first."""
    return list(session.scalars(
        sa.select(ChangeRequest).filter_by(application_id=application.id)
        .options(selectinload(ChangeRequest.requested_by), selectinload(ChangeRequest.decided_by))
        .order_by(ChangeRequest.number)))


def _require_reason(text: str) -> str:
    visible = visible_or_none(text)
    if visible is None:
        raise ReasonRequired("reason_required")
    return visible


def _checked(application: Application, grant: GrantDecision, plan: PlanVersion,
             proposal: Proposal, now: dt.datetime) -> Proposal:
    """The proposal without what equals the plan, or ChangeRefused with every problem."""
    proposal = rules.effective(as_plan(plan), proposal)
    extension = definition_of(application.program_version).post_award.max_extension_fiscal_years
    problems = rules.check(as_plan(plan), proposal, granted_yen=grant.amount_yen,
                           project_start=grant.project_start,
                           latest=rules.latest_end(grant.project_end, extension),
                           today=now.astimezone(JST).date(), tolerance=tolerance_of(application))
    if problems:
        raise ChangeRefused(problems)
    return proposal


def request_change(session: Session, application: Application, proposal: Proposal,
                   reason: str, *, based_on: int, actor: User,
                   now: dt.datetime) -> ChangeRequest:
    """File the grantee's request to change the plan in force, version `based_on` (the one
    the form showed: a request made on an older plan would undo what was approved since).

    Raises:
        TransitionNotAllowed: the project is not running, or the actor is not the grantee.
        StalePlan: the plan in force is no longer version `based_on`.
        AlreadyPending: another request waits for its decision.
        ReasonRequired: the reason has nothing visible in it.
        ChangeRefused: the proposal breaks the rules (grants.domain.plan_changes).
    """
    lock_application(session, application)
    application.state = workflow.fire(application.state, Action.REQUEST_CHANGE, actor.role)
    if pending(session, application) is not None:
        raise AlreadyPending("change_pending")
    text = _require_reason(reason)
    plan = plan_in_force(session, application)
    if plan.number != based_on:
        raise StalePlan("plan_changed")
    grant = grant_of(session, application)
    proposal = _checked(application, grant, plan, proposal, now)
    number = 1 + (session.scalar(sa.select(sa.func.max(ChangeRequest.number)).filter_by(
        application_id=application.id)) or 0)
    request = ChangeRequest(
        application_id=application.id, number=number,
        category_amounts=dict(proposal.category_amounts)
        if proposal.category_amounts is not None else None,
        project_end=proposal.project_end, scope=proposal.scope, reason=text,
        requested_at=now, requested_by_id=actor.id)
    session.add(request)
    session.flush()
    record(session, AuditTag.CHANGE_REQUEST, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={**_as_kept(request), "plan_version": plan.number})
    tell_officers(session, "grant-change-requested", grant, now=now, request=request)
    return request


def _as_kept(request: ChangeRequest) -> dict[str, Any]:
    return {"change_request_id": request.id, "number": request.number,
            "category_amounts": request.category_amounts,
            "project_end": request.project_end.isoformat() if request.project_end else None,
            "scope": request.scope, "reason": request.reason}


def _require_pending(request: ChangeRequest) -> None:
    if request.state is not ChangeState.PENDING:
        raise NotPending("change_not_pending")


def withdraw(session: Session, request: ChangeRequest, *, actor: User, now: dt.datetime) -> None:
    """The grantee takes the pending request back (checked as asking for a change is).

    Raises:
        NotPending: the request was decided or withdrawn already.
        TransitionNotAllowed: the project is not running, or the actor is not the grantee.
    """
    application = _locked_pending(session, request)
    workflow.fire(application.state, Action.REQUEST_CHANGE, actor.role)
    request.state, request.decided_at, request.decided_by_id = ChangeState.WITHDRAWN, now, actor.id
    session.flush()
    record(session, AuditTag.CHANGE_WITHDRAW, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"change_request_id": request.id, "number": request.number})


def approve(session: Session, request: ChangeRequest, *, actor: User,
            now: dt.datetime) -> PlanVersion:
    """Approve the pending request: it becomes the next plan version.

    Raises:
        NotPending: the request was decided or withdrawn already.
        TransitionNotAllowed: the project is not running, or the actor is not an officer.
        ChangeRefused: the request no longer holds against the rules (its end has passed).
    """
    application = _locked_pending(session, request)
    application.state = workflow.fire(application.state, Action.DECIDE_CHANGE, actor.role)
    plan = plan_in_force(session, application)
    proposal = _checked(application, grant_of(session, application), plan, Proposal(
        request.category_amounts, request.project_end, request.scope), now)
    after = rules.approved_plan(as_plan(plan), proposal)
    version = PlanVersion(application_id=application.id, number=plan.number + 1,
                          category_amounts=dict(after.category_amounts),
                          project_end=after.project_end, scope=after.scope,
                          change_request_id=request.id, created_at=now)
    request.state, request.decided_at, request.decided_by_id = ChangeState.APPROVED, now, actor.id
    session.add(version)
    session.flush()
    record(session, AuditTag.CHANGE_APPROVE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"change_request_id": request.id, "number": request.number,
                 "plan_version": version.number})
    emails.queue_for_applicant(session, "grant-change-decided", application, now=now,
                               request=request)
    return version


def refuse(session: Session, request: ChangeRequest, reason: str, *, actor: User,
           now: dt.datetime) -> None:
    """Refuse the pending request, with the reason: the plan in force stays.

    Raises:
        NotPending: the request was decided or withdrawn already.
        ReasonRequired: the reason has nothing visible in it.
        TransitionNotAllowed: the project is not running, or the actor is not an officer.
    """
    text = _require_reason(reason)
    application = _locked_pending(session, request)
    application.state = workflow.fire(application.state, Action.DECIDE_CHANGE, actor.role)
    request.state, request.decided_at, request.decided_by_id = ChangeState.REFUSED, now, actor.id
    request.decision_reason = text
    session.flush()
    record(session, AuditTag.CHANGE_REFUSE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"change_request_id": request.id, "number": request.number, "reason": text})
    emails.queue_for_applicant(session, "grant-change-decided", application, now=now,
                               request=request)


def proposed(application: Application, plan: PlanVersion, request: ChangeRequest) -> Changes:
    """What the request changes in the plan in force, each move marked beyond the tolerance
    or not (for the officer's decision)."""
    before = as_plan(plan)
    after = rules.approved_plan(before, Proposal(request.category_amounts, request.project_end,
                                                 request.scope))
    return rules.changes(before, after, tolerance_of(application))


def _locked_pending(session: Session, request: ChangeRequest) -> Application:
    """The request's application, locked, once the request is seen still pending after the
    lock (a second officer's click waits for the first and is then refused)."""
    application = session.get(Application, request.application_id)
    lock_application(session, application)
    session.refresh(request)
    _require_pending(request)
    return application


@dataclass(frozen=True)
class HistoryEntry:
    """One plan version with what changed from the one before, and the request that made it
    (None for version 1, the accepted grant decision)."""

    version: PlanVersion
    changes: Changes | None
    request: ChangeRequest | None


def history(session: Session, application: Application) -> list[HistoryEntry]:
    """Every plan version, newest first."""
    versions = session.scalars(sa.select(PlanVersion).filter_by(application_id=application.id)
                               .order_by(PlanVersion.number)).all()
    by_id = {request.id: request for request in requests(session, application)}
    tolerance = tolerance_of(application)
    entries = [HistoryEntry(version, None if before is None else rules.changes(
        as_plan(before), as_plan(version), tolerance), by_id.get(version.change_request_id))
        for before, version in zip([None, *versions], versions, strict=False)]
    return entries[::-1]
