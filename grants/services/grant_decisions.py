"""The grant decision (交付決定): issued with the award, then accepted or declined by the grantee.

Accepting starts the project: plan version 1 is the grant decision's amounts and end with the
application's project summary as its scope. Declining frees the award's money: the ranking
leaves declined applications out, so the next one moves above the funding line. Each step is
an audit event on the application; the officer who issued the decision is told the answer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import emails
from grants.domain import workflow
from grants.domain.definitions import JST
from grants.domain.errors import DomainError
from grants.domain.grant_decision import (
    PERIOD_END,
    PERIOD_START,
    Period,
    answered_date,
    conditions_text,
    divide_award,
    plan_scope,
    project_period,
)
from grants.domain.text import visible_or_none
from grants.domain.workflow import Action, Role
from grants.models import (
    Application,
    Decision,
    GrantAnswer,
    GrantDecision,
    PlanVersion,
    User,
)
from grants.services.audit import AuditTag, record
from grants.services.locking import lock_application
from grants.services.programs import definition_of


class NotAwaitingAnswer(DomainError):
    """There is no grant decision waiting for the grantee's answer (none, or answered)."""


class ReasonRequired(DomainError):
    """A declined grant decision needs a reason a reader can see."""


def grant_of(session: Session, application: Application) -> GrantDecision | None:
    return session.scalar(sa.select(GrantDecision).filter_by(application_id=application.id))


def issue(session: Session, application: Application, decision: Decision, *,
          requested: Mapping[str, int], answers: Mapping[str, Any],
          extra_conditions: str | None, actor: User, now: dt.datetime,
          period: Period | None = None) -> GrantDecision:
    """Make the grant decision of an award: `requested` is the submitted budget per category,
    `answers` the frozen submission's answers (for the project period, unless `period` is
    given)."""
    definition = definition_of(application.program_version)
    dated = {field.id for field in definition.all_fields() if field.kind == "date"}
    period = period or project_period(
        answered_date(answers, PERIOD_START) if PERIOD_START in dated else None,
        answered_date(answers, PERIOD_END) if PERIOD_END in dated else None,
        now.astimezone(JST).date())
    grant = GrantDecision(
        application_id=application.id, decision_id=decision.id, amount_yen=decision.amount_yen,
        category_amounts=divide_award(requested, decision.amount_yen),
        project_start=period.start, project_end=period.end,
        conditions=conditions_text(definition.post_award, extra_conditions),
        issued_at=now, issued_by_id=actor.id)
    session.add(grant)
    session.flush()
    record(session, AuditTag.GRANT_ISSUE, subject_type="application", subject_id=application.id,
           actor=actor, now=now, data=as_kept(grant))
    return grant


def as_kept(grant: GrantDecision) -> dict[str, Any]:
    """The grant decision as the audit chain keeps it."""
    return {"grant_decision_id": grant.id, "amount_yen": grant.amount_yen,
            "category_amounts": dict(grant.category_amounts),
            "project_start": grant.project_start.isoformat(),
            "project_end": grant.project_end.isoformat(), "conditions": grant.conditions}


def _awaiting(session: Session, application: Application) -> GrantDecision:
    grant = grant_of(session, application)
    if grant is None or grant.answer is not None:
        raise NotAwaitingAnswer("grant_not_awaiting")
    return grant


def accept(session: Session, application: Application, *, actor: User,
           now: dt.datetime) -> PlanVersion:
    """Accept the grant decision and its conditions: the project runs under plan version 1.

    Raises:
        NotAwaitingAnswer: no grant decision waits for an answer.
        TransitionNotAllowed: the application is not awarded, or the actor is not the grantee.
    """
    lock_application(session, application)
    grant = _awaiting(session, application)
    application.state = workflow.fire(application.state, Action.ACCEPT_GRANT, actor.role)
    grant.answer, grant.answered_at, grant.answered_by_id = GrantAnswer.ACCEPTED, now, actor.id
    definition = definition_of(application.program_version)
    answers = json.loads(application.submissions[-1].snapshot)["answers"]
    plan = PlanVersion(application_id=application.id, number=1,
                       category_amounts=dict(grant.category_amounts),
                       project_end=grant.project_end,
                       scope=plan_scope(answers, {f.id for f in definition.all_fields()}),
                       created_at=now)
    session.add(plan)
    session.flush()
    record(session, AuditTag.GRANT_ACCEPT, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"grant_decision_id": grant.id, "plan_version_id": plan.id,
                 "category_amounts": dict(plan.category_amounts),
                 "project_end": plan.project_end.isoformat(), "scope": plan.scope})
    tell_officers(session, "grant-answered", grant, now=now)
    return plan


def decline(session: Session, application: Application, reason: str, *, actor: User,
            now: dt.datetime) -> GrantDecision:
    """Decline the grant decision, with the reason: the award's money is free again.

    Raises:
        ReasonRequired: the reason has nothing visible in it.
        NotAwaitingAnswer: no grant decision waits for an answer.
        TransitionNotAllowed: the application is not awarded, or the actor is not the grantee.
    """
    text = visible_or_none(reason)
    if text is None:
        raise ReasonRequired("decline_reason_required")
    lock_application(session, application)
    grant = _awaiting(session, application)
    application.state = workflow.fire(application.state, Action.DECLINE_GRANT, actor.role)
    grant.answer, grant.answered_at, grant.answered_by_id = GrantAnswer.DECLINED, now, actor.id
    grant.decline_reason = text
    session.flush()
    record(session, AuditTag.GRANT_DECLINE, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"grant_decision_id": grant.id, "amount_yen": grant.amount_yen,
                 "reason": text})
    tell_officers(session, "grant-answered", grant, now=now)
    return grant


def set_aside(session: Session, application: Application) -> None:
    """Delete the grant decision not yet answered, before an upheld evaluation review deletes
    the decision it was made with (the chain keeps it, as issued, in its GRANT_ISSUE event)."""
    grant = grant_of(session, application)
    if grant is not None and grant.answer is None:
        session.delete(grant)
        session.flush()


def tell_officers(session: Session, template: str, grant: GrantDecision, *, now: dt.datetime,
                  **context: Any) -> None:
    """E-mail the officer who issued the grant decision, in their language; every active
    officer when that account is no longer active."""
    issuer = grant.issued_by
    officers = [issuer] if issuer.active else list(session.scalars(
        sa.select(User).filter_by(role=Role.OFFICER, active=True).order_by(User.id)))
    for officer in officers:
        emails.queue(session, template, officer, now=now, application=grant.application,
                     grant=grant, **context)
