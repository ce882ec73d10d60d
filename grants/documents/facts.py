"""What every document says about one application: the frozen submission and its context,
and (for the audit record) what was filed and decided after the award."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from grants.domain.budget import BudgetSummary, summarize
from grants.domain.definitions import Program as ProgramDefinition
from grants.domain.findings import Finding
from grants.domain.rubrics import Rubric as RubricDefinition
from grants.domain.signals import Signal, compute_signals
from grants.domain.variance import VarianceTable, variance_table
from grants.models import (
    Application,
    Asset,
    ChangeRequest,
    CompletionReport,
    Decision,
    FinalAmount,
    FollowupReport,
    GrantDecision,
    PlanVersion,
    ReportState,
    RubricVersion,
    Submission,
)
from grants.services.apply import data_from_snapshot
from grants.services.programs import definition_of
from grants.services.reviewing import rubric_version_for
from grants.services.rubrics import rubric_of


@dataclass(frozen=True)
class Facts:
    application: Application
    submission: Submission
    snapshot: dict[str, Any]
    definition: ProgramDefinition
    findings: list[Finding]
    summary: BudgetSummary
    rubric_version: RubricVersion
    rubric: RubricDefinition
    signals: dict[str, Signal]
    decision: Decision | None


def gather(session: Session, application: Application) -> Facts:
    """The latest frozen submission and everything derived from it (never the live draft)."""
    if not application.submissions:
        raise LookupError(f"{application.reference} has never been submitted")
    submission = application.submissions[-1]
    snapshot = json.loads(submission.snapshot)
    definition = definition_of(application.program_version)
    data = data_from_snapshot(snapshot)
    lines = data.answers.get(definition.budget_field.id) if definition.budget_field else None
    version = rubric_version_for(session, application)
    rubric = rubric_of(version)
    return Facts(
        application=application,
        submission=submission,
        snapshot=snapshot,
        definition=definition,
        findings=[Finding.from_dict(f) for f in submission.findings],
        summary=summarize(definition, lines or [], data),
        rubric_version=version,
        rubric=rubric,
        signals=compute_signals(rubric.signal_kinds(), definition, data),
        decision=session.scalar(sa.select(Decision).filter_by(application_id=application.id)),
    )


@dataclass(frozen=True)
class FiledReport:
    report: CompletionReport
    variance: VarianceTable  # computed from its lines and the plan it was filed against


@dataclass(frozen=True)
class PostAward:
    """Everything filed and decided after the award, oldest first; empty until it happens."""

    grant: GrantDecision | None
    plans: list[PlanVersion]
    changes: list[ChangeRequest]
    reports: list[FiledReport]  # filed ones: a draft is not part of the record
    final: FinalAmount | None
    assets: list[Asset]  # each with its disposals
    followups: list[FollowupReport]


def post_award(session: Session, application: Application,
               definition: ProgramDefinition) -> PostAward:
    """The application's grant decision, plans, changes, reports, final amount, assets and
    follow-ups, as stored (each report's variance table computed)."""
    of_application = {"application_id": application.id}
    reports = session.scalars(
        sa.select(CompletionReport).filter_by(**of_application)
        .where(CompletionReport.state != ReportState.DRAFT)
        .options(selectinload(CompletionReport.plan_version))
        .order_by(CompletionReport.number))
    return PostAward(
        grant=session.scalar(sa.select(GrantDecision).filter_by(**of_application)),
        plans=list(session.scalars(sa.select(PlanVersion).filter_by(**of_application)
                                   .order_by(PlanVersion.number))),
        changes=list(session.scalars(sa.select(ChangeRequest).filter_by(**of_application)
                                     .order_by(ChangeRequest.number))),
        reports=[FiledReport(r, variance_table(definition, r.plan_version.category_amounts,
                                               r.lines)) for r in reports],
        final=session.scalar(sa.select(FinalAmount).filter_by(**of_application)),
        assets=list(session.scalars(sa.select(Asset).filter_by(**of_application)
                                    .options(selectinload(Asset.disposals))
                                    .order_by(Asset.acquired_on, Asset.id))),
        followups=list(session.scalars(sa.select(FollowupReport).filter_by(**of_application)
                                       .order_by(FollowupReport.fiscal_year))),
    )

