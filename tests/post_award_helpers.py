"""Funded applications at each post-award stage, for the tests of the post-award features.

`awarded` and `granted` go through the real pages (submission, review, decision, the grantee's
acceptance of the grant decision the award issued). The later stages are
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
    FinalAmount,
    GrantDecision,
    PlanVersion,
    ReportState,
    User,
)
from grants.services import final_amounts
from grants.services.programs import definition_of
from tests.conftest import NOW
from tests.web.reviewflow import in_review, submit_review

# The grant decision's period: the one the test application states (tests.web.journey).
PROJECT_START = dt.date(2026, 12, 1)
PROJECT_END = dt.date(2027, 3, 31)


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
    return Funded(application, application.created_by, officer)


def grant_decision(session: Session, application: Application) -> GrantDecision:
    """The grant decision the award issued (grants.services.grant_decisions)."""
    return session.scalar(sa.select(GrantDecision).filter_by(application_id=application.id))


def requested_by_category(application: Application) -> dict[str, int]:
    """The submitted budget per category."""
    definition = definition_of(application.program_version)
    snapshot = json.loads(application.submissions[-1].snapshot)
    lines = snapshot["answers"].get(definition.budget_field.id) or []
    return summarize(definition, lines).by_category


def granted(client: Any, auth: Any, session: Session, make_user: Any, **kwargs: Any) -> Funded:
    """An awarded application whose grantee accepted the grant decision: plan version 1."""
    funded = awarded(client, auth, session, make_user, **kwargs)
    accept(client, auth, session, funded)
    return funded


def accept(client: Any, auth: Any, session: Session, funded: Funded) -> PlanVersion:
    """The grantee accepts the grant decision on its page (signed out after)."""
    auth.sign_in(funded.applicant)
    answered = client.post(f"/applications/{funded.application.id}/grant-decision/accept",
                           data={"accept_conditions": "y"})
    assert answered.status_code == 303, answered.text[:2000]
    auth.sign_out()
    session.expire_all()
    assert funded.application.state is State.GRANTED
    return session.scalar(sa.select(PlanVersion).filter_by(application_id=funded.application.id))


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


def completed(session: Session, funded: Funded, report: CompletionReport,
              amount_yen: int | None = None, *, working: dict[str, Any] | None = None,
              now: dt.datetime = NOW) -> FinalAmount:
    """The final amount fixed as the domain computes it from the accepted report, with its
    whole working (`amount_yen`, when given, is what the caller expects it to be), or as a
    test pins it (`working`, with its "final_yen"); no asset is registered and no e-mail sent:
    the application is COMPLETED."""
    application = funded.application
    if working is None:
        computed = final_amounts.working_for(session, application)
        assert amount_yen is None or computed.final_yen == amount_yen, computed.as_dict()
        working = computed.as_dict()
    final_yen = working["final_yen"]
    grant = grant_decision(session, application)
    final = FinalAmount(application_id=application.id, report_id=report.id,
                        amount_yen=final_yen, to_return_yen=grant.amount_yen - final_yen,
                        computation=working, confirmed_at=now,
                        confirmed_by_id=funded.officer.id)
    session.add(final)
    application.state = fire(application.state, Action.FIX_AMOUNT, Role.OFFICER)
    session.commit()
    return final
