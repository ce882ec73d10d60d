"""Officers screen submitted applications: accept for review, or return with a reason."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from grants import emails
from grants.domain import workflow
from grants.domain.workflow import Action
from grants.models import Application, User
from grants.services.audit import AuditTag, record


def accept(session: Session, application: Application, *, actor: User, now: dt.datetime) -> None:
    """Accept a submitted application for review."""
    application.state = workflow.fire(application.state, Action.ACCEPT, actor.role)
    session.flush()
    record(session, AuditTag.APPLICATION_ACCEPT, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"reference": application.reference})


def return_to_applicant(
    session: Session, application: Application, reason: str, *, actor: User, now: dt.datetime
) -> None:
    """Send an application back for changes; its earlier submission stays as it was."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    application.state = workflow.fire(application.state, Action.RETURN_TO_APPLICANT, actor.role)
    application.return_reason = reason
    session.flush()
    record(session, AuditTag.APPLICATION_RETURN, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"reference": application.reference, "reason": reason})
    emails.queue_for_applicant(session, "application-returned", application, now=now,
                               reason=reason)
