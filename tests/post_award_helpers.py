"""Funded applications at each post-award stage, for the tests of the post-award features.

`awarded` goes through the real pages (submission, review, decision). The later stages are
built as rows, the way the features' own services leave them, so each feature's tests start
where they need to without depending on another feature's pages.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.budget import summarize
from grants.domain.workflow import Action, Role, State, fire
from grants.models import (
    Application,
    CompletionReport,
    Decision,
    FinalAmount,
    GrantAnswer,
    GrantDecision,
    PlanVersion,
    ReportState,
    User,
)
from grants.services.programs import definition_of
from tests.conftest import NOW
from tests.web.reviewflow import in_review, submit_review

PROJECT_START = dt.date(2025, 4, 1)
PROJECT_END = dt.date(2026, 3, 31)


@dataclass
class Funded:
    application: Application
    applicant: User  # a member of the applicant organization
    officer: User


def awarded(client: Any, auth: Any, session: Session, make_user: Any,
            amount_yen: str = "", score: int = 4) -> Funded:
    """An application reviewed by two reviewers and awarded by an officer (signed out)."""
    application, officer, reviewers = in_review(client, auth, session, make_user)
    for reviewer in reviewers:
        assert submit_review(client, auth, session, application, reviewer, score).status_code == 303
    auth.sign_in(officer)
    decided = client.post(f"/manage/applications/{application.id}/decide", data={
        "outcome": "award", "amount_yen": amount_yen, "rationale": "地域の課題に即した計画。"})
    assert decided.status_code == 303, decided.text[:2000]
    auth.sign_out()
    session.expire_all()
    assert application.state is State.AWARDED
    grant_decision(session, application, officer)
    return Funded(application, application.created_by, officer)


def grant_decision(session: Session, application: Application, officer: User) -> GrantDecision:
    """The application's grant decision, made from its decision when none was issued yet."""
    existing = session.scalar(sa.select(GrantDecision).filter_by(application_id=application.id))
    if existing is not None:
        return existing
    decision = session.scalar(sa.select(Decision).filter_by(application_id=application.id))
    amounts = requested_by_category(application)
    largest = max(amounts, key=amounts.__getitem__)
    amounts[largest] -= sum(amounts.values()) - decision.amount_yen  # the award's rounding
    made = GrantDecision(
        application_id=application.id, decision_id=decision.id, amount_yen=decision.amount_yen,
        category_amounts=amounts, project_start=PROJECT_START, project_end=PROJECT_END,
        conditions="補助金等に係る予算の執行の適正化に関する法律を遵守すること。",
        issued_at=decision.decided_at, issued_by_id=officer.id)
    session.add(made)
    session.commit()
    return made


def requested_by_category(application: Application) -> dict[str, int]:
    """The submitted budget per category."""
    definition = definition_of(application.program_version)
    snapshot = json.loads(application.submissions[-1].snapshot)
    lines = snapshot["answers"].get(definition.budget_field.id) or []
    return summarize(definition, lines).by_category


def granted(client: Any, auth: Any, session: Session, make_user: Any, **kwargs: Any) -> Funded:
    """An awarded application whose grantee accepted the grant decision: plan version 1."""
    funded = awarded(client, auth, session, make_user, **kwargs)
    accept(session, funded)
    return funded


def accept(session: Session, funded: Funded, *, now: dt.datetime = NOW) -> PlanVersion:
    application = funded.application
    grant = grant_decision(session, application, funded.officer)
    grant.answer, grant.answered_at, grant.answered_by_id = (
        GrantAnswer.ACCEPTED, now, funded.applicant.id)
    application.state = fire(application.state, Action.ACCEPT_GRANT, Role.APPLICANT)
    plan = PlanVersion(application_id=application.id, number=1,
                       category_amounts=dict(grant.category_amounts),
                       project_end=grant.project_end, scope="事業計画のとおり", created_at=now)
    session.add(plan)
    session.commit()
    return plan


def accepted_report(session: Session, funded: Funded, lines: list[dict[str, Any]], *,
                    equipment: list[dict[str, Any]] = (), jobs_created: int | None = 2,
                    now: dt.datetime = NOW) -> CompletionReport:
    """A completion report of `lines` ({category, description, acquisition, amount_yen}),
    submitted and accepted: the application is then REPORT_ACCEPTED."""
    application = funded.application
    plan = session.scalar(sa.select(PlanVersion).filter_by(application_id=application.id)
                          .order_by(PlanVersion.number.desc()).limit(1))
    report = CompletionReport(
        application_id=application.id, number=1, plan_version_id=plan.id,
        state=ReportState.ACCEPTED, lines=lines, variance_reasons={}, kpi_results={},
        jobs_created=jobs_created, equipment=list(equipment), outcome="計画どおり完了した。",
        updated_at=now, submitted_at=now, submitted_by_id=funded.applicant.id, decided_at=now,
        decided_by_id=funded.officer.id)
    session.add(report)
    application.state = fire(application.state, Action.SUBMIT_REPORT, Role.APPLICANT)
    application.state = fire(application.state, Action.ACCEPT_REPORT, Role.OFFICER)
    session.commit()
    return report


def completed(session: Session, funded: Funded, report: CompletionReport, amount_yen: int, *,
              now: dt.datetime = NOW) -> FinalAmount:
    """The final amount fixed at `amount_yen` (no computation checked: see the final-amount
    feature's own tests): the application is COMPLETED."""
    application = funded.application
    grant = grant_decision(session, application, funded.officer)
    final = FinalAmount(application_id=application.id, report_id=report.id,
                        amount_yen=amount_yen, to_return_yen=grant.amount_yen - amount_yen,
                        computation={"final_yen": amount_yen}, confirmed_at=now,
                        confirmed_by_id=funded.officer.id)
    session.add(final)
    application.state = fire(application.state, Action.FIX_AMOUNT, Role.OFFICER)
    session.commit()
    return final
