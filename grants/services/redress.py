"""Evaluation reviews (評価の再審査の申出): the applicant's request, the officer's finding.

An upheld request is the one documented way to reopen a decided application: the decision is
set aside (kept, as it was, on the request and in the audit chain), the application goes back
into review, the reviewers who evaluated it are ended and cannot be assigned again, and their
moderation and consensus report are set aside with it, so new reviewers evaluate afresh.
Each step is an audit event on the application, and the applicant is told by e-mail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import emails
from grants.domain import workflow
from grants.domain.errors import DomainError
from grants.domain.findings import LocalizedText
from grants.domain.redress import closes_at, require_open
from grants.domain.text import visible_or_none
from grants.domain.workflow import TRANSITIONS, Action
from grants.models import (
    Application,
    Assignment,
    AssignmentState,
    Decision,
    Moderation,
    RedressGround,
    RedressRequest,
    RedressState,
    User,
)
from grants.services import consensus, grant_decisions
from grants.services.audit import AuditTag, record
from grants.services.programs import definition_of

SET_ASIDE = LocalizedText(
    "再審査の申出が認められ、評価をやり直すため割当てを終了しました（この申請の評価者には再び割り当てられません）。",
    "Ended when an evaluation review was upheld: the evaluation is done again by new "
    "reviewers, and this reviewer cannot be assigned to the application again.")


class NotDecided(DomainError):
    """An evaluation review is asked for about a decision: there is none (now)."""


class AlreadyOpen(DomainError):
    """One open request per application: the program office has not answered the last one."""


class DescriptionRequired(DomainError):
    """The request and the finding need a text a reader can see."""


class NotOpen(DomainError):
    """The request has a finding already."""


# The decided states an upheld request can reopen: not once the grantee accepted the grant.
REOPENABLE_STATES = frozenset(state for state, action in TRANSITIONS
                              if action is Action.REEVALUATE)


def decision_of(session: Session, application: Application) -> Decision | None:
    return session.scalar(sa.select(Decision).filter_by(application_id=application.id))


def window_closes_at(session: Session, application: Application) -> dt.datetime | None:
    """When the window for an evaluation review closes (None before a decision)."""
    decision = decision_of(session, application)
    if decision is None or application.state not in REOPENABLE_STATES:
        return None
    days = definition_of(application.program_version).call.redress_window_days
    return closes_at(decision.decided_at, days)


def requests(session: Session, application: Application) -> list[RedressRequest]:
    """Every request about the application, oldest first."""
    return list(session.scalars(sa.select(RedressRequest).filter_by(
        application_id=application.id).order_by(RedressRequest.id)))


def open_request(session: Session, application: Application) -> RedressRequest | None:
    return session.scalar(sa.select(RedressRequest).filter_by(
        application_id=application.id, state=RedressState.OPEN))


def request_review(session: Session, application: Application, *, ground: RedressGround,
                   description: str, actor: User, now: dt.datetime) -> RedressRequest:
    """File the applicant's request within the call's window after the decision.

    Raises:
        NotDecided: the application has no decision.
        WindowClosed: the window has closed (it says when).
        AlreadyOpen: a request about the application awaits its finding.
        DescriptionRequired: the description has nothing visible in it.
    """
    decision = decision_of(session, application)
    if decision is None or application.state not in REOPENABLE_STATES:
        raise NotDecided("not_decided")
    days = definition_of(application.program_version).call.redress_window_days
    end = require_open(decision.decided_at, days, now)
    if open_request(session, application) is not None:
        raise AlreadyOpen("redress_open")
    text = visible_or_none(description)
    if text is None:
        raise DescriptionRequired("description_required")
    request = RedressRequest(application_id=application.id, ground=ground, description=text,
                             requested_by_id=actor.id, requested_at=now)
    session.add(request)
    session.flush()
    record(session, AuditTag.REDRESS_REQUEST, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"request_id": request.id, "ground": str(ground), "description": text,
                 "window_closes_at": end.isoformat()})
    emails.queue_for_applicant(session, "redress-received", application, now=now,
                               request=request)
    return request


def _finding(request: RedressRequest, finding: str) -> str:
    if request.state is not RedressState.OPEN:
        raise NotOpen("redress_not_open")
    text = visible_or_none(finding)
    if text is None:
        raise DescriptionRequired("finding_required")
    return text


def dismiss(session: Session, request: RedressRequest, finding: str, *, actor: User,
            now: dt.datetime) -> None:
    """Dismiss the request with the reasons; the decision stands.

    Raises:
        NotOpen: the request has a finding already.
        DescriptionRequired: the reasons have nothing visible in them.
    """
    text = _finding(request, finding)
    request.state, request.finding = RedressState.DISMISSED, text
    request.found_by_id, request.found_at = actor.id, now
    session.flush()
    record(session, AuditTag.REDRESS_DISMISS, subject_type="application",
           subject_id=request.application_id, actor=actor, now=now,
           data={"request_id": request.id, "finding": text})
    emails.queue_for_applicant(session, "redress-finding", request.application, now=now,
                               request=request)


def uphold(session: Session, request: RedressRequest, finding: str, *, actor: User,
           now: dt.datetime) -> None:
    """Uphold the request: set the decision aside and send the application back into review
    for new reviewers.

    Raises:
        NotOpen: the request has a finding already.
        DescriptionRequired: the reasons have nothing visible in them.
    """
    text = _finding(request, finding)
    application = request.application
    application.state = workflow.fire(application.state, Action.REEVALUATE, actor.role)
    decision = decision_of(session, application)
    set_aside = _as_kept(decision) if decision is not None else None
    if decision is not None:
        grant_decisions.set_aside(session, application)  # made with the decision: first
        session.delete(decision)
    ended = _end_assignments(session, application, now)
    moderations = list(session.scalars(sa.select(Moderation).filter_by(
        application_id=application.id)))
    removed = {m.criterion_id: m.score for m in moderations}
    for moderation in moderations:
        session.delete(moderation)
    superseded = consensus.supersede(session, application, now=now)
    request.state, request.finding, request.set_aside_decision = \
        RedressState.UPHELD, text, set_aside
    request.found_by_id, request.found_at = actor.id, now
    session.flush()
    record(session, AuditTag.REDRESS_UPHOLD, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"request_id": request.id, "finding": text, "set_aside_decision": set_aside,
                 "assignments_ended": ended, "moderations_removed": removed,
                 "consensus_superseded": superseded})
    emails.queue_for_applicant(session, "redress-finding", application, now=now,
                               request=request)


def _as_kept(decision: Decision) -> dict[str, Any]:
    return {"outcome": str(decision.outcome), "amount_yen": decision.amount_yen,
            "rationale": decision.rationale, "decided_by_id": decision.decided_by_id,
            "decided_at": decision.decided_at.isoformat(),
            "computation": decision.computation}


def _end_assignments(session: Session, application: Application, now: dt.datetime) -> list[int]:
    """End every assignment still active: those reviewers evaluated the application (or were
    about to), and the new evaluation is by others."""
    ended = []
    for assignment in session.scalars(sa.select(Assignment).filter_by(
            application_id=application.id, state=AssignmentState.ACTIVE)):
        assignment.state, assignment.withdrawn_at = AssignmentState.WITHDRAWN, now
        assignment.withdrawal_reasons = [SET_ASIDE.to_dict()]
        ended.append(assignment.id)
    return ended
